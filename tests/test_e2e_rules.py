"""End to end, with real BPF: strace's decoding rules (unknown flag bits and enum values with their
comment, 32-bit arguments, octal modes, fcntl's arguments and returns by command, ioctl request names,
open's mode only when it creates) on tests/workloads/rules_workload.c, compared with strace -f."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

SYSCALLS = ["access", "faccessat", "openat", "close_range", "umask", "socket", "setsockopt", "lseek", "fcntl",
            "ioctl", "munmap", "mlockall", "msync", "write", "pread64", "getrandom", "close", "unlinkat"]


def _from_main(lines: list[str]) -> list[str]:
    """The workload's own lines: from its first access() of its scratch file on (the dynamic loader's
    calls before it depend on the machine's libraries)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("access(") and "/file" in line)
    return lines[start:]


def test_rules_agree_with_strace(build_dir, tmp_path):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    workload = compile_workload("rules_workload", build_dir)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-o", str(want_file), "-e", "trace=" + ",".join(SYSCALLS),
                    str(workload), str(scratch)], check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / "rules.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(SYSCALLS) + "]\n")
    got_file = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), "-o", str(got_file), "--", str(workload), str(scratch),
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = [_from_main(p) for p in normalized(want_file.read_text(errors="surrogateescape"))]
    got = [_from_main(p) for p in normalized(got_file.read_text(errors="surrogateescape"))]
    assert len(want) == 1 and len(want[0]) > 40
    assert got == want
