"""Damaged and crafted binary traces through `tracespec decode`: one clear line per problem, a non-zero
exit, never a traceback, and everything intact still decoded. Crafted files are made here with the
writer's own framing (no root); damage to real records uses one trace recorded in a bpf-marked test."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib

import pytest

from conftest import run_tracespec
from tracespec.format.binary import BLOCK, END, MAGIC, BinWriter, chunk

READ = {"name": "fd", "index": 0, "kind": "fd", "size": 4, "signed": False}
SCHEMA = {"layouts": [{"kind": 0, "phase": "enter", "nrs": [39], "name": "f0", "args": [], "slots": []}],
          "syscalls": [{"nr": 39, "name": "getpid", "ret": "int", "args": [], "raw": False}],
          "spec_path": "x.yaml"}


def _header_bytes(header: dict | str) -> bytes:
    blob = (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<8sII", MAGIC, 2, len(blob)) + struct.pack("<I", zlib.crc32(blob)) + blob


def _trace(tmp_path, schema=SCHEMA, end: bytes | None = None, header: str | None = None):
    """A trace with no records: its header (the writer's, or `header` as given) and an END chunk."""
    out = io.BytesIO()
    w = BinWriter(out, schema, "x.yaml", "version: 1\n", 0)
    if end is None:
        w.finish(0, 0)
    else:
        out.write(chunk(END, end))
    data = out.getvalue()
    if header is not None:
        hlen = struct.unpack_from("<I", data, 12)[0]
        data = _header_bytes(header) + data[20 + hlen:]
    p = tmp_path / "t.tsb"
    p.write_bytes(data)
    return p


def _decode(path, *extra) -> subprocess.CompletedProcess:
    return run_tracespec("decode", str(path), *extra)


def _one_error(r) -> str:
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if not line.startswith("  hint:")]
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_a_well_formed_crafted_trace_decodes(tmp_path):
    r = _decode(_trace(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "tracespec: 0 syscalls decoded, 0 records lost"


@pytest.mark.parametrize("end", [b"[1]", b'{"lost": "x"}', b'{"lost": 1, "exit_code": {"a": 1}}', b"\xff{",
                                 b"[" * 100000])
def test_malformed_end_is_reported_not_an_internal_error(tmp_path, end):
    r = _decode(_trace(tmp_path, end=end))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert "damaged, skipped" in r.stderr
    assert "0 syscalls decoded" in r.stderr


def test_deeply_nested_header_is_refused_in_one_line(tmp_path):
    r = _decode(_trace(tmp_path, header="[" * 100000 + "]" * 100000))
    assert r.returncode == 2
    assert "its header is not valid JSON" in _one_error(r)


def _with_syscall_name(name: str) -> dict:
    schema = json.loads(json.dumps(SCHEMA))
    schema["syscalls"][0]["name"] = name
    return schema


@pytest.mark.parametrize("name", ["getpid\n", "get\x1b[2J\x1b[31mpid", "getpid) = 0\n1234 unlink(\"/etc\""])
def test_syscall_names_must_be_whole_identifiers(tmp_path, name):
    r = _decode(_trace(tmp_path, _with_syscall_name(name)))
    assert r.returncode == 2
    line = _one_error(r)
    assert "schema.syscalls[0].name is" in line
    assert "\x1b" not in r.stderr and "\n1234" not in r.stderr, "the name reaches the terminal escaped"


def test_layout_name_with_a_newline_never_reaches_the_decoder_source(tmp_path):
    schema = json.loads(json.dumps(SCHEMA))
    schema["layouts"][0]["name"] = "f0\n"
    r = _decode(_trace(tmp_path, schema))
    assert r.returncode == 2
    assert 'schema.layouts[0].name is "f0\\n", not a name' in _one_error(r)


def test_the_decoder_itself_refuses_a_name_with_a_newline():
    from tracespec.codegen.decoder import render_decoder
    from tracespec.plan.model import Schema

    schema = json.loads(json.dumps(SCHEMA))
    schema["layouts"][0]["name"] = "f0\n"
    with pytest.raises(ValueError, match="bad syscall name"):
        render_decoder(Schema.from_json(schema))


@pytest.mark.parametrize("field, value", [("kind", True), ("nrs", [[1]]), ("phase", ["enter"]), ("args", {"a": 1}),
                                          ("kind", 10 ** 9)])
def test_layout_fields_of_the_wrong_type_are_refused(tmp_path, field, value):
    schema = json.loads(json.dumps(SCHEMA))
    schema["layouts"][0][field] = value
    r = _decode(_trace(tmp_path, schema))
    assert r.returncode == 2
    assert f"schema.layouts[0].{field}" in _one_error(r)


def test_a_syscall_argument_kind_must_be_known(tmp_path):
    schema = json.loads(json.dumps(SCHEMA))
    schema["syscalls"][0]["args"] = [dict(READ, kind="flags(no_such_set)")]
    r = _decode(_trace(tmp_path, schema))
    assert r.returncode == 2
    assert "schema.syscalls[0].args[0].kind" in _one_error(r)


def test_damaged_header_is_one_clear_error(tmp_path):
    p = _trace(tmp_path)
    data = bytearray(p.read_bytes())
    data[40] ^= 0x20
    p.write_bytes(bytes(data))
    r = _decode(p)
    assert r.returncode == 2
    assert "its header (bytes 20-" in _one_error(r) and "is damaged" in r.stderr


# -- damage to real records -----------------------------------------------------------------------------

def _chunks(data: bytes) -> list[tuple[int, int, int, int]]:
    """(offset, tag, payload offset, payload length) of each format 2 chunk."""
    hlen = struct.unpack_from("<I", data, 12)[0]
    pos, out = 20 + hlen, []
    while pos + 16 <= len(data):
        _, tag, length, _ = struct.unpack_from("<4sIII", data, pos)
        start = pos + 16 + 4 * -(-length // BLOCK)
        out.append((pos, tag, start, length))
        pos = start + length
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    work = tmp_path_factory.mktemp("damage")
    trace = work / "t.tsb"
    # a trace of several chunks (a binary trace writes them of about 64 KiB): damage in one leaves others
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "-o", str(trace), "--", "ls", "-laR",
                      "/usr/lib/python3", stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    full = run_tracespec("decode", str(trace), "--format", "json")
    assert full.returncode == 0, full.stderr
    return trace, [json.loads(line) for line in full.stdout.splitlines()]


def _damaged_copy(tmp_path, trace, change) -> tuple:
    data = bytearray(trace.read_bytes())
    change(data)
    p = tmp_path / "d.tsb"
    p.write_bytes(bytes(data))
    r = _decode(p, "--format", "json")
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return p, r, [json.loads(line) for line in r.stdout.splitlines()]


@pytest.mark.bpf
def test_a_flipped_byte_costs_only_the_records_it_touches(recorded, tmp_path):
    trace, full = recorded
    records = [c for c in _chunks(trace.read_bytes()) if c[1] == 5]
    at, _, start, length = max(records, key=lambda c: c[3])
    flip = start + length // 2

    def change(data):
        data[flip] ^= 0x40

    p, r, got = _damaged_copy(tmp_path, trace, change)
    assert r.returncode == 1
    damage = [line for line in r.stderr.splitlines() if "damaged, skipped" in line]
    assert len(damage) == 1
    lo, hi = map(int, damage[0].split("bytes ")[1].split(" ")[0].split("-"))
    assert lo <= flip <= hi and hi - lo < BLOCK
    want = [o for o in full if "syscall" in o]
    survived = [o for o in got if "syscall" in o]
    assert len(survived) >= len(want) * 3 // 4, f"{len(survived)} of {len(want)} syscalls survive"
    lost = got[-1]["lost"]
    assert lost > 0 and f"({lost} records)" in damage[0]
    assert f"{lost} records lost ({lost} of them in" in r.stderr


@pytest.mark.bpf
def test_a_damaged_chunk_header_resynchronises_at_the_next_chunk(recorded, tmp_path):
    trace, full = recorded
    at, _, start, length = _chunks(trace.read_bytes())[0]

    def change(data):
        data[at + 9] ^= 0x01  # its length

    p, r, got = _damaged_copy(tmp_path, trace, change)
    assert r.returncode == 1
    assert f"bytes {at}-{start + length - 1} damaged, skipped (records not countable)" in r.stderr
    assert any("syscall" in o for o in got), "the chunks after it decode"


@pytest.mark.bpf
def test_truncated_trace_says_where_it_was_cut(recorded, tmp_path):
    trace, full = recorded
    size = trace.stat().st_size

    def change(data):
        del data[size * 2 // 3:]

    p, r, got = _damaged_copy(tmp_path, trace, change)
    assert r.returncode == 1 and "cut short at byte" in r.stderr
    assert 0 < sum(1 for o in got if "syscall" in o) < sum(1 for o in full if "syscall" in o)
