"""Read a summary out of its per-CPU maps: add up the CPUs, and free the keys read.

The kernel writes into the keys of the current epoch (a ts_params word). To take an interval's counts,
user space flips the epoch, lets the handlers already running finish, then reads and deletes the keys of
the old epoch: nothing is counted twice, nothing is lost between intervals, and the maps only ever hold
one interval's keys.
"""

from __future__ import annotations

import time
from tracespec.plan.model import Plan
from tracespec.wire.summary import SummaryEntry, SummarySnapshot

SETTLE_SECONDS = 0.01  # a BPF handler runs for microseconds: after this, none still writes the old epoch


class SummaryMaps:
    def __init__(self, bpf, plan: Plan, set_param):
        assert plan.summary is not None
        self.values = bpf.get_table(b"ts_summary")
        self.errnos = bpf.get_table(b"ts_errnos")
        self.epoch_param = plan.summary.epoch_param
        self.set_param = set_param
        self.epoch = 0
        self.since = time.monotonic_ns()

    def take(self) -> SummarySnapshot:
        """The counts since the last take, which start again from zero."""
        old = self.epoch
        self.epoch ^= 1
        self.set_param(self.epoch_param, self.epoch)
        now = time.monotonic_ns()
        time.sleep(SETTLE_SECONDS)
        errnos: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        for key, per_cpu in self._items(self.errnos, old):
            errnos.setdefault((key.k.nr, key.k.tgid, key.k.tid), []).append((key.err, sum(int(v) for v in per_cpu)))
        entries = []
        for key, per_cpu in self._items(self.values, old):
            entries.append(_merge(key, per_cpu, errnos.get((key.nr, key.tgid, key.tid), [])))
        snap = SummarySnapshot(self.since, now, tuple(entries))
        self.since = now
        return snap

    @staticmethod
    def _items(table, epoch: int):
        """(key, per-CPU values) of one epoch's keys, which are deleted once read."""
        out = []
        for key in list(table.keys()):
            k = key.k if hasattr(key, "k") else key
            if k.epoch != epoch:
                continue
            try:
                out.append((key, table.getvalue(key)))
            except KeyError:
                continue
            try:
                del table[key]
            except KeyError:
                pass
        return out


def _merge(key, per_cpu, errnos: list[tuple[int, int]]) -> SummaryEntry:
    used = [v for v in per_cpu if v.calls]
    nbuckets = len(per_cpu[0].hist) if len(per_cpu) else 0
    comm = ""
    for v in used:
        c = bytes(v.comm).split(b"\0", 1)[0]  # ctypes hands char[16] over as bytes
        if c:
            comm = c.decode("utf-8", "replace")
    return SummaryEntry(
        nr=key.nr, tgid=key.tgid, tid=key.tid, comm=comm,
        calls=sum(v.calls for v in used), errors=sum(v.errors for v in used),
        total_ns=sum(v.total_ns for v in used),
        min_ns=min((v.min_ns for v in used), default=0), max_ns=max((v.max_ns for v in used), default=0),
        hist=tuple(sum(v.hist[i] for v in used) for i in range(nbuckets)),
        errnos=tuple(sorted(errnos)),
    )
