"""Binary traces recorded for real, then damaged the ways files get damaged: cut short (a full disk, a
killed recorder) or corrupted. Decoding prints what it can, says at which byte the trouble starts, and
exits non-zero; it never shows a traceback. (Decoding an intact trace like strace is checked in
test_e2e_strace.py, for every attach mode and buffer.)"""

from __future__ import annotations

import json
import re
import struct
import subprocess

import pytest

from conftest import compile_workload, decode_without_bcc, run_tracespec
from tracespec.format.binary import TraceFile

pytestmark = pytest.mark.bpf


@pytest.fixture(scope="module")
def recorded(build_dir, tmp_path_factory):
    """specs/fileio.yaml over the fileio workload, four times over: a trace, and its decoding as JSON. Four
    runs make more records than one ring-buffer chunk holds (16 KiB), so the trace has several record
    chunks however its drains fell (one run's records fit one chunk on a busy machine)."""
    workload = compile_workload("fileio_workload", build_dir)
    work = tmp_path_factory.mktemp("bin")
    trace = work / "t.tsb"
    runs = 'for d in 1 2 3 4; do mkdir "$0/s$d" && "$1" "$0/s$d" || exit 1; done'
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "-o", str(trace), "--", "sh", "-c", runs,
                      str(work), str(workload), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert "0 records lost" in r.stderr
    decode_without_bcc(trace, work / "full.jsonl", "--format", "json")
    return trace, [json.loads(line) for line in (work / "full.jsonl").read_text().splitlines()]


def _chunks(trace) -> list[tuple[int, int, int]]:
    """(offset, tag, payload length) of each format 2 chunk, read independently of the reader under test."""
    data = trace.read_bytes()
    hlen = struct.unpack_from("<I", data, 12)[0]
    pos, out = 20 + hlen, []
    while pos + 16 <= len(data):
        _, tag, length, _ = struct.unpack_from("<4sIII", data, pos)
        out.append((pos, tag, length))
        pos += 16 + 4 * -(-length // 4096) + length
    return out


def _biggest_records_chunk(trace) -> tuple[int, int]:
    """The biggest record chunk after the first: cut there, the trace still holds whole syscalls."""
    records = [(at, n) for at, tag, n in _chunks(trace) if tag in (1, 5)]
    assert len(records) > 1, "the fixture's trace should hold several record chunks"
    return max(records[1:], key=lambda c: c[1])


def _decode(path, *extra) -> subprocess.CompletedProcess:
    return run_tracespec("decode", str(path), "--format", "json", *extra)


def test_header_says_where_the_trace_comes_from(recorded):
    trace, _ = recorded
    r = run_tracespec("decode", str(trace), "--header")
    assert r.returncode == 0, r.stderr
    head = json.loads(r.stdout)
    assert head["spec_path"] == "specs/fileio.yaml" and "version: 1" in head["spec_text"]
    assert {"tracespec", "created_ns", "host", "kernel", "clock_offset_ns"} <= set(head)


@pytest.mark.parametrize("where", ["mid-chunk", "chunk-boundary", "in-header"])
def test_cut_short_decodes_what_came_before(recorded, tmp_path, where):
    trace, full = recorded
    data = trace.read_bytes()
    at, length = _biggest_records_chunk(trace)
    cut = {"mid-chunk": at + 16 + length // 2, "chunk-boundary": at, "in-header": 30}[where]
    short = tmp_path / "short.tsb"
    short.write_bytes(data[:cut])
    r = _decode(short)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    if where == "in-header":
        assert r.stderr.strip() == f"tracespec: error: {short} ends inside its header, at byte {cut}"
        return
    assert f"byte {cut}" in r.stderr, r.stderr
    assert "cut short" in r.stderr
    got = [json.loads(line) for line in r.stdout.splitlines()]
    finished = [o for o in got if "syscall" in o and o.get("ret") is not None]
    want = [o for o in full if "syscall" in o]
    assert finished and len(finished) < len(want)
    assert all(o in want for o in finished), "what decodes is what the whole trace says"
    assert set(got[-1]) == {"lost", "syscalls", "unfinished"}


def test_corrupt_chunk_is_reported_with_its_offset(recorded, tmp_path):
    trace, _ = recorded
    data = bytearray(trace.read_bytes())
    at, _, length = _chunks(trace)[1]
    data[at + 4:at + 8] = struct.pack("<I", 0xDEAD)  # its tag: the header's CRC no longer matches
    bad = tmp_path / "bad.tsb"
    bad.write_bytes(bytes(data))
    r = _decode(bad)
    assert r.returncode == 1
    assert f"bytes {at}-{at + 16 + 4 * -(-length // 4096) + length - 1} damaged, skipped" in r.stderr
    assert "Traceback" not in r.stderr


def test_not_a_trace(tmp_path):
    p = tmp_path / "x.tsb"
    p.write_text("version: 1\n")
    r = _decode(p)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == f"tracespec: error: {p} is not a tracespec binary trace"
    r = _decode(tmp_path / "missing.tsb")
    assert r.returncode == 2 and "No such file" in r.stderr


def test_reader_reports_truncation_in_process(recorded, tmp_path):
    trace, _ = recorded
    data = trace.read_bytes()
    short = tmp_path / "s.tsb"
    short.write_bytes(data[:-3])  # inside the final record
    t = TraceFile(str(short))
    kinds = [k for k, _ in t.chunks()]
    assert "records" in kinds and t.trailer is None
    assert t.problem and f"byte {len(data) - 3}" in t.problem


def test_bin_needs_an_output_file(tmp_path):
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "--", "true")
    assert r.returncode == 2
    assert "--format bin writes binary records: say where with -o FILE" in r.stderr


def test_full_disk_is_one_clear_error_and_the_trace_stays_decodable(tmp_path, build_dir):
    """A 512 KiB tmpfs (8 of the 64 KiB chunks run writes) fills up mid-trace: one error line, and what
    was written decodes."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], check=True)
    try:
        loop = compile_workload("loop_workload", build_dir)
        spec = tmp_path / "g.yaml"
        spec.write_text("version: 1\nsyscalls:\n  - getppid\n")
        trace = mnt / "t.tsb"
        r = run_tracespec("run", str(spec), "--format", "bin", "-o", str(trace), "--", str(loop), "burst", "20000")
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert "tracespec: error: cannot write the trace: No space left on device" in lines, r.stderr
        assert "Traceback" not in r.stderr
        d = _decode(trace)
        assert d.returncode == 1 and "cut short" in d.stderr
        assert sum(1 for line in d.stdout.splitlines() if '"getppid"' in line) > 100
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_trace_recorded_from_flags_alone_decodes_as_run_printed_it(build_dir, tmp_path):
    """`-e trace=...` without a spec: the header names the spec the flags made ("<command line>") and
    holds its text, so decode rebuilds the same decoder (it used to write spec_path null, which decode
    rightly refused as a header tracespec never writes)."""
    workload = compile_workload("fileio_workload", build_dir)
    trace, live, decoded = tmp_path / "t.tsb", tmp_path / "live.txt", tmp_path / "decoded.txt"
    flags = ("-e", "trace=openat,close,write", "-s", "64", "-y")
    r = run_tracespec(*flags, "--format", "bin", "-o", str(trace), "--", str(workload), str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert TraceFile(str(trace)).header["spec_path"] == "<command line>"
    r = run_tracespec(*flags, "-o", str(live), "--", str(workload), str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = decode_without_bcc(trace, decoded)
    assert r.returncode == 0, r.stderr

    def shape(path):
        """The workload's own files' lines, without pids and pointers (which differ between the runs).
        The loader's libraries are left out: run names them as /proc resolves them (/lib is a link to
        /usr/lib here, as strace -y shows), decode as they were opened, having no /proc to ask."""
        return [re.sub(r"^\d+ |0x[0-9a-f]+", "", line) for line in path.read_text().splitlines()
                if str(tmp_path) in line]
    got = shape(decoded)
    assert got == shape(live)
    assert any(line.startswith("openat(AT_FDCWD<") for line in got), got
    assert any(line.startswith("write(") for line in got), got
