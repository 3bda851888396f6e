"""Raw 64-bit argument values -> the integers their C types (and kinds) mean."""

from __future__ import annotations

from typing import Callable

from tracespec.plan.model import ArgField

# Descriptors and ids print as C ints whatever the kernel's parameter type (strace shows close(-1)).
SIGNED_INT_KINDS = frozenset({"fd", "dirfd", "pid", "sig"})
U64 = (1 << 64) - 1


def width(f: ArgField) -> tuple[int, int]:
    """(mask, sign bit) of the C type an argument's value is read as; sign bit 0 when unsigned."""
    kind = f.kind.split("(", 1)[0]
    if kind in SIGNED_INT_KINDS:
        return 0xFFFFFFFF, 0x80000000
    bits = min(f.size, 8) * 8
    return (1 << bits) - 1, (1 << (bits - 1)) if f.signed else 0


def converter(fields: tuple[ArgField, ...]) -> Callable[[tuple], tuple] | None:
    """A function taking a record's raw values to the typed values of `fields` (each masked to its width,
    sign-extended when signed),
    or None when every value is already what it means (unsigned 64-bit): the common case costs nothing."""
    widths = tuple(width(f) for f in fields)
    if all(mask == U64 and not sign for mask, sign in widths):
        return None

    def convert(raw: tuple) -> tuple:
        out = []
        for v, (mask, sign) in zip(raw, widths):
            v &= mask
            out.append(v - (sign << 1) if v & sign else v)
        return tuple(out)

    return convert
