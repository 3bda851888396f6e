"""Per-CPU perf buffers through BCC (kernels without the BPF ring buffer), and their loss reports.

The kernel reports a CPU's lost records only once that CPU writes a record again, so a burst lost at
the end is never reported. Where the BPF program counts what it could not write (ts_lost, the events
buffer), the session uses that count instead and passes report_lost=False.
"""

from __future__ import annotations

import ctypes
import time

from tracespec.wire.records import LostRecord


class PerfReader:
    def __init__(self, bpf, map_name: str, pages_per_cpu: int, report_lost: bool = True):
        self.bpf = bpf
        self.records: list[bytes] = []
        self.lost: list[LostRecord] = []

        def on_record(cpu, data, size):
            self.records.append(ctypes.string_at(data, size))

        def on_lost(count):  # without a callback, BCC would print its own message
            if report_lost:
                self.lost.append(LostRecord(time.monotonic_ns(), -1, count))

        bpf[map_name.encode()].open_perf_buffer(on_record, page_cnt=pages_per_cpu, lost_cb=on_lost)

    def wait(self, timeout: float) -> None:
        self.bpf.perf_buffer_poll(int(timeout * 1000))

    def drain(self, limit: int = 0) -> list:
        self.bpf.perf_buffer_poll(0)
        out = self.records + self.lost
        self.records, self.lost = [], []
        return out

    drain_raw = drain  # perf buffers hand records over one by one: a binary trace keeps them so

    def close(self) -> None:
        pass
