"""Per-CPU perf buffers through BCC (kernels without the BPF ring buffer), with their loss reports."""

from __future__ import annotations

import ctypes
import time

from tracespec.decode.records import LostRecord


class PerfReader:
    def __init__(self, bpf, map_name: str, pages_per_cpu: int):
        self.bpf = bpf
        self.records: list[bytes] = []
        self.lost: list[LostRecord] = []
        self.lost_total = 0

        def on_record(cpu, data, size):
            self.records.append(ctypes.string_at(data, size))

        def on_lost(count):
            self.lost_total += count
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
