"""Put records from all CPUs into time order.

The BPF side stamps each record with bpf_ktime_get_ns() (CLOCK_MONOTONIC) just before writing it. A
reader that notes the clock, then drains every buffer, holds every record stamped more than a small
slack before that moment: those can be released in order. Records arriving later than that (an enter
record held back until its exit filter decided) are released with the next batch.
"""

from __future__ import annotations

import heapq
import itertools

SLACK_NS = 10_000_000  # between a record's timestamp and its commit to the buffer


class Reorder:
    def __init__(self):
        self._heap: list = []
        self._seq = itertools.count()

    def push(self, records) -> None:
        heap, seq = self._heap, self._seq
        for r in records:
            heapq.heappush(heap, (r.ts, next(seq), r))

    def release(self, watermark: int) -> list:
        """Records stamped before `watermark` (a CLOCK_MONOTONIC time minus slack), oldest first."""
        heap = self._heap
        out = []
        while heap and heap[0][0] < watermark:
            out.append(heapq.heappop(heap)[2])
        return out

    def release_all(self) -> list:
        out = [item[2] for item in sorted(self._heap)]
        self._heap = []
        return out

    def __len__(self) -> int:
        return len(self._heap)
