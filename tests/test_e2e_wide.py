"""The wide program (plan/restrict.py): a selection of syscalls recorded by the program planned for every
syscall with the same options, the selection written as data, traces what the selection's own program
traces, line for line; and a run takes it from the cache instead of compiling its own."""

from __future__ import annotations

import os
import re

import pytest

from conftest import run_tracespec

pytestmark = pytest.mark.bpf

# a shell that opens, reads, execs, pipes, makes a socket and a child: something for every class
WORKLOAD = ("cat /etc/hostname > /dev/null; ls / | wc -l > /dev/null; "
            "getent ahosts localhost > /dev/null; (sleep 0; echo) > /dev/null; kill -0 $$")
VOLATILE = [(re.compile(r"0x[0-9a-f]{6,}"), "ADDR"), (re.compile(r"\b\d{3,}\b"), "N"),  # pids on a fresh machine too
            # random bytes, and netlink's sequence numbers and port ids inside its messages
            (re.compile(r'^((?:getrandom|sendto|recvmsg)\(.*?)"(?:[^"\\]|\\.)*"'), r'\1"BYTES"')]
TIMING = ("--- SIGCHLD ", "rt_sigreturn(")  # signals pending together are taken once, and when they come


def _trace(tmp_path, cache, wide: str, *selection: str) -> list[list[str]]:
    """Each process's lines in order (the processes of the pipeline interleave differently from run to
    run), sorted, with what varies between runs (pids, addresses, sequence numbers) made alike."""
    out = tmp_path / f"out-{wide}.txt"
    r = run_tracespec("run", *selection, "-o", str(out), "--", "sh", "-c", WORKLOAD,
                      env=dict(os.environ, TRACESPEC_CACHE=str(cache), TRACESPEC_WIDE=wide))
    assert r.returncode == 0, r.stderr
    procs: dict[str, list[str]] = {}
    for line in out.read_text().splitlines():
        pid, _, rest = line.partition(" ")
        for pattern, repl in VOLATILE:
            rest = pattern.sub(repl, rest)
        lines = procs.setdefault(pid, [])
        if rest.startswith("<... ") and lines and lines[-1].endswith(" <unfinished ...>"):
            # split by another process's line or not: how the processes interleaved this time
            lines[-1] = lines[-1].removesuffix(" <unfinished ...>") + rest[rest.index(" resumed>") + 9:]
        elif not rest.startswith(TIMING):
            lines.append(rest)
    return sorted(procs.values())


@pytest.mark.parametrize("selection", [
    ("-e", "trace=execve,openat,readv,close"),  # few: syscall tracepoints
    ("-e", "trace=%file"),  # many: raw tracepoints, tail calls
    ("-e", "trace=%network,%process"),
    ("-s", "64", "-e", "trace=%desc"),  # other options: another wide program
    ("-e", "trace=!openat"),  # all but one, rt_sigreturn's frame among them
    ("-y", "-e", "trace=read,write,close"),  # -y: the descriptor table learns from syscalls not printed
    ("-yy", "-e", "trace=%network"),
], ids=["few", "file", "network-process", "desc-s64", "exclusion", "y", "yy-network"])
def test_the_wide_program_traces_what_the_selections_own_does(tmp_path, selection):
    cache = tmp_path / "cache"
    own = _trace(tmp_path, cache, "0", *selection)
    wide = _trace(tmp_path, cache, "1", *selection)
    assert sum(len(p) for p in own) > 5
    assert wide == own


def test_a_run_takes_the_wide_program_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    _trace(tmp_path, cache, "1", "-e", "trace=openat")  # what ./setup does for strace's options
    entries = sorted(p.name for p in cache.iterdir() if p.name.endswith(".bpfobj"))
    # another selection, never compiled: found wide in the cache, nothing compiled
    text = _trace(tmp_path, cache, "", "-e", "trace=execve,stat,readv")
    assert sorted(p.name for p in cache.iterdir() if p.name.endswith(".bpfobj")) == entries
    lines = [line for p in text for line in p]
    assert any(line.startswith('execve("/usr/bin/sh", ["sh", "-c",') for line in lines)
    assert not any(line.startswith("openat(") for line in lines)
    # a filter is C: its own program, compiled
    _trace(tmp_path, cache, "", "-e", "trace=execve", "-e", "status=failed")
    assert len([p for p in cache.iterdir() if p.name.endswith(".bpfobj")]) == len(entries) + 1


def _counts(tmp_path, cache, wide: str, *selection: str) -> dict[str, tuple[str, str]]:
    """strace -c's table, each syscall's calls and errors (the times differ from run to run)."""
    out = tmp_path / f"summary-{wide}.txt"
    r = run_tracespec("run", "-c", *selection, "-o", str(out), "--", "sh", "-c", "cat /etc/hostname; ls /nowhere; true",
                      env=dict(os.environ, TRACESPEC_CACHE=str(cache), TRACESPEC_WIDE=wide))
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in out.read_text().split("\n\n")[0].splitlines()[2:]:
        cells = line.split()
        if len(cells) >= 5 and not line.startswith("-"):
            rows[cells[-1]] = (cells[3], cells[4] if len(cells) == 6 else "")
    return rows


def test_a_summary_counts_the_same_on_the_wide_program(tmp_path):
    selection = ("-e", "trace=execve,openat,read,close,newfstatat")
    own = _counts(tmp_path, tmp_path / "cache", "0", *selection)
    wide = _counts(tmp_path, tmp_path / "cache", "1", *selection)
    assert own == wide and set(own) >= {"execve", "openat", "close", "total"}
    assert own["openat"][1]  # the failed opens, counted as errors
