"""End to end, with real BPF: `tracespec record`, the flight recorder.

The records stay in overwritable kernel buffers; a dump must hold the latest syscalls before its
cause, in order, and nothing before the buffer's reach.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, decode_without_bcc, run_tracespec
from test_e2e_runtime import Tracer

SPEC = "specs/fileio.yaml"


@pytest.fixture(scope="module")
def workload(build_dir):
    return str(compile_workload("recorder_workload", build_dir))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\d+ ", line)]


@pytest.mark.bpf
def test_dump_after_a_crash_holds_the_last_syscalls(workload, tmp_path):
    _check_crash_dump(workload, "crash", tmp_path)


@pytest.mark.bpf
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to move between")
def test_dump_after_a_move_to_another_cpu_has_no_hole(workload, tmp_path):
    """The first CPU's buffer keeps the last /dev/zero opens, older than all the second CPU keeps: the
    /dev/null opens in between are gone from the second. The dump starts where both hold all they
    wrote (no /dev/zero), not with a stretch and then a hole (as it did, on a busy machine, when the
    scheduler moved the process)."""
    _check_crash_dump(workload, "migrate", tmp_path)


def _check_crash_dump(workload, mode: str, tmp_path):
    out = tmp_path / "dump.txt"
    r = run_tracespec("record", SPEC, "--size", "256K", "-o", str(out), "--", workload, mode)
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    assert "1 dump written, 0 records lost" in r.stderr, r.stderr
    text = out.read_text()
    assert re.match(r"=== dump 1: process \d+ killed by SIGSEGV ===\n", text), text[:200]
    lines = _lines(text)
    body = [line.split(" ", 1)[1] for line in lines]
    assert body[-4:] == [
        'openat(AT_FDCWD, "/nonexistent/last-before-crash", O_RDONLY) = -1 ENOENT (No such file or directory)',
        'write(1, "about to crash\\n", 15) = 15',
        "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---",  # as strace prints it
        "+++ killed by SIGSEGV +++",
    ]
    # 256 KiB keep far fewer than the 40000 syscalls made: the dump is the newest, unbroken, stretch
    churn = body[:-4]
    assert 500 < len(churn) < 20000
    first = 1 if churn[0] == "close(3) = 0" else 0  # the oldest kept may be either half of a pair
    for i, line in enumerate(churn[first:]):
        want = 'openat(AT_FDCWD, "/dev/null", O_RDONLY) = 3' if i % 2 == 0 else "close(3) = 0"
        assert line == want, (i, line)
    assert "execve" not in text and "/etc/ld.so" not in text  # overwritten long ago
    assert re.search(r"=== end of dump 1: \d+ syscalls, 0 records lost ===", text)


@pytest.mark.bpf
def test_trigger_dumps_at_once_and_exit_dumps_again(workload, tmp_path):
    spec = tmp_path / "trigger.yaml"
    # a recorder that holds all 8,000 records: the programs go on while the trigger's control record
    # reaches user space, and on a busy machine a smaller one has overwritten much of what led to the
    # trigger by the time the dump is taken (the crash test covers overwriting)
    spec.write_text("version: 1\nsyscalls: [openat, close]\nrecorder:\n  size: 8M\n"
                    "  trigger: 'syscall == \"openat\" && errno == ENOENT && ret != 0'\n")
    out = tmp_path / "dumps.jsonl"
    r = run_tracespec("record", str(spec), "--format", "json", "-o", str(out), "--", workload, "trigger")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in out.read_text().splitlines()]
    heads = [i for i, o in enumerate(objs) if "dump" in o]
    reasons = [objs[i]["reason"] for i in heads]
    assert len(heads) == 2, reasons
    assert re.fullmatch(r"trigger: openat = -1 ENOENT \(pid \d+\)", reasons[0]), reasons
    assert reasons[1].endswith("exited with 0")
    first = objs[heads[0] + 1:heads[1]]
    assert first[-1]["lost"] == 0
    events = [o for o in first if "syscall" in o and "args" in o]
    marker = [i for i, e in enumerate(events) if e["args"].get("filename") == "/nonexistent/the-trigger"]
    assert marker, "the dump holds the syscall that triggered it"
    assert events[marker[0]]["errno"] == "ENOENT"
    assert marker[0] == len(events) - 1  # the dump ends with its cause
    assert len(events) > 1000  # and holds what led to it
    ts = [e["ts_ns"] for e in events]
    assert ts == sorted(ts)
    final = [o for o in objs[heads[1] + 1:] if "syscall" in o and "args" in o]
    # the exit dump holds the 2000 pairs made after the trigger (as many as the buffer keeps)
    after = [e for e in final if e["ts_ns"] > events[-1]["ts_ns"]]
    assert len(after) > 1000 and [e["syscall"] for e in after[-2:]] == ["openat", "close"]


@pytest.mark.bpf
def test_sigusr1_dumps_with_the_syscall_in_flight(workload, tmp_path):
    out = tmp_path / "dumps.txt"
    p = subprocess.Popen([TRACESPEC, "record", SPEC, "-o", str(out), "--", workload, "block"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _blocked_reader(p.pid):
            time.sleep(0.2)
        os.kill(p.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "=== end of dump 1" not in out.read_text():
            time.sleep(0.2)
        text = out.read_text()
        assert text.startswith("=== dump 1: SIGUSR1 ===\n"), text[:200]
        dump1 = text.split("=== end of dump 1")[0]
        assert re.fullmatch(r"\d+ read\(\d+,  <unfinished \.\.\.>", _lines(dump1)[-1]), _lines(dump1)[-3:]
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "2 dumps written" in err, err
    # the signal, passed on to the command, ends it: that is the second dump's cause
    assert re.search(r"^=== dump 2: (process \d+ killed by SIGTERM|stopped by SIGTERM) ===$", out.read_text(), re.M)


def _blocked_reader(tracer_pid: int) -> bool:
    """Whether the recorded workload (a child of tracespec) sits in read(): /proc/PID/syscall starts
    with the number of the syscall a sleeping task is in (0 on x86_64)."""
    try:
        children = open(f"/proc/{tracer_pid}/task/{tracer_pid}/children").read().split()
    except OSError:
        return False
    for c in children:
        try:
            # after its exec (before it, the child waits for the probes in a read of its own)
            if open(f"/proc/{c}/comm").read().strip() == "recorder_worklo" and \
                    open(f"/proc/{c}/syscall").read().split()[0] == "0":
                return True
        except (OSError, IndexError):
            pass
    return False


@pytest.mark.bpf
def test_bin_dumps_are_traces_of_their_own(workload, tmp_path):
    out = tmp_path / "dump.tsb"
    r = run_tracespec("record", SPEC, "--size", "256K", "--format", "bin", "-o", str(out), "--", workload, "crash")
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    dump = tmp_path / "dump.1.tsb"
    assert dump.exists() and not out.exists()
    d = decode_without_bcc(dump, tmp_path / "dump.txt")
    lines = _lines((tmp_path / "dump.txt").read_text())
    assert lines[-1].endswith("+++ killed by SIGSEGV +++")
    assert lines[-2].endswith("--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---")
    assert "last-before-crash" in lines[-4]


def test_record_needs_a_target_and_a_file_for_bin(tmp_path):
    r = run_tracespec("record", SPEC)
    assert r.returncode == 2 and "say what to record" in r.stderr
    r = run_tracespec("record", SPEC, "--format", "bin", "--", "true")
    assert r.returncode == 2 and "one trace file per dump" in r.stderr


@pytest.mark.bpf
@pytest.mark.parametrize("how", ["flag", "spec"])
def test_dumps_name_inherited_descriptors_as_run_does(how, workload, tmp_path):
    """-y (or fd_paths: true in the spec): the stdout the command inherited is named in a dump as `run -y`
    names it, though the process is gone when the dump is written (what was open when recording began
    goes with the writers, and into a bin dump's header, as run puts it there); AT_FDCWD is where the
    command started."""
    if how == "flag":
        spec, extra = SPEC, ("-y",)
    else:
        spec, extra = tmp_path / "fdpaths.yaml", ()
        spec.write_text((ROOT / SPEC).read_text() + "fd_paths: true\n")
    want = ('write(1<pipe:[N]>, "about to crash\\n", 15) = 15',
            f'openat(AT_FDCWD<{ROOT}>, "/nonexistent/last-before-crash", O_RDONLY) = -1 ENOENT '
            "(No such file or directory)")
    inode = re.compile(r"(?<=pipe:\[)\d+(?=\])")

    def body(path) -> list[str]:
        return [inode.sub("N", line.split(" ", 1)[1]) for line in _lines(path.read_text())]

    ran = run_tracespec("run", str(spec), *extra, "-o", str(tmp_path / "run.txt"), "--", workload, "crash")
    assert ran.returncode == 128 + signal.SIGSEGV, ran.stderr
    assert body(tmp_path / "run.txt")[-4:-2] == [want[1], want[0]]  # what run -y prints: the dumps must agree
    text = tmp_path / "dump.txt"
    r = run_tracespec("record", str(spec), *extra, "--size", "256K", "-o", str(text), "--", workload, "crash")
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    assert body(text)[-4:-2] == [want[1], want[0]], body(text)[-4:]
    out = tmp_path / "dump.tsb"
    r = run_tracespec("record", str(spec), *extra, "--size", "256K", "--format", "bin", "-o", str(out), "--",
                      workload, "crash")
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    decode_without_bcc(tmp_path / "dump.1.tsb", tmp_path / "decoded.txt")
    assert body(tmp_path / "decoded.txt")[-4:-2] == [want[1], want[0]], body(tmp_path / "decoded.txt")[-4:]


@pytest.mark.bpf
def test_a_comm_targets_process_killed_by_a_signal_dumps(tmp_path, build_dir):
    """record --comm: a traced process a signal kills dumps the recorder, as under a command (the
    process's end is seen for targets named by name or group too), its death the dump's last line."""
    prog = tmp_path / "tsp_rec_kill"
    shutil.copy(compile_workload("sigdrop_workload", build_dir), prog)
    out, spec = tmp_path / "dumps.txt", tmp_path / "rec.yaml"
    spec.write_text("version: 1\nsyscalls: [kill, close]\nrecorder: {}\n")
    tracer = Tracer("record", str(spec), "--comm", prog.name, "--no-comm", "-o", str(out))
    tracer.wait_for("tracing started")
    subprocess.run([str(prog), "term"], check=True, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    tracer.proc.send_signal(signal.SIGINT)
    code, err = tracer.finish()
    assert code == 0, err
    heads = [re.sub(r"process \d+", "process P", line.split(": ", 1)[1].removesuffix(" ==="))
             for line in out.read_text().splitlines() if line.startswith("=== dump")]
    # deaths whose notices come in one read make one dump, its reasons joined
    reasons = [why for head in heads for why in head.split("; ")]
    assert reasons == ["process P killed by SIGTERM", "process P killed by SIGPIPE", "process P killed by SIGINT",
                       "process P killed by SIGHUP", "stopped by SIGINT"], out.read_text()
    first = out.read_text().split("=== end of dump 1")[0].splitlines()
    at = next(i for i, line in enumerate(first) if line.endswith(" +++ killed by SIGTERM +++"))
    pid = first[at].split()[0]
    assert first[at - 2:at + 1] == [
        f"{pid} kill({pid}, SIGTERM) = 0", f"{pid} --- SIGTERM {{si_signo=SIGTERM, si_code=SI_USER, si_pid={pid}, "
        "si_uid=0} ---", f"{pid} +++ killed by SIGTERM +++"], first
