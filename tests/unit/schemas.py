"""The decoder's view of a few syscalls (their SyscallInfo, by name), from a spec that traces only them,
planned for the 6.1 profile: what the unit tests build synthetic events from, without a kernel."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from tracespec.pipeline import compile_spec


@lru_cache(maxsize=None)
def syscall_infos(syscalls: tuple[str, ...], extra: str = "") -> dict:
    """{name: SyscallInfo} of `syscalls`; extra: more spec lines (abbrev: false)."""
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "s.yaml"
        spec.write_text(f"version: 1\n{extra}syscalls: [" + ", ".join(syscalls) + "]\n")
        return {s.name: s for s in compile_spec(str(spec), kernel="6.1").plan.schema.syscalls}


def synthetic_event(info, args: tuple, ret: int = 0, entry: dict | None = None, exit: dict | None = None):
    """A finished SyscallEvent of `info` (a SyscallInfo) as the decoder would pair it: the arguments
    padded with zeros, the slots copied at entry (entry) and at exit (exit: its slots win)."""
    from tracespec.decode.events import SyscallEvent
    from tracespec.wire.records import EnterRecord, ExitRecord
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    entry = entry or {}
    return SyscallEvent(info, info.nr, 1, 1, "t", EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", full, ()),
                        ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ()), full, {**entry, **(exit or {})}, entry)


def rendered_args(ev, style=None) -> str:
    """The event's arguments as the general printer shows them, joined as strace joins them."""
    from tracespec.format.args import render, visible
    from tracespec.format.values import Style
    return ", ".join(render(f, v, ev, None, style or Style()) for f, v in visible(ev))
