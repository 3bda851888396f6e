"""Fetch modes and limits, with real BPF: how much of each string and buffer is copied, and that a
cut is always visible ("..." in text, "truncated" in JSON)."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import per_process
from test_e2e_strace import FILE_SYSCALLS

pytestmark = pytest.mark.bpf


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fileio_workload", build_dir)


def _run(tmp_path, workload, spec_text: str, name: str, fmt: str = "text"):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(spec_text)
    scratch = tmp_path / f"scratch-{name}"
    scratch.mkdir()
    out = tmp_path / f"{name}.out"
    r = run_tracespec("run", str(spec), "--format", fmt, "-o", str(out), "--", str(workload), str(scratch),
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH")


def _rules(names) -> str:
    return "".join(f"  - {n}\n" for n in names)


def test_buffer_limit_matches_strace_s(tmp_path, workload):
    scratch = tmp_path / "scratch-strace"
    scratch.mkdir()
    out = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-s", "8", "-o", str(out), "-e", "trace=" + ",".join(FILE_SYSCALLS),
                    str(workload), str(scratch)], check=True, stdout=subprocess.DEVNULL)
    want = per_process(out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH"))
    got = per_process(_run(tmp_path, workload, "version: 1\nsyscalls:\n" + _rules(FILE_SYSCALLS) +
                           "buffers: {max: 8}\n", "s8"))
    assert got == want
    assert any('write(3, "hello\\n", 6)' in line for line in got[0])
    assert any('"\\0\\1\\2\\3\\177\\200\\377\\t"...' in line for line in got[0])


def test_inline_paths_are_cut_visibly(tmp_path, workload):
    full = [json.loads(x) for x in _run(tmp_path, workload, "version: 1\nsyscalls: [openat]\n", "full", "json")
            .splitlines()]
    cut = [json.loads(x) for x in _run(tmp_path, workload, "version: 1\nsyscalls: [openat]\n"
                                       "paths: {mode: inline, max: 16}\n", "inline", "json").splitlines()]
    full = [e for e in full if "syscall" in e]
    cut = [e for e in cut if "syscall" in e]
    assert len(full) == len(cut) > 5
    for f, c in zip(full, cut):
        path = f["args"]["filename"]
        if not path.startswith("SCRATCH"):  # a scratch path cut short no longer names its directory
            assert c["args"]["filename"] == path[:16]
        assert len(c["args"]["filename"]) == min(16, len(c["args"]["filename"]) if path.startswith("SCRATCH")
                                                 else len(path))
        if not path.startswith("SCRATCH"):
            assert ("truncated" in c and c["truncated"]["filename"] is True) == (len(path) > 16)
        else:  # the real scratch directory is longer than 16 characters
            assert c["truncated"]["filename"] is True
    text = _run(tmp_path, workload, "version: 1\nsyscalls: [openat]\npaths: {mode: inline, max: 16}\n", "inline-t")
    assert 'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3' in text  # 16: whole
    assert 'openat(AT_FDCWD, "/lib/x86_64-linu"..., O_RDONLY|O_CLOEXEC) = 3' in text


def test_per_syscall_and_per_argument_overrides(tmp_path, workload):
    spec = ("version: 1\nsyscalls:\n"
            "  - name: read\n    buffers: {max: 2}\n"
            "  - name: write\n    args:\n      buf: {max: 4, at: exit, size: ret}\n"
            "  - name: pwrite64\n    args:\n      buf: {raw: true}\n"
            "buffers: {max: 100}\n")
    text = per_process(_run(tmp_path, workload, spec, "overrides"))[0]
    events = [json.loads(x) for x in _run(tmp_path, workload, spec, "overrides-j", "json").splitlines()]
    assert 'read(3, "vm"..., 100) = 3' in text or any(line.startswith('read(3, "\\177E"...') for line in text)
    assert 'write(3, "hell"..., 6) = 6' in text
    assert any(line.startswith("pwrite64(3, 0x") for line in text), "a raw argument prints as a number"
    writes = [e for e in events if e.get("syscall") == "write" and e["ret"] == 48]
    assert writes and writes[0]["args"]["buf"] == "\x00\x01\x02\x03" and writes[0]["truncated"] == {"buf": 48}
    reads = [e for e in events if e.get("syscall") == "read" and (e["ret"] or 0) > 2]
    assert reads and all(len(e["args"]["buf"].encode("utf-8", "surrogateescape")) == 2 for e in reads)
    assert all(e["truncated"]["buf"] == e["ret"] for e in reads)
