"""End to end, with real BPF: the arguments strace shows only where the operation uses them (futex by
command, prctl by option, arch_prctl by code) on tests/workloads/rules2_workload.c, compared with strace."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

SYSCALLS = ["futex", "prctl", "arch_prctl"]


def _from_main(lines: list[str]) -> list[str]:
    """The workload's own lines: from its marker prctl(PR_SET_TIMERSLACK, 12345) on (the dynamic
    loader's and libc's calls before it depend on the machine)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("prctl(PR_SET_TIMERSLACK, 12345)"))
    return lines[start:]


def test_operation_arguments_agree_with_strace(build_dir, tmp_path):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    workload = compile_workload("rules2_workload", build_dir)
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-o", str(want_file), "-e", "trace=" + ",".join(SYSCALLS),
                    str(workload)], check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / "rules2.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(SYSCALLS) + "]\n")
    got_file = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), "-o", str(got_file), "--", str(workload), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = [_from_main(p) for p in normalized(want_file.read_text(errors="surrogateescape"))]
    got = [_from_main(p) for p in normalized(got_file.read_text(errors="surrogateescape"))]
    assert len(want) == 1 and len(want[0]) == 22  # 21 calls and the exit line
    assert got == want
