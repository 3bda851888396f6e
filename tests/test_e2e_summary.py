"""End to end, with real BPF: `run --summary` counts in the kernel what strace -c counts.

The workload makes known numbers of calls and failures (tests/workloads/summary_workload.c); the
summary's calls and errors per syscall must equal strace -c -f's, for the whole tree and per process.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec

SPEC = "specs/fileio.yaml"
ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(?:\d+\s+\d+\s+)?(\d+)\s+(\d*)\s*(\w+)$")


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("summary_workload", build_dir)


def table_counts(text: str) -> dict[str, tuple[int, int]]:
    """syscall -> (calls, errors) from a strace -c style table (strace's or tracespec's)."""
    out = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m and m.group(3) != "total":
            out[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
    return out


@pytest.fixture(scope="module")
def strace_counts(workload, tmp_path_factory):
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    out = tmp_path_factory.mktemp("strace-c") / "summary.txt"
    subprocess.run(["strace", "-f", "-c", "-w", "-o", str(out), str(workload)], check=True, timeout=60)
    return table_counts(out.read_text())


@pytest.mark.bpf
def test_counts_match_strace(workload, strace_counts, tmp_path):
    out = tmp_path / "summary.txt"
    r = run_tracespec("run", SPEC, "--summary", "-o", str(out), "--", str(workload))
    assert r.returncode == 0, r.stderr
    ours = table_counts(out.read_text())
    traced = {name: strace_counts[name] for name in ours}
    assert ours == traced
    # the workload's own numbers, beside the dynamic loader's
    assert ours["openat"][1] >= 90 and ours["close"][1] == 20
    assert "openat" in ours and "close" in ours and "execve" not in ours  # fileio.yaml does not trace execve
    text = out.read_text()
    assert re.search(r"^\s*90\s+openat\s+ENOENT \(No such file or directory\)$", text, re.M), text
    assert re.search(r"^\s*20\s+close\s+EBADF \(Bad file descriptor\)$", text, re.M), text
    assert "openat: time in the syscall, ns" in text  # its histogram
    assert re.search(r"(\d+) syscalls counted, 0 lost", r.stderr)
    total = int(re.search(r"(\d+) syscalls counted", r.stderr).group(1))
    assert total == sum(c for c, _ in ours.values())


@pytest.mark.bpf
def test_by_process(workload, tmp_path):
    out = tmp_path / "summary.txt"
    r = run_tracespec("run", SPEC, "-c", "--summary-by", "process", "--no-hist", "-o", str(out), "--", str(workload))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "time in the syscall" not in text
    blocks = re.split(r"^process (\d+) \(summary_workloa\)$", text, flags=re.M)[1:]
    assert len(blocks) == 4, text  # two processes: (pid, table) each
    parent, child = sorted((int(blocks[i]), table_counts(blocks[i + 1])) for i in (0, 2))
    assert child[1] == {"openat": (40, 40)}
    assert parent[1]["close"] == (52, 20) and parent[1]["openat"][1] == 50


@pytest.mark.bpf
def test_json_form(workload, tmp_path):
    out = tmp_path / "summary.jsonl"
    r = run_tracespec("run", SPEC, "-c", "--format", "json", "-o", str(out), "--", str(workload))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    summary, last = lines[0], lines[-1]
    assert len(lines) == 2 and last["lost"] == 0 and last["exit_code"] == 0
    rows = {s["syscall"]: s for s in summary["syscalls"]}
    assert rows["close"]["errnos"] == {"EBADF": 20}
    assert rows["openat"]["errnos"]["ENOENT"] >= 90
    assert last["calls"] == sum(s["calls"] for s in rows.values())
    for s in rows.values():
        assert sum(h["calls"] for h in s["hist"]) == s["calls"]
        assert s["min_ns"] <= s["avg_ns"] <= s["max_ns"]
        for h in s["hist"]:
            assert h["ge_ns"] <= s["max_ns"] and (h["lt_ns"] is None or h["lt_ns"] > s["min_ns"])
    assert abs(sum(s["time_pct"] for s in rows.values()) - 100) < 0.1


@pytest.mark.bpf
def test_intervals_split_without_loss(workload, tmp_path):
    """Summaries every second over a workload of three phases 1.5 s apart: several summaries, which
    together hold every call once."""
    out = tmp_path / "summary.jsonl"
    r = run_tracespec("run", SPEC, "-c", "--interval", "1", "--format", "json", "-o", str(out),
                      "--", str(workload), "slow")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    summaries = [x for x in lines if "summary" in x]
    assert len(summaries) >= 3, lines
    starts = [s["summary"]["start_ns"] for s in summaries]
    assert starts == sorted(starts)
    errors: dict[tuple[str, str], int] = {}
    for s in summaries:
        for row in s["syscalls"]:
            for name, n in row["errnos"].items():
                errors[(row["syscall"], name)] = errors.get((row["syscall"], name), 0) + n
    assert errors[("close", "EBADF")] == 20
    assert errors[("openat", "ENOENT")] >= 90
    assert lines[-1]["calls"] == sum(row["calls"] for s in summaries for row in s["syscalls"])


@pytest.mark.bpf
def test_summary_in_the_spec(workload, tmp_path):
    spec = tmp_path / "counted.yaml"
    spec.write_text("version: 1\nsyscalls: [close]\nsummary:\n  by: process\n")
    r = run_tracespec("run", str(spec), "-o", str(tmp_path / "out.txt"), "--", str(workload))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out.txt").read_text()
    assert len(re.findall(r"^process \d+ \(summary_workloa\)$", text, re.M)) == 1  # the child makes no close
    assert table_counts(text)["close"] == (52, 20)


def test_summary_options_need_summary(tmp_path):
    r = run_tracespec("run", SPEC, "--interval", "5", "--", "true")
    assert r.returncode == 2 and "go with --summary" in r.stderr and "Traceback" not in r.stderr
    r = run_tracespec("run", SPEC, "-c", "--format", "bin", "-o", str(tmp_path / "x.tsb"), "--", "true")
    assert r.returncode == 2 and "a summary is text or JSON" in r.stderr
