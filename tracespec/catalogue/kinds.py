"""What a syscall argument *is*: the closed set of argument kinds the catalogue may name.

A kind decides three things downstream: whether the BPF program copies memory for the argument
(capture), when (at syscall entry or exit), and how the formatter prints it. Kinds with a parameter
name another argument (a buffer's length), a constant set (flags) or a struct layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Capture(str, Enum):
    """What the BPF program copies out of the traced process for an argument (NONE: nothing beyond the
    register). A str: it equals, hashes, formats and serialises as its value, in templates and JSON too."""

    __str__ = str.__str__  # Python 3.12's Enum would give "Capture.STRING" otherwise
    __format__ = str.__format__

    NONE = "none"
    STRING = "string"
    BUFFER = "buffer"
    STRUCT = "struct"
    SOCKADDR = "sockaddr"
    STRV = "strv"  # a NULL-terminated array of strings
    PTRCOUNT = "ptrcount"  # a NULL-terminated array of pointers, only counted
    IOVEC = "iovec"
    FDINODE = "fdinode"  # not an argument's memory: the inodes of new descriptors (catalogue/descriptors.py)
    SOCKENDS = "sockends"  # nor this: a socket's addresses and ports, for -yy (catalogue/descriptors.py)
    DIRENTS = "dirents"  # nor this: how many entries getdents wrote, counted where they lie (catalogue/dirents.py)


# Slots of what the kernel holds or did rather than of an argument's bytes: named as they are (a family
# of several syscalls names its other slots by argument position).
NAMED_CAPTURES = frozenset({Capture.FDINODE, Capture.SOCKENDS, Capture.DIRENTS})


class Phase(str, Enum):
    """When something is read or known: at syscall entry, at its exit, or both (a struct read and written
    back). Record layouts and filter leaves are enter or exit only."""

    __str__ = str.__str__
    __format__ = str.__format__

    ENTER = "enter"
    EXIT = "exit"
    BOTH = "both"


class Written(str, Enum):
    """When the kernel has written the memory an exit copy holds, by the return value: strace decodes it
    only then (and prints the address otherwise). The BPF program copies only then, and the decoder
    keeps the copy only then."""

    __str__ = str.__str__
    __format__ = str.__format__

    OK = "ok"  # the call did not fail
    POSITIVE = "positive"  # it returned more than 0 (poll's revents, select's sets: 0 is a timeout)
    RESTART = "restart"  # it was interrupted, to be restarted (nanosleep's remainder)
    ALWAYS = "always"  # whatever it returned: what the kernel holds, not what it wrote (-yy's endpoints)


# the kernel's restart codes (include/linux/errno.h): ERESTARTSYS .. ERESTART_RESTARTBLOCK, as a range
RESTART_ERRNO_MIN, RESTART_ERRNO_MAX = 512, 516
RESTART_ERRNOS = frozenset({512, 513, 514, 516})  # ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK


def written(w: Written, ret: int) -> bool:
    """Whether a return value says the kernel wrote memory copied under condition w."""
    if w == Written.POSITIVE:
        return ret > 0
    if w == Written.RESTART:
        return -ret in RESTART_ERRNOS
    if w == Written.ALWAYS:
        return True
    return not -4095 <= ret < 0


@dataclass(frozen=True)
class KindInfo:
    capture: Capture
    at: Phase  # when the memory is read
    param: str | None  # None | arg | set | struct | map | array: what the parenthesised parameter names
    doc: str
    number: bool = False  # the register is a number (filters compare it); the copy is decoded by operation
    written: Written = Written.OK  # an exit copy: the return values at which the kernel wrote it
    entry_text: bool = False  # read at entry and exit, printed at entry; the exit copy explains the return
    array: bool = False  # its length counts elements of the struct its parameter names (bits: see fdset)
    bits_over: int = 0  # a bitmap's count of bits (unsigned) exceeds by this many the bits the kernel reads
    plus: int = 0  # bytes copied before the ones the length counts (a System V message's mtype)


KINDS: dict[str, KindInfo] = {
    # numbers
    "int": KindInfo(Capture.NONE, Phase.ENTER, None, "signed decimal"),
    "uint": KindInfo(Capture.NONE, Phase.ENTER, None, "unsigned decimal"),
    "hex": KindInfo(Capture.NONE, Phase.ENTER, None, "hexadecimal"),
    "ptr": KindInfo(Capture.NONE, Phase.ENTER, None, "an address: NULL or hexadecimal"),
    "optr": KindInfo(Capture.NONE, Phase.EXIT, None, "an address the kernel writes through, shown as an address "
                                                     "when the syscall returns (nanosleep's remainder)"),
    "size": KindInfo(Capture.NONE, Phase.ENTER, None, "a byte count"),
    "off": KindInfo(Capture.NONE, Phase.ENTER, None, "a file offset"),
    "fd": KindInfo(Capture.NONE, Phase.ENTER, None, "a file descriptor"),
    "dirfd": KindInfo(Capture.NONE, Phase.ENTER, None, "a directory descriptor or AT_FDCWD"),
    "pid": KindInfo(Capture.NONE, Phase.ENTER, None, "a process or thread id"),
    "sig": KindInfo(Capture.NONE, Phase.ENTER, None, "a signal number"),
    "uid": KindInfo(Capture.NONE, Phase.ENTER, None, "a user id (-1: unchanged)"),
    "gid": KindInfo(Capture.NONE, Phase.ENTER, None, "a group id (-1: unchanged)"),
    "newaddr": KindInfo(Capture.NONE, Phase.ENTER, None, "mremap's new address: shown only when its flags let the "
                                                         "mapping move to it (MREMAP_MAYMOVE with MREMAP_FIXED or "
                                                         "MREMAP_DONTUNMAP)"),
    "ipcflags": KindInfo(Capture.NONE, Phase.ENTER, "set", "System V IPC's get flags: the named bits above the "
                                                           "permission bits, then those in octal"),
    "persona": KindInfo(Capture.NONE, Phase.ENTER, None, "a personality: its type and flags (0xffffffff: ask)"),
    "ioprio": KindInfo(Capture.NONE, Phase.ENTER, None, "an I/O priority: IOPRIO_PRIO_VALUE(class, data)"),
    "mode": KindInfo(Capture.NONE, Phase.ENTER, None, "permission bits, octal"),
    "omode": KindInfo(Capture.NONE, Phase.ENTER, None, "open's mode: shown only with O_CREAT or O_TMPFILE"),
    "ndev": KindInfo(Capture.NONE, Phase.ENTER, None,
                     "mknod's device: shown, as makedev(), only for a character or block device's mode"),
    "fmode": KindInfo(Capture.NONE, Phase.ENTER, None, "file type and permission bits (mknod)"),
    "flags": KindInfo(Capture.NONE, Phase.ENTER, "set", "bit flags from a constant set"),
    "enum": KindInfo(Capture.NONE, Phase.ENTER, "set", "one value from a constant set"),
    "denum": KindInfo(Capture.NONE, Phase.ENTER, "set", "one value from a constant set, a value without a name in "
                                                        "decimal (strace's printxval_d: a keyring's id)"),
    "enumby": KindInfo(Capture.NONE, Phase.ENTER, "map",
                       "one value from a set chosen by another argument (ARG:MAP)"),
    # memory the kernel reads (copied at entry) or writes (copied at exit)
    "path": KindInfo(Capture.STRING, Phase.ENTER, None, "a file name, fetched whole (up to PATH_MAX)"),
    "str": KindInfo(Capture.STRING, Phase.ENTER, None, "a NUL-terminated string"),
    "ostr": KindInfo(Capture.STRING, Phase.EXIT, "arg", "a string the kernel writes (getcwd)"),
    "ibuf": KindInfo(Capture.BUFFER, Phase.ENTER, "arg", "bytes read by the kernel; length from an argument"),
    "obuf": KindInfo(Capture.BUFFER, Phase.EXIT, "arg",
                     "bytes written by the kernel; length from the return value"),
    "istruct": KindInfo(Capture.STRUCT, Phase.ENTER, "struct", "a struct read by the kernel"),
    "ostruct": KindInfo(Capture.STRUCT, Phase.EXIT, "struct", "a struct written by the kernel"),
    "cistruct": KindInfo(Capture.STRUCT, Phase.ENTER, "struct", "a struct read by the kernel, shown only when "
                                                               "another argument asks for it (mq_open's attributes "
                                                               "with O_CREAT)"),
    "iostruct": KindInfo(Capture.STRUCT, Phase.BOTH, "struct",
                         "a struct read and written back (printed [in => out])"),
    "iwstruct": KindInfo(Capture.STRUCT, Phase.BOTH, "struct",
                         "a struct the kernel reads and may write to when it refuses it (sched_setattr's "
                         "size, on E2BIG): copied at entry, and at exit whatever the call returned; "
                         "printed as it was given", written=Written.ALWAYS, entry_text=True),
    "opistruct": KindInfo(Capture.STRUCT, Phase.ENTER, "struct",
                          "a number or, by the operation (futex's command), the address of a struct the "
                          "kernel reads: copied at entry in case, compared by filters as the number",
                          number=True),
    "opstruct": KindInfo(Capture.STRUCT, Phase.BOTH, "struct",
                         "a number or, by the operation (fcntl's command, ioctl's request), the address of "
                         "a struct the kernel reads or writes: copied at entry and exit in case (a number "
                         "faults harmlessly), compared by filters as the number", number=True),
    "sockaddr": KindInfo(Capture.SOCKADDR, Phase.ENTER, "arg",
                         "a socket address; its length is the argument named"),
    "osockaddr": KindInfo(Capture.SOCKADDR, Phase.EXIT, "arg",
                          "a socket address the kernel fills in; its length is at the pointer argument named"),
    "sockoptval": KindInfo(Capture.BUFFER, Phase.ENTER, "arg",
                           "a socket option's value; length from the argument named"),
    "osockoptval": KindInfo(Capture.BUFFER, Phase.EXIT, "arg",
                            "a socket option's value the kernel fills in; its length is at the pointer argument named"),
    "strv": KindInfo(Capture.STRV, Phase.ENTER, None, "a NULL-terminated array of strings (execve's argv)"),
    "envp": KindInfo(Capture.PTRCOUNT, Phase.ENTER, None,
                     "a NULL-terminated array of strings, counted (execve's envp)"),
    "iovec": KindInfo(Capture.IOVEC, Phase.ENTER, "arg",
                      "an array of buffers the kernel reads; count from the argument named"),
    # kept when the call failed too: strace then prints each element's iov_base and iov_len (which the
    # copy holds in place of bytes: ts_put_iov's TS_IOV_RET_OR_BASES)
    "oiovec": KindInfo(Capture.IOVEC, Phase.EXIT, "arg",
                       "an array of buffers the kernel fills, up to the return value", written=Written.ALWAYS),
    # arrays of fixed-size elements: COUNT:ELEM names the argument (or ret) counting the elements and
    # the struct layout of one; copied as count x size bytes, at most the spec's count of elements
    "iarray": KindInfo(Capture.BUFFER, Phase.ENTER, "array",
                       "an array the kernel reads (setgroups' gids); COUNT:ELEM", array=True),
    "oarray": KindInfo(Capture.BUFFER, Phase.EXIT, "array",
                       "an array the kernel writes, COUNT:ELEM (getgroups: ret:gid, as many as it returns)",
                       array=True),
    "ioarray": KindInfo(Capture.BUFFER, Phase.BOTH, "array",
                        "an array the kernel reads and writes back (poll's pollfd), COUNT:ELEM: printed at "
                        "entry, what the kernel wrote explains a positive return", written=Written.POSITIVE,
                        entry_text=True, array=True),
    # sendmmsg's and recvmmsg's arrays of struct mmsghdr, COUNT:ELEM (vlen:mmsghdr): each entry a msghdr
    # copied with what its pointers point to (catalogue/structs.py MMSG_*), printed when the call returns,
    # as strace prints them
    "immsgvec": KindInfo(Capture.STRUCT, Phase.BOTH, "array",
                         "an array of messages the kernel sends (sendmmsg's mmsghdr), COUNT:ELEM: read at entry, "
                         "each entry's msg_len as the kernel wrote it for the messages it returns",
                         written=Written.POSITIVE),
    "ommsgvec": KindInfo(Capture.STRUCT, Phase.BOTH, "array",
                         "an array of messages the kernel fills (recvmmsg's mmsghdr), COUNT:ELEM: the name "
                         "lengths given at entry, the entries it returns as it wrote them"),
    "fdset": KindInfo(Capture.BUFFER, Phase.BOTH, "arg",
                      "a descriptor set of as many bits as the argument named, in longs (select's fd_set): "
                      "printed at entry, what the kernel wrote explains a positive return",
                      written=Written.POSITIVE, entry_text=True),
    # NUMA node masks (mbind, set_mempolicy, get_mempolicy, migrate_pages): maxnode counts one bit more
    # than the kernel reads; copied in whole longs, at most the spec's count (else its buffers' max,
    # strace's -s) of them
    "nodemask": KindInfo(Capture.BUFFER, Phase.ENTER, "arg",
                         "a NUMA node mask of as many bits as the argument named less one, in longs: "
                         "printed as strace prints bitmaps, a long at a time", bits_over=1),
    "onodemask": KindInfo(Capture.BUFFER, Phase.EXIT, "arg",
                          "a NUMA node mask the kernel fills in, as nodemask (get_mempolicy)", bits_over=1),
    # System V messages (msgsnd, msgrcv): a long mtype, then as many bytes of text as the argument named
    # says (strace prints that many, up to -s, whatever msgrcv returned), copied whole as one buffer
    "imsgbuf": KindInfo(Capture.BUFFER, Phase.ENTER, "arg",
                        "a System V message the kernel reads: its long mtype, then its text; the text's "
                        "length from the argument named", plus=8),
    "omsgbuf": KindInfo(Capture.BUFFER, Phase.EXIT, "arg",
                        "a System V message the kernel fills (msgrcv), as imsgbuf, when the call succeeds",
                        plus=8),
    "oenum": KindInfo(Capture.STRUCT, Phase.EXIT, "set",
                      "an int the kernel writes, one value from a constant set, printed [NAME] when the "
                      "call succeeds (get_mempolicy's policy)"),
    "lefttime": KindInfo(Capture.STRUCT, Phase.BOTH, "struct",
                         "a timeout the kernel reads and writes back with the time left (select, ppoll): "
                         "printed at entry, the time left with a positive return", written=Written.POSITIVE,
                         entry_text=True),
    "rstruct": KindInfo(Capture.STRUCT, Phase.EXIT, "struct",
                        "a struct the kernel writes only when the call is interrupted to be restarted "
                        "(nanosleep's remainder); its address otherwise", written=Written.RESTART),
}

_KIND_RE = re.compile(r"^([a-z]+)(?:\(([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)\))?\Z")


def array_param(kind: "ArgKind") -> tuple[str, str]:
    """An array kind's (count, element): the argument counting the elements (or "ret"), and the struct."""
    count, _, elem = (kind.param or "").partition(":")
    return count, elem


@dataclass(frozen=True)
class ArgKind:
    name: str
    param: str | None = None

    @property
    def info(self) -> KindInfo:
        return KINDS[self.name]

    @property
    def capture(self) -> Capture:
        return KINDS[self.name].capture

    @property
    def at(self) -> Phase:
        return KINDS[self.name].at

    def __str__(self) -> str:
        return f"{self.name}({self.param})" if self.param else self.name


def parse_kind(text: str) -> ArgKind:
    """Parse a catalogue kind like `obuf(count)`; ValueError names what is wrong."""
    m = _KIND_RE.match(text)
    if not m or m.group(1) not in KINDS:
        raise ValueError(f"unknown argument kind {text!r}")
    name, param = m.group(1), m.group(2)
    wants = KINDS[name].param
    if (wants is None) != (param is None):
        raise ValueError(f"kind {name!r} {'takes no' if wants is None else 'needs a'} parameter")
    return ArgKind(name, param)
