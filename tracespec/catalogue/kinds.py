"""What a syscall argument *is*: the closed set of argument kinds the catalogue may name.

A kind decides three things downstream: whether the BPF program copies memory for the argument
(capture), when (at syscall entry or exit), and how the formatter prints it. Kinds with a parameter
name another argument (a buffer's length), a constant set (flags) or a struct layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KindInfo:
    capture: str  # none | string | buffer | struct | sockaddr | strv | ptrcount | iovec
    at: str  # enter | exit | both: when the memory is read
    param: str | None  # None | arg | set | struct | map: what the parenthesised parameter names
    doc: str


KINDS: dict[str, KindInfo] = {
    # numbers
    "int": KindInfo("none", "enter", None, "signed decimal"),
    "uint": KindInfo("none", "enter", None, "unsigned decimal"),
    "hex": KindInfo("none", "enter", None, "hexadecimal"),
    "ptr": KindInfo("none", "enter", None, "an address: NULL or hexadecimal"),
    "optr": KindInfo("none", "exit", None, "an address the kernel writes through, shown as an address when "
                                           "the syscall returns (nanosleep's remainder)"),
    "size": KindInfo("none", "enter", None, "a byte count"),
    "off": KindInfo("none", "enter", None, "a file offset"),
    "fd": KindInfo("none", "enter", None, "a file descriptor"),
    "dirfd": KindInfo("none", "enter", None, "a directory descriptor or AT_FDCWD"),
    "pid": KindInfo("none", "enter", None, "a process or thread id"),
    "sig": KindInfo("none", "enter", None, "a signal number"),
    "uid": KindInfo("none", "enter", None, "a user id (-1: unchanged)"),
    "gid": KindInfo("none", "enter", None, "a group id (-1: unchanged)"),
    "mode": KindInfo("none", "enter", None, "permission bits, octal"),
    "omode": KindInfo("none", "enter", None, "open's mode: shown only with O_CREAT or O_TMPFILE"),
    "fmode": KindInfo("none", "enter", None, "file type and permission bits (mknod)"),
    "flags": KindInfo("none", "enter", "set", "bit flags from a constant set"),
    "enum": KindInfo("none", "enter", "set", "one value from a constant set"),
    "enumby": KindInfo("none", "enter", "map", "one value from a set chosen by another argument (ARG:MAP)"),
    # memory the kernel reads (copied at entry) or writes (copied at exit)
    "path": KindInfo("string", "enter", None, "a file name, fetched whole (up to PATH_MAX)"),
    "str": KindInfo("string", "enter", None, "a NUL-terminated string"),
    "ostr": KindInfo("string", "exit", "arg", "a string the kernel writes (getcwd)"),
    "ibuf": KindInfo("buffer", "enter", "arg", "bytes read by the kernel; length from an argument"),
    "obuf": KindInfo("buffer", "exit", "arg", "bytes written by the kernel; length from the return value"),
    "istruct": KindInfo("struct", "enter", "struct", "a struct read by the kernel"),
    "ostruct": KindInfo("struct", "exit", "struct", "a struct written by the kernel"),
    "iostruct": KindInfo("struct", "both", "struct", "a struct read and written back (printed [in => out])"),
    "sockaddr": KindInfo("sockaddr", "enter", "arg", "a socket address; its length is the argument named"),
    "osockaddr": KindInfo("sockaddr", "exit", "arg", "a socket address the kernel fills in; its length is "
                                                     "at the pointer argument named"),
    "sockoptval": KindInfo("buffer", "enter", "arg", "a socket option's value; length from the argument named"),
    "osockoptval": KindInfo("buffer", "exit", "arg", "a socket option's value the kernel fills in; its "
                                                     "length is at the pointer argument named"),
    "strv": KindInfo("strv", "enter", None, "a NULL-terminated array of strings (execve's argv)"),
    "envp": KindInfo("ptrcount", "enter", None, "a NULL-terminated array of strings, counted (execve's envp)"),
    "iovec": KindInfo("iovec", "enter", "arg", "an array of buffers the kernel reads; count from the argument "
                                               "named"),
    "oiovec": KindInfo("iovec", "exit", "arg", "an array of buffers the kernel fills, up to the return value"),
}

_KIND_RE = re.compile(r"^([a-z]+)(?:\(([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)\))?$")


@dataclass(frozen=True)
class ArgKind:
    name: str
    param: str | None = None

    @property
    def info(self) -> KindInfo:
        return KINDS[self.name]

    @property
    def capture(self) -> str:
        return KINDS[self.name].capture

    @property
    def at(self) -> str:
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
