"""Per-CPU perf buffers the kernel overwrites, oldest record first: a flight recorder's memory.

runtime/perfbuf opens perf buffers for reading as records come; a recorder reads nothing until it dumps. So the
buffers are opened here, with perf_event_open (a BPF output event per CPU, `write_backward` set) and a
read-only mapping: in that mode the kernel writes each record below the previous one and, when the
buffer is full, over the oldest. Their descriptors go into the program's perf event array.

A dump copies each CPU's buffer without stopping it (nothing is lost to a dump) and walks from the
newest record to the oldest one that the kernel has not written over meanwhile.

Each CPU's buffer reaches back as far as its own traffic allows: a process that ran on CPU 1 a while ago
and on CPU 0 since leaves CPU 1 holding records older than anything CPU 0 still holds. Merged as they
are, those would sit before a stretch whose records (the ones CPU 0 wrote over) are missing: a trace
with a hole in it. So a dump starts where every CPU that has written over records still holds them.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct

from tracespec.wire.records import LostRecord
from tracespec.errors import TracespecError
from tracespec.runtime import bpfsys

WRITE_BACKWARD = 1 << 27  # perf_event_attr flag bit
PERF_ATTR_SIZE = bpfsys.PERF_ATTR_SIZE
PERF_RECORD_LOST, PERF_RECORD_SAMPLE = 2, 9
META_DATA_HEAD, META_DATA_SIZE = 1024, 1048  # offsets in the first (metadata) page
PAGE = 4096
IN_FLIGHT_RECORDS = 4  # records a CPU can be writing at once (a program, interrupted by others)
_HDR = struct.Struct("<IHH")  # perf_event_header: type, misc, size
_TS = struct.Struct("<Q")  # every record starts with its time


def backward_event_attr() -> bytearray:
    """The perf_event_attr of an overwritable BPF output buffer: written backward (the kernel overwrites
    the oldest records), wakeup_events 0 and no watermark, so the kernel wakes readers only at half a
    buffer instead of queueing an irq_work at every record (wakeup_events 1 cost each recorded syscall
    about 20 us in a VM: bench/serve_cost.py); nobody polls these buffers anyway."""
    return bpfsys.perf_attr(bpfsys.PERF_TYPE_SOFTWARE, bpfsys.PERF_COUNT_SW_BPF_OUTPUT, flags=WRITE_BACKWARD,
                            wakeup_events=0)


def _open_backward_event(cpu: int) -> int:
    try:
        return bpfsys.perf_event_open(backward_event_attr(), -1, cpu)
    except bpfsys.BpfError as e:
        raise TracespecError(f"cannot open an overwritable perf buffer on CPU {cpu}: {e.strerror}",
                             hint="the flight recorder needs perf events with write_backward (Linux 4.7+)") from None


class _CpuBuffer:
    def __init__(self, cpu: int, pages: int, margin: int):
        self.cpu = cpu
        self.margin = margin  # bytes records being written may take before they are published
        self.fd = _open_backward_event(cpu)
        try:
            self.map = mmap.mmap(self.fd, (1 + pages) * PAGE, mmap.MAP_SHARED, mmap.PROT_READ)
        except OSError as e:
            os.close(self.fd)
            raise TracespecError(f"cannot map the recorder's buffer on CPU {cpu}: {e.strerror}",
                                 hint="lower the recorder's size (--size), or raise ulimit -l") from None
        self.size = pages * PAGE
        # data_head read as one aligned 64-bit load (struct reads it in pieces, which can tear)
        self.head = memoryview(self.map)[META_DATA_HEAD:META_DATA_HEAD + 8].cast("Q")

    def snapshot(self) -> tuple[list[bytes], int, bool]:
        """The records held, oldest first, the losses the kernel noted among them, and whether older
        records than these were written here (and overwritten, or not trusted).

        The kernel goes on writing while the buffer is copied: each record below the previous one, over
        the oldest. The head moves down by what it wrote, so that much of the copy's oldest end (and
        room for records being written, not yet published) is not trusted."""
        head = self.head[0]
        data = self.map[PAGE:PAGE + self.size]
        moved = (head - self.head[0]) & 0xFFFFFFFFFFFFFFFF
        size, mask = self.size, self.size - 1
        limit = size - moved - self.margin
        ring = data + data  # records that wrap read straight through
        records: list[bytes] = []
        lost = 0
        pos = 0
        start = head & mask
        while pos + _HDR.size <= limit:
            kind, _, rsize = _HDR.unpack_from(ring, start + pos)
            if rsize < _HDR.size or pos + rsize > limit:
                break  # never written yet, or the oldest record, partly overwritten by newer ones
            body = start + pos + _HDR.size
            if kind == PERF_RECORD_SAMPLE:
                n = struct.unpack_from("<I", ring, body)[0]
                if 4 + n <= rsize - _HDR.size:
                    records.append(bytes(ring[body + 4:body + 4 + n]))
            elif kind == PERF_RECORD_LOST:
                lost += struct.unpack_from("<QQ", ring, body)[1]
            pos += rsize
        records.reverse()
        written = (-head) & 0xFFFFFFFFFFFFFFFF  # the head starts at 0 and moves down by each record
        return records, lost, written > pos

    def close(self) -> None:
        self.head.release()
        self.map.close()
        os.close(self.fd)


def _reach(records: list[bytes]) -> int:
    """The time from which a CPU whose older records are gone holds every record it wrote. Records
    written while another was being written may be stamped out of order, by as many as can be in flight:
    the overwritten ones may be as late as the latest of the oldest few kept."""
    return max(_TS.unpack_from(r)[0] for r in records[:IN_FLIGHT_RECORDS])


class OverwriteBuffers:
    """One overwritable buffer per CPU, installed in the program's perf event array `map_name`."""

    def __init__(self, bpf, map_name: str, pages_per_cpu: int, max_record: int, first_index: int = 0):
        """first_index: CPU c's buffer goes to entry first_index + c (tracespec serve keeps one set of
        buffers per recorder in one array)."""
        self.buffers: list[_CpuBuffer] = []
        self.table = bpf[map_name.encode()]
        self.installed: list[int] = []
        try:
            for cpu in bpfsys.online_cpus():
                buf = _CpuBuffer(cpu, pages_per_cpu, IN_FLIGHT_RECORDS * (max_record + 16))
                self.buffers.append(buf)
                self.table[ctypes.c_int(first_index + cpu)] = ctypes.c_int(buf.fd)
                self.installed.append(first_index + cpu)
        except BaseException:
            self.close()
            raise

    def snapshot(self) -> list:
        """Every CPU's records (bytes, oldest first per CPU) from the time on that all CPUs hold all
        they wrote, and a LostRecord per CPU that noted losses."""
        taken = [(buf.cpu, *buf.snapshot()) for buf in self.buffers]
        start = max((_reach(records) for _, records, _, cut in taken if cut and records), default=0)
        out: list = []
        for cpu, records, lost, _ in taken:
            out += [r for r in records if _TS.unpack_from(r)[0] >= start] if start else records
            if lost:
                out.append(LostRecord(0, cpu, lost))
        return out

    def close(self) -> None:
        # the array holds its own reference to each event: out of it first, or the buffer outlives close
        for index in self.installed:
            try:
                bpfsys.map_delete(self.table.map_fd, ctypes.c_int(index))
            except OSError:
                pass  # the object is gone already, and the array with it
        self.installed = []
        for buf in self.buffers:
            buf.close()
        self.buffers = []
