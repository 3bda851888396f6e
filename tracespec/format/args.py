"""Which arguments a syscall line shows, and which of them are only known once it returns."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import constants, failed, kind_of, memory_text, scalar_text
from tracespec.plan.model import ArgField

EXIT_KINDS = frozenset({"obuf", "ostr", "ostruct"})  # memory the kernel fills in
MEMORY_KINDS = frozenset({"path", "str", "ibuf", "obuf", "ostr", "istruct", "ostruct"})
_RAW = tuple(ArgField(f"arg{i}", i, "hex", 8, False) for i in range(6))


def _open_creates(ev: SyscallEvent) -> bool:
    c = constants().values
    for f, v in zip(ev.info.args, ev.args):
        if f.kind == "flags(open_flags)":
            return bool(v & (c["O_CREAT"] | c["__O_TMPFILE"]))
    return False


def visible(ev: SyscallEvent) -> list[tuple[ArgField, int]]:
    """(field, value) for each argument strace would print (open's mode only when it creates)."""
    if ev.info is None:
        return list(zip(_RAW, ev.args))
    out = []
    for f, v in zip(ev.info.args, ev.args):
        if f.kind == "omode" and not _open_creates(ev):
            continue
        out.append((f, v))
    return out


def split(ev: SyscallEvent) -> tuple[list, list]:
    """Arguments printed at entry, and those printed when the syscall returns."""
    shown = visible(ev)
    for i, (f, _) in enumerate(shown):
        if kind_of(f)[0] in EXIT_KINDS:
            return shown[:i], shown[i:]
    return shown, []


def render(f: ArgField, value: int, ev: SyscallEvent) -> str:
    kind = kind_of(f)[0]
    if kind in MEMORY_KINDS:
        return memory_text(value, f, ev.slots.get(f.name), failed(ev.ret))
    return scalar_text(value, f)
