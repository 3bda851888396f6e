"""End to end, with real BPF: trace a program of ours with tracespec and with strace, and compare.

The workload (tests/workloads/fileio_workload.c) makes every syscall of specs/fileio.yaml succeed and
fail, with binary buffers, a 300-character path, paths longer than PATH_MAX, and a forked child.
Correctness is strace's output: same lines per process (syscall, arguments, return value, errno name,
exit status), once addresses and pids are set aside.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT, compile_workload, decode_without_bcc, run_tracespec
from straceio import per_process, strings_in
from tracespec.quote import quote
from tracespec.pipeline import compile_spec
from tracespec.spec import load_spec

pytestmark = pytest.mark.bpf

FILE_SYSCALLS = [r.selector.pattern for r in load_spec(str(ROOT / "specs" / "fileio.yaml")).rules]


# (spec, kernel profile, the attach mode and output buffer that combination must use)
CONFIGS = [
    ("specs/fileio.yaml", None, "syscall_tp", "ringbuf"),
    ("specs/fileio.yaml", "4.19", "syscall_tp", "perfbuf"),
    ("tests/specs/fileio_wide.yaml", None, "raw_tp", "ringbuf"),
    ("tests/specs/fileio_wide.yaml", "4.16", "raw_syscalls", "perfbuf"),
]


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fileio_workload", build_dir)


@pytest.fixture(scope="module")
def strace_text(workload, tmp_path_factory):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    work = tmp_path_factory.mktemp("strace")
    scratch = work / "scratch"
    scratch.mkdir()
    out = work / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-s", "32", "-o", str(out),
                    "-e", "trace=" + ",".join(FILE_SYSCALLS), str(workload), str(scratch)],
                   check=True, stdout=subprocess.DEVNULL)
    return out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH")


def _only_file_syscalls(procs: list[list[str]]) -> list[list[str]]:
    """Drop the lines of syscalls strace was not asked for (the wide spec traces more)."""
    keep = set(FILE_SYSCALLS)
    return [[line for line in p if line.startswith("+++") or line.split("(", 1)[0] in keep] for p in procs]


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda c: f"{c[2]}-{c[3]}")
def traces(request, workload, strace_text, tmp_path_factory):
    """The workload traced by tracespec (text, then json) in one configuration, next to strace's trace."""
    spec, kernel, attach, output = request.param
    plan = compile_spec(str(ROOT / spec), kernel).plan
    assert (plan.attach, plan.output) == (attach, output), "the configuration this test is meant to cover"
    work = tmp_path_factory.mktemp("tracespec")
    scratch = work / "scratch"
    extra = ["--kernel", kernel] if kernel else []

    def run(fmt: str, out) -> str:
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        r = run_tracespec("run", spec, *extra, "--format", fmt, "-o", str(out), "--", str(workload), str(scratch),
                          stdout=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        return r.stderr

    summary = run("text", work / "t.txt")
    run("json", work / "t.jsonl")
    run("bin", work / "t.tsb")
    scratch_bin = str(scratch)
    decoded = decode_without_bcc(work / "t.tsb", work / "decoded.txt")
    json_objs = [json.loads(line.replace(str(scratch), "SCRATCH"))
                 for line in (work / "t.jsonl").read_text().splitlines()]
    return {
        "strace": strace_text,
        "text": (work / "t.txt").read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH"),
        "json": [o for o in json_objs if "syscall" not in o or o["syscall"] in FILE_SYSCALLS],
        "text_summary": summary,
        "decoded": (work / "decoded.txt").read_text(errors="surrogateescape").replace(scratch_bin, "SCRATCH"),
        "decode_summary": decoded.stderr,
    }


def test_text_matches_strace_line_for_line(traces):
    expected = per_process(traces["strace"])
    got = _only_file_syscalls(per_process(traces["text"]))
    assert len(got) == len(expected) == 2, "the parent and its forked child"
    for proc, (want, have) in enumerate(zip(expected, got)):
        assert have == want, f"process {proc} differs from strace"


def test_binary_trace_decodes_like_strace(traces):
    """Recorded with --format bin, decoded later by a process that cannot import BCC."""
    expected = per_process(traces["strace"])
    got = _only_file_syscalls(per_process(traces["decoded"]))
    assert got == expected
    assert "0 records lost" in traces["decode_summary"]


def test_the_workload_was_really_exercised(traces):
    parent, child = _only_file_syscalls(per_process(traces["text"]))
    text = "\n".join(parent)
    for needle in ('= -1 ENOENT (No such file or directory)', "= -1 EBADF (Bad file descriptor)",
                   "= -1 EISDIR (Is a directory)", "= -1 EEXIST (File exists)",
                   "= -1 ENAMETOOLONG (File name too long)", "renameat2(", "O_WRONLY|O_CREAT|O_TRUNC, 0640",
                   '"\\0\\1\\2\\3\\177\\200\\377\\t\\n\\r\\v\\f\\"\\\\ 8\\19 text after th"...',
                   "{st_mode=S_IFREG|0640, st_size=", "+++ exited with 0 +++"):
        assert needle in text, needle
    assert "+++ exited with 3 +++" in child
    long_path = next(line for line in parent if "/middle/" in line)
    assert "L" * 290 in long_path and '..."' not in long_path and '"...' not in long_path


def test_exit_status_and_summary(traces):
    assert "0 records lost" in traces["text_summary"]


def test_json_contract(traces):
    objs = traces["json"]
    final = objs[-1]
    assert set(final) == {"lost", "syscalls", "unfinished"} and final["lost"] == 0
    events = [o for o in objs if "syscall" in o]
    assert final["syscalls"] >= len(events) > 40
    for e in events:
        assert {"ts_ns", "pid", "tid", "comm", "syscall", "args", "ret", "errno", "duration_ns"} <= set(e)
        assert e["comm"] == "fileio_workload"[:15]
        if e["ret"] is not None and -4095 <= e["ret"] < 0:
            assert e["errno"] and e["errno"].startswith("E")
        else:
            assert e["errno"] is None
    openat = next(e for e in events if e["syscall"] == "openat" and e["args"]["filename"] == "SCRATCH/a.txt")
    assert set(openat["args"]) == {"dfd", "dfd_names", "filename", "flags", "flags_names", "mode"}
    assert openat["args"]["dfd"] == -100 and openat["args"]["dfd_names"] == ["AT_FDCWD"]
    assert "O_CREAT" in openat["args"]["flags_names"] and openat["args"]["flags"] & 0o100
    assert all(e["ts"] == f"{e['ts_ns'] // 10**9}.{e['ts_ns'] % 10**9:09d}" for e in events)
    ts = [e["ts_ns"] for e in events if e["pid"] == events[0]["pid"]]
    assert ts == sorted(ts), "a process's events come in time order"
    exits = [o for o in objs if "exited" in o]
    assert sorted(o["exited"] for o in exits) == [0, 3]


def test_json_agrees_with_strace(traces):
    """Per process: the same syscalls, return values, errno names and string arguments as strace."""
    strace_procs = per_process(traces["strace"])
    pids = []
    for o in traces["json"]:
        if "syscall" in o and o["pid"] not in pids:
            pids.append(o["pid"])
    assert len(pids) == len(strace_procs)
    for pid, lines in zip(pids, strace_procs):
        events = [o for o in traces["json"] if o.get("pid") == pid and "syscall" in o]
        calls = [line for line in lines if not line.startswith("+++")]
        assert [line.split("(", 1)[0] for line in calls] == [e["syscall"] for e in events]
        for line, e in zip(calls, events):
            ret_text = line.rsplit(") = ", 1)[1]
            if e["errno"]:
                assert ret_text.startswith(f"-1 {e['errno']} ("), line
            else:
                assert ret_text.split()[0] == str(e["ret"]), line
            shown = [quote(v.encode("utf-8", "surrogateescape"), k in e.get("truncated", {}))
                     for k, v in e["args"].items() if isinstance(v, str)]
            assert shown == strings_in(line.rsplit(") = ", 1)[0]), line


def test_fd_paths_like_strace_y(workload, tmp_path):
    """-y: descriptors shown with what they refer to. The program starts after a pause, so that
    tracespec (which learns cwd and inherited descriptors from /proc) sees it alive, as strace does."""
    outs = {}
    for tracer in ("strace", "tracespec"):
        scratch = tmp_path / f"scratch-{tracer}"
        scratch.mkdir()
        cmd = ["sh", "-c", f"sleep 0.5; exec {workload} {scratch}"]
        out = tmp_path / f"{tracer}.txt"
        if tracer == "strace":
            subprocess.run(["strace", "-f", "-q", "-y", "-s", "32", "-o", str(out),
                            "-e", "trace=" + ",".join(FILE_SYSCALLS), *cmd], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:  # the same stderr for the traced program as under strace: its descriptor 2 is shown
            r = run_tracespec("run", "specs/fileio.yaml", "-y", "-o", str(out), "--", *cmd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert r.returncode == 0
        outs[tracer] = per_process(out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH"))
    assert outs["tracespec"] == outs["strace"]
    text = "\n".join(outs["tracespec"][0])
    assert "openat(AT_FDCWD</work/main>" in text or "openat(AT_FDCWD</" in text
    assert "write(3<SCRATCH/a.txt>" in text and "= 3<SCRATCH/a.txt>" in text
