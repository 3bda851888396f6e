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
