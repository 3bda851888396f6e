"""Syscalls strace prints in a shape of their own: clone's named arguments, clone3's struct."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import constants, failed, flags_text, hexval, struct_fields

CLONE_PIDFD = 0x1000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_CLEARTID = 0x200000
CLONE_CHILD_SETTID = 0x1000000
CSIGNAL = 0xFF


def _addr(v: int) -> str:
    return "NULL" if v == 0 else hexval(v)


def _clone(ev: SyscallEvent) -> tuple[str, str]:
    c = constants()
    a = dict(zip((f.name for f in ev.info.args), ev.args))
    raw = a["clone_flags"] & 0xFFFFFFFFFFFFFFFF
    flags, sig = raw & ~CSIGNAL, raw & CSIGNAL
    if flags:
        text = flags_text(raw, c.sets["clone_flags"], c)
    else:
        text = c.signal_name(sig) or str(sig)
    enter = f"child_stack={_addr(a['newsp'])}, flags={text}"
    out = []
    if flags & (CLONE_PARENT_SETTID | CLONE_PIDFD):
        pt = a["parent_tidptr"]
        out.append(f"parent_tid=[{ev.ret}]" if flags & CLONE_PARENT_SETTID and ev.ret and ev.ret > 0
                   else f"parent_tid={_addr(pt)}")
    if flags & CLONE_SETTLS:
        out.append(f"tls={_addr(a['tls'])}")
    if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
        out.append(f"child_tidptr={_addr(a['child_tidptr'])}")
    return enter, "".join(", " + o for o in out)


def _clone3(ev: SyscallEvent) -> tuple[str, str]:
    c = constants()
    a = dict(zip((f.name for f in ev.info.args), ev.args))
    slot = ev.entry_slots.get("uargs")
    size = str(a["size"])
    if slot is None or slot.fault or slot.absent or a["size"] < 64:
        return f"{_addr(a['uargs'])}, {size}", ""
    v = struct_fields("clone_args", slot.data)
    flags = v["flags"]
    parts = [f"flags={flags_text(flags, c.sets['clone3_flags'], c)}"]
    if flags & CLONE_PIDFD:
        parts.append(f"pidfd={_addr(v['pidfd'])}")
    if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
        parts.append(f"child_tid={_addr(v['child_tid'])}")
    if flags & CLONE_PARENT_SETTID:
        parts.append(f"parent_tid={_addr(v['parent_tid'])}")
    sig = v["exit_signal"]
    parts.append(f"exit_signal={(c.signal_name(sig) or str(sig)) if sig < 0x7FFFFFFF else sig}")
    parts.append(f"stack={_addr(v['stack'])}")
    parts.append(f"stack_size={hexval(v['stack_size'])}")
    if flags & CLONE_SETTLS:
        parts.append(f"tls={_addr(v['tls'])}")
    if v["set_tid"] or v["set_tid_size"]:
        parts.append(f"set_tid={_addr(v['set_tid'])}, set_tid_size={v['set_tid_size']}")
    if v["cgroup"]:
        parts.append(f"cgroup={v['cgroup']}")
    struct_text = "{" + ", ".join(parts) + "}"
    if not flags & (CLONE_PIDFD | CLONE_PARENT_SETTID):
        return f"{struct_text}, {size}", ""
    # the kernel writes the child's tid behind parent_tid: strace shows it as a changed value
    changed = ""
    if ev.exit is not None and not failed(ev.ret) and flags & CLONE_PARENT_SETTID:
        changed = f" => {{parent_tid=[{ev.ret}]}}"
    return struct_text, f"{changed}, {size}"


PRINTERS = {"clone": _clone, "clone3": _clone3}


def special(ev: SyscallEvent):
    """The (entry part, exit part) of a syscall strace prints its own way, or None."""
    if ev.info is None or ev.enter is None or ev.info.raw:
        return None
    fn = PRINTERS.get(ev.info.name)
    return fn(ev) if fn else None
