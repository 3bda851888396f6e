"""Per-CPU perf buffers read as records come (the events on kernels without the BPF ring buffer, and the
control records), and their loss reports.

One BPF output perf event per online CPU, mapped (a metadata page, then a power of two of data pages), and
its descriptor put in the program's perf event array at the CPU's index: bpf_perf_event_output(...,
BPF_F_CURRENT_CPU, ...) writes into the buffer of the CPU it runs on. The kernel moves data_head forward as
it writes records (a perf_event_header, then for a sample a u32 size and the bytes; a record may wrap
around the end); the reader moves data_tail after it has copied them.

The kernel reports a CPU's lost records only once that CPU writes a record again, so a burst lost at
the end is never reported. Where the BPF program counts what it could not write (ts_lost, the events
buffer), the session uses that count instead and passes report_lost=False.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import select
import struct
import time

from tracespec.errors import TracespecError
from tracespec.runtime import bpfsys
from tracespec.wire.records import LostRecord

PAGE = mmap.PAGESIZE
META_DATA_HEAD, META_DATA_TAIL = 1024, 1032  # in the metadata page (struct perf_event_mmap_page)
PERF_RECORD_LOST, PERF_RECORD_SAMPLE = 2, 9
_HDR = struct.Struct("<IHH")  # perf_event_header: type, misc, size


class _CpuReader:
    def __init__(self, cpu: int, pages: int):
        self.cpu = cpu
        self.fd = bpfsys.perf_event_open(bpfsys.perf_attr(bpfsys.PERF_TYPE_SOFTWARE,
                                                          bpfsys.PERF_COUNT_SW_BPF_OUTPUT), -1, cpu)
        try:
            self.map = mmap.mmap(self.fd, (1 + pages) * PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            os.close(self.fd)
            raise TracespecError(f"cannot map a perf buffer on CPU {cpu}: {e.strerror}",
                                 hint="raise ulimit -l, or use fewer pages") from None
        self.size = pages * PAGE
        meta = memoryview(self.map)
        # one aligned 64-bit access each: struct would read and write them in pieces, which can tear
        self.head = meta[META_DATA_HEAD:META_DATA_HEAD + 8].cast("Q")
        self.tail = meta[META_DATA_TAIL:META_DATA_TAIL + 8].cast("Q")
        self.data = meta[PAGE:PAGE + self.size]

    def read(self, records: list, lost: list) -> None:
        head, tail = self.head[0], self.tail[0]
        if head == tail:
            return
        mask = self.size - 1
        start, n = tail & mask, head - tail
        if start + n <= self.size:
            chunk = bytes(self.data[start:start + n])
        else:
            chunk = bytes(self.data[start:]) + bytes(self.data[:start + n - self.size])
        pos = 0
        while pos + _HDR.size <= n:
            kind, _, size = _HDR.unpack_from(chunk, pos)
            if size < _HDR.size or pos + size > n:
                break
            if kind == PERF_RECORD_SAMPLE:
                (length,) = struct.unpack_from("<I", chunk, pos + 8)
                records.append(chunk[pos + 12:pos + 12 + length])
            elif kind == PERF_RECORD_LOST:
                lost.append(struct.unpack_from("<Q", chunk, pos + 16)[0])
            pos += size
        self.tail[0] = tail + pos

    def close(self) -> None:
        for view in (self.head, self.tail, self.data):
            view.release()
        self.map.close()
        os.close(self.fd)


class PerfReader:
    def __init__(self, bpf, map_name: str, pages_per_cpu: int, report_lost: bool = True):
        """bpf: the loaded object (runtime/instance.Instance) whose perf event array is map_name."""
        self.report_lost = report_lost
        self.records: list[bytes] = []
        self.lost: list[LostRecord] = []
        self.table = bpf[map_name]
        self.cpus: list[_CpuReader] = []
        self.epoll = select.epoll()
        try:
            for cpu in bpfsys.online_cpus():
                if cpu >= self.table.max_entries:
                    continue
                r = _CpuReader(cpu, pages_per_cpu)
                self.cpus.append(r)
                self.table[ctypes.c_int(cpu)] = ctypes.c_int(r.fd)
                bpfsys.perf_enable(r.fd)
                self.epoll.register(r.fd, select.EPOLLIN)
        except bpfsys.BpfError as e:
            self.close()
            raise TracespecError(f"cannot open a perf buffer: {e.strerror}",
                                 hint="the kernel needs BPF output perf events (Linux 4.4+)") from None
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float) -> None:
        self.epoll.poll(timeout)

    def drain(self, limit: int = 0) -> list:
        lost: list[int] = []
        for r in self.cpus:
            r.read(self.records, lost)
        if self.report_lost:
            self.lost += [LostRecord(time.monotonic_ns(), -1, n) for n in lost]
        out = self.records + self.lost
        self.records, self.lost = [], []
        return out

    drain_raw = drain  # perf buffers hand records over one by one: a binary trace keeps them so

    def close(self) -> None:
        for r in self.cpus:
            try:
                del self.table[ctypes.c_int(r.cpu)]
            except (KeyError, OSError):
                pass
            r.close()
        self.cpus = []
        self.epoll.close()
