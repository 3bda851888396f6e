"""End to end, with real BPF: specs/all.yaml traces every syscall like `strace -e raw=all`."""

from __future__ import annotations

import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf


def test_all_syscalls_raw_like_strace(build_dir, tmp_path):
    exe = compile_workload("fileio_workload", build_dir)
    outs = {}
    for tracer in ("strace", "tracespec"):
        scratch = tmp_path / f"scratch-{tracer}"
        scratch.mkdir()
        out = tmp_path / f"{tracer}.txt"
        if tracer == "strace":
            subprocess.run(["strace", "-f", "-q", "-e", "raw=all", "-o", str(out), str(exe), str(scratch)],
                           check=True, stdout=subprocess.DEVNULL)
        else:
            r = run_tracespec("run", "specs/all.yaml", "-o", str(out), "--", str(exe), str(scratch),
                              stdout=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            assert "0 records lost" in r.stderr
        outs[tracer] = normalized(out.read_text(errors="surrogateescape"))
    assert outs["tracespec"] == outs["strace"]
    parent = outs["tracespec"][0]
    assert parent[0].startswith("execve(0x") and any(line.startswith("clone(0x") for line in parent)
    assert len(parent) > 60
