"""Argument and return values rendered as strace renders them, from the catalogue's argument kinds."""

from __future__ import annotations

from functools import lru_cache

from tracespec.catalogue import Constants, ConstantSet
from tracespec.catalogue.constants import load_constants
from tracespec.catalogue.structs import StructLayout, load_structs
from tracespec.wire.records import Slot
from tracespec.quote import quote
from tracespec.plan.model import ArgField

S_IFMT = 0o170000
ERESTART_MIN, ERESTART_MAX = 512, 516  # strace prints "? ERESTART..." for these


@lru_cache(maxsize=1)
def constants() -> Constants:
    return load_constants()


@lru_cache(maxsize=1)
def structs() -> dict[str, StructLayout]:
    return load_structs()


def kind_of(f: ArgField) -> tuple[str, str | None]:
    name, _, rest = f.kind.partition("(")
    return name, (rest[:-1] if rest else None)


def hexval(value: int, f: ArgField | None = None) -> str:
    """C's "%#lx": 0x-prefixed, except zero, which is plain 0."""
    if value < 0:
        bits = 8 * (min(f.size, 8) if f else 8)
        value &= (1 << bits) - 1
    return hex(value) if value else "0"


def flags_text(value: int, cset: ConstantSet, c: Constants) -> str:
    parts = []
    rest = value
    if cset.lead_enum:
        ename, mask = cset.lead_enum
        field = rest & mask
        parts.append(c.sets[ename].lookup(field) or hex(field))
        rest &= ~mask
    for name, bits in cset.entries:
        if bits and rest & bits == bits:
            parts.append(name)
            rest &= ~bits
    if cset.trail_enum:
        ename, mask = cset.trail_enum
        field = rest & mask
        if field:
            parts.append(c.sets[ename].lookup(field) or hex(field))
            rest &= ~mask
    if rest:
        parts.append(hex(rest))
    if not parts:
        return cset.zero or "0"
    return "|".join(parts)


def enum_text(value: int, cset: ConstantSet) -> str:
    name = cset.lookup(value)
    if name is not None:
        return name
    return f"{hex(value) if value >= 0 else value} /* {cset.entries[0][0].split('_')[0]}_??? */"


def mode_text(value: int) -> str:
    """C's "%#03o": a leading 0, at least three digits (0644, 000, 007)."""
    digits = f"{value:o}"
    return ("0" + digits if value else digits).rjust(3, "0")


def symbolic_mode(mode: int) -> str:
    c = constants()
    ifmt = c.sets["file_type"].lookup(mode & S_IFMT) if mode & S_IFMT else ""
    if ifmt is None:
        return mode_text(mode)
    bits = ""
    for bit, name in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")):
        if mode & bit:
            bits += name + "|"
    return f"{ifmt}{'|' if ifmt else ''}{bits}{mode_text(mode & 0o777)}"


def makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF & 0xFFFFFFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF & 0xFFFFFFFF)
    return f"makedev({major:#x}, {minor:#x})"


def struct_fields(name: str, data: bytes) -> dict[str, int]:
    import struct as _struct

    from tracespec.catalogue.structs import FIELD_FORMATS

    layout = structs()[name]
    out = {}
    for f in layout.fields:
        fmt = "<" + FIELD_FORMATS[f.type]
        if f.offset + _struct.calcsize(fmt) <= len(data):
            out[f.name] = _struct.unpack_from(fmt, data, f.offset)[0]
    return out


def scalar_text(value: int, f: ArgField) -> str:
    kind, param = kind_of(f)
    c = constants()
    if kind in ("int", "uint", "size", "off", "fd", "pid"):
        return str(value)
    if kind == "dirfd":
        return "AT_FDCWD" if value == -100 else str(value)
    if kind in ("ptr", "optr"):
        return "NULL" if value == 0 else hexval(value, f)
    if kind == "hex":
        return hexval(value, f)
    if kind == "sig":
        return c.signal_name(value) or str(value)
    if kind in ("uid", "gid"):
        return "-1" if value in (0xFFFFFFFF, -1) else str(value)
    if kind in ("mode", "omode"):
        return mode_text(value)
    if kind == "fmode":
        return symbolic_mode(value)
    if kind == "flags":
        return flags_text(value & 0xFFFFFFFFFFFFFFFF if value < 0 else value, c.sets[param], c)
    if kind == "enum":
        return enum_text(value, c.sets[param])
    return str(value)


def enumby_text(value: int, param: str, other: int | None) -> str:
    """A value from the set another argument selects (a socket option by its level)."""
    c = constants()
    _, map_name = param.split(":")
    set_name = c.maps[map_name].set_for(other) if other is not None else None
    if set_name is None:
        return str(value)
    return enum_text(value, c.sets[set_name])


def memory_text(value: int, f: ArgField, slot: Slot | None, failed: bool) -> str:
    """A pointer argument whose memory was copied: the string or buffer, else the address."""
    if value == 0:
        return "NULL"
    if slot is None or slot.fault or slot.absent:
        return hexval(value, f)
    return quote(slot.data, slot.truncated)


def errno_text(errno: int) -> str:
    c = constants()
    name = c.errno_name(errno)
    return f"{name} ({c.errno_message(errno)})"


def ret_text(ret: int, kind: str) -> str:
    if -4095 <= ret < 0:
        errno = -ret
        if ERESTART_MIN <= errno <= ERESTART_MAX:
            return f"? {errno_text(errno)}"
        return f"-1 {errno_text(errno)}"
    if kind == "hex":
        return hexval(ret & 0xFFFFFFFFFFFFFFFF)
    if kind == "mode":
        return mode_text(ret)
    if kind == "none":
        return "?"
    if kind == "timeout" and ret == 0:
        return "0 (Timeout)"
    return str(ret)


def failed(ret: int | None) -> bool:
    return ret is not None and -4095 <= ret < 0
