"""The one place values become C text.

Nothing from a spec reaches generated C as code. Names (syscalls, arguments, constant sets) come from
the catalogue and the kernel's format files and must be plain identifiers (`c_ident`); numbers are
rendered by `c_int` with range checks; string literals from filters are never C strings, only byte values
compared one by one (`c_bytes`); and any text shown in a comment goes through `c_comment`.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
INT64_MIN = -(1 << 63)
UINT64_MAX = (1 << 64) - 1


def c_int(value: int) -> str:
    """An integer literal C reads as exactly `value` (64-bit range)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"c_int takes an int, not {type(value).__name__}")
    if not INT64_MIN <= value <= UINT64_MAX:
        raise ValueError(f"{value} does not fit in 64 bits")
    if value == INT64_MIN:
        return "(-0x7fffffffffffffffLL - 1)"
    if value < 0:
        return f"(-{-value:#x}LL)" if value < -0x7fffffff else f"({value})"
    if value > 0x7fffffffffffffff:
        return f"{value:#x}ULL"
    if value > 0x7fffffff:
        return f"{value:#x}LL"
    return str(value)


def c_bytes(value: bytes) -> list[str]:
    """Each byte of a string literal as a C integer literal."""
    return [f"{b:#04x}" for b in value]


def c_ident(name: str) -> str:
    """A name used as C code (argument and event names from the kernel). Refuses anything else."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a C identifier")
    return name


def c_comment(text: str, limit: int = 200) -> str:
    """Text that is safe inside /* ... */: printable ASCII, no comment delimiters, no trigraphs."""
    out = []
    for ch in str(text)[:limit]:
        o = ord(ch)
        out.append(ch if 0x20 <= o < 0x7F else ("\\n" if ch == "\n" else "?"))
    s = "".join(out)
    # "*/" would end the comment; "/*" would nest; "??" could start a trigraph in some compilers.
    while "*/" in s or "/*" in s or "??" in s:
        s = s.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    if len(str(text)) > limit:
        s += "..."
    return s
