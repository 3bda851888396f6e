"""getdents and getdents64: how many entries the kernel wrote, as strace prints it without -v
(`getdents64(3, 0x7ffd... /* 13 entries */, 32768) = 360`).

strace reads the whole buffer the call returned and walks it by each entry's d_reclen. A copy of every
byte returned would be up to the caller's buffer (32 KiB for glibc's readdir), so the BPF program walks
the entries where they lie instead, at exit, and records the count in an exit slot of its own
(DIRENTS_SLOT, 8 bytes: the count, then 1 when bytes were left over that make no whole entry). The walk
stops after DIRENTS_MAX entries: the slot is then marked truncated, and the line shows the address alone,
as when the memory cannot be read.

With -v (the spec's abbrev: false) strace prints the entries themselves, every one of them. Those are read
from a copy of the buffer, DIRENTS_COPY bytes of it (or the argument's max in the spec): the entries past
the copy's end print as strace prints entries it cannot read (format/dirents.py).
"""

from __future__ import annotations

DIRENTS_SLOT = "dirent_count"
DIRENTS_SIZE = 8  # u32 count, u32 bytes left over (0 or 1)
DIRENTS_COPY = 4096  # -v: bytes of the buffer copied (the most a buffer copy takes, parse.BUFFER_MAX)
DIRENTS_MAX = 2048  # entries walked at most: 64 KiB of the shortest names (glibc reads 32 KiB at a time)
D_RECLEN = 16  # the entry's length, after d_ino and d_off in both layouts
# the bytes before d_name: struct linux_dirent (d_ino, d_off: unsigned long; d_reclen) and
# struct linux_dirent64 (d_ino, d_off: 64 bits; d_reclen; d_type)
DIRENT_HEADERS = {"getdents": 18, "getdents64": 19}
D_NAME_LEN_MAX = 256  # strace reads a name up to this many bytes (its D_NAME_LEN_MAX)
