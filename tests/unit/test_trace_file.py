"""The binary trace reader (format/binary.py TraceFile) on traces written by BinWriter in memory."""

from __future__ import annotations

import io
import struct
import zlib

import pytest

from synthetic import close, decoder, opened, proc_exit, schema
from tracespec.decode.replay import replay
from tracespec.decode.stream import EventStream
from tracespec.errors import TracespecError
from tracespec.format.binary import END, FORMAT_VERSION, MAGIC, RECORDS, RINGBUF, BinWriter, Damage, TraceFile, chunk
from tracespec.format.text import TextOptions, TextWriter


def ring(records: list[bytes]) -> bytes:
    """Records in the ring buffer's framing, as drain_raw hands them over."""
    return b"".join(struct.pack("<II", len(r), 0) + r.ljust((len(r) + 7) & ~7, b"\0") for r in records)


class Trace:
    """A trace written chunk by chunk, with the offset where each chunk ends."""

    def __init__(self):
        out = io.BytesIO()
        w = BinWriter(out, schema().to_json(), "synthetic.yaml", "spec text", 0)
        self.ends = [w.bytes]  # the header's end, then each chunk's
        w.write_raw(ring(opened(100, 1000, b"/etc/hostname", 3)), None)
        self.ends.append(w.bytes)
        w.write_raw(b"", 5000)  # a watermark alone
        self.ends.append(w.bytes)
        w.write_raw(close(100, 6000, 3) + [proc_exit(100, 9000, 0)], None)  # a perf buffer's records
        self.ends.append(w.bytes)
        w.finish(2, 0)
        self.ends.append(w.bytes)
        self.data = out.getvalue()


def read(path, data: bytes) -> tuple[list, TraceFile]:
    path.write_bytes(data)
    t = TraceFile(str(path))
    try:
        return list(t.chunks()), t
    finally:
        t.close()


def decoded(path, data: bytes) -> tuple[str, TraceFile]:
    path.write_bytes(data)
    t = TraceFile(str(path))
    out = io.StringIO()
    w = TextWriter(out, TextOptions(live=False))
    replay(t.chunks(), EventStream(decoder(), schema()), w.write)
    w.finish()
    t.close()
    return out.getvalue(), t


def test_a_whole_trace_reads_back(tmp_path):
    tr = Trace()
    chunks, t = read(tmp_path / "t.tsb", tr.data)
    assert [kind for kind, _ in chunks] == ["records", "watermark", "records"]
    assert [len(v) for kind, v in chunks if kind == "records"] == [2, 3]
    assert chunks[1] == ("watermark", 5000)
    assert t.trailer == {"lost": 2, "exit_code": 0, "bytes": tr.ends[-2]}
    assert t.problem is None and t.header["spec_path"] == "synthetic.yaml"


def test_a_whole_trace_decodes_to_its_lines(tmp_path):
    text, t = decoded(tmp_path / "t.tsb", Trace().data)
    assert text == ('100 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3\n'
                    "100 close(3) = 0\n"
                    "100 +++ exited with 0 +++\n")
    assert t.problem is None


def test_cut_at_a_chunk_boundary_keeps_every_chunk_before(tmp_path):
    tr = Trace()
    at = tr.ends[3]
    chunks, t = read(tmp_path / "t.tsb", tr.data[:at])
    assert len(chunks) == 3 and t.trailer is None
    assert t.problem == f"the trace ends at byte {at} without its final record: the recording was cut short"


def test_cut_inside_a_chunk_header(tmp_path):
    tr = Trace()
    at = tr.ends[1] + 5
    chunks, t = read(tmp_path / "t.tsb", tr.data[:at])
    assert [kind for kind, _ in chunks] == ["records"]
    assert t.problem == f"the trace is cut short at byte {at}, inside a chunk header"


def test_cut_inside_a_chunk_says_where_it_began(tmp_path):
    tr = Trace()
    began = tr.ends[2]
    length = tr.ends[3] - began - 16 - 4  # the chunk's header, one block CRC
    text, t = decoded(tmp_path / "t.tsb", tr.data[:began + 16 + 10])
    assert t.problem == (f"the trace is cut short at byte {began + 26}, inside a chunk of {length} bytes "
                         f"that began at byte {began}")
    assert text == '100 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3\n'  # what came before stays


def test_unknown_chunk_tag_is_skipped_as_damage_and_reading_goes_on(tmp_path):
    tr = Trace()
    at = tr.ends[2]
    junk = chunk(99, b"junk")
    chunks, t = read(tmp_path / "t.tsb", tr.data[:at] + junk + tr.data[at:])
    assert [kind for kind, _ in chunks] == ["records", "watermark", "records"]
    assert t.damaged == [Damage(at, at + len(junk), None)]
    assert t.problem is None and t.trailer is not None


def test_record_longer_than_its_chunk_keeps_the_records_before(tmp_path):
    tr = Trace()
    payload = struct.pack("<I", 3) + b"abc" + struct.pack("<I", 100) + b"short"
    data = tr.data[:tr.ends[-2]] + chunk(RECORDS, payload)
    chunks, t = read(tmp_path / "t.tsb", data)
    assert chunks[-1] == ("records", [b"abc"])
    assert t.damaged == [Damage(tr.ends[-2] + 20 + 7, len(data), None)]  # from the bad length to the chunk's end


def test_ring_record_cut_in_its_chunk(tmp_path):
    tr = Trace()
    good = ring([b"x" * 24])
    payload = good + struct.pack("<II", 200, 0) + b"y" * 16
    data = tr.data[:tr.ends[0]] + chunk(RINGBUF, payload)
    chunks, t = read(tmp_path / "t.tsb", data)
    assert chunks == [("records", [b"x" * 24])]
    assert t.damaged == [Damage(tr.ends[0] + 20 + len(good), len(data), None)]


def test_corrupt_final_record(tmp_path):
    tr = Trace()
    bad_end = chunk(END, b"{{{")
    _, t = read(tmp_path / "t.tsb", tr.data[:tr.ends[-2]] + bad_end)
    assert t.trailer is None
    assert t.damaged == [Damage(tr.ends[-2], tr.ends[-2] + len(bad_end), None)]


def _head(version: int, header: bytes, length: int | None = None) -> bytes:
    """A file header; format 2 has the header's CRC-32 after its length."""
    crc = struct.pack("<I", zlib.crc32(header)) if version >= 2 else b""
    return struct.pack("<8sII", MAGIC, version, len(header) if length is None else length) + crc + header


REFUSED = {
    "not a trace": (b"hello world, this is text", "is not a tracespec binary trace"),
    "empty": (b"", "is not a tracespec binary trace"),
    "another format version": (_head(FORMAT_VERSION + 1, b"{}"), f"is a format {FORMAT_VERSION + 1} trace"),
    "an unbelievable header": (_head(FORMAT_VERSION, b"{}", 1 << 30), "a header of 1073741824 bytes is not believable"),
    "cut inside the header": (_head(FORMAT_VERSION, b'{"a": 1}', 50), "ends inside its header, at byte 28"),  # 8+4+4 bytes of head, its CRC, 8 of JSON
    "a header that is not JSON": (_head(FORMAT_VERSION, b"{nope"), "its header is not valid JSON"),
    "a header that is not an object": (_head(FORMAT_VERSION, b"[1, 2]"), "its header is not a JSON object"),
}


@pytest.mark.parametrize("data,fragment", REFUSED.values(), ids=REFUSED.keys())
def test_files_that_are_not_readable_traces_are_refused_with_one_message(tmp_path, data, fragment):
    path = tmp_path / "t.tsb"
    path.write_bytes(data)
    with pytest.raises(TracespecError) as info:
        TraceFile(str(path))
    assert fragment in str(info.value), str(info.value)
    assert str(path) in str(info.value)
