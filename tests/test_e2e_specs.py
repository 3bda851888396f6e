"""End to end, with real BPF: each shipped spec traces a program of ours like strace does.

For every spec in specs/ there is a workload (tests/workloads/) and the strace options that trace the
same syscalls the same way; tracespec's text output must equal strace's, process by process, once
what differs between any two runs (pids, ephemeral ports, addresses, environment size) is set aside.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import pytest

from conftest import ROOT, compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf


@dataclass(frozen=True)
class Case:
    spec: str
    workload: str
    strace: tuple[str, ...]  # strace options selecting the same syscalls
    needs_dir: bool = True  # the workload takes a scratch directory
    expect: tuple[str, ...] = ()  # lines (after normalizing) that must be there, to show it really ran


CASES = [
    Case("network", "network_workload", ("-s", "32", "-e", "trace=%network,close"),
         expect=("accept4(3, {sa_family=AF_INET6, sin6_port=htons(PORT), sin6_flowinfo=htonl(0), "
                 'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [128 => 28], SOCK_CLOEXEC) = 5',
                 "socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0",
                 'getsockopt(4, SOL_TCP, TCP_NODELAY, [0], [4]) = 0',
                 "connect(3, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr(\"127.0.0.1\")}, 16) "
                 "= -1 ECONNREFUSED (Connection refused)")),
    Case("process", "process_workload", ("-s", "256", "-e", "trace=%process"), needs_dir=False,
         expect=('wait4(P3, [{WIFEXITED(s) && WEXITSTATUS(s) == 5}], 0, NULL) = P3',
                 "+++ killed by SIGKILL +++", "exit(0) = ?")),
]


def _run(case: Case, build_dir, tmp_path, tracer: str) -> str:
    exe = compile_workload(case.workload, build_dir)
    scratch = tmp_path / f"scratch-{tracer}"
    scratch.mkdir()
    argv = [str(exe)] + ([str(scratch)] if case.needs_dir else [])
    out = tmp_path / f"{tracer}.txt"
    if tracer == "strace":
        subprocess.run(["strace", "-f", "-q", "-o", str(out), *case.strace, *argv], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        r = run_tracespec("run", f"specs/{case.spec}.yaml", "-o", str(out), "--", *argv, stdout=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
    return out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.spec)
def test_spec_traces_like_strace(case, build_dir, tmp_path):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    expected = normalized(_run(case, build_dir, tmp_path, "strace"))
    got = normalized(_run(case, build_dir, tmp_path, "tracespec"))
    assert len(got) == len(expected), "the same processes and threads"
    for n, (want, have) in enumerate(zip(expected, got)):
        assert have == want, f"process {n + 1} differs from strace"
    everything = [line for p in got for line in p]
    for line in case.expect:
        assert line in everything, line


def test_every_spec_has_an_end_to_end_case():
    covered = {c.spec for c in CASES} | {"fileio", "all"}  # fileio and all: test_e2e_strace.py, test_e2e_all.py
    shipped = {p.stem for p in (ROOT / "specs").glob("*.yaml")}
    assert shipped <= covered, f"specs without an end-to-end test: {sorted(shipped - covered)}"
