"""End to end, with real BPF: the classes of difference a whole-program comparison with strace -f
found (issue 19: ls, cp, tar, df, curl, python3, git...), each reproduced by a group of
tests/workloads/rules5_workload.c and compared with strace's lines."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

MARKER = "close(-4242)"


def _from_marker(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    return lines[start + 1:]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = ()) -> list[str]:
    """The group's lines under strace, asserted equal to tracespec's, both given the same options."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    argv = [str(compile_workload("rules5_workload", build_dir)), group]
    traced = syscalls + ["close"]
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want_file), "-e", "trace=" + ",".join(traced), *argv],
                   check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / f"{group}.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(traced) + "]\n")
    got_file = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), *options, "-o", str(got_file), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = [_from_marker(p) for p in normalized(want_file.read_text(errors="surrogateescape"))]
    got = [_from_marker(p) for p in normalized(got_file.read_text(errors="surrogateescape"))]
    assert len(want) == 1
    assert got == want
    return want[0]


def test_flag_tables_and_hex_numbers_agree_with_strace(build_dir, tmp_path):
    lines = _compare("flags", ["socket", "accept4", "faccessat2", "rseq"], build_dir, tmp_path)
    assert lines[0] == "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3"
    assert any("X_OK, AT_EACCESS) = -1 ENOENT" in line for line in lines)
    assert any(line.startswith("rseq(0xADDR, 0x10, 0, 0xADDR) = -1 EINVAL") for line in lines)
