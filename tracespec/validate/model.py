"""The validated spec: syscalls resolved against the catalogue and kernel, arguments' fetches decided,
filters typed."""

from __future__ import annotations

from dataclasses import dataclass

from tracespec.catalogue import Arg, ArgKind, Capture, Phase, Syscall
from tracespec.catalogue.kinds import Written
from tracespec.errors import Location
from tracespec.kernel import KernelProfile
from tracespec.spec import Spec
from tracespec.validate.typed import TExpr


@dataclass(frozen=True)
class Fetch:
    """How one argument's memory is copied out of the traced process."""

    capture: Capture  # never NONE: an argument without a copy has no Fetch
    at: Phase  # BOTH: a struct read and written back
    max: int  # bytes at most (strings: characters, without the NUL; arrays: per element)
    mode: str  # full (variable length) | inline (fixed slot)
    size_from: str | None = None  # the argument holding the length (an element count for iovec), or "ret"
    struct: str | None = None  # structs: the layout's name
    count: int = 0  # arrays (argv, iovec, envp): elements copied at most
    deref: bool = False  # the length is an int behind the size_from pointer (read at exit)
    elem: int = 0  # arrays of fixed-size elements: bytes of one (size_from counts elements; max is bytes)
    bits: bool = False  # size_from counts bits, copied in whole longs (select's fd_set)
    bits_over: int = 0  # ... unsigned, this many more than the kernel reads (a node mask's maxnode: 1)
    written: Written = Written.OK  # an exit copy: the return values at which the kernel wrote it
    parts_max: int = 0  # a struct with pointer members: bytes of each buffer its iovecs point to
    plus: int = 0  # bytes copied before the ones size_from counts (max includes them)


@dataclass(frozen=True)
class ArgPlan:
    arg: Arg
    kind: ArgKind  # the catalogue's kind, or a plain number kind when the spec asks for raw
    fetch: Fetch | None


@dataclass(frozen=True)
class SelectedSyscall:
    syscall: Syscall
    args: tuple[ArgPlan, ...]
    filter: TExpr | None  # this syscall's own filter (the global one is separate)
    rules: tuple[Location, ...]  # the rules that selected it, for messages
    raw: bool = False  # every argument raw, and the return value in hex (strace -e raw=...)


@dataclass(frozen=True)
class ValidatedSpec:
    spec: Spec
    profile: KernelProfile
    syscalls: tuple[SelectedSyscall, ...]  # by number
    filter: TExpr | None  # the global filter
    every_syscall: bool  # all syscalls the kernel has are selected
    trigger: TExpr | None = None  # the recorder's trigger: decided at each traced syscall's exit
    # execve's and execveat's numbers in the architecture's table, traced or not: a started command is
    # traced from its execve, which the BPF program recognises by number
    exec_nrs: tuple[int, int] = (-1, -1)
    # fd_paths: the syscalls -y's descriptor table learns from (catalogue/descriptors.py
    # DESCRIPTOR_BOOKKEEPING) that the spec does not select, each with only the copies the table reads
    # and no filter: the planner may record them for the table alone (never printed nor counted)
    bookkeeping: tuple[SelectedSyscall, ...] = ()

    def get(self, name: str) -> SelectedSyscall | None:
        for s in self.syscalls:
            if s.syscall.name == name:
                return s
        return None
