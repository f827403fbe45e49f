"""Small statistics helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (0..1) by nearest rank; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def summary_us(samples: Sequence[float]) -> dict[str, float]:
    """Median and p99 of second-valued samples, in microseconds."""
    return {
        "median_us": round(statistics.median(samples) * 1e6, 1) if samples else 0.0,
        "p99_us": round(percentile(samples, 0.99) * 1e6, 1),
    }
