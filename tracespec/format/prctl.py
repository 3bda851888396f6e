"""prctl as strace prints it (its prctl.c): per option, which arguments show and how, what the kernel
wrote behind arg2 when the call returns, and the return values it explains.

arg2 is copied (16 bytes) at entry and again when the call succeeds; a number there, not an address,
faults harmlessly and is printed from the register."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.quote import quote
from tracespec.format.values import (Style, constants, enum_text, failed, flags_text, hexval, signal_text, unsigned,
                                     with_comment)

NARGS = 5  # option and four arguments: strace's print_prctl_args prints those not decoded in hex
TASK_COMM_LEN = 16
INT_SIZE, KPTR_SIZE = 4, 8

# At entry, each option's arguments from arg2 on: "u" unsigned, "d" signed, "x" hex, "addr" an address,
# "sig" a signal (a number above 128 as such), "name" PR_SET_NAME's string, "ptracer" a pid or
# PR_SET_PTRACER_ANY, "set:NAME" a value of a constant set (enum or flags), "rest" the arguments left, in
# hex; an option named in EXIT prints ", " and its arg2 when the call returns. An option in neither
# table shows its four arguments in hex, as strace's default does.
ENTRY = {
    "PR_GET_KEEPCAPS": (), "PR_GET_SECCOMP": (), "PR_GET_TIMERSLACK": (), "PR_GET_TIMING": (),
    "PR_GET_DUMPABLE": (), "PR_GET_SECUREBITS": (), "PR_GET_FP_MODE": (),
    "PR_TASK_PERF_EVENTS_DISABLE": (), "PR_TASK_PERF_EVENTS_ENABLE": (),
    "PR_SET_CHILD_SUBREAPER": ("u",), "PR_SET_ENDIAN": ("u",), "PR_SET_FPEMU": ("u",), "PR_SET_FPEXC": ("u",),
    "PR_SET_KEEPCAPS": ("u",), "PR_SET_TIMING": ("u",), "PR_SET_TIMERSLACK": ("d",),
    "PR_SET_DUMPABLE": ("set:pr_dumpable",), "PR_SET_PDEATHSIG": ("sig",), "PR_SET_NAME": ("name",),
    "PR_CAPBSET_DROP": ("set:capability",), "PR_CAPBSET_READ": ("set:capability",),
    "PR_SET_MM": ("set:pr_set_mm", "rest"), "PR_SET_PTRACER": ("ptracer",),
    "PR_SET_SECUREBITS": ("set:secbits",), "PR_SET_TSC": ("set:pr_tsc",), "PR_SET_UNALIGN": ("set:pr_unalign_flags",),
    "PR_SET_FP_MODE": ("set:pr_fp_mode",),
    "PR_SET_NO_NEW_PRIVS": ("u", "rest"), "PR_SET_THP_DISABLE": ("u", "rest"), "PR_SET_IO_FLUSHER": ("u", "rest"),
    "PR_GET_SPECULATION_CTRL": ("set:pr_spec_cmds",),
    "PR_SET_SYSCALL_USER_DISPATCH": ("set:pr_sud_cmds", "x", "x", "addr"),
}
# what the kernel writes behind arg2, printed when the call returns (the address when it failed)
EXIT = {"PR_GET_CHILD_SUBREAPER": "uint", "PR_GET_ENDIAN": "uint", "PR_GET_FPEMU": "uint", "PR_GET_FPEXC": "uint",
        "PR_GET_PDEATHSIG": "sig", "PR_GET_TSC": "set:pr_tsc", "PR_GET_UNALIGN": "set:pr_unalign_flags",
        "PR_GET_TID_ADDRESS": "kptr", "PR_GET_NAME": "comm"}
# returns strace explains: (constant set, whether the number shows in hex). An enum's name shows
# whatever -X says (strace's xlookup); a flags value's names only when not 0, and not under -X raw,
# where the number is bare hex (strace's sprintflags)
RET = {"PR_GET_DUMPABLE": ("pr_dumpable", False), "PR_GET_SECUREBITS": ("secbits", True),
       "PR_GET_FP_MODE": ("pr_fp_mode", True), "PR_MCE_KILL_GET": ("pr_mce_kill_policy", False)}
SPEC_FLAG_CMDS = frozenset({"PR_SPEC_STORE_BYPASS", "PR_SPEC_INDIRECT_BRANCH", "PR_SPEC_L1D_FLUSH"})
AMBIENT_CAP_CMDS = frozenset({"PR_CAP_AMBIENT_RAISE", "PR_CAP_AMBIENT_LOWER", "PR_CAP_AMBIENT_IS_SET"})
SIG_LIMIT = 128  # PR_SET_PDEATHSIG: a number above it is no signal, printed as a number


def _addr(v: int) -> str:
    return "NULL" if v == 0 else hexval(v)


def _signed(v: int) -> int:
    v = unsigned(v)
    return v - (1 << 64) if v >= 1 << 63 else v


def _set_text(value: int, set_name: str, style: Style) -> str:
    c = constants()
    cset = c.sets[set_name]
    return flags_text(value, cset, c, style) if cset.kind == "flags" else enum_text(value, cset, style)


def _entry_arg(how: str, value: int, ev: SyscallEvent, style: Style) -> str:
    if how == "u":
        return str(unsigned(value))
    if how == "d":
        return str(_signed(value))
    if how == "x":
        return hexval(unsigned(value))
    if how == "addr":
        return _addr(value)
    if how == "sig":
        return str(unsigned(value)) if unsigned(value) > SIG_LIMIT else signal_text(unsigned(value), style)
    if how == "ptracer":
        pid = unsigned(value, 4)
        return with_comment("-1", "PR_SET_PTRACER_ANY", style) if pid == 0xFFFFFFFF else \
            str(pid - (1 << 32) if pid >= 1 << 31 else pid)
    if how == "name":
        return _name(value, ev.entry_slots.get("arg2"), TASK_COMM_LEN - 1, style)
    return _set_text(unsigned(value), how.partition(":")[2], style)


def _name(ptr: int, slot, limit: int, style: Style) -> str:
    """strace's printstr_ex(addr, limit, QUOTE_0_TERMINATED): up to limit bytes, "..." when no NUL ends
    them; the address when nothing could be read."""
    if ptr == 0:
        return "NULL"
    if slot is None or slot.absent or slot.fault or not slot.data:
        return _addr(ptr)
    head = slot.data[:limit]
    text, nul, _ = head.partition(b"\0")
    return quote(text, False, style.hex_strings) + ("" if nul else "...")


def _exit_arg(how: str, ev: SyscallEvent, style: Style) -> str:
    ptr = ev.args[1]
    if ptr == 0:
        return "NULL"
    slot = ev.slots.get("arg2")
    if failed(ev.ret) or slot is None or slot.absent or slot.fault:
        return _addr(ptr)
    if how == "comm":
        return _name(ptr, slot, TASK_COMM_LEN, style)
    size = KPTR_SIZE if how == "kptr" else INT_SIZE
    if len(slot.data) < size:
        return _addr(ptr)
    value = int.from_bytes(slot.data[:size], "little")
    if how == "uint":
        return f"[{value}]"
    if how == "kptr":
        return f"[{_addr(value)}]"
    if how == "sig":
        return f"[{signal_text(value, style)}]"
    return f"[{_set_text(value, how.partition(':')[2], style)}]"


def _special_args(name: str, args: tuple, style: Style) -> list[str] | None:
    """The options whose later arguments depend on arg2."""
    c = constants()
    arg2, arg3 = unsigned(args[1]), unsigned(args[2])
    if name == "PR_CAP_AMBIENT":
        sub = c.sets["pr_cap_ambient"].lookup(arg2)
        parts = [enum_text(arg2, c.sets["pr_cap_ambient"], style)]
        if sub in AMBIENT_CAP_CMDS:
            return parts + [enum_text(arg3, c.sets["capability"], style)] + [hexval(unsigned(v)) for v in args[3:NARGS]]
        return parts + [hexval(unsigned(v)) for v in args[2:NARGS]]
    if name == "PR_MCE_KILL":
        parts = [enum_text(arg2, c.sets["pr_mce_kill"], style)]
        policy = c.sets["pr_mce_kill"].lookup(arg2) == "PR_MCE_KILL_SET"
        parts.append(enum_text(arg3, c.sets["pr_mce_kill_policy"], style) if policy else hexval(arg3))
        return parts + [hexval(unsigned(v)) for v in args[3:NARGS]]
    if name == "PR_SET_VMA":  # the name of PR_SET_VMA_ANON_NAME (arg5) is not copied: its address
        parts = [enum_text(arg2, c.sets["pr_set_vma"], style)]
        if c.sets["pr_set_vma"].lookup(arg2) == "PR_SET_VMA_ANON_NAME":
            return parts + [_addr(arg3), str(unsigned(args[3])), _addr(args[4])]
        return parts + [hexval(unsigned(v)) for v in args[2:NARGS]]
    if name == "PR_SET_SECCOMP":  # a filter's struct sock_fprog is not copied: its address
        parts = [enum_text(arg2, c.sets["seccomp_mode"], style)]
        mode = c.sets["seccomp_mode"].lookup(arg2)
        if mode == "SECCOMP_MODE_STRICT":
            return parts
        if mode == "SECCOMP_MODE_FILTER":
            return parts + [_addr(arg3)]
        return parts + [hexval(unsigned(v)) for v in args[2:NARGS]]
    if name == "PR_SET_SPECULATION_CTRL":
        flags = c.sets["pr_spec_cmds"].lookup(arg2) in SPEC_FLAG_CMDS
        return [enum_text(arg2, c.sets["pr_spec_cmds"], style),
                enum_text(arg3, c.sets["pr_spec_set_flags"], style) if flags else hexval(arg3)]
    return None


def _ret(name: str, ev: SyscallEvent, style: Style) -> str | None:
    c = constants()
    if ev.ret is None or failed(ev.ret):
        return None
    if name == "PR_GET_SPECULATION_CTRL":
        if c.sets["pr_spec_cmds"].lookup(unsigned(ev.args[1])) not in SPEC_FLAG_CMDS:
            return None
        if style.xlat == "raw":
            return hexval(ev.ret)
        cset = c.sets["pr_spec_get_flags"]
        return f"{hexval(ev.ret)} ({flags_text(ev.ret, cset, c) if ev.ret else cset.lookup(0)})"
    if name not in RET:
        return None
    set_name, in_hex = RET[name]
    cset = c.sets[set_name]
    if cset.kind == "flags" and style.xlat == "raw":
        return hexval(ev.ret) if ev.ret else None
    if cset.kind == "flags":
        names = flags_text(ev.ret, cset, c) if ev.ret else None
    else:
        names = cset.lookup(ev.ret)
    if not names:
        return None
    return f"{hexval(ev.ret) if in_hex else ev.ret} ({names})"


def prctl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, str | None]:
    c = constants()
    option = unsigned(ev.args[0], 4)
    name = c.sets["prctl_option"].lookup(option)
    head = enum_text(option, c.sets["prctl_option"], style)
    ret = _ret(name, ev, style)
    if name in EXIT:
        return f"{head}, ", (_exit_arg(EXIT[name], ev, style) if ev.exit is not None else ""), ret
    parts = _special_args(name, ev.args, style)
    if parts is None:
        how = ENTRY.get(name)
        if how is None:
            parts = [hexval(unsigned(v)) for v in ev.args[1:NARGS]]
        else:
            parts = []
            for i, h in enumerate(how, 1):
                if h == "rest":
                    parts += [hexval(unsigned(v)) for v in ev.args[i:NARGS]]
                    break
                parts.append(_entry_arg(h, ev.args[i], ev, style))
    return ", ".join([head] + parts), "", ret
