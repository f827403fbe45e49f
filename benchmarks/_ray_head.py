"""A local Ray head for the cluster benchmark and tests: loopback only, one CPU, a small
object store, its own temp dir, in its own process group (ended at exit).

``ray start --head --block`` runs as its own process, as a real deployment runs it (a
cluster started by ``ray.init()`` in a driver dies with that driver).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

OBJECT_STORE = 100 << 20  # bytes; the shared services keep no objects there


@attrs.frozen
class Head:
    address: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port: int = listener.getsockname()[1]
        return port


@contextmanager
def local_head(timeout: float = 120.0) -> Iterator[Head]:
    """Start a head; yields once its GCS accepts connections.  Blocks (bounded by
    ``timeout``).  Raises RuntimeError if it exits or does not come up."""
    ray = Path(sys.executable).with_name("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="aa-ray-")  # short: Ray's socket paths must fit 107 bytes
    command = [str(ray), "start", "--head", "--block", "--disable-usage-stats"]
    command += ["--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "1"]
    command += ["--include-dashboard=false", "--object-store-memory", str(OBJECT_STORE)]
    command += ["--temp-dir", temp]
    head = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if head.poll() is not None:
                raise RuntimeError(f"ray start --head exited with {head.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start within {timeout} s")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                _wait_exit(head, 0.1)
        yield Head(f"127.0.0.1:{port}", head)
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        if not _wait_exit(head, 30):
            try:
                os.killpg(head.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def _wait_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def tree_rss_mb(root: int) -> dict[str, int]:
    """Resident memory (MB) of ``root``'s descendants: Ray's own processes (``head``) and
    its Python workers (``workers``: their command line starts ``ray::``), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    totals = {"head": 0, "workers": 0, "processes": 0}
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                worker = cmdline.read().startswith(b"ray::")
            with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                fields = dict(line.split(":", 1) for line in status)
        except OSError:
            continue
        kb = int(fields.get("VmRSS", "0 kB").split()[0])
        totals["workers" if worker else "head"] += kb
        totals["processes"] += 1
    return {
        "head_rss_mb": round(totals["head"] / 1024),
        "workers_rss_mb": round(totals["workers"] / 1024),
        "processes": totals["processes"],
    }
