"""Put records from all CPUs into time order.

The BPF side stamps each record with bpf_ktime_get_ns() (CLOCK_MONOTONIC) just before writing it. A
reader that notes the clock, then drains every buffer, holds every record stamped more than a small
slack before that moment: those can be released in order. Records arriving later than that (an enter
record held back until its exit filter decided) are released with the next batch.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import attrgetter

SLACK_NS = 10_000_000  # between a record's timestamp and its commit to the buffer

_ts = attrgetter("ts")


class Reorder:
    """Records held until released in time order. A drain is nearly sorted already (one ring buffer in
    commit order, or per-CPU buffers each in order), so sorting what is held is close to linear."""

    def __init__(self):
        self._held: list = []

    def push(self, records) -> None:
        self._held.extend(records)

    def release(self, watermark: int) -> list:
        """Records stamped before `watermark` (a CLOCK_MONOTONIC time minus slack), oldest first."""
        held = self._held
        if not held:
            return []
        held.sort(key=_ts)  # stable: records with equal stamps keep their order
        cut = bisect_left(held, watermark, key=_ts)
        out, self._held = held[:cut], held[cut:]
        return out

    def release_all(self) -> list:
        out = sorted(self._held, key=_ts)
        self._held = []
        return out

    def __len__(self) -> int:
        return len(self._held)
