"""End to end, with real BPF: structs strace decodes (utsname, rusage, sysinfo, sigaction, signal masks),
-v's whole structs, and socket addresses cut to the length the kernel returned, on
tests/workloads/rules3_workload.c, compared with strace -f."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

STRUCT_SYSCALLS = ["uname", "getrusage", "sysinfo", "wait4", "rt_sigaction", "rt_sigprocmask"]
NET_SYSCALLS = ["bind", "connect", "accept", "getsockname", "getpeername"]
# what differs between two runs of the workload: times, counters, load and memory figures, netlink's
# port id (the process id), the child's pid, the stack's addresses
VARYING = re.compile(r"(tv_usec|tv_sec|ru_\w+|uptime|loads|\w+ram|procs|nl_pid)=(\[[0-9, ]+\]|\d+)"
                     r"|0x7ff[0-9a-f]+|(?<=wait4\()\d+|(?<=\) = )\d+$")


def _steady(lines: list[str]) -> list[str]:
    return [VARYING.sub(lambda m: (m.group(1) + "=N") if m.group(1) else "N", line) for line in lines]


def _from_main(lines: list[str], first: str) -> list[str]:
    """The workload's own lines, from its first call of `first` on (libc's start-up calls depend on
    the machine); a forked child's, whole."""
    start = next((i for i, line in enumerate(lines) if line.startswith(first + "(")), 0)
    return _steady(lines[start:])


def _compare(build_dir, tmp_path, syscalls: list[str], args: list[str], options: list[str], first: str):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    workload = compile_workload("rules3_workload", build_dir)
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want_file), "-e", "trace=" + ",".join(syscalls),
                    str(workload), *args], check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / "rules3.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(syscalls) + "]\n")
    got_file = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), *options, "-o", str(got_file), "--", str(workload), *args,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = [_from_main(p, first) for p in normalized(want_file.read_text(errors="surrogateescape"))]
    got = [_from_main(p, first) for p in normalized(got_file.read_text(errors="surrogateescape"))]
    return want, got


@pytest.mark.parametrize("options", [[], ["-v"]], ids=["abbreviated", "no-abbrev"])
def test_structs_agree_with_strace(build_dir, tmp_path, options):
    want, got = _compare(build_dir, tmp_path, STRUCT_SYSCALLS, [], options, "uname")
    assert len(want) == 2 and len(want[0]) == 17  # 16 calls and the exit line; the child's exit
    assert got == want


def test_socket_addresses_agree_with_strace(build_dir, tmp_path):
    want, got = _compare(build_dir, tmp_path, NET_SYSCALLS, ["net"], [], "bind")
    assert len(want) == 1 and any("[8 => 16]" in line for line in want[0])
    assert got == want
