"""End to end, with real BPF: the cases of issue 19 ("Fidelity") where tracespec's trace differed from
strace's on the same program, each compared with strace -f on this machine."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, decode_without_bcc, run_tracespec
from straceio import normalized

pytestmark = pytest.mark.bpf

THREAD_SYSCALLS = ["write", "exit", "exit_group"]


def _spec(tmp_path, name: str, syscalls: list[str]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text("version: 1\ndescription: issue 19\nsyscalls:\n"
                    + "".join(f"  - name: {s}\n" for s in syscalls))
    return str(path)


def _strace(tmp_path, syscalls: list[str], argv: list[str]) -> tuple[str, int]:
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    out = tmp_path / "strace.txt"
    r = subprocess.run(["strace", "-f", "-q", "-o", str(out), "-e", "trace=" + ",".join(syscalls), *argv],
                       stdout=subprocess.DEVNULL)
    return out.read_text(errors="surrogateescape"), r.returncode


def _tracespec(tmp_path, spec: str, argv: list[str], *options: str) -> tuple[str, subprocess.CompletedProcess]:
    out = tmp_path / "tracespec.txt"
    r = run_tracespec("run", spec, *options, "-o", str(out), "--", *argv, stdout=subprocess.DEVNULL)
    return out.read_text(errors="surrogateescape"), r


@pytest.mark.parametrize("kernel", [None, "4.19"], ids=["bitmap", "hash"])
@pytest.mark.parametrize("order", ["leader-first", "thread-first"])
def test_threads_and_their_process_end_as_under_strace(order, kernel, build_dir, tmp_path):
    """A main thread that ends (raw exit) before its thread: the thread's syscalls and end are traced,
    and the process's end comes last, with its status; a thread that ends first: its own end, then the
    process's."""
    workload = compile_workload("threads_workload", build_dir)
    argv = [str(workload), order]
    want, want_rc = _strace(tmp_path, THREAD_SYSCALLS, argv)
    options = ("--kernel", kernel) if kernel else ()
    got, r = _tracespec(tmp_path, _spec(tmp_path, "threads", THREAD_SYSCALLS), argv, *options)
    assert r.returncode == want_rc == (3 if order == "leader-first" else 4), r.stderr
    assert normalized(got) == normalized(want)
    assert len(normalized(want)) == 2, "the main thread and its thread"
    assert "0 records lost" in r.stderr and "4 syscalls traced" in r.stderr


def _cgroup2_root() -> str:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        root = next((parts[1] for parts in map(str.split, f) if parts[2] == "cgroup2"), None)
    assert root, "cgroup v2 is needed (./setup mounts it when it is not)"
    return root


def _traced_as_target(tmp_path, spec: str, argv: list[str], target: str) -> str:
    """argv (waiting for a byte on stdin) traced as a --cgroup group's process (a group made for it) or by
    its --comm name, the trace started before the byte is given; the trace's text."""
    out = tmp_path / f"{target}.txt"
    proc = subprocess.Popen([*argv, "wait"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    group = None
    try:
        if target == "cgroup":
            group = os.path.join(_cgroup2_root(), f"tracespec-test-{uuid.uuid4().hex[:8]}")
            os.mkdir(group)
            with open(os.path.join(group, "cgroup.procs"), "w") as f:
                f.write(str(proc.pid))
            chosen = ["--cgroup", group]
        else:
            chosen = ["--comm", os.path.basename(argv[0])[:15]]
        tracer = subprocess.Popen([TRACESPEC, "run", spec, *chosen, "--no-comm", "-o", str(out)], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        said = []
        for line in tracer.stderr:  # its notice once the probes are attached
            said.append(line)
            if "tracing started" in line:
                break
        assert tracer.poll() is None, "".join(said)
        proc.stdin.write(b"x")
        proc.stdin.close()
        proc.wait(timeout=60)
        time.sleep(0.5)  # the last lines drained
        tracer.send_signal(signal.SIGINT)
        rest = tracer.communicate(timeout=60)[1]
        assert tracer.returncode == 0, "".join(said) + rest
    finally:
        proc.kill()
        proc.wait()
        if group is not None:
            for _ in range(50):  # the kernel takes a moment to let the group go
                try:
                    os.rmdir(group)
                    break
                except OSError:
                    time.sleep(0.1)
    return out.read_text(errors="surrogateescape")


@pytest.mark.parametrize("target", ["cgroup", "comm"])
@pytest.mark.parametrize("order", ["leader-first", "thread-first"])
def test_threads_of_a_cgroup_or_comm_target_end_as_a_commands_do(order, target, build_dir, tmp_path):
    """A main thread that ends (raw exit) before its thread: under a --cgroup or --comm target too, its
    "+++ exited with 3 +++" comes last, with the process's status, as under a command target (and
    strace -f); a thread that ends first: its own end, then the process's."""
    workload = compile_workload("threads_workload", build_dir)
    argv = [str(workload), order]
    spec = _spec(tmp_path, "threads", THREAD_SYSCALLS)
    want, r = _tracespec(tmp_path, spec, argv)
    assert r.returncode == (3 if order == "leader-first" else 4), r.stderr
    got = _traced_as_target(tmp_path, spec, argv, target)
    assert normalized(got) == normalized(want)
    # and in the same order across threads: the process's end last, on its main thread (whose id, the
    # process's, is the smaller one: the thread's was given after it)
    for text in (want, got):
        lines = text.splitlines()
        main = str(min(int(line.split()[0]) for line in lines))
        assert lines[-1] == f"{main} +++ exited with {3 if order == 'leader-first' else 4} +++", text
        assert sum(" +++ exited with " in line for line in lines) == 2, text


def _ignore_and_block():
    """A nohup-like parent: SIGHUP, SIGINT and SIGTERM ignored, SIGUSR2 and SIGWINCH blocked."""
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2, signal.SIGWINCH])


def _signal_state(argv: list[str]) -> str:
    r = subprocess.run(argv, preexec_fn=_ignore_and_block, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_started_command_inherits_ignored_and_blocked_signals(build_dir, tmp_path):
    workload = str(compile_workload("sigstate_workload", build_dir))
    untraced = _signal_state([workload])
    assert "SIGINT ignored" in untraced and "SIGQUIT default" in untraced, "the parent's state reached it"
    assert "SigBlk:\t0000000008000800" in untraced, "SIGUSR2 and SIGWINCH blocked"
    assert _signal_state(["strace", "-f", "-q", "-o", str(tmp_path / "s.txt"), workload]) == untraced
    spec = _spec(tmp_path, "exits", ["exit_group"])
    assert _signal_state([TRACESPEC, "run", spec, "-o", str(tmp_path / "t.txt"), "--", workload]) == untraced


@pytest.mark.parametrize("fmt", ["text", "bin"])
def test_wait4_shows_a_status_only_when_the_kernel_wrote_one(fmt, build_dir, tmp_path):
    """WNOHANG returning 0 and a failed wait print the pointer, as strace does, not the garbage there."""
    workload = compile_workload("wait_workload", build_dir)
    want, want_rc = _strace(tmp_path, ["wait4"], [str(workload)])
    spec = _spec(tmp_path, "wait", ["wait4"])
    if fmt == "bin":
        r = run_tracespec("run", spec, "--format", "bin", "-o", str(tmp_path / "t.tsb"), "--", str(workload))
        decode_without_bcc(tmp_path / "t.tsb", tmp_path / "t.txt")
        got = (tmp_path / "t.txt").read_text()
    else:
        got, r = _tracespec(tmp_path, spec, [str(workload)])
    assert r.returncode == want_rc == 0, r.stderr
    assert normalized(got) == normalized(want)
    parent = normalized(want)[0]
    assert parent[0] == "wait4(-1, 0xADDR, WNOHANG, NULL) = 0"
    assert parent[-2] == "wait4(-1, 0xADDR, 0, NULL) = -1 ECHILD (No child processes)"
