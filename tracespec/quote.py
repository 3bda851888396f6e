"""Strings and buffers quoted the way strace prints them (its default, octal escapes): the one function
that escapes bytes for a terminal, used by every stage that shows a value from a spec, a trace or the
system (so it sits beneath them all)."""

from __future__ import annotations

import re

# Bytes that print as themselves: printable ASCII but for the quote and the backslash.
_PLAIN = re.compile(rb'[\x20\x21\x23-\x5b\x5d-\x7e]*')
_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v"}


def needs_hex(data: bytes) -> bool:
    """strace -x's test: a byte that is neither printable nor whitespace (\t\n\v\f\r) hexes the whole string."""
    return any(c > 0x7E or (c < 0x20 and not 9 <= c <= 13) for c in data)


def hex_quote(data: bytes, truncated: bool = False) -> str:
    """Every byte as \\xNN, as strace -xx prints strings (and -x those with a non-printable byte)."""
    return '"' + "".join(f"\\x{c:02x}" for c in data) + '"' + ("..." if truncated else "")


def quote(data: bytes, truncated: bool = False, hex_strings: int = 0) -> str:
    """`"..."` with C escapes; non-printable bytes in octal, 3 digits only before an octal digit.
    hex_strings: 1 as strace -x (a string with a non-printable byte all in hex), 2 as -xx (all in hex)."""
    if hex_strings and (hex_strings > 1 or needs_hex(data)):
        return hex_quote(data, truncated)
    if _PLAIN.fullmatch(data):  # most paths and much text: nothing to escape
        return f'"{data.decode("ascii")}"...' if truncated else f'"{data.decode("ascii")}"'
    out = ['"']
    n = len(data)
    for i, c in enumerate(data):
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        elif i + 1 < n and 0x30 <= data[i + 1] <= 0x37:
            out.append(f"\\{c:03o}")
        else:
            out.append(f"\\{c:o}")
    out.append('"')
    if truncated:
        out.append("...")
    return "".join(out)
