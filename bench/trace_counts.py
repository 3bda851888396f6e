"""Count, in a tracer's output file, the syscalls of given names: how many of the loop's syscalls the
tracer recorded. Each function counts every syscall once, however its output splits it in lines.

The workload makes no syscall of a loop's names outside that loop (see workload.c), so a count by name
is a count of the loop's syscalls."""

from __future__ import annotations

import json
import re
from collections import Counter

# strace, and tracespec's strace-style text: "PID name(args) = ret". A syscall interrupted by another
# thread's prints as "PID name(args <unfinished ...>" then "PID <... name resumed>...": only the first
# line matches, so each syscall counts once.
_STRACE_LINE = re.compile(r"^(?:\d+\s+)?([a-z_][a-z0-9_]*)\(")


def strace_style(path: str, names: tuple[str, ...]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    wanted = set(names)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _STRACE_LINE.match(line)
            if m and m.group(1) in wanted:
                counts[m.group(1)] += 1
    return {n: counts[n] for n in names}


# perf trace: "  0.389 ( 0.006 ms): comm/PID name(args) = ret". A syscall whose exit is not printed
# next to its entry gets two lines: "comm/PID name(args) ..." then "comm/PID  ... [continued]: name())".
# A "[continued]" line with no open entry before it is a syscall whose entry event was lost. perf says
# "LOST N events!" when its buffer overflowed.
_PERF_LINE = re.compile(r"\):\s+\S+/(\d+)\s+(?:\.\.\. \[continued\]: )?([a-z_][a-z0-9_]*)\(")
_PERF_LOST = re.compile(r"LOST (\d+) events!")


def perf_trace(path: str, names: tuple[str, ...]) -> tuple[dict[str, int], int]:
    """Counts by name, and the events perf itself said it lost."""
    counts: Counter[str] = Counter()
    lost = 0
    open_entry: dict[str, str] = {}  # pid -> name of its entry printed without its exit
    wanted = set(names)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _PERF_LINE.search(line)
            if not m:
                lost_line = _PERF_LOST.search(line)
                if lost_line:
                    lost += int(lost_line.group(1))
                continue
            pid, name = m.group(1), m.group(2)
            continued = "[continued]" in line
            if continued and open_entry.get(pid) == name:
                del open_entry[pid]  # the second half of a syscall already counted
                continue
            if not continued and line.rstrip().endswith("..."):
                open_entry[pid] = name
            else:
                open_entry.pop(pid, None)
            if name in wanted:
                counts[name] += 1
    return {n: counts[n] for n in names}, lost


def bpftrace_records(path: str, numbers: dict[str, int]) -> tuple[dict[str, int], int]:
    """every_syscall.bt's output: "E tid nr ..." at entry, "X tid nr ret" at exit. A syscall counts
    when its exit was recorded. Also returns the events bpftrace itself said it lost."""
    by_nr = {nr: name for name, nr in numbers.items()}
    counts: Counter[str] = Counter()
    lost = 0
    lost_re = re.compile(r"Lost (\d+) events")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "X":
                name = by_nr.get(int(parts[2]))
                if name:
                    counts[name] += 1
            elif "Lost" in line:
                m = lost_re.search(line)
                if m:
                    lost += int(m.group(1))
    return {n: counts[n] for n in numbers}, lost


_JSON_SYSCALL = re.compile(r'"syscall": "([a-z_][a-z0-9_]*)"')


def tracespec_json(path: str, names: tuple[str, ...]) -> tuple[dict[str, int], dict | None]:
    """tracespec's JSON Lines: one object per syscall; the last is {"lost", "syscalls", "unfinished"},
    returned as the footer (None if the file does not end with one)."""
    counts: Counter[str] = Counter()
    wanted = set(names)
    footer = None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            # A regex, not json.loads, on every line: it is ten times faster. It cannot match inside a
            # string argument, where JSON escapes the quotes.
            m = _JSON_SYSCALL.search(line)
            if m:
                if m.group(1) in wanted:
                    counts[m.group(1)] += 1
            elif line.startswith('{"lost"'):
                footer = json.loads(line)
    return {n: counts[n] for n in names}, footer


# "tracespec: M syscalls traced, N records lost", or with --format bin
# "tracespec: B bytes of records written to FILE, N records lost"
_TRACESPEC_LOST = re.compile(r"^tracespec: .*\b(\d+) records lost", re.MULTILINE)


def tracespec_lost(stderr: str) -> int | None:
    """The records lost, from the line tracespec ends every run with on stderr."""
    found = _TRACESPEC_LOST.findall(stderr)
    return int(found[-1]) if found else None
