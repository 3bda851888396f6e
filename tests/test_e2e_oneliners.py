"""End to end, with real BPF: strace one-liners traced by tracespec and by strace, compared; saved specs;
lines of a quiet program reaching a pipe and a file while it runs."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("oneliner_workload", build_dir)


def _strace(workload, scratch, flags, out):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    subprocess.run(["strace", "-f", "-q", "-o", str(out), *flags, str(workload), "mix", str(scratch)],
                   check=True, stdout=subprocess.DEVNULL)
    return out.read_text(errors="surrogateescape")


def _tracespec(workload, scratch, flags, out, *extra):
    r = run_tracespec("run", *extra, "-f", "-q", "-o", str(out), *flags, str(workload), "mix", str(scratch),
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return out.read_text(errors="surrogateescape")


FLAG_SETS = {
    "trace-failed": ["-e", "trace=openat,stat,newfstatat,access,rename,unlink,close", "-e", "status=failed"],
    "Z": ["-e", "trace=%file,close,read,write", "-Z"],
    "z": ["-e", "trace=openat,access,rename,unlink,write", "-z", "-s", "64"],
    "P": ["-e", "trace=%file", "-P", "SCRATCH/target"],
    "negated": ["-e", "trace=!%memory,%process,%signal,brk,arch_prctl,set_tid_address,set_robust_list,rseq,"
                "prlimit64,getrandom,mprotect,munmap,exit_group,execve,wait4,clone,newfstatat,fstat",
                "-e", "status=failed"],
}


@pytest.mark.parametrize("name", list(FLAG_SETS))
def test_one_liner_matches_strace(workload, tmp_path, name):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    flags = [f.replace("SCRATCH", str(scratch)) for f in FLAG_SETS[name]]
    expected = normalized(_strace(workload, scratch, flags, tmp_path / "strace.txt"))
    got = normalized(_tracespec(workload, scratch, flags, tmp_path / "tracespec.txt"))
    if name == "P":  # strace -P also shows syscalls on descriptors of PATH; a kernel filter sees paths only
        expected = [[line for line in p if str(scratch) in line or line.startswith("+++")] for p in expected]
    assert got == expected
    assert any(len(p) > 1 for p in got), "the comparison must see syscalls"


def test_saved_spec_traces_the_same(workload, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    flags = ["-e", "trace=openat,%stat,/^acc", "-Z", "-s", "100"]
    direct = _tracespec(workload, scratch, flags + ["--save-spec", str(tmp_path / "saved.yaml")],
                        tmp_path / "a.txt")
    assert run_tracespec("check", str(tmp_path / "saved.yaml")).returncode == 0
    again = _tracespec(workload, scratch, [], tmp_path / "b.txt", str(tmp_path / "saved.yaml"))
    assert normalized(direct) == normalized(again) and "ENOENT" in direct
    printed = run_tracespec("spec", *flags).stdout
    assert printed.splitlines()[1:] == (tmp_path / "saved.yaml").read_text().splitlines()[1:]


def _wait_for(read_more, needle: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    seen = ""
    while time.monotonic() < deadline:
        seen += read_more(deadline - time.monotonic())
        if needle in seen:
            return True
    return False


@pytest.mark.parametrize("dest", ["pipe", "file"])
def test_a_rare_line_arrives_while_the_program_idles(workload, tmp_path, dest):
    out = tmp_path / "trace.txt"
    where = ["-o", str(out)] if dest == "file" else []
    p = subprocess.Popen([TRACESPEC, "run", "-e", "trace=access", *where, "--", str(workload), "rare",
                          "/nonexistent/rare-one"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        assert _wait_for(lambda left: _read_ready(p.stdout, left), "done", 60), "the workload did not start"
        if dest == "pipe":
            arrived = _wait_for(lambda left: _read_ready(p.stderr, left), "rare-one", 1.0)
        else:
            arrived = _wait_for(lambda left: (time.sleep(0.05), out.read_text() if out.exists() else "")[1],
                                "rare-one", 1.0)
        assert arrived, "the access line did not arrive within a second"
        assert p.poll() is None, "the program must still be running: the line came before its end"
    finally:
        p.wait(timeout=30)
        p.stdout.close()
        p.stderr.close()


def _read_ready(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], max(seconds, 0))
    return os.read(stream.fileno(), 65536).decode(errors="replace") if ready else ""
