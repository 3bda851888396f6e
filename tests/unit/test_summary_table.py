"""The text summary (format/summary.py) for a terminal: strace -c's table as strace 6.1 prints it, the
calls' spread in one unit per table, histograms of the syscalls with the most time."""

from __future__ import annotations

import io
import re

from synthetic import NR, schema
from tracespec.format.summary import HIST_DEFAULT, SummaryTextWriter
from tracespec.plan.model import HIST_BUCKETS
from tracespec.wire.summary import SummaryEntry, SummarySnapshot

# strace -c -f ls, strace 6.1 (header, rule, a row, the total)
STRACE_C = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 29.65    0.000177           5        34        13 openat
------ ----------- ----------- --------- --------- ----------------
100.00    0.000597           4       144        19 total
"""


def _entry(name: str, calls: int, total_ns: int, min_ns: int, max_ns: int, errors: int = 0) -> SummaryEntry:
    hist = [0] * HIST_BUCKETS
    hist[max(min_ns.bit_length() - 1, 0)] = calls
    return SummaryEntry(NR[name], 0, 0, "", calls, errors, total_ns, min_ns, max_ns, tuple(hist),
                        ((2, errors),) if errors else ())


def _summary(entries, histograms=HIST_DEFAULT) -> str:
    out = io.StringIO()
    SummaryTextWriter(out, schema(), "syscall", 0, histograms=histograms).summary(
        SummarySnapshot(0, 10**9, tuple(entries)))
    return out.getvalue()


def test_the_table_is_strace_c_column_for_column():
    text = _summary([_entry("openat", 34, 177_000, 2_000, 9_000, errors=13), _entry("close", 110, 420_000, 400, 7_000)])
    lines = text.splitlines()
    want = STRACE_C.splitlines()
    assert lines[0] == want[0] and lines[1] == want[1] and lines[4] == want[3]
    # each row's fields end where strace's do
    ends = lambda line: [m.end() for m in re.finditer(r"\S+", line)][:-1]  # noqa: E731
    assert ends(lines[3]) == ends(want[2]) and ends(lines[5]) == ends(want[4])
    assert lines[3] == " 29.65    0.000177           5        34        13 openat"
    assert all(len(line) <= 80 for line in lines)


def test_spread_in_one_unit_with_sub_microsecond_minima():
    text = _summary([_entry("close", 3, 3_000, 512, 1_500)])
    assert "  min usecs   avg usecs   max usecs syscall" in text
    assert "      0.512       1.000       1.500 close" in text  # not 0
    long = _summary([_entry("read", 2, 40 * 10**9, 5_000, 39_999_995_000), _entry("close", 1, 700, 700, 700)])
    assert "   min secs    avg secs    max secs syscall" in long and "usecs syscall\n" not in long.split("max secs")[1]
    assert "      0.000      20.000      40.000 read" in long and "      0.000       0.000       0.000 close" in long


def test_histograms_of_the_syscalls_with_the_most_time():
    names = ["read", "write", "close", "openat", "exit_group"]
    rows = [_entry(n, 1, 1000 * (i + 1), 1000 * (i + 1), 1000 * (i + 1)) for i, n in enumerate(names)]
    two = _summary(rows, histograms=2)
    assert re.findall(r"^(\w+): time in the syscall", two, re.M) == ["exit_group", "openat"]
    assert "(histograms of the 2 syscalls with the most time; --hist all shows all 5)" in two
    every = _summary(rows, histograms=None)
    assert len(re.findall(r"time in the syscall", every)) == 5 and "--hist all" not in every
    assert "time in the syscall" not in _summary(rows, histograms=0)
    assert len(re.findall(r"time in the syscall", _summary(rows * 2))) == HIST_DEFAULT == 5
