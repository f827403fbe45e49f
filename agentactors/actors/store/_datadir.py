"""The data dir: ``<data dir>/agentactors.db`` (+ ``-wal``, ``-shm``) and
``agentactors.lock``, an advisory lock one server process holds for its lifetime, so two
servers never share (and silently fork) one state.  ``--data-dir :memory:`` means none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import attrs

from ._errors import StoreError

DB_FILE = "agentactors.db"
LOCK_FILE = "agentactors.lock"
MEMORY = ":memory:"


@attrs.define(eq=False)
class DataDir:
    """An opened data dir: the database path and the process's lock on it."""

    directory: Path
    lock_fd: int | None

    @property
    def database(self) -> Path:
        return self.directory / DB_FILE

    def release(self) -> None:
        """Give up the lock (the process's exit does too, even after ``kill -9``)."""
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def data_dir_path(directory: str | os.PathLike[str]) -> Path:
    """``directory`` as an absolute, normalised path (``~`` expanded)."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(directory))))


def lock_data_dir(directory: str | os.PathLike[str]) -> DataDir:
    """Create the data dir if needed and take its lock.

    Raises:
        StoreError: it cannot be created or written, or another process holds it.
    """
    path = data_dir_path(directory)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds commands and more
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot use this data dir: {exc.strerror or exc}", path=str(path)
        ) from exc
    if sys.platform != "win32":  # pragma: no branch - the lock is advisory; POSIX only
        import fcntl  # noqa: PLC0415 - POSIX only

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreError(
                f"{path}: this data dir is in use by another agentactors process; "
                "stop it or pass another --data-dir",
                path=str(path),
            ) from exc
    return DataDir(path, fd)
