"""Recorder slots of a program loaded for `tracespec serve`: many flight recorders in one BPF object.

Each recorder is a cgroup v2 group's id in ts_serve_slots, leading to a slot; the slot's overwritable
per-CPU buffers sit at entries slot * cpus + cpu of ts_serve_events and its counts at slot * stride + k
of ts_serve_counts (plan.ServePlan). Adding one is a few map updates and perf_event_open calls, no
compile. Removing one takes the group out of the map first (nothing more is written), then the buffers.
"""

from __future__ import annotations

import ctypes
import threading

from tracespec.errors import TracespecError
from tracespec.plan.model import COUNT_CALLS, COUNT_ERRNO_BASE, COUNT_ERRORS, COUNT_LOST, COUNTS_STRIDE
from tracespec.runtime.loader import Loaded
from tracespec.runtime.overwrite import OverwriteBuffers


class SlotsFull(TracespecError):
    pass


class ServedProgram:
    """One spec's loaded program and its recorder slots (thread-safe: requests come from many threads)."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self.plan = loaded.plan
        self.serve = loaded.plan.serve
        self.slots = loaded.bpf[b"ts_serve_slots"]
        self.counts = loaded.bpf[b"ts_serve_counts"]
        self.lock = threading.Lock()
        self.free = list(range(self.serve.max_recorders))
        self.buffers: dict[int, OverwriteBuffers] = {}

    def add(self, cgroup_id: int, pages_per_cpu: int) -> int:
        """A new recorder of the group; its slot. The group's syscalls are recorded once this returns."""
        with self.lock:
            if not self.free:
                raise SlotsFull(f"all {self.serve.max_recorders} recorders are in use",
                                hint="close one (/close?id=K), or start serve with a larger --max-recorders")
            slot = self.free.pop(0)
        try:
            self._zero_counts(slot)
            buffers = OverwriteBuffers(self.loaded.bpf, "ts_serve_events", pages_per_cpu, self.plan.max_record,
                                       first_index=slot * self.serve.cpus)
        except BaseException:
            with self.lock:
                self.free.insert(0, slot)
            raise
        with self.lock:
            self.buffers[slot] = buffers
        self.slots[ctypes.c_ulonglong(cgroup_id)] = ctypes.c_uint(slot)
        return slot

    def remove(self, cgroup_id: int, slot: int) -> None:
        try:
            del self.slots[ctypes.c_ulonglong(cgroup_id)]
        except KeyError:
            pass
        with self.lock:
            buffers = self.buffers.pop(slot, None)
            if buffers is not None:
                buffers.close()
            self.free.append(slot)

    def snapshot(self, slot: int) -> list:
        with self.lock:
            buffers = self.buffers.get(slot)
        return buffers.snapshot() if buffers is not None else []

    def fill(self, slot: int) -> tuple[int, int]:
        """(bytes the slot's buffers hold, bytes written over since it was added), every CPU's added up.
        A buffer's head starts at 0 and moves down by each record the kernel writes."""
        used = over = 0
        with self.lock:  # remove() closes the buffers under it too
            buffers = self.buffers.get(slot)
            for buf in (buffers.buffers if buffers is not None else ()):
                written = (-buf.head[0]) & 0xFFFFFFFFFFFFFFFF
                used += min(written, buf.size)
                over += max(0, written - buf.size)
        return used, over

    def _zero_counts(self, slot: int) -> None:
        """A slot used before keeps its last recorder's counts: each CPU's value of each index is zeroed."""
        zero = self.counts.Leaf()  # a per-CPU array's value: one u64 per possible CPU
        for k in range(COUNTS_STRIDE):
            self.counts[ctypes.c_int(slot * COUNTS_STRIDE + k)] = zero

    def read_counts(self, slot: int) -> "RecorderCounts":
        """The slot's counts, every CPU's added up."""
        def total(k: int) -> int:
            return sum(int(v) for v in self.counts[ctypes.c_int(slot * COUNTS_STRIDE + k)])

        errnos = {}
        for e in range(1, COUNTS_STRIDE - COUNT_ERRNO_BASE):
            n = total(COUNT_ERRNO_BASE + e)
            if n:
                errnos[e] = n
        return RecorderCounts(total(COUNT_CALLS), total(COUNT_ERRORS), total(COUNT_LOST), errnos)

    def close(self) -> None:
        for slot in list(self.buffers):
            with self.lock:
                buffers = self.buffers.pop(slot, None)
            if buffers is not None:
                buffers.close()
        self.loaded.close()


class RecorderCounts:
    __slots__ = ("syscalls", "errors", "lost", "errnos")

    def __init__(self, syscalls: int, errors: int, lost: int, errnos: dict[int, int]):
        self.syscalls = syscalls
        self.errors = errors
        self.lost = lost
        self.errnos = errnos
