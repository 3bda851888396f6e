"""End to end, with real BPF: more of strace's habits, compared with strace on the same workloads: -ff -o
(a file per thread), -C (the trace, then the table), the process name on system-wide lines."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

PROCESS_SET = ["-e", "trace=clone,clone3,fork,vfork,execve,wait4,kill,write,exit,exit_group"]


@pytest.fixture(scope="module")
def workloads(build_dir):
    return {name: compile_workload(name, build_dir) for name in ("threads_workload", "oneliner_workload")}


def _strace(args: list[str], status: int = 0) -> None:
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    assert subprocess.run(["strace", "-q", *args], stdout=subprocess.DEVNULL).returncode == status


def _tracespec(args: list[str], status: int = 0) -> subprocess.CompletedProcess:
    r = run_tracespec("run", "-q", *args, stdout=subprocess.DEVNULL)
    assert r.returncode == status, r.stderr
    return r


def _per_thread_files(base) -> list[tuple[int, str]]:
    """-ff's files FILE.TID as (tid, text), in the order of their ids (the order the tasks were made)."""
    found = [(int(p.name.rsplit(".", 1)[1]), p.read_text(errors="surrogateescape"))
             for p in base.parent.glob(base.name + ".*")]
    return sorted(found)


def _as_one_stream(files: list[tuple[int, str]]) -> str:
    """The files as strace -f would have interleaved them, file after file: each line with its tid in
    front, so that straceio's normalization (pids as P1, P2... in order) applies to both alike."""
    assert all(not re.match(r"\d+ ", line) for _, text in files for line in text.splitlines()), \
        "-ff's lines start without the pid"
    return "".join(f"{tid} {line}\n" for tid, text in files for line in text.splitlines())


@pytest.mark.parametrize("case", ["threads", "forks"])
def test_ff_writes_a_file_per_thread_as_strace(workloads, tmp_path, case):
    if case == "threads":
        command = [str(workloads["threads_workload"]), "thread-first"]
        flags, status = PROCESS_SET, 4  # its exit_group(4)
    else:
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        command = [str(workloads["oneliner_workload"]), "mix", str(scratch)]
        flags, status = ["-e", "trace=%file,write,clone,clone3,fork,wait4,exit_group", "-Z"], 0
    (tmp_path / "s").mkdir()
    (tmp_path / "t").mkdir()
    _strace(["-ff", "-o", str(tmp_path / "s" / "out"), *flags, *command], status)
    r = _tracespec(["-ff", "-o", str(tmp_path / "t" / "out"), *flags, *command], status)
    want = _per_thread_files(tmp_path / "s" / "out")
    got = _per_thread_files(tmp_path / "t" / "out")
    assert len(got) == len(want) == 2, "two tasks: a thread (or a child) and the main one"
    assert normalized(_as_one_stream(got)) == normalized(_as_one_stream(want))
    assert f"2 files written ({tmp_path / 't' / 'out'}.TID)" in r.stderr


def test_ff_refusals_say_why(tmp_path):
    r = run_tracespec("run", "-ff", "-o", str(tmp_path / "x"), "--format", "json", "--", "true")
    assert r.returncode == 2 and "-ff writes text" in r.stderr
    r = run_tracespec("run", "-ff", "-c", "-o", str(tmp_path / "x"), "--", "true")
    assert r.returncode == 2 and "mutually exclusive" in r.stderr
    r = run_tracespec("run", "-ff", "-o", str(tmp_path / "no" / "such" / "x"), "--", "true")
    assert r.returncode == 2 and "cannot take the files" in r.stderr
    assert not list(tmp_path.iterdir())


TABLE_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(?:\d+\s+\d+\s+)?(\d+)\s+(\d*)\s+(\S+)$")


def _split_c(text: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """strace -C's output: the trace, and the table's rows as syscall -> (calls, errors)."""
    head = text.index("% time")
    rows = {}
    for line in text[head:].splitlines():
        m = TABLE_ROW.match(line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
        elif rows and not line.strip():
            break  # the table ends: errors and histograms follow
    return text[:head], rows


def test_C_prints_the_trace_then_the_table_as_strace(workloads, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    command = [str(workloads["oneliner_workload"]), "mix", str(scratch)]
    flags = ["-e", "trace=openat,access,rename,unlink,write,close,newfstatat"]
    _strace(["-f", "-C", "-o", str(tmp_path / "s.txt"), *flags, *command])
    _tracespec(["-f", "-C", "-o", str(tmp_path / "t.txt"), *flags, *command])
    want_trace, want_rows = _split_c((tmp_path / "s.txt").read_text())
    got_trace, got_rows = _split_c((tmp_path / "t.txt").read_text())
    assert normalized(got_trace) == normalized(want_trace)
    assert got_rows == want_rows and want_rows["total"][1] > 0, "the same calls and errors, failures among them"


def test_C_refusals_say_why():
    r = run_tracespec("run", "-c", "-C", "--", "true")
    assert r.returncode == 2 and "-c and -C are mutually exclusive" in r.stderr
    r = run_tracespec("run", "-C", "--format", "json", "--", "true")
    assert r.returncode == 2 and "-C prints the trace" in r.stderr


def test_a_system_wide_trace_names_each_process(workloads, tmp_path):
    """--comm NAME: every line carries the process's name after its pid (traceloop's form), and the lines
    are strace's once the name is taken out."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    workload = workloads["oneliner_workload"]
    command = [str(workload), "mix", str(scratch)]
    flags = ["-e", "trace=openat,access,rename,unlink", "-Z"]
    _strace(["-f", "-o", str(tmp_path / "s.txt"), *flags, *command])
    out = tmp_path / "t.txt"
    p = subprocess.Popen([TRACESPEC, "run", "--comm", workload.name, "-o", str(out), *flags],
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert "tracing started" in p.stderr.readline(), "the trace did not start"
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        time.sleep(0.5)  # the last records drained
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=60) == 0, p.stderr.read()
        p.stderr.close()
    got = out.read_text(errors="surrogateescape")
    name = f"[{workload.name[:15]}] "
    lines = [line for line in got.splitlines() if line]
    assert lines and all(re.match(rf"\d+ {re.escape(name)}", line) for line in lines), got
    # each process's end too, as strace shows the end of a process it attached to (-p)
    want = normalized((tmp_path / "s.txt").read_text())
    assert normalized(got.replace(name, "")) == want
    assert all(p[-1].startswith("+++ exited with ") for p in want)
