"""End to end, with real BPF: arguments strace decodes from the memory they point to, by operation
(fcntl's locks and owners, ioctl's terminal structs, futex's timeouts, prctl's names, AF_PACKET
addresses, signal masks), on tests/workloads/rules4_workload.c, compared with strace's lines."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

MARKER = "close(-4242)"


def _from_marker(lines: list[str]) -> list[str]:
    """The group's own lines: after the workload's marker (what the loader and libc did before it
    depends on the machine)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    return lines[start + 1:]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path) -> list[str]:
    """The group's lines under strace, asserted equal to tracespec's."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    argv = [str(compile_workload("rules4_workload", build_dir)), group]
    traced = syscalls + ["close"]
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-o", str(want_file), "-e", "trace=" + ",".join(traced), *argv],
                   check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / f"{group}.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(traced) + "]\n")
    got_file = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), "-o", str(got_file), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = [_from_marker(p) for p in normalized(want_file.read_text(errors="surrogateescape"))]
    got = [_from_marker(p) for p in normalized(got_file.read_text(errors="surrogateescape"))]
    assert len(want) == 1
    assert got == want
    return want[0]


def test_fcntl_locks_and_owners_agree_with_strace(build_dir, tmp_path):
    lines = _compare("fcntl", ["fcntl"], build_dir, tmp_path)
    assert lines[0] == "fcntl(3, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0"
    assert any(", l_pid=0}) = 0" in line for line in lines), "F_GETLK shows the struct the kernel wrote"
    assert "fcntl(3, F_GETLK, 0x8) = -1 EFAULT (Bad address)" in lines
    assert "fcntl(3, F_SETOWN_EX, {type=F_OWNER_TID, pid=P1}) = 0" in lines
