"""Binary traces (.tsb): records as the kernel wrote them, decodable later anywhere.

    magic "TSPECBIN" | u32 format version | u32 header length | header (JSON, UTF-8)
    chunks: u32 tag | u32 payload length | payload

The header carries the spec, the record layouts (the schema the decoder is rendered from: data, never
code), the clock offset and where the trace was made. Chunks:

    RECORDS    records, each u32 length + its bytes (perf buffers hand them over one by one)
    RINGBUF    a drained stretch of the BPF ring buffer, in its own framing: per record a u32 length
               (with BUSY and DISCARD bits) and a u32 page offset, then the record, padded to 8 bytes
    WATERMARK  u64: every record stamped before this (CLOCK_MONOTONIC, ns) has been written
    LOST       u64 time (CLOCK_MONOTONIC ns), s64 CPU (-1: unknown), u64 count: records a perf buffer
               reported lost as it happened
    END        JSON: {"lost": N, "exit_code": C, "bytes": B}; its absence means the recording was cut short

Recording never decodes. A file cut short (a full disk, a killed recorder) stays readable up to the
last whole chunk, and reading it says at which byte it ends.
"""

from __future__ import annotations

import json
import os
import struct
import time

import tracespec
from tracespec.errors import TracespecError
from tracespec.runtime.ringbuf import split_stretch

MAGIC = b"TSPECBIN"
FORMAT_VERSION = 1
RECORDS, WATERMARK, LOST, END, RINGBUF = 1, 2, 3, 4, 5
_HEAD = struct.Struct("<8sII")
_CHUNK = struct.Struct("<II")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_LOST = struct.Struct("<QqQ")
MAX_HEADER = 16 << 20
MAX_CHUNK = 256 << 20
FLUSH_BYTES = 1 << 20


class BinWriter:
    """Writes raw records as they come; `raw = True` tells the session not to decode them."""

    raw = True
    syscalls = None  # counted when the trace is decoded, not while recording

    def __init__(self, out, schema_json: dict, spec_path: str, spec_text: str, clock_offset_ns: int,
                 fd_paths: bool = False):
        self.out = out
        self.bytes = 0
        header = {
            "tracespec": tracespec.__version__, "created_ns": time.time_ns(), "host": os.uname().nodename,
            "kernel": os.uname().release, "clock_offset_ns": clock_offset_ns, "spec_path": spec_path,
            "spec_text": spec_text, "fd_paths": fd_paths, "schema": schema_json,
        }
        blob = json.dumps(header).encode()
        self._write(_HEAD.pack(MAGIC, FORMAT_VERSION, len(blob)) + blob)

    def _write(self, data: bytes) -> None:
        try:
            self.out.write(data)
        except OSError as e:
            raise TracespecError(f"cannot write the trace: {e.strerror}",
                                 hint="what was written before stays decodable with `tracespec decode`") from None
        self.bytes += len(data)

    def write_raw(self, drained, watermark: int | None) -> None:
        """One drain (a ring-buffer stretch as bytes, or a perf buffer's list of records), then the watermark
        (None: the drain goes on; every record older than the watermark is in the trace only after it)."""
        if isinstance(drained, (bytes, bytearray, memoryview)):
            if len(drained):
                self._write(_CHUNK.pack(RINGBUF, len(drained)) + bytes(drained))
        else:
            records = [r for r in drained if isinstance(r, (bytes, bytearray))]
            for r in drained:
                if not isinstance(r, (bytes, bytearray)):  # a perf buffer's loss report
                    self._write(_CHUNK.pack(LOST, _LOST.size) + _LOST.pack(r.ts, r.cpu, r.count))
            if records:
                payload = b"".join(_U32.pack(len(r)) + r for r in records)
                self._write(_CHUNK.pack(RECORDS, len(payload)) + payload)
        if watermark is not None:
            self._write(_CHUNK.pack(WATERMARK, 8) + _U64.pack(max(watermark, 0)))

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        trailer = json.dumps({"lost": lost, "exit_code": exit_code, "bytes": self.bytes}).encode()
        self._write(_CHUNK.pack(END, len(trailer)) + trailer)
        try:
            self.out.flush()
        except OSError as e:
            raise TracespecError(f"cannot write the trace: {e.strerror}") from None


class TraceFile:
    """Reads a .tsb file: its header, then (records, watermark, lost) events, and where it ended."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.f = open(path, "rb")
        except OSError as e:
            raise TracespecError(f"cannot read {path}: {e.strerror}") from None
        head = self.f.read(_HEAD.size)
        if len(head) < _HEAD.size or head[:8] != MAGIC:
            raise TracespecError(f"{path} is not a tracespec binary trace", hint="record one with --format bin")
        _, version, hlen = _HEAD.unpack(head)
        if version != FORMAT_VERSION:
            raise TracespecError(f"{path} is a format {version} trace; this tracespec reads format {FORMAT_VERSION}")
        if hlen > MAX_HEADER:
            raise TracespecError(f"{path}: a header of {hlen} bytes is not believable", hint="the file is corrupt")
        blob = self.f.read(hlen)
        if len(blob) < hlen:
            raise TracespecError(f"{path} ends inside its header, at byte {_HEAD.size + len(blob)}")
        try:
            self.header = json.loads(blob)
        except ValueError as e:
            raise TracespecError(f"{path}: its header is not valid JSON ({e})", hint="the file is corrupt") from None
        if not isinstance(self.header, dict):
            raise TracespecError(f"{path}: its header is not a JSON object", hint="the file is corrupt")
        self.offset = _HEAD.size + hlen
        self.trailer: dict | None = None
        self.problem: str | None = None  # why reading stopped early, with the byte offset

    def chunks(self):
        """Yields ("records", [bytes...]) / ("watermark", ns) / ("lost", (ts, cpu, n)); stops at END or a problem."""
        f = self.f
        while True:
            at = self.offset
            head = f.read(_CHUNK.size)
            if not head:
                self.problem = f"the trace ends at byte {at} without its final record: the recording was cut short"
                return
            if len(head) < _CHUNK.size:
                self.problem = f"the trace is cut short at byte {at + len(head)}, inside a chunk header"
                return
            tag, length = _CHUNK.unpack(head)
            if tag not in (RECORDS, WATERMARK, LOST, END, RINGBUF) or length > MAX_CHUNK:
                self.problem = f"corrupt chunk at byte {at} (tag {tag}, {length} bytes): the rest is skipped"
                return
            payload = f.read(length)
            if len(payload) < length:
                self.problem = (f"the trace is cut short at byte {at + _CHUNK.size + len(payload)}, inside a chunk "
                                f"of {length} bytes that began at byte {at}")
                return
            self.offset = at + _CHUNK.size + length
            if tag == RECORDS:
                records, pos = [], 0
                while pos + 4 <= length:
                    n = _U32.unpack_from(payload, pos)[0]
                    if pos + 4 + n > length:
                        self.problem = f"corrupt record at byte {at + _CHUNK.size + pos}: the rest is skipped"
                        yield "records", records
                        return
                    records.append(payload[pos + 4:pos + 4 + n])
                    pos += 4 + n
                yield "records", records
            elif tag == RINGBUF:
                records, bad = split_stretch(payload)
                yield "records", records
                if bad is not None:
                    self.problem = f"corrupt ring-buffer record at byte {at + _CHUNK.size + bad}: the rest is skipped"
                    return
            elif tag == WATERMARK:
                if length != 8:
                    self.problem = f"corrupt watermark at byte {at}: the rest is skipped"
                    return
                yield "watermark", _U64.unpack(payload)[0]
            elif tag == LOST:
                if length != _LOST.size:
                    self.problem = f"corrupt loss record at byte {at}: the rest is skipped"
                    return
                yield "lost", _LOST.unpack(payload)
            else:
                try:
                    self.trailer = json.loads(payload)
                except ValueError:
                    self.problem = f"corrupt final record at byte {at}"
                return

    def close(self) -> None:
        self.f.close()


