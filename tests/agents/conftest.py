"""Fixtures the real-agent tests share: a project directory and our server serving it
(``test_opencode.py`` has its own, with OpenCode's config and a password)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ..http_helpers import serve_process


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.fixture
async def ours(tmp_path: Path, project: Path) -> AsyncIterator[str]:
    """Our server (``python -m agentactors serve``) in ``project``: its URL."""
    async with serve_process(project, tmp_path / "data") as (_, url):
        yield url
