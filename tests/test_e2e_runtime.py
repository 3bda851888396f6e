"""End to end, with real BPF: every kind of target, stopping by signal, a command killed with SIGKILL,
loss under a burst, the live status line, and that nothing of tracespec's stays in the kernel.

The workloads are modes of tests/workloads/loop_workload.c. Each test makes its own marker path (a file
that does not exist), so a system-wide trace can tell the test's syscalls from the rest of the machine's.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import re
import select
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, run_tracespec
from straceio import per_process

pytestmark = pytest.mark.bpf


@pytest.fixture(scope="module")
def loop(build_dir):
    return str(compile_workload("loop_workload", build_dir))


def _marker() -> str:
    return f"/nonexistent/tracespec-test-{uuid.uuid4().hex[:12]}"


def _spec(tmp_path, body: str, name: str = "spec.yaml") -> str:
    p = tmp_path / name
    p.write_text("version: 1\n" + body)
    return str(p)


def _openat_spec(tmp_path, marker: str) -> str:
    """openat of the marker only: a system-wide trace of it holds the test's calls and nothing else."""
    return _spec(tmp_path, f"syscalls:\n  - name: openat\n    filter: 'filename == \"{marker}\"'\n")


class Tracer:
    """tracespec running in the background, its stderr read line by line as it comes."""

    def __init__(self, *args: str, **kw):
        self.proc = subprocess.Popen([TRACESPEC, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, **kw)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.stderr.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"tracespec never said /{pattern}/; it said: {''.join(self.stderr)}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.1)
        while not self.lines.empty():
            self.stderr.append(self.lines.get())
        return code, "".join(self.stderr)


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _opens_of(events: list[dict], marker: str) -> list[dict]:
    return [e for e in events if e.get("syscall") == "openat" and e["args"]["filename"] == marker]


# -- targets ----------------------------------------------------------------------------------------

def test_pid_attach_sees_later_syscalls_of_every_thread(tmp_path, loop):
    """-p on a running process with 4 threads: attached without restarting it, and each thread's
    openat after the attach is in the trace; tracespec ends when the process does."""
    marker = _marker()
    work = subprocess.Popen([loop, "threads", marker, "4"], stdin=subprocess.PIPE)
    try:
        time.sleep(0.2)
        tids = sorted(int(t) for t in os.listdir(f"/proc/{work.pid}/task"))
        assert len(tids) == 5
        out = tmp_path / "p.jsonl"
        tracer = Tracer("run", _spec(tmp_path, "syscalls:\n  - openat\n  - exit_group\n"), "--format", "json",
                        "-o", str(out), "-p", str(tids[-1]))  # a thread's id stands for its process
        tracer.wait_for(rf"process {work.pid} attached")
        work.stdin.write(b"g")
        work.stdin.close()
        assert work.wait(timeout=30) == 0
        code, err = tracer.finish()
    finally:
        work.kill()
    assert code == 0, err
    events = _events(out)
    opens = _opens_of(events, marker)
    assert sorted(e["tid"] for e in opens) == tids[1:], "one openat per thread, each thread by its own tid"
    assert all(e["pid"] == work.pid and e["errno"] == "ENOENT" for e in opens)
    assert any(e.get("syscall") == "exit_group" for e in events)
    exits = [e for e in events if "exited" in e]
    assert sorted(e["tid"] for e in exits) == tids, "each thread's end, as strace -f shows them"
    assert {(e["pid"], e["exited"]) for e in exits} == {(work.pid, 0)}
    assert events[-1]["lost"] == 0


def test_pid_attach_to_a_missing_process(tmp_path):
    r = run_tracespec("run", _spec(tmp_path, "syscalls:\n  - openat\n"), "-p", "999999999")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[0] == "tracespec: error: no process 999999999"
    assert "Traceback" not in r.stderr


def test_pid_that_exits_while_the_program_compiles_ends_the_trace(tmp_path):
    """The programs see a traced process exit only once they are loaded: one that ended in between
    (the BCC compile, a second or more) was waited for forever."""
    if not hasattr(os, "pidfd_open"):
        pytest.skip("the test sees tracespec take hold of the process by its pidfd")
    target = subprocess.Popen(["sleep", "60"])
    tracer = Tracer("run", _spec(tmp_path, "syscalls:\n  - openat\n"), "-p", str(target.pid))
    try:
        _wait_for_pidfd(tracer.proc.pid, target.pid)  # it has checked the pid: now the compile begins
        target.kill()
        target.wait()  # reaped: the pid is gone, not a zombie
        code, err = tracer.finish(timeout=30)
    finally:
        tracer.proc.kill()
    assert code == 0, err
    assert f"process {target.pid} had already exited, before it could be attached" in err, err
    assert f"process {target.pid} attached" not in err, err


def test_pid_of_a_zombie_ends_the_trace(tmp_path):
    """A process that has exited but not been waited for still has its /proc entry: it makes no more
    syscalls, and its exit will never be seen."""
    zombie = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while open(f"/proc/{zombie.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        r = run_tracespec("run", _spec(tmp_path, "syscalls:\n  - openat\n"), "-p", str(zombie.pid), timeout=30)
    finally:
        zombie.wait()
    assert r.returncode == 0, r.stderr
    assert f"process {zombie.pid} had already exited" in r.stderr, r.stderr


def _wait_for_pidfd(holder: int, pid: int, timeout: float = 30) -> None:
    """Until process `holder` has a pidfd open on `pid` (its fdinfo says which pid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for fd in os.listdir(f"/proc/{holder}/fdinfo"):
            try:
                if f"\nPid:\t{pid}\n" in open(f"/proc/{holder}/fdinfo/{fd}").read():
                    return
            except OSError:
                pass
        time.sleep(0.005)
    raise AssertionError(f"tracespec never took hold of process {pid}")


def _run_against_two(tmp_path, target_args, inside_proc, outside_proc, marker):
    """Trace system-wide with `target_args` while two waiting `later` workloads open the marker: the
    pids whose opens the trace holds."""
    out = tmp_path / "t.jsonl"
    tracer = Tracer("run", _openat_spec(tmp_path, marker), "--format", "json", "-o", str(out), *target_args)
    tracer.wait_for("tracing started")
    for p in (inside_proc, outside_proc):
        p.stdin.write(b"g")
        p.stdin.close()
    for p in (inside_proc, outside_proc):
        assert p.wait(timeout=30) == 0
    time.sleep(0.3)
    tracer.proc.send_signal(signal.SIGINT)
    code, err = tracer.finish()
    assert code == 0, err
    events = _events(out)
    assert events[-1]["lost"] == 0
    return {e["pid"] for e in _opens_of(events, marker)}, events


def test_all_traces_every_process(tmp_path, loop):
    marker = _marker()
    a = subprocess.Popen([loop, "later", marker, "2"], stdin=subprocess.PIPE)
    b = subprocess.Popen([loop, "later", marker, "3"], stdin=subprocess.PIPE)
    try:
        pids, events = _run_against_two(tmp_path, ["--all"], a, b, marker)
    finally:
        a.kill(), b.kill()
    assert pids == {a.pid, b.pid}
    assert len(_opens_of(events, marker)) == 5


def test_comm_traces_processes_by_name(tmp_path, loop):
    marker = _marker()
    yes, no = tmp_path / "tsp_comm_yes", tmp_path / "tsp_comm_no"
    shutil.copy(loop, yes)
    shutil.copy(loop, no)
    a = subprocess.Popen([str(yes), "later", marker, "2"], stdin=subprocess.PIPE)
    b = subprocess.Popen([str(no), "later", marker, "2"], stdin=subprocess.PIPE)
    try:
        pids, _ = _run_against_two(tmp_path, ["--comm", "tsp_comm_yes"], a, b, marker)
    finally:
        a.kill(), b.kill()
    assert pids == {a.pid}


def _cgroup2_root() -> str | None:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts[2] == "cgroup2":
                return parts[1]
    return None


def _remove_group(group: str) -> None:
    """The test's cgroup, once its processes have gone (the kernel takes a moment to let it go)."""
    for _ in range(50):
        try:
            os.rmdir(group)
            return
        except OSError:
            time.sleep(0.1)


@pytest.mark.parametrize("form", ["as /proc shows it", "absolute", "relative"])
def test_cgroup_traces_the_processes_of_a_group(tmp_path, loop, form):
    root = _cgroup2_root()
    assert root, "cgroup v2 is needed (./setup mounts it when it is not)"
    name = f"tracespec-test-{uuid.uuid4().hex[:8]}"
    group = os.path.join(root, name)
    os.mkdir(group)
    marker = _marker()
    a = subprocess.Popen([loop, "later", marker, "2"], stdin=subprocess.PIPE)
    b = subprocess.Popen([loop, "later", marker, "2"], stdin=subprocess.PIPE)
    try:
        with open(os.path.join(group, "cgroup.procs"), "w") as f:
            f.write(str(a.pid))
        path = {"as /proc shows it": "/" + name, "absolute": group, "relative": name}[form]
        pids, _ = _run_against_two(tmp_path, ["--cgroup", path], a, b, marker)
    finally:
        a.kill(), b.kill()
        a.wait(), b.wait()
        _remove_group(group)
    assert pids == {a.pid}


def test_cgroup_y_names_what_its_processes_had_open_when_tracing_began(tmp_path):
    """-y with --cgroup in a trace file: a process already in the group writes to the stdout it had and
    opens a path relative to where it was; decode (which cannot ask /proc) names both from the header,
    as for -p."""
    root = _cgroup2_root()
    assert root, "cgroup v2 is needed (./setup mounts it when it is not)"
    group = os.path.join(root, f"tracespec-test-{uuid.uuid4().hex[:8]}")
    os.mkdir(group)
    work = tmp_path / "before"
    work.mkdir()
    spec = _spec(tmp_path, "syscalls: [openat, write]\n")
    proc = subprocess.Popen(["sh", "-c", f"echo $$ > {group}/cgroup.procs; cd {work}; exec 2>/dev/null; read x; "
                             "echo from-before; true < relative-missing"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        pipe = os.fstat(proc.stdout.fileno()).st_ino
        time.sleep(0.3)  # in the group, in its directory, reading
        trace = tmp_path / "t.tsb"
        tracer = Tracer("run", spec, "-y", "--cgroup", group, "--format", "bin", "-o", str(trace))
        tracer.wait_for("tracing started")
        out, _ = proc.communicate(b"go\n", timeout=30)
        assert out == b"from-before\n"
        time.sleep(0.3)
        tracer.proc.send_signal(signal.SIGINT)
        code, err = tracer.finish()
        assert code == 0, err
    finally:
        proc.kill()
        proc.wait()
        _remove_group(group)
    r = run_tracespec("decode", str(trace))
    assert r.returncode == 0, r.stderr
    lines = [line.split("] ", 1)[1] for line in r.stdout.splitlines() if line.startswith(f"{proc.pid} [")]
    assert [line for line in lines if line.startswith(("write(1", "openat("))] == [
        f'write(1<pipe:[{pipe}]>, "from-before\\n", 12) = 12',
        f'openat(AT_FDCWD<{work}>, "relative-missing", O_RDONLY) = -1 ENOENT (No such file or directory)'], r.stdout


@pytest.mark.parametrize("path", ["/dev", "../..", "/nonexistent-group"])
def test_cgroup_that_is_not_a_group_is_refused_at_once(tmp_path, path):
    """Any directory has an inode number: /dev or ../.. (from the working directory) were taken as
    cgroup ids and traced nothing, or the root group, with no word said."""
    r = run_tracespec("run", _openat_spec(tmp_path, _marker()), "--cgroup", path, timeout=60)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f'tracespec: error: not a cgroup v2 group: "{path}"'), r.stderr
    assert _cgroup2_root() in r.stderr and "tracing started" not in r.stderr and len(lines) == 2, r.stderr


def test_no_follow_leaves_children_out(tmp_path, loop):
    marker = _marker()
    spec = _openat_spec(tmp_path, marker)
    script = f"{loop} tick {marker} & child=$!; sleep 0.3; kill $child; exec {loop} later {marker} 1 < /dev/null"
    outs = {}
    for mode in ("follow", "no-follow"):
        out = tmp_path / f"{mode}.jsonl"
        extra = ["--no-follow"] if mode == "no-follow" else []
        r = run_tracespec("run", spec, "--format", "json", "-o", str(out), *extra, "--", "sh", "-c", script)
        assert r.returncode == 1, r.stderr  # `later` reads end of file and exits 1 without opening
        outs[mode] = {e["pid"] for e in _opens_of(_events(out), marker)}
    assert len(outs["follow"]) == 1, "the ticking child's opens are traced when following"
    assert outs["no-follow"] == set(), "and not without following (the shell itself never opens the marker)"


# -- stopping ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_a_command_trace_cleanly(tmp_path, loop, sig):
    """The command gets the signal too and dies of it; its last syscalls and its death are in the
    trace, the summary is printed, and tracespec exits with the command's status."""
    marker = _marker()
    out = tmp_path / "t.jsonl"
    tracer = Tracer("run", _openat_spec(tmp_path, marker), "--format", "json", "-o", str(out),
                    "--", loop, "tick", marker)
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    while not out.exists() or out.stat().st_size == 0:  # ticking: traced syscalls are coming in
        assert time.monotonic() < deadline and tracer.proc.poll() is None
        time.sleep(0.1)
    time.sleep(0.3)
    tracer.proc.send_signal(sig)
    code, err = tracer.finish()
    assert code == 128 + sig, err
    assert re.search(r"tracespec: \d+ syscalls traced, 0 records lost", err)
    events = _events(out)
    assert len(_opens_of(events, marker)) >= 3
    killed = [e for e in events if "killed" in e]
    assert [e["killed"] for e in killed] == [signal.Signals(sig).name]
    assert set(events[-1]) == {"lost", "syscalls", "unfinished"}


def test_signal_stops_a_system_wide_trace_with_status_0(tmp_path, loop):
    marker = _marker()
    out = tmp_path / "t.txt"
    tracer = Tracer("run", _openat_spec(tmp_path, marker), "-o", str(out), "--all")
    tracer.wait_for("tracing started")
    subprocess.run([loop, "later", marker, "1"], input=b"g", check=True)
    time.sleep(0.3)
    tracer.proc.send_signal(signal.SIGTERM)
    code, err = tracer.finish()
    assert code == 0, err
    assert f'openat(AT_FDCWD, "{marker}", O_RDONLY) = -1 ENOENT (No such file or directory)' in out.read_text()


def test_a_system_wide_binary_trace_decodes_with_each_process_named(tmp_path, loop):
    """As `run --all` prints them: the trace's header says its targets were system-wide."""
    marker = _marker()
    out = tmp_path / "t.tsb"
    tracer = Tracer("run", _openat_spec(tmp_path, marker), "--format", "bin", "-o", str(out), "--all")
    tracer.wait_for("tracing started")
    subprocess.run([loop, "later", marker, "1"], input=b"g", check=True)
    time.sleep(0.3)
    tracer.proc.send_signal(signal.SIGTERM)
    code, err = tracer.finish()
    assert code == 0, err
    line = f'openat(AT_FDCWD, "{marker}", O_RDONLY) = -1 ENOENT (No such file or directory)'
    named = run_tracespec("decode", str(out))
    assert named.returncode == 0, named.stderr
    assert re.search(r"^\d+ \[loop_workload\] " + re.escape(line) + "$", named.stdout, re.M), named.stdout[-2000:]
    plain = run_tracespec("decode", str(out), "--no-comm")
    assert re.search(r"^\d+ " + re.escape(line) + "$", plain.stdout, re.M), plain.stdout[-2000:]


def test_command_killed_by_sigkill_looks_as_under_strace(tmp_path, loop):
    """The command dies in read(0) of SIGKILL sent from outside: like strace, the read is unfinished
    (the kernel's restart code is not shown) and the process is killed by SIGKILL."""
    spec = _spec(tmp_path, "syscalls:\n  - read\n  - exit_group\n")
    traces = {}
    for tracer in ("strace", "tracespec"):
        out = tmp_path / f"{tracer}.txt"
        if tracer == "strace":
            argv = ["strace", "-f", "-q", "-e", "trace=read,exit_group", "-o", str(out), loop, "block"]
        else:
            argv = [TRACESPEC, "run", spec, "-o", str(out), "--", loop, "block"]
        # stdin: a pipe nobody writes to, so read(0) blocks
        r, w = os.pipe()
        proc = subprocess.Popen(argv, stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        os.close(r)
        try:
            victim = _wait_for_child_in_read(proc.pid, loop)
            os.kill(victim, signal.SIGKILL)
            _, err = proc.communicate(timeout=60)
        finally:
            os.close(w)
            proc.kill()
        if tracer == "tracespec":
            assert proc.returncode == 128 + signal.SIGKILL, err
        traces[tracer] = [p for p in per_process(out.read_text())]
    assert traces["tracespec"][-1][-2:] == traces["strace"][-1][-2:] == [
        "read(0,  <unfinished ...>) = ?", "+++ killed by SIGKILL +++"]


def _wait_for_child_in_read(parent: int, loop: str, timeout: float = 60) -> int:
    """The pid of the workload under `parent`, once it sleeps in read."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for pid in _descendants(parent):
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
                with open(f"/proc/{pid}/syscall") as f:
                    nr = f.read().split()[0]
            except OSError:
                continue
            if exe == loop and nr == "0":  # read
                return pid
        time.sleep(0.05)
    raise AssertionError("the workload never blocked in read")


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        out += kids
        todo += kids
    return out


# -- loss -------------------------------------------------------------------------------------------

LOSS_CONFIGS = [(None, "ringbuf"), ("4.19", "perfbuf")]


def _burst_unread(tmp_path, loop, *args: str, burst: int) -> subprocess.CompletedProcess:
    """`tracespec run ARGS -- loop burst-on GO burst` with tracespec stopped (SIGSTOP) while the burst
    runs: nothing drains the buffers, so they overflow whatever the machine's speed. Then tracespec
    drains them before the workload's last syscalls, which find room again."""
    go = tmp_path / f"go-{uuid.uuid4().hex[:8]}"
    done = Path(f"{go}.done")
    p = subprocess.Popen([TRACESPEC, "run", *args, "--", loop, "burst-on", str(go), str(burst)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 60
        while not any(_exe(pid) == loop for pid in _descendants(p.pid)):  # it runs once the probes are on
            assert p.poll() is None and time.monotonic() < end, p.communicate()
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGSTOP)
        go.write_text("")
        while not done.exists():
            assert time.monotonic() < end, "the burst never ended"
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGCONT)
        time.sleep(0.5)  # tracespec polls its buffers every 0.1 s
        go.unlink()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
            p.wait()
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.mark.parametrize("kernel,output", LOSS_CONFIGS, ids=[c[1] for c in LOSS_CONFIGS])
def test_loss_is_counted_and_reported_in_every_output(tmp_path, loop, kernel, output):
    """A burst of 200,000 getppid calls into the smallest buffer (16 KiB of ring, or 32 KiB of perf buffer
    per CPU) nobody reads must lose records: every output says how many, and the syscalls it does show
    plus those lost account for the burst."""
    spec = _spec(tmp_path, "syscalls:\n  - getppid\n")
    size = "32K" if output == "perfbuf" else "16K"
    extra = ["--kernel", kernel] if kernel else []
    burst = 200_000
    results = {}
    for fmt in ("text", "json", "bin"):
        out = tmp_path / f"t.{fmt}"
        r = _burst_unread(tmp_path, loop, spec, *extra, "--buffer-size", size, "--format", fmt, "-o", str(out),
                          burst=burst)
        assert r.returncode == 0, r.stderr
        lost = int(re.search(r"(\d+) records lost", r.stderr).group(1))
        assert lost > 0, r.stderr
        results[fmt] = (out, lost, r.stderr)
    out, lost, _ = results["json"]
    objs = _events(out)
    assert objs[-1]["lost"] == lost
    shown = sum(1 for o in objs if o.get("syscall") == "getppid")
    assert shown < burst, "records were lost, so not every call can show"
    # a call shows when both its records arrived; each lost record hides one call, two at most one
    assert shown + lost >= burst and shown + lost / 2 <= burst + 100
    # where the records went missing: marks whose counts add up to the total
    assert sum(o.get("lost_here", 0) for o in objs) == lost
    assert "records lost here" in results["text"][0].read_text()
    r = _burst_unread(tmp_path, loop, spec, *extra, "--buffer-size", size, "--fail-on-loss", "-o",
                      str(tmp_path / "f"), burst=burst)
    assert r.returncode == 3, r.stderr
    # the binary trace counts its loss too, and decoding reports the same
    out, lost, _ = results["bin"]
    d = run_tracespec("decode", str(out), "--format", "json")
    assert d.returncode == 0, d.stderr
    objs = [json.loads(line) for line in d.stdout.splitlines()]
    assert objs[-1]["lost"] == lost
    assert f"{lost} records lost" in d.stderr
    shown = sum(1 for o in objs if o.get("syscall") == "getppid")
    assert shown + lost >= burst and shown < burst
    assert run_tracespec("decode", str(out), "--fail-on-loss", "-o", str(tmp_path / "x")).returncode == 3


def test_default_buffer_holds_a_burst(tmp_path, loop):
    """The default ring buffer takes a million syscalls from one process as fast as it can make them
    (the reader keeps up or the buffer holds the rest) without losing any."""
    spec = _spec(tmp_path, "syscalls:\n  - getppid\n")
    out = tmp_path / "t.jsonl"
    r = run_tracespec("run", spec, "--format", "json", "-o", str(out), "--", loop, "burst", "1000000",
                      timeout=300)
    assert r.returncode == 0, r.stderr
    assert "1000001 syscalls traced, 0 records lost" in r.stderr or "1000000 syscalls traced, 0 records lost" \
        in r.stderr, r.stderr


# -- feedback ---------------------------------------------------------------------------------------

def test_status_line_on_a_terminal(tmp_path, loop):
    marker = _marker()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execv(TRACESPEC, [TRACESPEC, "run", _openat_spec(tmp_path, marker), "-o", str(tmp_path / "t.txt"),
                             "--", loop, "tick", marker])
    seen = b""
    end = time.monotonic() + 60
    try:
        while time.monotonic() < end and b"/s" not in seen.split(b"\r")[-1] + seen[-200:]:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        os.kill(pid, signal.SIGINT)
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert re.search(r"tracespec: +\d+\.\d s +\d+ syscalls +\d+ syscalls/s +0 lost", text), text
    assert "\r\x1b[K" in text, "the line is redrawn in place and cleared at the end"
    assert os.waitstatus_to_exitcode(status) == 128 + signal.SIGINT


def test_no_status_line_when_not_a_terminal(tmp_path, loop):
    marker = _marker()
    r = run_tracespec("run", _openat_spec(tmp_path, marker), "-o", str(tmp_path / "t.txt"), "--",
                      "sh", "-c", f"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do {loop} later {marker} 1 </dev/null; "
                                  "sleep 0.2; done")
    assert "syscalls/s" not in r.stderr and "\x1b" not in r.stderr


# -- nothing left behind ----------------------------------------------------------------------------

def _bpf_objects() -> tuple[set, set]:
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                                      check=True).stdout or "[]")
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                                     check=True).stdout or "[]")
    return ({(p["id"], p.get("name", "")) for p in progs}, {(m["id"], m.get("name", "")) for m in maps})


def test_nothing_stays_in_the_kernel(tmp_path, loop):
    """After runs that end every way (the command exits, SIGINT, an error while loading), no program,
    map or attached perf event of tracespec's is left, once the detached releaser is done."""
    before_progs, before_maps = _bpf_objects()
    marker = _marker()
    spec = _openat_spec(tmp_path, marker)
    assert run_tracespec("run", spec, "-o", str(tmp_path / "a"), "--", loop, "later", marker, "1",
                         input="g").returncode == 0
    tracer = Tracer("run", spec, "-o", str(tmp_path / "b"), "--all")
    tracer.wait_for("tracing started")
    tracer.proc.send_signal(signal.SIGINT)
    assert tracer.finish()[0] == 0
    assert run_tracespec("run", spec, "-o", str(tmp_path / "c"), "--", "/nonexistent/cmd").returncode == 127
    deadline = time.monotonic() + 30
    while True:
        progs, maps = _bpf_objects()
        new_progs = {p for p in progs - before_progs if p[1].startswith("ts_")}
        new_maps = {m for m in maps - before_maps if m[1].startswith("ts_")}
        if not new_progs and not new_maps:
            break
        assert time.monotonic() < deadline, f"left behind: {new_progs} {new_maps}"
        time.sleep(0.5)
    perf = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True, check=True).stdout
    ours = [p for p in json.loads(perf or "[]") if p.get("prog_id") in {i for i, _ in new_progs}]
    assert ours == []


# -- what is missing --------------------------------------------------------------------------------

def test_without_privileges_one_line_says_so():
    spec = str(ROOT / "specs" / "fileio.yaml")  # readable by anyone, unlike pytest's temporary directories
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", TRACESPEC, "run", spec, "--", "true"],
                       capture_output=True, text=True, cwd="/", timeout=60)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0] == ("tracespec: error: loading BPF programs needs root (or CAP_BPF and CAP_PERFMON, or "
                        "CAP_SYS_ADMIN)")
    assert lines[1].startswith("  hint:") and len(lines) == 2


def test_without_kernel_headers_one_line_says_so(tmp_path):
    """In a mount namespace where /lib/modules is empty, as on a machine without a headers package."""
    spec = _spec(tmp_path, "syscalls:\n  - openat\n")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        f"mount -t tmpfs none /lib/modules && exec {TRACESPEC} run {spec} -- true"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2, r.stderr
    release = os.uname().release
    lines = r.stderr.strip().splitlines()
    assert lines[0] == (f"tracespec: error: no kernel headers for {release}: BCC compiles its programs "
                        f"against /lib/modules/{release}/build")
    assert f"install linux-headers-{release}" in lines[1] and len(lines) == 2
