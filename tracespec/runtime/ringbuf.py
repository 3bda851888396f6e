"""Read a BPF ring buffer directly through mmap: many records per wakeup, no call per record.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (ours to write); from page 1, the
producer position, then the data pages mapped twice in a row, so a record that wraps around the end
is still contiguous. Each record has an 8-byte header: length with BUSY (still being written) and
DISCARD bits, then the record, padded to 8 bytes.
"""

from __future__ import annotations

import mmap
import select

from tracespec.wire.ring import LENGTH, committed, split_stretch


class RingReader:
    def __init__(self, map_fd: int, size: int):
        page = mmap.PAGESIZE
        self.page = page
        self.mask = size - 1
        self.cons = mmap.mmap(map_fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self.prod = mmap.mmap(map_fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        self.view = memoryview(self.prod)
        self.words = self.view.cast("I")  # the same, as 32-bit words: record headers
        # The positions are read and written as one aligned 64-bit access each (a memoryview of format
        # Q). struct.pack_into writes the consumer position in pieces: the kernel, reading it between
        # two of them, saw the consumer far behind and refused records with the ring nearly empty
        # (measured: tens of records lost per million syscalls once the ring had wrapped; none since).
        self.cons_pos = memoryview(self.cons)[:8].cast("Q")
        self.prod_pos = self.view[:8].cast("Q")
        self.epoll = select.epoll()
        self.epoll.register(map_fd, select.EPOLLIN)

    def wait(self, timeout: float) -> None:
        """Sleep until the kernel signals data, or `timeout` seconds pass."""
        self.epoll.poll(timeout)

    def drain(self, limit: int = 1 << 62) -> list[bytes]:
        """The committed records, oldest first, up to about `limit` bytes of them: one copy of what lies
        between the consumer and the producer, one walk over the copy to cut it into records, stopping
        at one still being written (or cut by the limit: it comes whole next time)."""
        cons = self.cons_pos[0]
        prod = self.prod_pos[0]
        if cons >= prod:
            return []
        base = self.page + (cons & self.mask)
        n = min(prod - cons, max(limit, 8 + self.words[base >> 2] & LENGTH))  # at least the first record
        data = bytes(self.view[base:base + n])  # contiguous: the data pages are mapped twice
        records, stop = split_stretch(data)
        self.cons_pos[0] = cons + (len(data) if stop is None else stop)
        return records

    def drain_raw(self, limit: int = 1 << 30) -> bytes:
        """Every committed record, as one stretch in the ring's own framing (for binary traces), up to
        about `limit` bytes (the data pages are mapped twice, so it never wraps). The headers are walked
        in C (wire/ring.committed): a binary trace's reader does nothing else, and it must keep up with
        every core's syscalls. Copied before the consumer position moves: the kernel may then reuse it."""
        cons = self.cons_pos[0]
        prod = self.prod_pos[0]
        if cons >= prod:
            return b""
        base = self.page + (cons & self.mask)
        n = committed(self.prod, base, prod - cons, limit)
        if n == 0:
            return b""
        data = bytes(self.view[base:base + n])
        self.cons_pos[0] = cons + n
        return data

    def close(self) -> None:
        self.epoll.close()
        self.cons_pos.release()
        self.prod_pos.release()
        self.words.release()
        self.view.release()
        self.prod.close()
        self.cons.close()
