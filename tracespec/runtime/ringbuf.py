"""Read a BPF ring buffer directly through mmap: many records per wakeup, no call per record.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (ours to write); from page 1, the
producer position, then the data pages mapped twice in a row, so a record that wraps around the end
is still contiguous. Each record has an 8-byte header: length with BUSY (still being written) and
DISCARD bits, then the record, padded to 8 bytes.
"""

from __future__ import annotations

import mmap
import select
import struct

BUSY = 1 << 31
DISCARD = 1 << 30
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


class RingReader:
    def __init__(self, map_fd: int, size: int):
        page = mmap.PAGESIZE
        self.page = page
        self.mask = size - 1
        self.cons = mmap.mmap(map_fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self.prod = mmap.mmap(map_fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        self.view = memoryview(self.prod)
        self.epoll = select.epoll()
        self.epoll.register(map_fd, select.EPOLLIN)

    def wait(self, timeout: float) -> None:
        """Sleep until the kernel signals data, or `timeout` seconds pass."""
        self.epoll.poll(timeout)

    def drain(self) -> list[bytes]:
        """Every committed record, oldest first: one copy of what lies between the consumer and the
        producer, one walk over the copy to cut it into records, stopping at one still being written."""
        cons = _U64.unpack_from(self.cons, 0)[0]
        prod = _U64.unpack_from(self.prod, 0)[0]
        if cons >= prod:
            return []
        base = self.page + (cons & self.mask)
        data = bytes(self.view[base:base + (prod - cons)])  # contiguous: the data pages are mapped twice
        records, stop = split_stretch(data)
        _U64.pack_into(self.cons, 0, cons + (len(data) if stop is None else stop))
        return records

    def drain_raw(self, limit: int = 1 << 30) -> bytes:
        """Every committed record, as one stretch in the ring's own framing (for binary traces)."""
        view, page, mask = self.view, self.page, self.mask
        cons = _U64.unpack_from(self.cons, 0)[0]
        prod = _U64.unpack_from(self.prod, 0)[0]
        start, end = cons, cons
        while end < prod and end - start < limit:
            hdr = _U32.unpack_from(view, page + (end & mask))[0]
            if hdr & BUSY:
                break
            end += ((hdr & ~(BUSY | DISCARD)) + 8 + 7) & ~7
        if end == start:
            return b""
        base = page + (start & mask)
        data = bytes(view[base:base + (end - start)])  # contiguous: the data pages are mapped twice
        _U64.pack_into(self.cons, 0, end)
        return data

    def close(self) -> None:
        self.epoll.close()
        self.view.release()
        self.prod.close()
        self.cons.close()


def split_stretch(data: bytes) -> tuple[list[bytes], int | None]:
    """The records of a stretch in the ring's framing (as drain_raw returns it), and the offset of the
    first one that is not whole (None if none): cut short, or still being written."""
    out, pos, n = [], 0, len(data)
    unpack = _U32.unpack_from
    append = out.append
    while pos + 8 <= n:
        word = unpack(data, pos)[0]
        length = word & ~(BUSY | DISCARD)
        end = pos + 8 + length
        if end > n or word & BUSY:
            return out, pos
        if not word & DISCARD:
            append(data[pos + 8:end])
        pos = (end + 7) & ~7
    return out, (pos if pos != n else None)
