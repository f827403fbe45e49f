"""``hook``: the command hook an agent starts for every tool call, timed from spawn to
exit (its answer printed), against a ``serve`` process whose project rules allow the call,
and with no server at all (the start-up alone).  The median of several runs.

Alone: ``.venv/bin/python -m benchmarks --only hook``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from .http_bench import start_server

BODY = {
    "session_id": "bench",
    "transcript_path": "/tmp/bench.jsonl",
    "permission_mode": "default",
    "hook_event_name": "PreToolUse",
    "tool_name": "Bash",
    "tool_input": {"command": "git status"},
    "tool_use_id": "toolu_bench",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _time_hook(url: str, cwd: str) -> tuple[float, Any]:
    """Seconds from spawn to exit of one ``hook claude-code``, and what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTACTORS_")}
    data = json.dumps({**BODY, "cwd": cwd}).encode()
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "agentactors", "hook", "claude-code", "--url", url],
        input=data, capture_output=True, check=True, env=env, timeout=60,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    out = done.stdout.decode().strip()
    return seconds, json.loads(out) if out else None


def measure(quick: bool) -> dict[str, Any]:
    runs = 2 if quick else 15
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "agentactors.toml"), "w", encoding="utf-8") as rules:
            rules.write('[permission]\nbash = "allow"\n')
        process, port, _ = start_server(directory, ":memory:")
        try:
            url = f"http://127.0.0.1:{port}"
            _time_hook(url, directory)  # the server's first bash command loads the analyser
            answered = [_time_hook(url, directory) for _ in range(runs)]
        finally:
            process.terminate()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        decisions = {a["hookSpecificOutput"]["permissionDecision"] for _, a in answered}
        assert decisions == {"allow"}, decisions
        down = f"http://127.0.0.1:{_free_port()}"
        alone = [_time_hook(down, directory)[0] for _ in range(runs)]
    return {
        "allowed_median_s": round(statistics.median(s for s, _ in answered), 3),
        "no_server_median_s": round(statistics.median(alone), 3),
    }
