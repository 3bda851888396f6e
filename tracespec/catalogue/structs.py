"""Struct layouts copied out of traced processes (data/structs.txt)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

FIELD_FORMATS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s16": "h", "s32": "i", "s64": "q"}
CHAR_ARRAY = re.compile(r"^c([1-9][0-9]*)$")  # cN: a char array of N bytes (utsname's fields)


def field_format(ftype: str) -> str | None:
    """The struct module's format of a field type (cN: N bytes), None for an unknown type."""
    m = CHAR_ARRAY.match(ftype)
    return f"{m.group(1)}s" if m else FIELD_FORMATS.get(ftype)


@dataclass(frozen=True)
class StructField:
    name: str
    type: str  # u8 u16 u32 u64 s16 s32 s64, or cN (a char array of N bytes)
    offset: int


@dataclass(frozen=True)
class StructLayout:
    name: str
    size: int
    fields: tuple[StructField, ...]


def load_structs() -> dict[str, StructLayout]:
    text = resources.files("tracespec.catalogue").joinpath("data", "structs.txt").read_text("utf-8")
    out: dict[str, StructLayout] = {}
    name, size, fields = None, 0, []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^\[([a-z0-9_]+)\]\s+size=(\d+)$", line)
        if m:
            if name:
                out[name] = StructLayout(name, size, tuple(fields))
            name, size, fields = m.group(1), int(m.group(2)), []
            continue
        fname, ftype, off = line.split()  # a dotted name is a field of a nested struct (stx_atime.tv_sec)
        if field_format(ftype) is None:
            raise ValueError(f"structs.txt:{lineno}: unknown field type {ftype!r}")
        fields.append(StructField(fname, ftype, int(off)))
    if name:
        out[name] = StructLayout(name, size, tuple(fields))
    return out


@dataclass(frozen=True)
class PointerMember:
    """A member of a copied struct that points to more memory, copied as a slot of its own after the
    struct's: the pointer at `ptr`, the length (bytes) or count (iovecs) at `length` of `length_size`
    bytes. The slot is named after the argument and the part: msg__name."""

    part: str
    ptr: int
    length: int
    length_size: int
    iovec: bool = False  # an array of struct iovec (the count of them), else bytes
    max: int = 0  # bytes copied at most (an iovec array: each buffer's, from the spec's buffers)
    struct: str = ""  # the layout of what it points to, when that is a struct of structs.txt (JSON shows its fields)
    # copied when the call returns, whenever the struct itself is: what the kernel wrote through the pointer
    # of a struct it reads (clone3's pidfd and parent_tid)
    at_exit: bool = False

    @property
    def fixed(self) -> bool:
        """A length of its own (max bytes, length_size 0), not one read from the struct."""
        return self.length_size == 0


# struct user_msghdr (sendmsg, recvmsg): msg_name and its length, msg_iov and msg_iovlen, msg_control
# and msg_controllen. strace reads the control data up to net.core.optmem_max (20480 before Linux 6.9,
# 131072 since); tracespec copies the first CONTROL_MAX bytes, then prints "..." as strace does past
# what it read. 2048 holds the most descriptors one SCM_RIGHTS carries (SCM_MAX_FD, 253: 1028 bytes)
# and every IP-level and timestamp message a datagram brings at once. -s does not bound the bytes read
# (strace's does not either), only the arrays printed from them (SyscallInfo.limit).
CONTROL_MAX = 2048
NAME_MAX = 128  # sizeof(struct sockaddr_storage)
SIGSET_SIZE = 8  # the kernel's sigset_t on x86_64: strace reads a mask only of this size
POINTER_MEMBERS: dict[str, tuple[PointerMember, ...]] = {
    "msghdr": (PointerMember("name", 0, 8, 4, max=NAME_MAX),
               PointerMember("iov", 16, 24, 8, iovec=True),
               PointerMember("control", 32, 40, 8, max=CONTROL_MAX)),
    # pselect6's struct sigset_argpack: the signal mask at p, of size bytes (read at entry, as strace does)
    "sigset_argpack": (PointerMember("sigmask", 0, 8, 8, max=SIGSET_SIZE, struct="sigset"),),
    # clone3's struct clone_args: the ints the kernel writes behind pidfd (CLONE_PIDFD: the new pidfd) and
    # parent_tid (CLONE_PARENT_SETTID: the child's tid), which strace reads when the call returns
    "clone_args": (PointerMember("pidfd", 8, 0, 0, max=4, struct="int", at_exit=True),
                   PointerMember("parent_tid", 24, 0, 0, max=4, struct="int", at_exit=True)),
}


# sendmmsg's and recvmmsg's arrays of struct mmsghdr: the first MMSG_ENTRIES entries are copied (the
# array as one slot, then each entry's name, iovecs and control data as slots of their own, named
# ARG__mN_PART), the rest print as "..." as strace's do past its -s. Each entry's iovecs are at most
# MMSG_IOV_COUNT (then "..."), their buffers sharing MMSG_IOV_BYTES, and its control data the first
# MMSG_CONTROL_MAX bytes (then "...", as past what strace reads). Kernels without bounded loops (before
# 5.3) take the copies unrolled, within 4096 instructions a program: fewer entries and iovecs there.
MMSG_KINDS = frozenset({"immsgvec", "ommsgvec"})
MMSGHDR_SIZE = 64
MSG_LEN_AT = 56  # msg_len, after the msghdr
# 4 entries, not more: each one more multiplies the paths the verifier walks in recvmmsg's exit program,
# and every start of a spec that traces these calls pays it, from the cache too (failed.yaml here: 0.08 s
# of verifying for 4, 0.23 s for 6, 0.40 s for 8). glibc's resolver sends its two queries in one call.
MMSG_ENTRIES, MMSG_ENTRIES_UNROLLED = 4, 2
MMSG_IOV_COUNT, MMSG_IOV_COUNT_UNROLLED = 4, 2
MMSG_IOV_BYTES = 8192
MMSG_CONTROL_MAX = 256


def mmsg_part(entry: int, part: str) -> str:
    """The slot part of entry `entry`'s pointer member `part`: m0_name, m0_iov, m0_control, m1_name, ..."""
    return f"m{entry}_{part}"


def mmsg_members(entry: int) -> tuple[PointerMember, ...]:
    """The pointer members of entry `entry` of an mmsghdr array: msghdr's, at the entry's offsets."""
    at = entry * MMSGHDR_SIZE
    return tuple(PointerMember(mmsg_part(entry, m.part), at + m.ptr, at + m.length, m.length_size, m.iovec,
                               min(m.max, MMSG_CONTROL_MAX) if m.part == "control" else m.max, m.struct)
                 for m in POINTER_MEMBERS["msghdr"])
