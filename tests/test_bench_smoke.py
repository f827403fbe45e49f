"""The benchmark harness runs end to end with tiny counts (its figures mean nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main


def test_make_bench_quick_runs_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m benchmarks --quick` prints the table and writes every suite's figures."""
    output = tmp_path / "figures.json"
    # not on disk (http_store is http on disk)
    suites = [
        "inprocess", "plugin", "shell", "wildcard", "http", "fanout", "stalled", "pages", "hook"
    ]  # fmt: skip
    assert main(["--quick", "--only", *suites, "--json", str(output)]) == 0
    figures = json.loads(output.read_text())
    assert figures["quick"] is True
    for suite in suites:
        assert figures[suite]["seconds"] >= 0
    assert figures["fanout"]["missing"] == 0  # every stream got every event
    assert 0 < figures["stalled"]["peak_mb_max"] <= figures["stalled"]["cap_mb"]
    assert figures["pages"]["walk"]["each_once"]  # the cursors gave every session once
    printed = capsys.readouterr().out
    assert "in-process cycle, median" in printed
    assert "plugin round trip, median" in printed
    assert "*a*a*a*a*a*a*a*a*b vs 10,000 chars" in printed
    assert "HTTP reply POST, median" in printed
    assert "SSE fan-out to 1,000 subscribers, p99" in printed
    assert "GET /session, 20,000 sessions: a page, median" in printed
