"""Binary traces (.tsb): records as the kernel wrote them, decodable later anywhere.

Format 2 (written now):

    magic "TSPECBIN" | u32 format version | u32 header length | u32 CRC-32 of the header | header (JSON)
    chunks: magic "TSCK" | u32 tag | u32 payload length | u32 CRC-32 of these 12 bytes
            | u32 CRC-32 of each 4 KiB block of the payload (the last block may be shorter) | payload

Format 1 (still read): the same without the CRCs, and chunks of u32 tag | u32 payload length | payload.

The header carries the spec, the record layouts (the schema the decoder is rendered from: data, never
code, checked field by field by traceheader.check_header), the clock offset and where the trace was made.
Chunks:

    RECORDS    records, each u32 length + its bytes (perf buffers hand them over one by one)
    RINGBUF    a drained stretch of the BPF ring buffer, in its own framing: per record a u32 length
               (with BUSY and DISCARD bits) and a u32 page offset, then the record, padded to 8 bytes
    WATERMARK  u64: every record stamped before this (CLOCK_MONOTONIC, ns) has been written
    LOST       u64 time (CLOCK_MONOTONIC ns), s64 CPU (-1: unknown), u64 count: records a perf buffer
               reported lost as it happened
    END        JSON: {"lost": N, "exit_code": C, "bytes": B}; its absence means the recording was cut short

Recording never decodes. A file cut short (a full disk, a killed recorder) stays readable up to the
last whole chunk, and reading it says at which byte it ends. In format 2 damage costs only the records
it touches: a chunk header's CRC says whether its length can be trusted to find the next chunk (if not,
the next chunk is found by its magic and a header CRC that matches); the block CRCs say which 4 KiB of a
payload are damaged, and the records are walked by their own framing, keeping each one whose bytes and
framing lie in intact blocks (a framing word in a damaged block ends the walk: the rest of the chunk is
skipped). Each damaged range is reported by file offset (TraceFile.damaged); format 1 has nothing to
resynchronise on, so reading it stops at the first damage, as it always did.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from typing import NamedTuple

import tracespec
from tracespec.errors import TracespecError
from tracespec.quote import quote
from tracespec.format.traceheader import BadHeader, check_header, check_trailer
from tracespec.wire.ring import BUSY, DISCARD, LENGTH, split_stretch

MAGIC = b"TSPECBIN"
CHUNK_MAGIC = b"TSCK"
FORMAT_VERSION = 2
READS_VERSIONS = (1, 2)
RECORDS, WATERMARK, LOST, END, RINGBUF = 1, 2, 3, 4, 5
TAGS = frozenset({RECORDS, WATERMARK, LOST, END, RINGBUF})
_HEAD = struct.Struct("<8sII")  # magic, version, header length: the same in every version
_HEAD_CRC = struct.Struct("<I")  # format 2: after them, the header's CRC-32
_CHUNK = struct.Struct("<4sIII")  # format 2: magic, tag, length, CRC-32 of the first 12 bytes
BLOCK = 4096  # bytes of payload per CRC: what one flipped bit costs at most, but for records across blocks
_CHUNK_V1 = struct.Struct("<II")  # format 1: tag, length
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_LOST = struct.Struct("<QqQ")
MAX_HEADER = 16 << 20
MAX_CHUNK = 256 << 20


def _block_crcs(payload) -> list[int]:
    mv = memoryview(payload)
    return [zlib.crc32(mv[i:i + BLOCK]) for i in range(0, len(mv), BLOCK)]


def chunk(tag: int, payload: bytes) -> bytes:
    """A format 2 chunk: its header (with its CRC), the payload's block CRCs, then the payload."""
    head = struct.pack("<4sII", CHUNK_MAGIC, tag, len(payload))
    crcs = _block_crcs(payload)
    return head + _U32.pack(zlib.crc32(head)) + struct.pack(f"<{len(crcs)}I", *crcs) + payload


class BinWriter:
    """Writes raw records as they come; `raw = True` tells the session not to decode them."""

    raw = True
    syscalls = None  # counted when the trace is decoded, not while recording

    def __init__(self, out, schema_json: dict, spec_path: str, spec_text: str, clock_offset_ns: int,
                 fd_paths: bool = False, initial_fds: dict | None = None, system_wide: bool = False,
                 initial_cwds: dict | None = None):
        self.out = out
        self.bytes = 0
        header = {
            "tracespec": tracespec.__version__, "created_ns": time.time_ns(), "host": os.uname().nodename,
            "kernel": os.uname().release, "clock_offset_ns": clock_offset_ns, "spec_path": spec_path,
            "spec_text": spec_text, "fd_paths": fd_paths, "schema": schema_json,
        }
        if initial_fds:  # -y: what was open before tracing began, for decode to name inherited descriptors
            header["initial_fds"] = initial_fds
        if initial_cwds:  # -y: where AT_FDCWD pointed when tracing began (decode cannot ask /proc)
            header["initial_cwds"] = initial_cwds
        if system_wide:  # traced by --all, --cgroup or --comm: decode names each line's process, as run does
            header["system_wide"] = True
        blob = json.dumps(header).encode()
        self._write(_HEAD.pack(MAGIC, FORMAT_VERSION, len(blob)) + _HEAD_CRC.pack(zlib.crc32(blob)) + blob)

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
                self._write(chunk(RINGBUF, bytes(drained)))
        else:
            records = [r for r in drained if isinstance(r, (bytes, bytearray))]
            for r in drained:
                if not isinstance(r, (bytes, bytearray)):  # a perf buffer's loss report
                    self._write(chunk(LOST, _LOST.pack(r.ts, r.cpu, r.count)))
            if records:
                self._write(chunk(RECORDS, b"".join(_U32.pack(len(r)) + r for r in records)))
        if watermark is not None:
            self._write(chunk(WATERMARK, _U64.pack(max(watermark, 0))))

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        trailer = json.dumps({"lost": lost, "exit_code": exit_code, "bytes": self.bytes}).encode()
        self._write(chunk(END, trailer))
        try:
            self.out.flush()
        except OSError as e:
            raise TracespecError(f"cannot write the trace: {e.strerror}") from None



class Damage(NamedTuple):
    """File bytes [start, end) that could not be read, and the records they held (None: not known)."""

    start: int
    end: int
    records: int | None

    def describe(self) -> str:
        held = "records not countable" if self.records is None else f"{self.records} records"
        return f"bytes {self.start}-{self.end - 1} damaged, skipped ({held})"


def damage_note(damaged: list[Damage]) -> str:
    """What the count line adds when bytes were skipped: how many of the lost records were in them."""
    if not damaged:
        return ""
    counted = sum(d.records or 0 for d in damaged)
    uncounted = sum(1 for d in damaged if d.records is None)
    more = f", and those of {uncounted} range{'s' if uncounted > 1 else ''} not countable" if uncounted else ""
    return f" ({counted} of them in {sum(d.end - d.start for d in damaged)} damaged bytes{more})"


RESYNC_BLOCK = 1 << 20


def _head_ok(head: bytes) -> bool:
    """Whether 16 bytes are a format 2 chunk header: its magic and its own CRC (a 1 in 2**32 chance
    for damaged or unrelated bytes), and a length a writer could have written."""
    magic, _, length, crc = _CHUNK.unpack(head)
    return magic == CHUNK_MAGIC and zlib.crc32(head[:12]) == crc and length <= MAX_CHUNK


def _framing(tag: int, payload: bytes):
    """Each record's (framing start, data start, data end, kept) by the chunk's own framing, up to where
    it stops making sense; kept is False for a ring-buffer record its writer discarded."""
    pos, n = 0, len(payload)
    if tag == RECORDS:
        while pos + 4 <= n:
            end = pos + 4 + _U32.unpack_from(payload, pos)[0]
            if end > n:
                return
            yield pos, pos + 4, end, True
            pos = end
    elif tag == RINGBUF:
        while pos + 8 <= n:
            w = _U32.unpack_from(payload, pos)[0]
            end = pos + 8 + (w & LENGTH)
            if end > n or w & BUSY:
                return
            yield pos, pos + 8, end, not w & DISCARD
            pos = (end + 7) & ~7


def _touches(damaged: set[int], start: int, end: int) -> bool:
    """Whether payload bytes [start, end) lie in any of the damaged blocks."""
    return end > start and not damaged.isdisjoint(range(start // BLOCK, (end - 1) // BLOCK + 1))


def salvage(tag: int, payload: bytes, bad: list[int]) -> tuple[list[bytes], int, int | None]:
    """The records of a payload with damaged blocks (their indexes in `bad`) that lie wholly in intact
    ones: (records, how many were dropped, payload offset where the walk stopped: None if it went on to
    the end). Framing words in damaged blocks are trusted only when the walk through them ends exactly
    at the payload's end (damage elsewhere, in record bytes, is by far the likelier); otherwise the
    first one stops the walk: what follows cannot be found."""
    damaged = set(bad)
    spans = list(_framing(tag, payload))
    last = spans[-1][2] if spans else 0
    trusted = (((last + 7) & ~7) if tag == RINGBUF else last) == len(payload)
    kept: list[bytes] = []
    dropped = 0
    for head, start, end, keep in spans:
        framing_damaged = _touches(damaged, head, start)
        if framing_damaged and not trusted:
            return kept, dropped, head
        if not keep:
            continue
        if framing_damaged or _touches(damaged, start, end):
            dropped += 1
        else:
            kept.append(payload[start:end])
    return kept, dropped, (None if trusted else last)


class TraceFile:
    """Reads a .tsb file: its header, then (records, watermark, lost) events, and where it ended.

    After chunks(): `damaged` lists the ranges skipped (format 2 resynchronises after each), `problem`
    says why reading stopped before the END chunk (None if it did not), `trailer` is the END's object.
    """

    def __init__(self, path: str):
        self.path = path
        try:
            self.f = open(path, "rb")
        except OSError as e:
            raise TracespecError(f"cannot read {path}: {e.strerror}") from None
        try:
            self.header = self._read_header()
        except BaseException:
            self.f.close()
            raise
        self.trailer: dict | None = None
        self.problem: str | None = None  # why reading stopped early, with the byte offset
        self.damaged: list[Damage] = []

    def _read_header(self) -> dict:
        path = self.path
        head = self.f.read(_HEAD.size)
        if len(head) < _HEAD.size or head[:8] != MAGIC:
            raise TracespecError(f"{path} is not a tracespec binary trace", hint="record one with --format bin")
        _, self.version, hlen = _HEAD.unpack(head)
        if self.version not in READS_VERSIONS:
            raise TracespecError(f"{path} is a format {self.version} trace; this tracespec reads formats "
                                 f"{READS_VERSIONS[0]} to {READS_VERSIONS[-1]}", hint="the file is corrupt, or "
                                 "was written by a newer tracespec")
        if hlen > MAX_HEADER:
            raise TracespecError(f"{path}: a header of {hlen} bytes is not believable", hint="the file is corrupt")
        crc = None
        if self.version >= 2:
            crc_bytes = self.f.read(_HEAD_CRC.size)
            if len(crc_bytes) < _HEAD_CRC.size:
                raise TracespecError(f"{path} ends inside its header, at byte {_HEAD.size + len(crc_bytes)}")
            crc = _HEAD_CRC.unpack(crc_bytes)[0]
        start = self.f.tell()
        blob = self.f.read(hlen)
        if len(blob) < hlen:
            raise TracespecError(f"{path} ends inside its header, at byte {start + len(blob)}")
        if crc is not None and zlib.crc32(blob) != crc:
            raise TracespecError(f"{path}: its header (bytes {start}-{start + hlen - 1}) is damaged: its "
                                 "checksum does not match", hint="the header holds the record layouts: "
                                 "without it nothing in the trace can be decoded")
        self.offset = start + hlen
        try:
            header = json.loads(blob)
        except (ValueError, RecursionError) as e:
            why = str(e) if isinstance(e, ValueError) else "nested too deeply"
            raise TracespecError(f"{path}: its header is not valid JSON ({quote(why.encode())})",
                                 hint="the file is corrupt") from None
        if not isinstance(header, dict):
            raise TracespecError(f"{path}: its header is not a JSON object", hint="the file is corrupt")
        try:
            check_header(header)
        except BadHeader as e:
            what = "has no usable record layout" if str(e).startswith("schema") else "is not one tracespec writes"
            raise TracespecError(f"{path}: its header {what} ({e})", hint="the file is corrupt, or was crafted") from None
        return header

    def chunks(self):
        """Yields ("records", [bytes...]) / ("watermark", ns) / ("lost", (ts, cpu, n)); stops at END, or
        where the file ends, or (format 1) at the first damage."""
        if self.version == 1:
            yield from self._chunks_v1()
        else:
            yield from self._chunks_v2()

    def _chunk_head(self, at: int, size: int) -> bytes | None:
        """The next chunk's header, or None where the file ends (before it or inside it), said in problem."""
        head = self.f.read(size)
        if not head:
            self.problem = f"the trace ends at byte {at} without its final record: the recording was cut short"
            return None
        if len(head) < size:
            self.problem = f"the trace is cut short at byte {at + len(head)}, inside a chunk header"
            return None
        return head

    # -- format 2: damage skipped, reading resumes at the next whole chunk ---------------------------------
    def _chunks_v2(self):
        f = self.f
        while True:
            at = self.offset
            head = self._chunk_head(at, _CHUNK.size)
            if head is None:
                return
            if not _head_ok(head):  # its length is not to be trusted: look for the next chunk
                resume = self._next_chunk(at + 1)
                self._damage(at, resume if resume is not None else os.fstat(f.fileno()).st_size, None)
                if resume is None:
                    return
                f.seek(resume)
                self.offset = resume
                continue
            _, tag, length, _ = _CHUNK.unpack(head)
            blocks = -(-length // BLOCK)
            body = f.read(4 * blocks + length)
            if len(body) < 4 * blocks + length:
                self.problem = (f"the trace is cut short at byte {at + _CHUNK.size + len(body)}, inside a chunk "
                                f"of {length} bytes that began at byte {at}")
                return
            payload = body[4 * blocks:]
            start = at + _CHUNK.size + 4 * blocks  # the payload's file offset
            end = self.offset = start + length
            bad = [i for i, (want, got) in enumerate(zip(struct.unpack_from(f"<{blocks}I", body),
                                                         _block_crcs(payload))) if want != got]
            if bad or tag not in TAGS:
                yield from self._damaged_chunk(tag, payload, at, start, end, bad)
                if tag == END:
                    return
                continue
            wrong = yield from self._payload(tag, payload, at, start - at)
            if wrong is not None:  # whole, yet not what a writer writes: crafted, or a writer's bug
                self._damage(wrong, end, None)
            if tag == END:
                return

    def _damaged_chunk(self, tag: int, payload: bytes, at: int, start: int, end: int, bad: list[int]):
        """Yields the records of a chunk that lie in intact blocks and reports the damaged range: from its
        first damaged block to its last, or to the chunk's end where the walk had to stop."""
        if tag not in (RECORDS, RINGBUF) or not bad:  # nothing to salvage, or an unknown tag
            self._damage(at, end, 0 if tag in TAGS else None)
            return
        records, dropped, stopped = salvage(tag, payload, bad)
        if records:
            yield "records", records
        first = start + bad[0] * BLOCK
        if stopped is None:
            self._damage(first, min(start + (bad[-1] + 1) * BLOCK, end), dropped)
        else:  # the records from where the walk stopped are not countable
            self._damage(min(first, start + stopped), end, None)

    def _next_chunk(self, start: int) -> int | None:
        """The offset of the first chunk header at or after `start` (None: none to the end of the file)."""
        f = self.f
        pos = start
        while True:
            f.seek(pos)
            block = f.read(RESYNC_BLOCK)
            i = block.find(CHUNK_MAGIC)
            while i != -1 and i + _CHUNK.size <= len(block):
                if _head_ok(block[i:i + _CHUNK.size]):
                    return pos + i
                i = block.find(CHUNK_MAGIC, i + 1)
            if len(block) < RESYNC_BLOCK:
                return None
            pos += len(block) - (_CHUNK.size - 1)  # a header across the block's end is read whole next

    def _damage(self, start: int, end: int, records: int | None) -> None:
        """Ranges that touch are one: a damaged chunk header and the bytes skipped after it."""
        last = self.damaged[-1] if self.damaged else None
        if last is not None and last.end == start:
            both = None if last.records is None or records is None else last.records + records
            self.damaged[-1] = Damage(last.start, end, both)
        else:
            self.damaged.append(Damage(start, end, records))

    # -- format 1: nothing to resynchronise on, so reading stops at the first damage -------------------
    def _chunks_v1(self):
        f = self.f
        while True:
            at = self.offset
            head = self._chunk_head(at, _CHUNK_V1.size)
            if head is None:
                return
            tag, length = _CHUNK_V1.unpack(head)
            if tag not in TAGS or length > MAX_CHUNK:
                self.problem = f"corrupt chunk at byte {at} (tag {tag}, {length} bytes): the rest is skipped"
                return
            payload = f.read(length)
            if len(payload) < length:
                self.problem = (f"the trace is cut short at byte {at + _CHUNK_V1.size + len(payload)}, inside a "
                                f"chunk of {length} bytes that began at byte {at}")
                return
            self.offset = at + _CHUNK_V1.size + length
            bad = yield from self._payload(tag, payload, at, _CHUNK_V1.size)
            if bad is not None:
                self.problem = f"corrupt chunk contents at byte {bad}: the rest is skipped"
                return
            if tag == END:
                return

    # -- a whole chunk's payload, either version ---------------------------------------------------------
    def _payload(self, tag: int, payload: bytes, at: int, head_size: int = _CHUNK.size):
        """Yields its events; returns the file offset where it stops making sense (None: it all did)."""
        start = at + head_size
        length = len(payload)
        if tag == RECORDS:
            records, pos = [], 0
            while pos + 4 <= length:
                n = _U32.unpack_from(payload, pos)[0]
                if pos + 4 + n > length:
                    yield "records", records
                    return start + pos
                records.append(payload[pos + 4:pos + 4 + n])
                pos += 4 + n
            yield "records", records
            return None if pos == length else start + pos
        if tag == RINGBUF:
            records, bad = split_stretch(payload)
            yield "records", records
            return None if bad is None else start + bad
        if tag == WATERMARK:
            if length != 8:
                return at
            yield "watermark", _U64.unpack(payload)[0]
        elif tag == LOST:
            if length != _LOST.size:
                return at
            yield "lost", _LOST.unpack(payload)
        else:
            try:
                self.trailer = check_trailer(json.loads(payload))
            except (ValueError, RecursionError):  # BadHeader is a ValueError
                self.trailer = None
                return at
        return None

    def close(self) -> None:
        self.f.close()
