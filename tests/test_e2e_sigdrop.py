"""End to end, with real BPF: signals the kernel never hands to a task that is not ptraced, printed where
strace (a ptracer, to whom the kernel hands them) prints them (tests/workloads/sigdrop_workload.c): ignored
ones (SIG_IGN; SIGCHLD, SIGWINCH, SIGURG, SIGCONT by default), dropped when sent, and fatal ones with no
handler (SIGTERM, SIGPIPE, SIGINT, SIGHUP), made the group's death when sent. Every process and thread's
lines are compared with strace's, from the workload's marker on."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

MARKER = "close(-4242)"
TRACED = ["kill", "tgkill", "close", "read", "write", "pipe2", "wait4", "pause", "exit", "exit_group"]


def _from_marker(procs: list[list[str]]) -> list[list[str]]:
    """The first process's lines after the marker (the loader's calls come before it), then the others'."""
    first = procs[0]
    start = next(i for i, line in enumerate(first) if line.startswith(MARKER))
    return [first[start + 1:]] + procs[1:]


def _compare(group: str, build_dir, tmp_path, scrub=None) -> list[list[str]]:
    """The group's lines under strace, asserted equal to tracespec's (scrub: a line made comparable)."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    argv = [str(compile_workload("sigdrop_workload", build_dir)), group]
    want_file, got_file = tmp_path / "strace.txt", tmp_path / "tracespec.txt"
    subprocess.run(["strace", "-f", "-q", "-o", str(want_file), "-e", "trace=" + ",".join(TRACED), *argv],
                   check=True, stdout=subprocess.DEVNULL)
    r = run_tracespec("run", "-e", "trace=" + ",".join(TRACED), "-o", str(got_file), "--", *argv,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want, got = ([[scrub(line) if scrub else line for line in p]
                  for p in _from_marker(normalized(f.read_text(), skip_signals=False))] for f in (want_file, got_file))
    assert got == want
    return want


def test_ignored_signals_as_strace(build_dir, tmp_path):
    (lines,) = _compare("ignored", build_dir, tmp_path)
    assert lines[:3] == ["kill(P1, SIGUSR1) = 0",
                         "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---",
                         "close(-1) = -1 EBADF (Bad file descriptor)"]
    assert "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=P1, si_uid=0} ---" in lines
    for sig in ("SIGWINCH", "SIGURG", "SIGCONT"):
        assert f"--- {sig} {{si_signo={sig}, si_code=SI_USER, si_pid=P1, si_uid=0}} ---" in lines
    # the kernel sends SIGPIPE with no siginfo (SEND_SIG_NOINFO): queued as from the writer itself
    at = lines.index("write(4, \"x\", 1) = -1 EPIPE (Broken pipe)")
    assert lines[at + 1] == "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=P1, si_uid=0} ---"


def test_sigchld_by_default_and_ignored_as_strace(build_dir, tmp_path):
    parent, first, second = _compare("chld", build_dir, tmp_path)
    assert parent[1] == ("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=P2, si_uid=0, si_status=5, "
                         "si_utime=0, si_stime=0} ---")
    assert sum(line.startswith("--- SIGCHLD") for line in parent) == 1, "with SIG_IGN the kernel sends none"
    assert first[-1] == "+++ exited with 5 +++" and second[-1] == "+++ exited with 6 +++"


def test_fatal_signals_without_handler_as_strace(build_dir, tmp_path):
    parent, by_kill, by_pipe, by_child, sender, by_tgkill = _compare("term", build_dir, tmp_path)
    assert by_kill[-3:] == ["kill(P2, SIGTERM) = 0",
                            "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P2, si_uid=0} ---",
                            "+++ killed by SIGTERM +++"]
    assert by_pipe[-2:] == ["--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=P3, si_uid=0} ---",
                            "+++ killed by SIGPIPE +++"]
    # in pause() when its child's SIGINT came: pause returns its restart code, then the signal is shown
    assert by_child[-3:] == ["pause() = ? ERESTARTNOHAND (To be restarted if no handler)",
                             "--- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=P5, si_uid=0} ---",
                             "+++ killed by SIGINT +++"]
    assert sender[0] == "kill(P4, SIGINT) = 0"
    assert by_tgkill[-2] == "--- SIGHUP {si_signo=SIGHUP, si_code=SI_TKILL, si_pid=P6, si_uid=0} ---"
    assert sum(line.startswith("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED") for line in parent) == 4


def test_signals_of_threads_as_strace(build_dir, tmp_path):
    """A signal a thread sends itself is shown in it; a fatal one that only the sending thread can take
    kills every thread, and only the sender shows it."""
    parent, thread, killer, child = _compare("threads", build_dir, tmp_path)
    assert thread[:3] == ["tgkill(P1, P2, SIGUSR1) = 0",
                          "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=P1, si_uid=0} ---",
                          "close(-11) = -1 EBADF (Bad file descriptor)"]
    assert killer[-2:] == ["--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P4, si_uid=0} ---",
                           "+++ killed by SIGTERM +++"]
    assert child == ["+++ killed by SIGTERM +++"]


def test_no_signal_lines_when_turned_off(build_dir, tmp_path):
    argv = [str(compile_workload("sigdrop_workload", build_dir)), "term"]
    out = tmp_path / "t.txt"
    r = run_tracespec("run", "-e", "trace=" + ",".join(TRACED), "-e", "signal=none", "-o", str(out), "--", *argv,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "+++ killed by SIGTERM +++" in text and "--- SIG" not in text


def test_tgkill_to_another_thread_as_strace(build_dir, tmp_path):
    """Thread-directed from the main thread to one spinning in user space: shown in the target thread."""
    def scrub(line):  # the child's CPU times are its threads' spinning
        return re.sub(r"si_utime=\d+( /\* [\d.]+ s \*/)?, si_stime=\d+( /\* [\d.]+ s \*/)?", "si_utime=T, si_stime=T", line)

    parent, main, spinner = _compare("tkill", build_dir, tmp_path, scrub)
    assert main == ["tgkill(P2, P3, SIGUSR1) = 0", "close(-30) = -1 EBADF (Bad file descriptor)",
                    "tgkill(P2, P3, SIGHUP) = 0", "+++ killed by SIGHUP +++"]
    assert spinner == ["--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=P2, si_uid=0} ---",
                       "close(-31) = -1 EBADF (Bad file descriptor)",
                       "--- SIGHUP {si_signo=SIGHUP, si_code=SI_TKILL, si_pid=P2, si_uid=0} ---",
                       "+++ killed by SIGHUP +++"]


def test_threads_a_group_end_kills_in_a_syscall_as_strace(build_dir, tmp_path):
    """The kernel ends a process's other threads with SIGKILL: a read they were in returns a restart code
    that strace never sees, and prints unfinished, whether a fatal signal or exit_group ended them."""
    parent, by_signal, reader1, by_exit, reader2 = _compare("zap", build_dir, tmp_path)
    assert by_signal[-3:] == ["kill(P2, SIGTERM) = 0",
                              "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P2, si_uid=0} ---",
                              "+++ killed by SIGTERM +++"]
    assert reader1 == ["read(3,  <unfinished ...>) = ?", "+++ killed by SIGTERM +++"]
    assert by_exit[-2:] == ["exit_group(3) = ?", "+++ exited with 3 +++"]
    assert reader2 == ["read(3,  <unfinished ...>) = ?", "+++ exited with 3 +++"]
