"""Raw 64-bit argument values -> the integers their C types (and kinds) mean."""

from __future__ import annotations

from tracespec.plan.model import ArgField

# Descriptors and ids print as C ints whatever the kernel's parameter type (strace shows close(-1)).
SIGNED_INT_KINDS = frozenset({"fd", "dirfd", "pid", "sig"})


def typed(raw: int, f: ArgField) -> int:
    kind = f.kind.split("(", 1)[0]
    if kind in SIGNED_INT_KINDS:
        v = raw & 0xFFFFFFFF
        return v - (1 << 32) if v & 0x80000000 else v
    bits = min(f.size, 8) * 8
    v = raw & ((1 << bits) - 1)
    if f.signed and v >> (bits - 1):
        v -= 1 << bits
    return v
