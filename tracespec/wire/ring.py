"""The BPF ring buffer's framing (kernel/bpf/ringbuf.c), as a drained stretch of it holds records: per
record an 8-byte header, a u32 length with the BUSY (still being written) and DISCARD bits and a u32 page
offset, then the record, padded to 8 bytes. Binary traces keep drained stretches in this framing.
"""

from __future__ import annotations

BUSY = 1 << 31
DISCARD = 1 << 30
LENGTH = DISCARD - 1  # the header's length bits


def split_stretch(data: bytes) -> tuple[list[bytes], int | None]:
    """The records of a stretch in the ring's framing (as drain_raw returns it), and the offset of the
    first one that is not whole (None if none): cut short, or still being written."""
    whole = len(data) & ~7
    words = memoryview(data)[:whole].cast("I")  # headers read as words: cheaper than struct, per record
    out: list[bytes] = []
    append = out.append
    pos = 0
    while pos < whole:
        w = words[pos >> 2]
        end = pos + 8 + (w & LENGTH)
        if end > whole or w & BUSY:
            break
        if not w & DISCARD:
            append(data[pos + 8:end])
        pos = (end + 7) & ~7
    words.release()
    return out, (pos if pos != len(data) else None)
