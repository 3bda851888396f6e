"""A summary's counts as user space reads them out of the summary maps (runtime/summary.py) and the
formatters print them (format/summary.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SummaryEntry:
    """One key's counts, all CPUs together."""

    nr: int
    tgid: int  # 0 unless by process or thread
    tid: int  # 0 unless by thread
    comm: str
    calls: int
    errors: int
    total_ns: int
    min_ns: int
    max_ns: int
    hist: tuple[int, ...]  # calls per log2 bucket of duration in ns: [2^i, 2^(i+1)), bucket 0 from 0
    errnos: tuple[tuple[int, int], ...]  # (errno, calls), by errno


@dataclass(frozen=True)
class SummarySnapshot:
    start_ns: int  # monotonic clock, as the records' timestamps
    end_ns: int
    entries: tuple[SummaryEntry, ...]
