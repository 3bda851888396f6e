"""Summaries as text (strace -c's table, then errors by errno and latency histograms) or JSON Lines.

The table is strace -c's, column for column (it fits 80 columns); times are wall time inside the
syscall, entry to exit (what strace -c -w shows; plain strace -c shows CPU time):

    % time     seconds  usecs/call     calls    errors syscall
    ------ ----------- ----------- --------- --------- ----------------
     71.52    0.000311          15        20        10 openat

Then errors by errno, each syscall's shortest, average and longest call in one unit (a call shorter
than a microsecond shows as such: 0.512), and log2 histograms of the times of the syscalls with the
most time (HIST_DEFAULT of them unless asked for more).

The JSON form is one object per summary (and per process or thread when broken down so):

    {"summary": {"start_ns", "end_ns", "pid", "tid", "comm"}, "syscalls": [{"syscall", "calls", "errors",
     "total_ns", "avg_ns", "min_ns", "max_ns", "time_pct", "errnos": {"ENOENT": 10},
     "hist": [{"ge_ns": 1024, "lt_ns": 2048, "calls": 3}, ...]}]}

(pid, tid and comm only when broken down by process or thread), and last {"lost": N, "calls": M}:
N syscalls that could not be counted (the summary's maps were full).
"""

from __future__ import annotations

import json
import time

from tracespec.decode.events import Finished
from tracespec.format.values import constants, failed
from tracespec.plan.model import HIST_BUCKETS, Schema
from tracespec.wire.summary import SummaryEntry, SummarySnapshot

RULE = "------ ----------- ----------- --------- --------- ----------------"
HEAD = "% time     seconds  usecs/call     calls    errors syscall"
SPREAD_RULE = "----------- ----------- ----------- ----------------"
BAR_WIDTH = 40
HIST_DEFAULT = 5  # histograms of this many syscalls, those with the most time
# The spread table's unit: microseconds while the longest call fits the column (9999999.999), else seconds
SPREAD_UNITS = ((10_000_000_000, "usecs", 1_000), (None, "secs", 1_000_000_000))


def _names(schema: Schema) -> dict[int, str]:
    return {i.nr: i.name for i in schema.syscalls}


def _name(names: dict[int, str], nr: int) -> str:
    return names.get(nr) or f"syscall_{nr:#x}"


def _groups(snap: SummarySnapshot, by: str) -> list[tuple[tuple[int, int, str], list[SummaryEntry]]]:
    """Entries by process (or thread), each group's rows sorted by time, as strace -c sorts."""
    groups: dict[tuple[int, int], list[SummaryEntry]] = {}
    for e in snap.entries:
        groups.setdefault((e.tgid, e.tid) if by != "syscall" else (0, 0), []).append(e)
    out = []
    for (tgid, tid), rows in sorted(groups.items()):
        rows.sort(key=lambda e: (-e.total_ns, -e.calls, e.nr))
        comm = next((e.comm for e in rows if e.comm), "")
        out.append(((tgid, tid, comm), rows))
    return out


def _size(ns: int) -> str:
    """A bucket bound as bpftrace prints them: 512, 1K, 2M (powers of 1024)."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if ns >= scale and ns % scale == 0:
            return f"{ns // scale}{unit}"
    return str(ns)


def bucket_bounds(i: int) -> tuple[int, int | None]:
    """[low, high) in ns of histogram bucket i; the last one has no upper bound."""
    low = 0 if i == 0 else 1 << i
    return low, (None if i == HIST_BUCKETS - 1 else 1 << (i + 1))


class SummaryTextWriter:
    raw = False

    def __init__(self, out, schema: Schema, by: str, clock_offset_ns: int, histograms: int | None = HIST_DEFAULT,
                 interval: bool = False):
        self.out = out
        self.names = _names(schema)
        self.by = by
        self.offset = clock_offset_ns
        self.histograms = histograms  # how many syscalls get one (None: all)
        self.interval = interval
        self.syscalls = 0  # calls counted in the summaries written

    def write(self, items) -> None:
        """Events from the records buffer (process exits): a summary does not print them."""

    def summary(self, snap: SummarySnapshot) -> None:
        lines: list[str] = []
        if self.interval:
            start = time.strftime("%H:%M:%S", time.localtime((snap.start_ns + self.offset) // 1_000_000_000))
            end = time.strftime("%H:%M:%S", time.localtime((snap.end_ns + self.offset) // 1_000_000_000))
            lines.append(f"--- {start} .. {end} ({(snap.end_ns - snap.start_ns) / 1e9:.1f} s) ---")
        groups = _groups(snap, self.by)
        if not groups:
            lines.append("no syscalls counted")
        for (tgid, tid, comm), rows in groups:
            if self.by == "process":
                lines.append(f"process {tgid} ({comm})")
            elif self.by == "thread":
                lines.append(f"thread {tid} of process {tgid} ({comm})")
            lines += self.table(rows)
            lines += self.errno_table(rows)
            lines += self.spread_table(rows)
            if self.histograms != 0:
                lines += self.hist_lines(rows)
            lines.append("")
        self.syscalls += sum(e.calls for e in snap.entries)
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def table(self, rows: list[SummaryEntry]) -> list[str]:
        total = sum(e.total_ns for e in rows)
        out = [HEAD, RULE]
        for e in rows:
            pct = 100.0 * e.total_ns / total if total else 0.0
            avg_us = e.total_ns // e.calls // 1000 if e.calls else 0
            errors = str(e.errors) if e.errors else ""
            out.append(f"{pct:6.2f} {e.total_ns / 1e9:11.6f} {avg_us:11d} {e.calls:9d} {errors:>9} "
                       f"{_name(self.names, e.nr)}")
        calls = sum(e.calls for e in rows)
        errors = sum(e.errors for e in rows)
        out.append(RULE)
        avg_us = total // calls // 1000 if calls else 0
        out.append(f"{100.0 if total else 0.0:6.2f} {total / 1e9:11.6f} {avg_us:11d} "
                   f"{calls:9d} {str(errors) if errors else '':>9} total")
        return out

    def spread_table(self, rows: list[SummaryEntry]) -> list[str]:
        """Each syscall's shortest, average and longest call, in the table's one unit, in -c's order."""
        timed = [e for e in rows if e.calls]
        if not timed:
            return []
        longest = max(e.max_ns for e in timed)
        unit, scale = next((u, sc) for limit, u, sc in SPREAD_UNITS if limit is None or longest < limit)
        head = f"{'min ' + unit:>11} {'avg ' + unit:>11} {'max ' + unit:>11} syscall"
        out = ["", head, SPREAD_RULE]
        for e in timed:
            out.append(f"{e.min_ns / scale:11.3f} {e.total_ns / e.calls / scale:11.3f} {e.max_ns / scale:11.3f} "
                       f"{_name(self.names, e.nr)}")
        return out

    def errno_table(self, rows: list[SummaryEntry]) -> list[str]:
        failing = [(e, err, n) for e in rows for err, n in e.errnos]
        if not failing:
            return []
        c = constants()
        out = ["", "errors     syscall          errno"]
        failing.sort(key=lambda t: (-t[2], _name(self.names, t[0].nr), t[1]))
        for e, err, n in failing:
            out.append(f"{n:9d}  {_name(self.names, e.nr):<16} {c.errno_name(err)} ({c.errno_message(err)})")
        return out

    def hist_lines(self, rows: list[SummaryEntry]) -> list[str]:
        """Histograms of the first syscalls of the table (those with the most time)."""
        out = []
        timed = [e for e in rows if any(e.hist)]
        shown = timed if self.histograms is None else timed[:self.histograms]
        for e in shown:
            used = [i for i, n in enumerate(e.hist) if n]
            if not used:
                continue
            top = max(e.hist)
            out += ["", f"{_name(self.names, e.nr)}: time in the syscall, ns"]
            for i in range(used[0], used[-1] + 1):
                low, high = bucket_bounds(i)
                label = f"[{_size(low)}, {_size(high)})" if high is not None else f"[{_size(low)}, ...)"
                n = e.hist[i]
                bar = "@" * (n * BAR_WIDTH // top) if top else ""
                out.append(f"{label:<16} {n:9d} |{bar:<{BAR_WIDTH}}|")
        if len(shown) < len(timed):
            which = "the syscall" if len(shown) == 1 else f"the {len(shown)} syscalls"
            out += ["", f"(histograms of {which} with the most time; --hist all shows all {len(timed)})"]
        return out

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        self.out.flush()


class SummaryJsonWriter:
    raw = False

    def __init__(self, out, schema: Schema, by: str, clock_offset_ns: int):
        self.out = out
        self.names = _names(schema)
        self.by = by
        self.offset = clock_offset_ns
        self.syscalls = 0
        self.dumps = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode

    def write(self, items) -> None:
        """Events from the records buffer (process exits): a summary does not print them."""

    def summary(self, snap: SummarySnapshot) -> None:
        c = constants()
        lines = []
        for (tgid, tid, comm), rows in _groups(snap, self.by):
            head = {"start_ns": snap.start_ns + self.offset, "end_ns": snap.end_ns + self.offset}
            if self.by != "syscall":
                head["pid"] = tgid
                head["comm"] = comm
            if self.by == "thread":
                head["tid"] = tid
            total = sum(e.total_ns for e in rows)
            syscalls = []
            for e in rows:
                hist = []
                for i, n in enumerate(e.hist):
                    if n:
                        low, high = bucket_bounds(i)
                        hist.append({"ge_ns": low, "lt_ns": high, "calls": n})
                syscalls.append({
                    "syscall": _name(self.names, e.nr), "calls": e.calls, "errors": e.errors,
                    "total_ns": e.total_ns, "avg_ns": e.total_ns // e.calls if e.calls else 0,
                    "min_ns": e.min_ns, "max_ns": e.max_ns,
                    "time_pct": round(100.0 * e.total_ns / total, 3) if total else 0.0,
                    "errnos": {c.errno_name(err): n for err, n in e.errnos}, "hist": hist,
                })
            lines.append(self.dumps({"summary": head, "syscalls": syscalls}))
        self.syscalls += sum(e.calls for e in snap.entries)
        if lines:
            self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        obj = {"lost": lost, "calls": self.syscalls}
        if exit_code is not None:
            obj["exit_code"] = exit_code
        self.out.write(self.dumps(obj) + "\n")
        self.out.flush()



class TraceThenSummary:
    """strace -C: the trace as it goes, then -c's table for the syscalls it showed. The table is counted
    here from the events (entry to exit, as the kernel's summary maps count; a syscall that never
    returned has no time and is left out, as strace leaves it out), not in the kernel: the trace needs
    every record anyway."""

    raw = False

    def __init__(self, trace, summary: SummaryTextWriter):
        self.trace = trace
        self.table = summary
        self.counts: dict[int, list] = {}  # nr -> [calls, errors, total, min, max, hist, errnos]
        self.first_ts: int | None = None
        self.last_ts = 0

    @property
    def syscalls(self) -> int:
        return self.trace.syscalls

    def write(self, items) -> None:
        self.trace.write(items)
        for item in items:
            if type(item) is Finished:
                self._count(item.event)

    def _count(self, ev) -> None:
        took = ev.duration_ns
        if took is None:
            return
        c = self.counts.get(ev.nr)
        if c is None:
            c = self.counts[ev.nr] = [0, 0, 0, took, took, [0] * HIST_BUCKETS, {}]
        c[0] += 1
        c[2] += took
        c[3] = min(c[3], took)
        c[4] = max(c[4], took)
        c[5][min(max(took.bit_length() - 1, 0), HIST_BUCKETS - 1)] += 1  # as the kernel's ts_log2
        if failed(ev.ret):
            c[1] += 1
            c[6][-ev.ret] = c[6].get(-ev.ret, 0) + 1
        if self.first_ts is None:
            self.first_ts = ev.ts
        self.last_ts = max(self.last_ts, ev.exit.ts)

    def snapshot(self) -> SummarySnapshot:
        entries = tuple(SummaryEntry(nr, 0, 0, "", c[0], c[1], c[2], c[3], c[4], tuple(c[5]),
                                     tuple(sorted(c[6].items()))) for nr, c in self.counts.items())
        return SummarySnapshot(self.first_ts or 0, self.last_ts, entries)

    def flush(self) -> None:
        self.trace.flush()

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        self.trace.finish(lost, exit_code)
        self.table.summary(self.snapshot())
        self.table.finish(lost, exit_code)
