"""The text writer (format/text.py) on synthetic records: the lines strace -f prints for the same syscalls."""

from __future__ import annotations

import io
import time

import pytest

from synthetic import (ABSENT, AT_FDCWD, ERESTARTSYS, TRUNCATED, close, enter, exit_, opened, proc_exit, read_,
                       text)
from tracespec.decode.events import Lost
from tracespec.format.text import TextOptions, TextWriter

OFF = TextOptions(live=False)
READ_ENTRY = enter("read", 100, 1000, (3, 0x5000, 4096))
READ_EXIT = exit_("read", 100, 5000, 5, {"buf": (b"hello", 0)})

LINES = {
    "open, read, close, exit": (
        opened(100, 1000, b"/etc/hostname", 3) + read_(100, 5000, 3, b"hello\n") + close(100, 9000, 3)
        + [proc_exit(100, 10000, 0)],
        '100 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3\n'
        '100 read(3, "hello\\n", 4096) = 6\n'
        "100 close(3) = 0\n"
        "100 +++ exited with 0 +++\n"),
    "a failed open": (
        opened(100, 1000, b"/nonexistent", -2),
        '100 openat(AT_FDCWD, "/nonexistent", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n'),
    "close(-1)": (
        close(100, 1000, -1, -9),
        "100 close(-1) = -1 EBADF (Bad file descriptor)\n"),
    "a buffer longer than the copy": (
        [enter("read", 100, 1000, (3, 0x5000, 4096)), exit_("read", 100, 2000, 40, {"buf": (b"a" * 32, TRUNCATED)})],
        f'100 read(3, "{"a" * 32}"..., 4096) = 40\n'),
    "bytes escaped as strace does": (
        [enter("read", 100, 1000, (0, 0x5000, 16)), exit_("read", 100, 2000, 6, {"buf": (b'a\tb"\0\x7f', 0)})],
        '100 read(0, "a\\tb\\"\\0\\177", 16) = 6\n'),
    "another thread between entry and exit": (
        [READ_ENTRY] + close(101, 2000, 4) + [READ_EXIT],
        "100 read(3,  <unfinished ...>\n"
        "101 close(4) = 0\n"
        '100 <... read resumed>"hello", 4096) = 5\n'),
    "open interrupted by another thread": (
        [enter("openat", 100, 1000, (AT_FDCWD, 1, 0, 0), {"filename": (b"/etc/passwd", 0)})] + close(101, 2000, 4)
        + [exit_("openat", 100, 5000, 3)],
        '100 openat(AT_FDCWD, "/etc/passwd", O_RDONLY <unfinished ...>\n'
        "101 close(4) = 0\n"
        "100 <... openat resumed>) = 3\n"),
    "in flight when the trace ends": (
        [READ_ENTRY],
        "100 read(3,  <unfinished ...>\n"),
    "interrupted and still in flight at the end": (
        [READ_ENTRY] + close(101, 2000, 4),
        "100 read(3,  <unfinished ...>\n"
        "101 close(4) = 0\n"),
    "exit_group never returns": (
        [enter("exit_group", 100, 1000, (1,)), proc_exit(100, 2000, 1 << 8)],
        "100 exit_group(1) = ?\n"
        "100 +++ exited with 1 +++\n"),
    "SIGKILL in a syscall that returned a restart code": (
        [READ_ENTRY, exit_("read", 100, 2000, ERESTARTSYS), proc_exit(100, 3000, 9)],
        "100 read(3,  <unfinished ...>) = ?\n"
        "100 +++ killed by SIGKILL +++\n"),
    "SIGKILL after another thread came between": (
        [READ_ENTRY] + close(101, 1500, 4) + [exit_("read", 100, 3000, ERESTARTSYS), proc_exit(100, 4000, 9)],
        "100 read(3,  <unfinished ...>\n"
        "101 close(4) = 0\n"
        "100 <... read resumed> <unfinished ...>) = ?\n"
        "100 +++ killed by SIGKILL +++\n"),
    "a restart code returned to a thread that goes on": (
        [READ_ENTRY, exit_("read", 100, 2000, ERESTARTSYS, {"buf": (b"", ABSENT)})] + close(100, 3000, 3),
        "100 read(3, 0x5000, 4096) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)\n"
        "100 close(3) = 0\n"),
    "killed with a core dump": (
        [proc_exit(100, 1000, 0x80 | 11)],
        "100 +++ killed by SIGSEGV (core dumped) +++\n"),
    "a thread's exit is printed with its own id": (
        [proc_exit(101, 1000, 0, tgid=100)],
        "101 +++ exited with 0 +++\n"),
    "an unknown exit code prints nothing": (
        [proc_exit(100, 1000, -1)],
        ""),
}


@pytest.mark.parametrize("raws,expected", LINES.values(), ids=LINES.keys())
def test_lines_as_strace_prints_them(raws, expected):
    assert text(raws, OFF) == expected


INTERLEAVED = [READ_ENTRY] + close(101, 2000, 4, dur=123_456) + [exit_("read", 100, 200_000, 5, {"buf": (b"hello", 0)})]
WALL = 1_700_000_000_123_456_789 - 1000  # clock offset: the first record is at 2023-11-14 22:13:20.123456789 UTC

OPTIONS = {
    "-r": (TextOptions(relative=True, live=False), 0,
           "100     0.000000 read(3,  <unfinished ...>\n"
           "101     0.000001 close(4) = 0\n"
           '100     0.000198 <... read resumed>"hello", 4096) = 5\n'),
    "-T": (TextOptions(syscall_times=True, live=False), 0,
           "100 read(3,  <unfinished ...>\n"
           "101 close(4) = 0 <0.000123>\n"
           '100 <... read resumed>"hello", 4096) = 5 <0.000199>\n'),
    "-t": (TextOptions(timestamps=1, live=False), WALL,
           "100 22:13:20 read(3,  <unfinished ...>\n"
           "101 22:13:20 close(4) = 0\n"
           '100 22:13:20 <... read resumed>"hello", 4096) = 5\n'),
    "-tt": (TextOptions(timestamps=2, live=False), WALL,
            "100 22:13:20.123456 read(3,  <unfinished ...>\n"
            "101 22:13:20.123457 close(4) = 0\n"
            '100 22:13:20.123655 <... read resumed>"hello", 4096) = 5\n'),
    "-ttt": (TextOptions(timestamps=3, live=False), WALL,
             "100 1700000000.123456 read(3,  <unfinished ...>\n"
             "101 1700000000.123457 close(4) = 0\n"
             '100 1700000000.123655 <... read resumed>"hello", 4096) = 5\n'),
}


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("options,offset,expected", OPTIONS.values(), ids=OPTIONS.keys())
def test_time_options(utc, options, offset, expected):
    assert text(INTERLEAVED, options, offset) == expected


def test_relative_stamps_follow_the_lines_not_the_syscalls():
    lines = text(close(100, 1000, 3) + close(100, 1_501_000, 4) + close(100, 3_001_501_000, 5),
                 TextOptions(relative=True, live=False)).splitlines()
    assert [line.split()[1] for line in lines] == ["0.000000", "0.001500", "3.000000"]


def test_syscall_time_rounds_to_microseconds():
    line = text(read_(100, 1000, 3, b"x", dur=1_999_999), TextOptions(syscall_times=True, live=False))
    assert line == '100 read(3, "x", 4096) = 1 <0.002000>\n'


def test_fd_paths_follow_opens_and_closes():
    raws = opened(100, 1000, b"/etc/hostname", 3) + read_(100, 5000, 3, b"hi") + close(100, 9000, 3) \
        + read_(100, 12000, 3, b"")
    assert text(raws, TextOptions(fd_paths=True, live=False)) == (
        '100 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3</etc/hostname>\n'
        '100 read(3</etc/hostname>, "hi", 4096) = 2\n'
        "100 close(3</etc/hostname>) = 0\n"
        '100 read(3, "", 4096) = 0\n')


def test_fd_paths_are_per_process():
    raws = opened(100, 1000, b"/etc/hostname", 3) + read_(200, 5000, 3, b"hi")
    assert text(raws, TextOptions(fd_paths=True, live=False)).splitlines()[1] == '200 read(3, "hi", 4096) = 2'


def test_lost_records_are_said_where_they_were_lost():
    out = io.StringIO()
    w = TextWriter(out, OFF)
    w.write([Lost(1000, 7)])
    w.finish()
    assert out.getvalue() == "tracespec: 7 records lost here\n"
