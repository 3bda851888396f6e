"""The BPF ring buffer's framing (kernel/bpf/ringbuf.c), as a drained stretch of it holds records: per
record an 8-byte header, a u32 length with the BUSY (still being written) and DISCARD bits and a u32 page
offset, then the record, padded to 8 bytes. Binary traces keep drained stretches in this framing.

Walking the headers is the reader's one loop per record whatever the output, so it is done in C
(_ring.c, built by pip install) when that module was built: in CPython it costs 130 to 230 ns a record,
most of a core at the 5 to 7 million records a second two busy cores make. The Python functions below
answer the same (tests/unit/test_ring_walk.py) and are used without it; WALKER says which runs.
"""

from __future__ import annotations

BUSY = 1 << 31
DISCARD = 1 << 30
LENGTH = DISCARD - 1  # the header's length bits


def split_stretch_py(data: bytes) -> tuple[list[bytes], int | None]:
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


def committed_py(buffer, start: int, available: int, limit: int) -> int:
    """How many bytes from `start` of a mapped ring hold whole records the kernel committed: at most
    `available` (up to the producer position), stopping once `limit` are counted, at least the first
    record. `start` is 4-byte aligned (a ring's records are 8-byte aligned)."""
    if start < 0 or available < 0 or start + available > len(buffer) or start % 4:
        raise ValueError("committed: stretch outside the buffer, or not 4-byte aligned")
    view = memoryview(buffer)
    words = view[start:start + (available & ~3)].cast("B").cast("I")
    n, p, stop = available >> 2, 0, (max(limit, 8) + 3) >> 2  # p < stop: below limit bytes
    try:
        while p + 2 <= n and p < stop:
            w = words[p]
            if w & BUSY:
                break
            nxt = p + (((w & LENGTH) + 15) >> 3 << 1)  # header and record, padded to 8 bytes, in words
            if nxt > n:
                break
            p = nxt
    finally:
        words.release()
        view.release()
    return p << 2


try:
    from tracespec.wire._ring import committed, split as split_stretch
    WALKER = "c"
except ImportError:  # not built (no compiler where it was installed): the same answers, slower
    committed, split_stretch = committed_py, split_stretch_py
    WALKER = "python"
