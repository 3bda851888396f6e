"""End to end, with real BPF: signals under the targets whose tasks a sender cannot tell by their ids,
--comm, --cgroup and serve's recorded groups, compared line for line with strace -f on the same program.
signal_generate fires in the sender: whether the receiver is traced is asked of the receiver's
task_struct (its cgroup's id, its name), not of the current task. tests/workloads/sigdrop_workload.c
sends itself and its children signals the kernel never hands to an unptraced task (ignored ones, fatal
ones without a handler); tests/workloads/sigpeer_workload.c sends a process outside the target an
ignored signal (no line: it is not traced) and takes a fatal one from outside (the test's)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import TRACESPEC, compile_workload
from straceio import normalized
from test_e2e_runtime import Tracer
from tracespec.runtime.cgroup import cgroup2_mounts

pytestmark = pytest.mark.bpf

MARKER = "close(-4242)"
TRACED = ["kill", "tgkill", "close", "read", "write", "pipe2", "wait4", "pause", "exit", "exit_group"]
SERVE_SPEC = "version: 1\nsyscalls: [" + ", ".join(TRACED) + "]\nrecorder: {}\n"
PAUSE_NR = 34  # x86_64
# a SIGCHLD's CPU times: a child's spinning threads (sigdrop's tkill) take what they take
_CPU_TIMES = re.compile(r"si_utime=\d+( /\* [\d.]+ s \*/)?, si_stime=\d+( /\* [\d.]+ s \*/)?")


def _from_marker(text: str) -> list[list[str]]:
    """Every process's lines, the first one's from the workload's marker on (the loader's calls and
    those of the shell that moved into the group come before it)."""
    procs = [[_CPU_TIMES.sub("si_utime=T, si_stime=T", line) for line in p]
             for p in normalized(text, skip_signals=False)]
    first = procs[0]
    start = next(i for i, line in enumerate(first) if line.startswith(MARKER))
    return [first[start + 1:]] + procs[1:]


def _in_pause(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/syscall") as f:
                seen = f.read()
            if seen.split()[0] == str(PAUSE_NR):
                return
        except (OSError, IndexError) as e:
            seen = str(e)
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never waited in pause(): {seen}")


def _peer_scenario(start, workload: str) -> tuple[int, int]:
    """sigpeer_workload, started by `start(argv)` (which gives the workload's pid and a waitable), with a
    process outside the target to signal, and SIGTERM sent to it from here: (peer's pid, our pid)."""
    peer = subprocess.Popen(["sleep", "60"])
    try:
        pid, waiter = start([workload, str(peer.pid)])
        _in_pause(pid)
        os.kill(pid, signal.SIGTERM)
        waiter.wait(timeout=30)
    finally:
        peer.kill()
        peer.wait()
    return peer.pid, os.getpid()


def _child_running(pid: int, program: str, timeout: float = 30) -> int:
    """The child of process `pid` that runs `program` (strace forks short-lived children of its own
    first, to test what the kernel can do)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = f.read().split()
            for kid in kids:
                try:
                    with open(f"/proc/{kid}/cmdline", "rb") as f:
                        if f.read().split(b"\0")[0] == program.encode():
                            return int(kid)
                except OSError:
                    pass
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never ran {program}")


def _strace(argv: list[str] | None, tmp_path, peer_workload: str | None = None) -> str:
    out = tmp_path / "strace.txt"
    cmd = ["strace", "-f", "-q", "-o", str(out), "-e", "trace=" + ",".join(TRACED)]
    if peer_workload is None:
        subprocess.run(cmd + argv, check=True, stdout=subprocess.DEVNULL)
        return out.read_text()

    def start(args):
        p = subprocess.Popen(cmd + args)
        return _child_running(p.pid, args[0]), p
    peer, me = _peer_scenario(start, peer_workload)
    return _scrub(out.read_text(), peer, me)


def _scrub(text: str, peer: int, me: int) -> str:
    """The pids outside the trace named: the peer's, and ours (the sender of the SIGTERM)."""
    return re.sub(rf"\b{peer}\b", "PEER", text).replace(f"si_pid={me},", "si_pid=TEST,")


class _Target:
    """A target kind set up for one test: how tracespec is told of it and how a workload runs in it."""

    def __init__(self, kind: str, tmp_path):
        self.kind, self.tmp = kind, tmp_path
        self.group = None
        if kind in ("cgroup", "serve"):
            mounts = cgroup2_mounts()
            assert mounts, "cgroup v2 is needed (./setup mounts it when it is not)"
            self.group = os.path.join(mounts[0], f"ts-sigt-{uuid.uuid4().hex[:8]}")
            os.mkdir(self.group)
        self.name = f"tsp_sg{uuid.uuid4().hex[:8]}"  # a comm of its own (15 bytes at most)

    def binary(self, workload: str, build_dir) -> str:
        """The workload, under a name of its own for --comm."""
        path = self.tmp / (self.name if self.kind == "comm" else workload)
        shutil.copy(compile_workload(workload, build_dir), path)
        return str(path)

    def argv(self, argv: list[str]) -> list[str]:
        if self.group is None:
            return argv
        return ["sh", "-c", f'echo $$ > {self.group}/cgroup.procs && exec "$@"', "sh", *argv]

    def cleanup(self):
        if self.group is None:
            return
        for _ in range(50):
            try:
                os.rmdir(self.group)
                return
            except OSError:
                time.sleep(0.1)


def _traced(target: _Target, run_workload, daemon=None) -> str:
    """tracespec's lines for what run_workload() does in the target: `run` with --comm or --cgroup, or a
    dump of serve's recorder for the group."""
    if target.kind == "serve":
        code, body = _curl(daemon, f"/add?name={target.name}&cgrouppath={target.group}")
        assert code == 200, body
        rid = body.split()[-1]
        run_workload()
        code, dump = _curl(daemon, f"/dump?id={rid}")
        assert code == 200, dump
        assert _curl(daemon, f"/close?id={rid}")[0] == 200
        lines = dump.splitlines()
        assert lines[0].startswith("=== dump") and lines[-1].startswith("=== end of dump") \
            and lines[-1].endswith(", 0 records lost ==="), dump
        return "\n".join(lines[1:-1])
    out = target.tmp / "tracespec.txt"
    where = ["--comm", target.name] if target.kind == "comm" else ["--cgroup", target.group]
    tracer = Tracer("run", "-e", "trace=" + ",".join(TRACED), *where, "--no-comm", "-o", str(out))
    tracer.wait_for("tracing started")
    try:
        run_workload()
        time.sleep(0.3)
    finally:
        tracer.proc.send_signal(signal.SIGINT)
    code, err = tracer.finish()
    assert code == 0, err
    assert ", 0 records lost" in err, err
    return out.read_text()


def _curl(daemon, endpoint: str) -> tuple[int, str]:
    r = subprocess.run(["curl", "-s", "-g", "-w", "\n%{http_code}", "--unix-socket", daemon["sock"],
                        "http://localhost" + endpoint], capture_output=True, text=True, timeout=60)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body.removesuffix("\n")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    if not cgroup2_mounts():
        pytest.skip("no cgroup v2 mount")
    tmp = tmp_path_factory.mktemp("sigserve")
    spec = tmp / "sig.yaml"
    spec.write_text(SERVE_SPEC)
    sock = tmp / "ts.sock"
    proc = subprocess.Popen([TRACESPEC, "serve", str(spec), "--socket", str(sock), "--dump-dir", str(tmp / "dumps")],
                            stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if sock.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert sock.exists(), proc.stderr.read() if proc.poll() is not None else "no socket"
    yield {"sock": str(sock)}
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


@pytest.fixture
def target(request, tmp_path):
    t = _Target(request.param, tmp_path)
    yield t
    t.cleanup()


KINDS = ["comm", "cgroup", "serve"]


def _daemon_for(target, request):
    return request.getfixturevalue("daemon") if target.kind == "serve" else None


@pytest.mark.parametrize("target", KINDS, indirect=True)
@pytest.mark.parametrize("group", ["ignored", "term", "threads", "tkill"])
def test_signals_sent_within_the_target_as_strace(target, group, build_dir, tmp_path, request):
    """Ignored and fatal signals a process sends itself, its children and its siblings, and a thread
    another thread, or its own process."""
    daemon = _daemon_for(target, request)
    prog = target.binary("sigdrop_workload", build_dir)
    want = _from_marker(_strace([prog, group], tmp_path))
    got = _from_marker(_traced(target, lambda: subprocess.run(target.argv([prog, group]), check=True,
                                                              stdout=subprocess.DEVNULL), daemon))
    assert got == want
    if group == "ignored":
        (lines,) = want
        assert "--- SIGWINCH {si_signo=SIGWINCH, si_code=SI_USER, si_pid=P1, si_uid=0} ---" in lines
        assert lines[-1] == "+++ exited with 0 +++"
    elif group == "term":
        assert want[1][-2:] == ["--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P2, si_uid=0} ---",
                                "+++ killed by SIGTERM +++"]
    elif group == "threads":  # a fatal signal only the sending thread can take: shown in it alone
        assert want[2][-2:] == ["--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=P4, si_uid=0} ---",
                                "+++ killed by SIGTERM +++"]
    else:  # thread-directed, to a thread spinning in user space: shown in that thread
        assert want[2][-2:] == ["--- SIGHUP {si_signo=SIGHUP, si_code=SI_TKILL, si_pid=P2, si_uid=0} ---",
                                "+++ killed by SIGHUP +++"]


@pytest.mark.parametrize("target", KINDS, indirect=True)
def test_signals_across_the_targets_edge_as_strace(target, build_dir, tmp_path, request):
    """The receiver decides: an ignored signal sent from the target to a process outside it has no line,
    a fatal one sent from outside to a process of the target has its line there."""
    daemon = _daemon_for(target, request)
    prog = target.binary("sigpeer_workload", build_dir)
    want = _from_marker(_strace(None, tmp_path, peer_workload=prog))
    ids = {}

    def run_workload():
        def start(argv):
            p = subprocess.Popen(target.argv(argv))
            return p.pid, p  # the shell execs the workload: the same process
        ids["peer"], ids["me"] = _peer_scenario(start, prog)
    got = _from_marker(_scrub(_traced(target, run_workload, daemon), ids["peer"], ids["me"]))
    assert got == want
    assert want == [["kill(PEER, SIGWINCH) = 0", "close(-1) = -1 EBADF (Bad file descriptor)",
                     "pause() = ? ERESTARTNOHAND (To be restarted if no handler)",
                     "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=TEST, si_uid=0} ---",
                     "+++ killed by SIGTERM +++"]]
