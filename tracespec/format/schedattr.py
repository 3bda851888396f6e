"""sched_setattr's and sched_getattr's struct sched_attr, as strace's print_sched_attr prints it: as many
of its versions' fields as its size covers."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import (Style, addr_text, constants, copied, enum_text, failed, flags_text, signed32,
                                     struct_fields, unsigned)

SCHED_ATTR_SIZE_VER0, SCHED_ATTR_SIZE_VER1 = 48, 56  # linux/sched/types.h: where each version's fields end
SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS = 0x8, 0x10
E2BIG = 7
SCHED_PARAMS = ("sched_nice", "sched_priority", "sched_runtime", "sched_deadline", "sched_period")


def _attr_text(data: bytes, shown: int, more: bool, setting: bool, style: Style) -> str:
    """The first `shown` bytes' fields: the policy unless sched_setattr is told to keep it, the flags, the
    parameters unless it is told to keep them, the second version's utilisation clamps; "..." when the
    caller's struct is larger than strace reads."""
    c = constants()
    v = struct_fields("sched_attr", data[:shown].ljust(SCHED_ATTR_SIZE_VER1, b"\0"))
    parts = [f"size={v['size']}"]
    if shown >= SCHED_ATTR_SIZE_VER0:
        flags = v["sched_flags"]
        keeps = flags & (SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_KEEP_PARAMS)
        if not setting or signed32(v["sched_policy"]) < 0 or not keeps:
            parts.append(f"sched_policy={enum_text(v['sched_policy'], c.sets['sched_policy'], style)}")
        parts.append(f"sched_flags={flags_text(flags, c.sets['sched_flags'], c, style)}")
        if not setting or not flags & SCHED_FLAG_KEEP_PARAMS:
            parts += [f"{k}={v[k]}" for k in SCHED_PARAMS]
        if shown >= SCHED_ATTR_SIZE_VER1:
            parts += [f"sched_util_min={v['sched_util_min']}", f"sched_util_max={v['sched_util_max']}"]
    if more:
        parts.append("...")
    return "{" + ", ".join(parts) + "}"


def sched_setattr(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """The struct as the caller filled it in (its size 0 reads as the first version's); when the kernel
    refused its size (E2BIG) the size it wrote back, => {size=56}; the flags."""
    addr = ev.args[1]
    data = copied(ev.entry_slots.get("uattr"), 4) if addr else None
    if data is None:
        attr = addr_text(addr)
    else:
        size = int.from_bytes(data[:4], "little") or SCHED_ATTR_SIZE_VER0
        shown = min(size, SCHED_ATTR_SIZE_VER1)
        attr = _attr_text(data, shown if shown >= SCHED_ATTR_SIZE_VER0 else 4, size > shown, True, style)
    enter = f"{signed32(ev.args[0])}, {attr}"
    if ev.exit is None:
        return enter, ""
    after = ""
    back = copied(ev.slots.get("uattr"), 4) if addr and ev.ret == -E2BIG else None
    if back is not None:
        after = f" => {{size={int.from_bytes(back[:4], 'little')}}}"
    return enter, f"{after}, {unsigned(ev.args[2], 4)}"


def sched_getattr(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """The struct the kernel wrote, as far as the size it wrote in it says (what was asked for: at most
    the second version), once the call succeeded; its address otherwise."""
    enter = f"{signed32(ev.args[0])}"
    if ev.exit is None:
        return enter, ""
    addr, usize = ev.args[1], unsigned(ev.args[2], 4)
    data = copied(ev.slots.get("uattr"), 4) if addr and usize and not failed(ev.ret) else None
    if data is None:
        attr = addr_text(addr)
    else:
        data = data[:min(usize, SCHED_ATTR_SIZE_VER1)]
        size = int.from_bytes(data[:4], "little")
        attr = _attr_text(data, min(size, len(data)) if size >= SCHED_ATTR_SIZE_VER0 else 4, False, False, style)
    return enter, f", {attr}, {usize}, {unsigned(ev.args[3], 4)}"
