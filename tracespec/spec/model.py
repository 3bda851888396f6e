"""The spec as written: what to trace, how to fetch arguments, which events to keep.

Nothing here knows the syscall catalogue or the kernel; names are still just names. The validator
resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracespec.errors import Location
from tracespec.spec.filter import Expr

SPEC_VERSION = 1


@dataclass(frozen=True)
class Selector:
    """Which syscalls: one name, a strace class (file, network, ...) or a glob over names."""

    kind: str  # name | class | glob
    pattern: str
    loc: Location

    def __str__(self) -> str:
        return {"name": self.pattern, "class": f"%{self.pattern}", "glob": self.pattern}[self.kind]


@dataclass(frozen=True)
class FetchOptions:
    """How much of a string or buffer to copy, and how (full: variable length; inline: fixed slot)."""

    max: int | None = None
    mode: str | None = None  # full | inline
    loc: Location | None = None

    def over(self, base: "FetchOptions") -> "FetchOptions":
        """These options, falling back to `base` where unset."""
        return FetchOptions(self.max if self.max is not None else base.max,
                            self.mode if self.mode is not None else base.mode,
                            self.loc or base.loc)


@dataclass(frozen=True)
class ArgOptions:
    """Per-argument overrides inside a syscall rule."""

    name: str
    loc: Location
    max: int | None = None
    mode: str | None = None  # full | inline (strings)
    at: str | None = None  # entry | exit (buffers)
    size: str | None = None  # the argument giving a buffer's length, or "ret"
    count: int | None = None  # arrays (execve's argv, iovecs): how many elements to copy
    raw: bool | None = None  # print the argument's value as a number, fetch nothing


@dataclass(frozen=True)
class Rule:
    """One entry of `syscalls:`: a selector and what applies to the syscalls it selects."""

    selector: Selector
    loc: Location
    args: tuple[ArgOptions, ...] = ()
    filter: Expr | None = None
    raw: bool | None = None
    paths: FetchOptions | None = None
    strings: FetchOptions | None = None
    buffers: FetchOptions | None = None


@dataclass(frozen=True)
class SummaryOptions:
    """`summary:` - aggregate in the kernel instead of printing events (`run --summary` by default)."""

    loc: Location
    by: str | None = None  # syscall | process | thread
    interval: int | None = None  # seconds between summaries (each resets the counts)


@dataclass(frozen=True)
class RecorderOptions:
    """`recorder:` - what `tracespec record` keeps, and when it dumps besides being asked."""

    loc: Location
    size: int | None = None  # bytes of in-kernel buffer, all CPUs together
    trigger: Expr | None = None  # dump when a traced syscall returns and this holds


@dataclass(frozen=True)
class Spec:
    path: str
    text: str
    version: int
    description: str | None
    rules: tuple[Rule, ...]
    excludes: tuple[Selector, ...]
    paths: FetchOptions
    strings: FetchOptions
    buffers: FetchOptions
    raw: bool
    fd_paths: bool  # show what descriptors refer to (strace -y)
    filter: Expr | None
    loc: Location
    summary: SummaryOptions | None = None
    recorder: RecorderOptions | None = None
    signals: bool = True  # print the signals traced tasks get, "--- SIGCHLD {...} ---" (off: -e signal=none)
    abbrev: bool = True  # false: as strace -v, structures in full and getdents' entries themselves (copied)
