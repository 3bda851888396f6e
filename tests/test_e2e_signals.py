"""End to end, with real BPF: the signals a traced program gets, printed as strace prints them
("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---"), on tests/workloads/signals_workload.c
(signals to itself by kill, tgkill, sigqueue, a fault, a POSIX timer and an interval timer; to a child;
SIGCHLD for a child that exited and one SIGKILL ended), compared line for line with strace's."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import compile_workload, decode_without_bcc, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

MARKER = "close(-4242)"
TRACED = ["kill", "close", "rt_sigreturn"]


def _from_marker(lines: list[str]) -> list[str]:
    """The parent's own lines after the workload's start marker (the loader's closes come before it)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    return lines[start + 1:]


def _processes(text: str) -> list[list[str]]:
    procs = normalized(text, skip_signals=False)
    return [_from_marker(procs[0])] + procs[1:]


def _spec(tmp_path, extra: str = "") -> str:
    spec = tmp_path / "signals.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(TRACED) + "]\n" + extra)
    return str(spec)


def _compare(build_dir, tmp_path, options: tuple = ()) -> list[list[str]]:
    """The workload's lines under strace, asserted equal to tracespec's, both given the same options."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    prog = str(compile_workload("signals_workload", build_dir))
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want_file), "-e", "trace=" + ",".join(TRACED), prog],
                   check=True, stdout=subprocess.DEVNULL)
    got_file = tmp_path / "tracespec.txt"
    if options:  # tracespec applies -X when it decodes a recorded trace
        r = run_tracespec("run", _spec(tmp_path), "--format", "bin", "-o", str(tmp_path / "t.tsb"), "--", prog,
                          stdout=subprocess.DEVNULL)
        decode_without_bcc(tmp_path / "t.tsb", got_file, *options)
    else:
        r = run_tracespec("run", _spec(tmp_path), "-o", str(got_file), "--", prog, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want = _processes(want_file.read_text())
    got = _processes(got_file.read_text())
    assert got == want
    return want


@pytest.mark.parametrize("options", [("-X", "verbose"), ("-X", "raw")], ids=["Xverbose", "Xraw"])
def test_signal_lines_in_strace_styles(options, build_dir, tmp_path):
    """Recorded (--format bin) and decoded with strace's -X: the siginfo's numbers, named or not."""
    want = _compare(build_dir, tmp_path, options)
    assert any(line.startswith("--- SIGCHLD {si_signo=17") for line in want[0])


def test_signal_lines_agree_with_strace(build_dir, tmp_path):
    want = _compare(build_dir, tmp_path)
    parent, exited, killed = want
    assert parent[:4] == ["kill(P1, SIGUSR1) = 0",
                          "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---",
                          "rt_sigreturn({mask=[]}) = 0",  # the handler returns to kill's return
                          "close(-1) = -1 EBADF (Bad file descriptor)"]
    # a handler's return to sigsuspend restores its -EINTR and the mask before it
    assert "rt_sigreturn({mask=[USR2 ALRM CHLD]}) = -1 EINTR (Interrupted system call)" in parent
    assert "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---" in parent
    assert ("--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_TIMER, si_timerid=0, si_overrun=0, si_int=7, si_ptr=0x7} ---"
            in parent)
    assert ("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=P3, si_uid=0, si_status=SIGKILL, si_utime=0, "
            "si_stime=0} ---") in parent
    assert exited[-4:] == ["--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---",
                           "rt_sigreturn({mask=[USR1 USR2 ALRM CHLD]}) = -1 EINTR (Interrupted system call)",
                           "close(-7) = -1 EBADF (Bad file descriptor)", "+++ exited with 3 +++"]
    assert killed == ["+++ killed by SIGKILL +++"]


def test_signals_in_json(build_dir, tmp_path):
    prog = str(compile_workload("signals_workload", build_dir))
    out = tmp_path / "trace.json"
    r = run_tracespec("run", _spec(tmp_path), "--format", "json", "-o", str(out), "--", prog)
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in out.read_text().splitlines()]
    signals = [o for o in objs if "signal" in o]
    assert [o["signal"] for o in signals] == ["SIGUSR1", "SIGUSR2", "SIGRT_3", "SIGSEGV", "SIGUSR2", "SIGALRM",
                                              "SIGUSR1", "SIGCHLD", "SIGCHLD"]
    parent = signals[0]["pid"]
    assert signals[0]["siginfo"] == {"si_signo": 10, "si_signo_names": ["SIGUSR1"], "si_code": 0,
                                     "si_code_names": ["SI_USER"], "si_pid": parent, "si_uid": 0}
    assert set(signals[0]) == {"ts_ns", "ts", "pid", "tid", "signal", "siginfo"}
    child = signals[6]["pid"]
    assert child != parent and signals[6]["siginfo"]["si_pid"] == parent
    exited = signals[7]["siginfo"]
    assert (exited["si_code_names"], exited["si_pid"], exited["si_status"]) == (["CLD_EXITED"], child, 3)
    assert signals[3]["siginfo"]["si_addr"] == 16
    returns = [o for o in objs if o.get("syscall") == "rt_sigreturn"]
    assert returns[0]["args"] == {"mask": {"bits": 0}} and returns[0]["ret"] == 0
    assert returns[3]["args"] == {"mask": {"bits": (1 << 11) | (1 << 13) | (1 << 16)}} and returns[3]["errno"] == "EINTR"


def test_signals_false_and_signal_none_print_none(build_dir, tmp_path):
    prog = str(compile_workload("signals_workload", build_dir))
    out = tmp_path / "trace.txt"
    r = run_tracespec("run", _spec(tmp_path, "signals: false\n"), "-o", str(out), "--", prog)
    assert r.returncode == 0, r.stderr
    assert "kill(" in out.read_text() and "--- SIG" not in out.read_text()
    r = run_tracespec("run", "-e", "trace=kill,close,rt_sigreturn", "-e", "signal=none", "-o", str(out), "--", prog)
    assert r.returncode == 0, r.stderr
    assert "kill(" in out.read_text() and "--- SIG" not in out.read_text()
    r = run_tracespec("run", "-e", "trace=kill,close,rt_sigreturn", "-o", str(out), "--", prog)
    assert r.returncode == 0, r.stderr
    assert out.read_text().count("--- SIG") == 9, "printed by default, as strace does"


def test_summary_counts_rt_sigreturn_as_strace(build_dir, tmp_path):
    """strace -c counts each handler's return, and its restored -EINTR as an error: so does -c, at the
    exit whose syscall number rt_sigreturn restored to -1."""
    from test_e2e_summary import table_counts

    prog = str(compile_workload("signals_workload", build_dir))
    traced = "trace=" + ",".join(TRACED + ["rt_sigsuspend"])
    want_file, got_file = tmp_path / "strace.txt", tmp_path / "summary.txt"
    subprocess.run(["strace", "-f", "-c", "-o", str(want_file), "-e", traced, prog], check=True,
                   stdout=subprocess.DEVNULL)
    r = run_tracespec("run", "-c", "-e", traced, "-o", str(got_file), "--", prog, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want, got = table_counts(want_file.read_text()), table_counts(got_file.read_text())
    assert got["rt_sigreturn"] == want["rt_sigreturn"] == (8, 5)
    assert got == want
