"""Syscalls strace prints in a shape of their own: clone's named arguments, clone3's struct."""

from __future__ import annotations

import functools
import importlib

from tracespec.catalogue.constants import ConstantSet
from tracespec.decode.events import SIGFRAME_MASK_SLOT, SyscallEvent
from tracespec.quote import quote
from tracespec.format.prctl import prctl
from tracespec.format.structs import sigset_text, struct_text
from tracespec.format.termios import termios_text, winsize_text
from tracespec.format.values import (DEFAULT_STYLE, Style, addr_text, constants, copied, enum_text, failed, flags_text,
                                     hexval, named_memory_text, signal_text, signed32, struct_fields, structs,
                                     unsigned, with_comment)

CLONE_PIDFD = 0x1000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_CLEARTID = 0x200000
CLONE_CHILD_SETTID = 0x1000000
CSIGNAL = 0xFF


def _clone(ev: SyscallEvent, style: Style = DEFAULT_STYLE, fd_text=str) -> tuple[str, str]:
    c = constants()
    a = dict(zip((f.name for f in ev.info.args), ev.args))
    raw = a["clone_flags"] & 0xFFFFFFFFFFFFFFFF
    flags, sig = raw & ~CSIGNAL, raw & CSIGNAL
    if flags:  # the flags, then the exit signal as a signal (-X verbose: each its own number and comment)
        text = flags_text(flags, c.sets["clone_flags"], c, style)
        if sig:
            text += "|" + signal_text(sig, style)
    else:
        text = signal_text(sig, style)
    enter = f"child_stack={addr_text(a['newsp'])}, flags={text}"
    out = []
    if flags & (CLONE_PARENT_SETTID | CLONE_PIDFD):
        # what the kernel wrote there, read when the call returned (strace's printnum_fd with CLONE_PIDFD,
        # printnum_int with CLONE_PARENT_SETTID): [N], or the pointer when it failed or could not be read
        pt = a["parent_tidptr"]
        slot = ev.slots.get("parent_tidptr")
        if ev.exit is None or failed(ev.ret) or slot is None or slot.absent or slot.fault or len(slot.data) < 4:
            out.append(f"parent_tid={addr_text(pt)}")
        else:
            n = int.from_bytes(slot.data[:4], "little", signed=True)
            out.append(f"parent_tid=[{fd_text(n) if flags & CLONE_PIDFD else n}]")
    if flags & CLONE_SETTLS:
        out.append(f"tls={addr_text(a['tls'])}")
    if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
        out.append(f"child_tidptr={addr_text(a['child_tidptr'])}")
    return enter, "".join(", " + o for o in out)


CLONE_INTO_CGROUP = 0x200000000
CLONE_ARGS_MIN = 64  # offsetofend(struct clone_args, tls): strace prints a smaller one's address
CLONE_ARGS_CGROUP = 80  # offsetof(struct clone_args, cgroup)


def _clone3_written(ev: SyscallEvent, part: str, at: int, text) -> str:
    """What the kernel wrote behind one of clone_args' pointers, as strace's printnum_fd and printnum_pid
    read it when the call returns: [N], or the pointer when it could not be read."""
    slot = ev.slots.get(f"uargs__{part}")
    if slot is None or slot.absent or slot.fault or len(slot.data) < 4:
        return f"{part}={addr_text(at)}"
    return f"{part}=[{text(int.from_bytes(slot.data[:4], 'little', signed=True))}]"


def _clone3(ev: SyscallEvent, style: Style = DEFAULT_STYLE, fd_text=str) -> tuple[str, str]:
    """strace's clone3: struct clone_args at entry (the first min(size, 88) bytes, as strace reads them),
    and with CLONE_PIDFD or CLONE_PARENT_SETTID what the kernel wrote behind those pointers (copied when
    the call returned: tracespec/catalogue/structs.py), after "=>", once the call succeeded."""
    c = constants()
    a = dict(zip((f.name for f in ev.info.args), ev.args))
    slot = ev.entry_slots.get("uargs")
    size = str(a["size"])
    fetch = min(a["size"], structs()["clone_args"].size)
    if slot is None or slot.fault or slot.absent or fetch < CLONE_ARGS_MIN or len(slot.data) < fetch:
        return f"{addr_text(a['uargs'])}, {size}", ""
    data = slot.data[:fetch].ljust(structs()["clone_args"].size, b"\0")  # what strace did not read: zero
    v = struct_fields("clone_args", data)
    flags = v["flags"]
    parts = [f"flags={flags_text(flags, c.sets['clone3_flags'], c, style)}"]
    if flags & CLONE_PIDFD:
        parts.append(f"pidfd={addr_text(v['pidfd'])}")
    if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
        parts.append(f"child_tid={addr_text(v['child_tid'])}")
    if flags & CLONE_PARENT_SETTID:
        parts.append(f"parent_tid={addr_text(v['parent_tid'])}")
    sig = v["exit_signal"]
    parts.append(f"exit_signal={signal_text(sig, style) if sig < 0x7FFFFFFF else sig}")
    parts.append(f"stack={addr_text(v['stack'])}")
    parts.append(f"stack_size={hexval(v['stack_size'])}")
    if flags & CLONE_SETTLS:
        parts.append(f"tls={addr_text(v['tls'])}")
    if v["set_tid"] or v["set_tid_size"]:
        parts.append(f"set_tid={addr_text(v['set_tid'])}, set_tid_size={v['set_tid_size']}")
    if fetch > CLONE_ARGS_CGROUP and (v["cgroup"] or flags & CLONE_INTO_CGROUP):
        parts.append(f"cgroup={v['cgroup']}")
    struct_text = "{" + ", ".join(parts) + "}"
    if not flags & (CLONE_PIDFD | CLONE_PARENT_SETTID):
        return f"{struct_text}, {size}", ""
    changed = []
    if ev.exit is not None and not failed(ev.ret):
        if flags & CLONE_PIDFD:
            changed.append(_clone3_written(ev, "pidfd", v["pidfd"], fd_text))
        if flags & CLONE_PARENT_SETTID:
            changed.append(_clone3_written(ev, "parent_tid", v["parent_tid"], str))
    written = f" => {{{', '.join(changed)}}}" if changed else ""
    return struct_text, f"{written}, {size}"


# kcmp: the types that compare two descriptors (strace's kcmp.c); the others compare whole resources and
# take no index, an unknown one two in hex
KCMP_FILE, KCMP_EPOLL_TFD = 0, 7
KCMP_NO_INDEX = frozenset({1, 2, 3, 4, 5, 6})  # KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM


def _kcmp(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's kcmp: the two processes, the type by name, then by type: two descriptors (each of its own
    process, which -y names), a descriptor and struct kcmp_epoll_slot (its descriptors pid2's), none, or
    two numbers in hex."""
    c = constants()
    pid1, pid2 = (signed32(p) for p in ev.args[:2])
    kind = signed32(ev.args[2])
    idx1, idx2 = ev.args[3], ev.args[4]
    parts = [str(pid1), str(pid2), enum_text(kind, c.sets["kcmp_types"], style)]

    def fd(owner: int, value: int) -> str:
        value = signed32(value)  # strace's int
        return fd_text(value, owner)

    if kind == KCMP_FILE:
        parts += [fd(pid1, idx1), fd(pid2, idx2)]
    elif kind == KCMP_EPOLL_TFD:
        data = copied(ev.entry_slots.get("idx2"), structs()["kcmp_epoll_slot"].size)
        if data is None:
            slot_text = addr_text(idx2)
        else:
            v = struct_fields("kcmp_epoll_slot", data)
            slot_text = f"{{efd={fd(pid2, v['efd'])}, tfd={fd(pid2, v['tfd'])}, toff={v['toff']}}}"
        parts += [fd(pid1, idx1), slot_text]
    elif kind not in KCMP_NO_INDEX:
        parts += [hexval(idx1), hexval(idx2)]
    return ", ".join(parts), ""


IORING_SETUP_ATTACH_WQ = 0x20
IO_URING_PARAMS = 120


def _ring_offsets(v: dict, ring: str, names: tuple[str, ...]) -> str:
    """strace's print_io_sqring_offsets and print_io_cqring_offsets: the fields, resv1 and resv2 (in
    hex) only when not zero."""
    text = ", ".join(f"{n}={v[f'{ring}.{n}']}" for n in names)
    for extra in ("resv1", "resv2"):
        if v[f"{ring}.{extra}"]:
            text += f", {extra}={hexval(v[f'{ring}.{extra}'])}"
    return f"{ring}={{{text}}}"


def _io_uring_setup(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's io_uring_setup: struct io_uring_params as the caller filled it in at entry (the attached
    workqueue's descriptor with IORING_SETUP_ATTACH_WQ, the reserved words when not all zero), and what
    the kernel wrote into it when the call succeeded: the rings' sizes, the features, the offsets."""
    c = constants()
    entries, params = unsigned(ev.args[0], 4), ev.args[1]
    data = copied(ev.entry_slots.get("params"), IO_URING_PARAMS)
    if data is None:
        return f"{entries}, {addr_text(params)}", ""
    v = struct_fields("io_uring_params", data)
    text = (f"{entries}, {{flags={flags_text(v['flags'], c.sets['uring_setup_flags'], c, style)}, "
            f"sq_thread_cpu={hexval(v['sq_thread_cpu'])}, sq_thread_idle={v['sq_thread_idle']}")
    if v["flags"] & IORING_SETUP_ATTACH_WQ:
        text += f", wq_fd={fd_text(signed32(v['wq_fd']))}"
    resv = [v[f"resv[{i}]"] for i in range(3)]
    if any(resv):
        text += f", resv=[{', '.join(hexval(r) for r in resv)}]"
    out = ""
    written = copied(ev.slots.get("params"), IO_URING_PARAMS) if ev.exit is not None and not failed(ev.ret) else None
    if written is not None:
        w = struct_fields("io_uring_params", written)
        out = (f", sq_entries={w['sq_entries']}, cq_entries={w['cq_entries']}, "
               f"features={flags_text(w['features'], c.sets['uring_setup_features'], c, style)}, "
               + _ring_offsets(w, "sq_off", ("head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array"))
               + ", " + _ring_offsets(w, "cq_off", ("head", "tail", "ring_mask", "ring_entries", "overflow", "cqes",
                                                     "flags")))
    return text, out + "}"


# fcntl: how the third argument reads, by command (strace's fcntl.c); a command not named here has
# none, an unknown one a hex number
FCNTL_ARG = {
    "F_DUPFD": "int", "F_DUPFD_CLOEXEC": "int", "F_DUPFD_QUERY": "int", "F_SETOWN": "int", "F_SETPIPE_SZ": "int",
    "F_SETFD": "flags:fd_flags", "F_SETFL": "flags:open_flags", "F_NOTIFY": "flags:dnotify_flags",
    "F_ADD_SEALS": "flags:seal_flags", "F_SETLEASE": "enum:lock_type", "F_SETSIG": "sig",
    # the struct the kernel reads: decoded from the copy made at entry
    "F_SETLK": "flock", "F_SETLKW": "flock", "F_OFD_SETLK": "flock", "F_OFD_SETLKW": "flock",
    "F_SETOWN_EX": "owner",
    # a struct strace would read (owner uids, a hint): its address, as nothing is copied
    "F_GETOWNER_UIDS": "ptr", "F_GET_RW_HINT": "ptr", "F_SET_RW_HINT": "ptr", "F_GET_FILE_RW_HINT": "ptr",
    "F_SET_FILE_RW_HINT": "ptr", "F_CANCELLK": "hex",
}
# fcntl: the commands whose struct the kernel writes, shown when the call returns (with l_pid for a lock)
FCNTL_OUT = {"F_GETLK": "getlk", "F_OFD_GETLK": "getlk", "F_GETOWN_EX": "owner"}
# fcntl: returns strace explains, by command: (flag set, the word before its names)
FCNTL_RET = {"F_GETFD": ("fd_flags", "flags"), "F_GETFL": ("open_flags", "flags"), "F_GET_SEALS": ("seal_flags", "seals")}


def _flock(data: bytes, getlk: bool, style: Style) -> str:
    """strace's print_struct_flock64: type and whence by name, start and length, the pid when returned."""
    c = constants()
    v = struct_fields("flock", data)
    text = (f"{{l_type={enum_text(v['l_type'], c.sets['lock_type'], style)}, "
            f"l_whence={enum_text(v['l_whence'], c.sets['seek_whence'], style)}, "
            f"l_start={v['l_start']}, l_len={v['l_len']}")
    return text + (f", l_pid={v['l_pid']}}}" if getlk else "}")


def _owner(data: bytes, style: Style) -> str:
    v = struct_fields("f_owner_ex", data)
    return f"{{type={enum_text(v['type'], constants().sets['owner_type'], style)}, pid={v['pid']}}}"


def _fcntl_struct(how: str, ptr: int, slot, style: Style) -> str:
    if ptr == 0:
        return "NULL"
    data = copied(slot, structs()["f_owner_ex" if how == "owner" else "flock"].size)
    if data is None:
        return addr_text(ptr)
    return _owner(data, style) if how == "owner" else _flock(data, how == "getlk", style)


def _typed(value: int, how: str, size: int, style: Style) -> str:
    c = constants()
    kind, _, set_name = how.partition(":")
    if kind == "int":
        return str(unsigned(value, size) - (1 << 32) if unsigned(value, size) >= 1 << 31 else unsigned(value, size))
    if kind == "flags":
        return flags_text(unsigned(value, size), c.sets[set_name], c, style)
    if kind == "enum":
        return enum_text(unsigned(value, size), c.sets[set_name], style)
    if kind == "sig":
        return signal_text(unsigned(value, size), style)
    if kind == "ptr":
        return addr_text(value)
    return hexval(value)


def _fcntl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, str | None]:
    c = constants()
    fd, cmd, arg = ev.args[0], unsigned(ev.args[1], 4), ev.args[2]
    cmd_set = c.sets["fcntl_cmd"]
    name = cmd_set.lookup(cmd)
    enter = f"{fd_text(fd)}, {enum_text(cmd, cmd_set, style)}"
    if name in FCNTL_OUT:
        # strace reads it when the call returns; a failed call wrote nothing: its address
        if ev.exit is None:
            return enter, "", None
        shown = addr_text(arg) if failed(ev.ret) else _fcntl_struct(FCNTL_OUT[name], arg, ev.slots.get("arg"), style)
        return enter, f", {shown}", None
    how = FCNTL_ARG.get(name, "none") if name is not None else "hex"
    if how in ("flock", "owner"):
        enter += f", {_fcntl_struct(how, arg, ev.entry_slots.get('arg'), style)}"
    elif how != "none":
        enter += f", {_typed(arg, how, 4 if how != 'ptr' and how != 'hex' else 8, style)}"
    ret = None
    if name in FCNTL_RET and ev.ret is not None and ev.ret > 0 and not failed(ev.ret):
        set_name, word = FCNTL_RET[name]
        ret = f"{hex(ev.ret)} ({word} {flags_text(ev.ret, c.sets[set_name], c, style)})"
    return enter, "", ret


IOC_NRBITS, IOC_TYPEBITS, IOC_SIZEBITS = 8, 8, 14
IOC_DIRS = ((1, "_IOC_WRITE"), (2, "_IOC_READ"))
# ioctl requests strace decodes, by how it prints their argument; any other known request's argument is
# a hex number, as is an unknown request's
IOCTL_INT_ARG = frozenset({"TCSBRK", "TCSBRKP", "TIOCSCTTY", "FICLONE"})
IOCTL_ENUM_ARG = {"TCXONC": "tcxonc_options", "TCFLSH": "tcflsh_options"}
# the terminal requests whose argument points to memory strace reads (its term.c): (when, what). "in":
# read at entry, whatever the call's outcome; "out": read when the call returns, the address if it failed
IOCTL_MEMORY = {
    "TCGETS": ("out", "termios"), "TIOCGLCKTRMIOS": ("out", "termios"),
    "TCSETS": ("in", "termios"), "TCSETSW": ("in", "termios"), "TCSETSF": ("in", "termios"),
    "TIOCSLCKTRMIOS": ("in", "termios"),
    "TCGETS2": ("out", "termios2"), "TCSETS2": ("in", "termios2"), "TCSETSW2": ("in", "termios2"),
    "TCSETSF2": ("in", "termios2"),
    "TCGETA": ("out", "termio"), "TCSETA": ("in", "termio"), "TCSETAW": ("in", "termio"), "TCSETAF": ("in", "termio"),
    "TIOCGWINSZ": ("out", "winsize"), "TIOCSWINSZ": ("in", "winsize"),
    "TIOCMGET": ("out", "modem"), "TIOCMBIS": ("in", "modem"), "TIOCMBIC": ("in", "modem"), "TIOCMSET": ("in", "modem"),
    "TIOCGPGRP": ("out", "int"), "TIOCGSID": ("out", "int"), "TIOCGETD": ("out", "int"), "TIOCGSOFTCAR": ("out", "int"),
    "TIOCGPTN": ("out", "int"), "FIONREAD": ("out", "int"), "TIOCOUTQ": ("out", "int"), "TIOCGEXCL": ("out", "int"),
    "TIOCGDEV": ("out", "int"),
    "TIOCSPGRP": ("in", "int"), "TIOCSETD": ("in", "int"), "FIONBIO": ("in", "int"), "FIOASYNC": ("in", "int"),
    "TIOCPKT": ("in", "int"), "TIOCSSOFTCAR": ("in", "int"), "TIOCSPTLCK": ("in", "int"),
    "TIOCSTI": ("in", "char"),
}
IOCTL_MEMORY_SIZE = {"termios": 36, "termios2": 44, "termio": 18, "winsize": 8, "modem": 4, "int": 4, "char": 1}
# terminal requests with no argument at all
IOCTL_NO_ARG = frozenset({"TIOCSBRK", "TIOCCBRK", "TIOCCONS", "TIOCNOTTY", "TIOCEXCL", "TIOCNXCL", "FIOCLEX",
                          "FIONCLEX", "TIOCVHANGUP", "TIOCSSERIAL"})
IOCTL_TERMINAL_TYPE = 0x54  # 'T': strace's term_ioctl decodes these; an undecoded one's argument is hex
IOCTL_PTR_ARG = frozenset({
    "FICLONERANGE", "FIDEDUPERANGE", "FS_IOC_GETFLAGS", "FS_IOC_SETFLAGS", "FS_IOC_GETVERSION",
    "FS_IOC_SETVERSION", "FS_IOC_FSGETXATTR", "FS_IOC_FSSETXATTR", "BLKGETSIZE", "BLKGETSIZE64", "BLKSSZGET",
    "BLKBSZGET", "BLKROGET", "SIOCGIFCONF", "SIOCGIFFLAGS", "SIOCGIFINDEX", "SIOCGIFNAME", "SIOCGIFMTU",
    "SIOCGIFHWADDR", "SIOCGIFADDR", "SIOCATMARK", "SIOCGSTAMP", "SIOCGSTAMPNS"})


def ioctl_request_text(request: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's ioctl request: every name the number has ("A or B"), else _IOC(dir, type, nr, size)."""
    names = [n for n, v in constants().sets["ioctl_request"].entries if v == request]
    number = hex(request) if request else "0"
    if names:
        text = " or ".join(names)
        return number if style.xlat == "raw" else f"{number} /* {text} */" if style.xlat == "verbose" else text
    if style.xlat == "raw":
        return number
    nr, typ = request & 0xFF, (request >> IOC_NRBITS) & 0xFF
    size = (request >> (IOC_NRBITS + IOC_TYPEBITS)) & ((1 << IOC_SIZEBITS) - 1)
    direction = request >> (IOC_NRBITS + IOC_TYPEBITS + IOC_SIZEBITS)
    dirs = "|".join(n for bit, n in reversed(IOC_DIRS) if direction & bit) or "_IOC_NONE"
    return f"_IOC({dirs}, {hex(typ) if typ else 0}, {hex(nr) if nr else 0}, {hex(size) if size else 0})"


def _ioctl_memory(what: str, data: bytes, style: Style) -> str:
    c = constants()
    if what in ("termios", "termios2", "termio"):
        return termios_text(what, data, style)
    if what == "winsize":
        return winsize_text(data)
    if what == "char":
        return quote(data[:1], False, style.hex_strings)
    number = int.from_bytes(data[:4], "little", signed=what == "int")
    return f"[{number if what == 'int' else flags_text(number, c.sets['modem_flags'], c, style)}]"


def _ioctl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, None]:
    fd, request, arg = ev.args[0], unsigned(ev.args[1], 4), ev.args[2]
    names = [n for n, v in constants().sets["ioctl_request"].entries if v == request]
    enter = f"{fd_text(fd)}, {ioctl_request_text(request, style)}"
    memory = next((IOCTL_MEMORY[n] for n in names if n in IOCTL_MEMORY), None)
    if memory is not None:
        when, what = memory
        if when == "out" and ev.exit is None:
            return enter, "", None
        data = None
        if arg != 0 and not (when == "out" and failed(ev.ret)):
            data = copied((ev.slots if when == "out" else ev.entry_slots).get("arg"), IOCTL_MEMORY_SIZE[what])
        shown = "NULL" if arg == 0 else addr_text(arg) if data is None else _ioctl_memory(what, data, style)
        return (enter, f", {shown}", None) if when == "out" else (f"{enter}, {shown}", "", None)
    if any(n in IOCTL_NO_ARG for n in names):
        return enter, "", None
    enum = next((IOCTL_ENUM_ARG[n] for n in names if n in IOCTL_ENUM_ARG), None)
    if enum is not None:
        shown = enum_text(arg, constants().sets[enum], style)
    elif any(n in IOCTL_INT_ARG for n in names):
        shown = str(unsigned(arg, 4) - (1 << 32) if unsigned(arg, 4) >= 1 << 31 else unsigned(arg, 4))
    elif any(n in IOCTL_PTR_ARG for n in names) and (request >> IOC_NRBITS) & 0xFF != IOCTL_TERMINAL_TYPE:
        shown = addr_text(arg)
    else:
        shown = hexval(arg)
    return f"{enter}, {shown}", "", None


# futex: the arguments each command uses, in order, after uaddr and futex_op (strace's futex.c); a
# command not named here (an unknown one) shows all four
FUTEX_ARGS = {
    "FUTEX_WAIT": ("val", "timeout"), "FUTEX_LOCK_PI": ("timeout",), "FUTEX_LOCK_PI2": ("timeout",),
    "FUTEX_WAIT_BITSET": ("val", "timeout", "bitset"), "FUTEX_WAKE_BITSET": ("val", "bitset"),
    "FUTEX_REQUEUE": ("val", "val2", "uaddr2"), "FUTEX_CMP_REQUEUE": ("val", "val2", "uaddr2", "val3"),
    "FUTEX_CMP_REQUEUE_PI": ("val", "val2", "uaddr2", "val3"),
    "FUTEX_WAKE_OP": ("val", "val2", "uaddr2", "wake_op"),
    "FUTEX_WAIT_REQUEUE_PI": ("val", "timeout", "uaddr2"), "FUTEX_FD": ("val",), "FUTEX_WAKE": ("val",),
    "FUTEX_UNLOCK_PI": (), "FUTEX_TRYLOCK_PI": (),
}
FUTEX_UNKNOWN_ARGS = ("val", "timeout", "uaddr2", "hex3")
FUTEX_CMD_MASK = 127  # the command under FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
FUTEX_OP_OPARG_SHIFT = 8
FUTEX_WAKE_OPS = ("FUTEX_OP_SET", "FUTEX_OP_ADD", "FUTEX_OP_OR", "FUTEX_OP_ANDN", "FUTEX_OP_XOR")
FUTEX_WAKE_CMPS = ("FUTEX_OP_CMP_EQ", "FUTEX_OP_CMP_NE", "FUTEX_OP_CMP_LT", "FUTEX_OP_CMP_LE",
                   "FUTEX_OP_CMP_GT", "FUTEX_OP_CMP_GE")


def _futex_wake_op(val3: int, style: Style) -> str:
    """FUTEX_WAKE_OP's encoded operation, as strace spells it out: op<<28|oparg<<12|cmp<<24|cmparg (a
    part no name covers, or any under -X raw, carries the comment FUTEX_OP_???)."""
    op, cmp = (val3 >> 28) & 0x7, (val3 >> 24) & 0xF

    def part(value: int, names: tuple, shift: int, unknown: str) -> str:
        known = value < len(names) and style.xlat != "raw"
        text = with_comment(hex(value) if value else "0", names[value], style) if known else hex(value) if value else "0"
        return f"{text}<<{shift}" + ("" if known else f" /* {unknown} */")

    parts = [f"{with_comment('0x8', 'FUTEX_OP_OPARG_SHIFT', style)}<<28"] if (val3 >> 28) & FUTEX_OP_OPARG_SHIFT else []
    parts.append(part(op, FUTEX_WAKE_OPS, 28, "FUTEX_OP_???"))
    parts.append(f"{hex((val3 >> 12) & 0xFFF) if (val3 >> 12) & 0xFFF else 0}<<12")
    parts.append(part(cmp, FUTEX_WAKE_CMPS, 24, "FUTEX_OP_CMP_???"))
    parts.append(hex(val3 & 0xFFF) if val3 & 0xFFF else "0")
    return "|".join(parts)


def _bitset(val3: int, style: Style) -> str:
    """strace's printxval(futexbitset, val3, NULL): the name, or the number with no comment."""
    name = constants().sets["futex_bitset"].lookup(val3)
    return hexval(val3) if name is None else with_comment(hexval(val3), name, style)


def _timeout(ptr: int, slot) -> str:
    """The timespec read at entry (strace's print_timespec), its address when it could not be read."""
    if ptr == 0:
        return "NULL"
    data = copied(slot, structs()["timespec"].size)
    return addr_text(ptr) if data is None else struct_text("timespec", data)


def _futex(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, None]:
    c = constants()
    uaddr, op, val, timeout, uaddr2, val3 = ev.args[:6]
    op = unsigned(op, 4)
    name = c.sets["futex_op"].lookup(op & FUTEX_CMD_MASK)
    shown = {
        "val": lambda: str(unsigned(val, 4)),
        "val2": lambda: str(unsigned(timeout, 4)),  # the timeout argument carries a count for requeues
        "timeout": lambda: _timeout(timeout, ev.entry_slots.get("utime")),
        "uaddr2": lambda: addr_text(uaddr2),
        "val3": lambda: str(unsigned(val3, 4)),
        "hex3": lambda: hexval(unsigned(val3, 4)),
        "bitset": lambda: _bitset(unsigned(val3, 4), style),
        "wake_op": lambda: _futex_wake_op(unsigned(val3, 4), style),
    }
    args = FUTEX_ARGS.get(name, FUTEX_UNKNOWN_ARGS)
    parts = [addr_text(uaddr), enum_text(op, c.sets["futex_op"], style)] + [shown[a]() for a in args]
    return ", ".join(parts), "", None


# arch_prctl: ARCH_GET_CPUID takes nothing; the others an address or a value, in hex (strace's
# prctl.c; the values ARCH_GET_FS and kin write are not copied, so their address shows)
ARCH_PRCTL_NO_ARG = frozenset({"ARCH_GET_CPUID"})
ARCH_PRCTL_ADDR = frozenset({"ARCH_GET_FS", "ARCH_GET_GS", "ARCH_GET_XCOMP_SUPP", "ARCH_GET_XCOMP_PERM",
                             "ARCH_GET_XCOMP_GUEST_PERM"})


def _arch_prctl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, None]:
    c = constants()
    option, addr = unsigned(ev.args[0], 4), ev.args[1]
    name = c.sets["arch_prctl_code"].lookup(option)
    text = enum_text(option, c.sets["arch_prctl_code"], style)
    if name in ARCH_PRCTL_NO_ARG:
        return text, "", None
    return f"{text}, {addr_text(addr) if name in ARCH_PRCTL_ADDR else hexval(addr)}", "", None


CAP_VERSIONS_OF_TWO = (0x20071026, 0x20080522)  # _LINUX_CAPABILITY_VERSION_2 and _3: 64 capabilities
CAP_DATA_SIZE = 12  # one struct __user_cap_data_struct: 32 capabilities


@functools.lru_cache(maxsize=1)
def _cap_masks() -> tuple[ConstantSet, ConstantSet]:
    """strace's cap_mask0 and cap_mask1: each capability as its bit (1<<CAP_CHOWN), in the low word's
    set or the high word's, made from the capability numbers."""
    caps = constants().sets["capability"].entries
    low = tuple((f"1<<{n}", 1 << v) for n, v in caps if v < 32)
    high = tuple((f"1<<{n}", 1 << (v - 32)) for n, v in caps if 32 <= v < 64)
    return (ConstantSet("cap_mask0", "flags", low, unknown="CAP_???"),
            ConstantSet("cap_mask1", "flags", high, unknown="CAP_???"))


def _cap_bits(lo: int, hi: int, style: Style) -> str:
    """strace's print_cap_bits: the low word's capabilities (or 0), then the high word's."""
    c = constants()
    low, high = _cap_masks()
    parts = [flags_text(lo, low, c, style)] if lo or not hi else []
    if hi:
        parts.append(flags_text(hi, high, c, style))
    return "|".join(parts)


def _cap_header(ev: SyscallEvent, style: Style) -> tuple[str, int | None]:
    """The header as strace prints it, and its version (None when it was not read: NULL or unreadable,
    and then strace prints the data's address too)."""
    addr = ev.args[0]
    data = copied(ev.entry_slots.get("header"), structs()["cap_header"].size) if addr else None
    if data is None:
        return addr_text(addr), None
    v = struct_fields("cap_header", data)
    version = enum_text(v["version"], constants().sets["cap_version"], style)
    return f"{{version={version}, pid={v['pid']}}}", v["version"]


def _cap_data(addr: int, slot, version: int | None, style: Style) -> str:
    """strace's print_cap_data: two words of each set for versions 2 and 3 of the header, one for others."""
    two = version in CAP_VERSIONS_OF_TWO
    data = copied(slot, CAP_DATA_SIZE * (2 if two else 1)) if addr and version is not None else None
    if data is None:
        return addr_text(addr)
    v = struct_fields("cap_data", data)
    return "{" + ", ".join(f"{k}={_cap_bits(v[k], v[k + '_hi'] if two else 0, style)}"
                           for k in ("effective", "permitted", "inheritable")) + "}"


def _capget(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """The header at entry; the data the kernel wrote when the call returns, read by the header's
    version (its address when the call failed)."""
    header, version = _cap_header(ev, style)
    if ev.exit is None:
        return header, ""
    ok = not failed(ev.ret)
    return header, ", " + _cap_data(ev.args[1], ev.slots.get("dataptr") if ok else None,
                                    version if ok else None, style)


def _capset(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    header, version = _cap_header(ev, style)
    return f"{header}, {_cap_data(ev.args[1], ev.entry_slots.get('data'), version, style)}", ""


SECCOMP_SET_MODE_FILTER, SECCOMP_GET_ACTION_AVAIL, SECCOMP_GET_NOTIF_SIZES = 1, 2, 3


def _seccomp(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's seccomp, by operation: SECCOMP_SET_MODE_FILTER's flags by name and its program's length
    and address; the action SECCOMP_GET_ACTION_AVAIL asks about; the sizes SECCOMP_GET_NOTIF_SIZES
    returns; other flags in hex, other arguments as addresses."""
    c = constants()
    op, flags, addr = unsigned(ev.args[0], 4), unsigned(ev.args[1], 4), ev.args[2]
    head = enum_text(op, c.sets["seccomp_ops"], style)
    size = structs()["seccomp_arg"].size
    if op == SECCOMP_SET_MODE_FILTER:
        data = copied(ev.entry_slots.get("uargs"), size) if addr else None
        arg = addr_text(addr) if data is None else \
            (lambda v: f"{{len={v['len']}, filter={addr_text(v['filter'])}}}")(struct_fields("seccomp_arg", data))
        return f"{head}, {flags_text(flags, c.sets['seccomp_filter_flags'], c, style)}, {arg}", ""
    if op == SECCOMP_GET_ACTION_AVAIL:
        data = copied(ev.entry_slots.get("uargs"), 4) if addr else None
        arg = addr_text(addr) if data is None else \
            f"[{enum_text(struct_fields('seccomp_arg', data)['action'], c.sets['seccomp_ret_action'], style)}]"
        return f"{head}, {hexval(flags)}, {arg}", ""
    if op == SECCOMP_GET_NOTIF_SIZES:
        if ev.exit is None:
            return f"{head}, {hexval(flags)}", ""
        data = None if failed(ev.ret) or not addr else copied(ev.slots.get("uargs"), 6)
        if data is None:
            return f"{head}, {hexval(flags)}", f", {addr_text(addr)}"
        v = struct_fields("seccomp_arg", data)
        return f"{head}, {hexval(flags)}", (f", {{seccomp_notif={v['seccomp_notif']}, "
                                             f"seccomp_notif_resp={v['seccomp_notif_resp']}, "
                                             f"seccomp_data={v['seccomp_data']}}}")
    return f"{head}, {hexval(flags)}, {addr_text(addr)}", ""


FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, FSCONFIG_SET_BINARY, FSCONFIG_SET_PATH = 0, 1, 2, 3
FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_FD = 4, 5


def _fsconfig(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's fsconfig, by command: the key for the SET commands, the value as a string or path for
    those that take one (else its address), the auxiliary argument as a directory, a descriptor or a
    number."""
    c = constants()
    fd, cmd = ev.args[0], unsigned(ev.args[1], 4)
    key, value = ev.args[2], ev.args[3]
    aux = signed32(ev.args[4])
    parts = [fd_text(fd), enum_text(cmd, c.sets["fsconfig_cmds"], style)]
    parts.append(named_memory_text(ev, "_key", style) if cmd <= FSCONFIG_SET_FD else addr_text(key))
    strings = (FSCONFIG_SET_STRING, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY)
    parts.append(named_memory_text(ev, "_value", style) if cmd in strings else addr_text(value))
    if cmd in (FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY):
        parts.append(with_comment("-100", "AT_FDCWD", style) if aux == -100 else fd_text(aux))
    elif cmd == FSCONFIG_SET_FD:
        parts.append(fd_text(aux))
    else:
        parts.append(str(aux))
    return ", ".join(parts), ""


MS_REMOUNT, MS_BIND, MS_MOVE = 0x20, 0x1000, 0x2000
MS_PROPAGATION = 0x20000 | 0x40000 | 0x80000 | 0x100000  # MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED
MS_MGC_VAL, MS_MGC_MSK = 0xC0ED0000, 0xFFFF0000


def _mount(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's mount: the old magic (MS_MGC_VAL) apart from the flags; the file system type only when
    the call makes a mount (a remount or a bind, move or propagation change has none: its address), the
    data only when it is not a bind, move or propagation change."""
    c = constants()
    a = dict(zip((f.name for f in ev.info.args), ev.args))
    flags = unsigned(a["flags"], 8)
    old_magic = flags & MS_MGC_MSK == MS_MGC_VAL
    if old_magic:
        flags &= ~MS_MGC_MSK
    moves = not flags & MS_REMOUNT and bool(flags & (MS_BIND | MS_MOVE | MS_PROPAGATION))
    ignore_type = bool(flags & MS_REMOUNT) or moves
    text = enum_text(MS_MGC_VAL, c.sets["mount_magic"], style) + ("|" if flags else "") if old_magic else ""
    if flags or not old_magic:
        text += flags_text(flags, c.sets["mount_flags"], c, style)
    parts = [named_memory_text(ev, "dev_name", style), named_memory_text(ev, "dir_name", style),
             addr_text(a["type"]) if ignore_type else named_memory_text(ev, "type", style), text,
             addr_text(a["data"]) if moves else named_memory_text(ev, "data", style)]
    return ", ".join(parts), ""


SYSLOG_NO_BUFFER = frozenset({0, 1, 5, 6, 7, 9, 10})  # CLOSE OPEN CLEAR CONSOLE_OFF CONSOLE_ON SIZE_UNREAD SIZE_BUFFER
SYSLOG_READS = frozenset({2, 3, 4})  # READ READ_ALL READ_CLEAR: the buffer the kernel filled, at exit
SYSLOG_CONSOLE_LEVEL = 8


def _decimal_named(value: int, cset: ConstantSet) -> str:
    """strace's XLAT_STYLE_VERBOSE | XLAT_STYLE_FMT_D, whatever -X says: the number, its name in a comment."""
    return f"{value} /* {cset.lookup(value) or cset.unknown_text} */"


def _syslog(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """strace's syslog: the action always as its number with its name in a comment; nothing more for the
    actions that take no buffer; what was read for the reads; else the buffer's address and the length
    (the console level, likewise named, for SYSLOG_ACTION_CONSOLE_LEVEL)."""
    c = constants()
    kind, length = signed32(ev.args[0]), signed32(ev.args[2])
    buf = ev.args[1]
    action = _decimal_named(kind, c.sets["syslog_action_type"])
    if kind in SYSLOG_NO_BUFFER:
        return action, ""
    if kind in SYSLOG_READS:
        if ev.exit is None:
            return action, ""
        if failed(ev.ret):
            text = addr_text(buf)
        else:
            text = named_memory_text(ev, "buf", style, at_exit=True)
        return action, f", {text}, {length}"
    if kind == SYSLOG_CONSOLE_LEVEL:
        level = _decimal_named(length, c.sets["syslog_console_levels"])
        return f"{action}, {addr_text(buf)}, {level}", ""
    return f"{action}, {addr_text(buf)}, {length}", ""


MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_FLAG_CPU = 0, 1


def _membarrier(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, str | None]:
    """strace's membarrier: the command, its flags, the CPU only with MEMBARRIER_CMD_FLAG_CPU; the
    commands MEMBARRIER_CMD_QUERY returns, in hex with their names."""
    c = constants()
    cmd, flags = unsigned(ev.args[0], 4), unsigned(ev.args[1], 4)
    cmds = c.sets["membarrier_cmds"]
    parts = [enum_text(signed32(cmd), cmds, style),
             flags_text(flags, c.sets["membarrier_flags"], c, style)]
    if flags & MEMBARRIER_CMD_FLAG_CPU:
        parts.append(str(signed32(ev.args[2])))
    ret = None
    if cmd == MEMBARRIER_CMD_QUERY and ev.exit is not None and ev.ret > 0:
        ret = f"{hexval(ev.ret)} ({flags_text(ev.ret, cmds, c, style)})"
    return ", ".join(parts), "", ret


def _rt_sigreturn(ev: SyscallEvent, style: Style, fd_text):
    """strace's {mask=[...]}: the mask the signal frame restores (decode/events.py), when it was read."""
    slot = ev.slots.get(SIGFRAME_MASK_SLOT)
    if slot is None:
        return None
    return f"{{mask={sigset_text(int.from_bytes(slot.data, 'little'), style=style)}}}", "", None


PRINTERS = {"clone": _clone, "clone3": _clone3, "fcntl": _fcntl, "ioctl": _ioctl, "futex": _futex,
            "prctl": prctl, "arch_prctl": _arch_prctl, "rt_sigreturn": _rt_sigreturn, "kcmp": _kcmp,
            "io_uring_setup": _io_uring_setup, "capget": _capget, "capset": _capset,
            "membarrier": _membarrier, "mount": _mount, "syslog": _syslog,
            "seccomp": _seccomp, "fsconfig": _fsconfig}
# printers in modules of their own (tracespec.format.MODULE, the function named as the syscall unless
# given), imported the first time a trace holds one of their syscalls: most runs never see them
LAZY_PRINTERS = {"reboot": "sysadmin", "swapon": "sysadmin", "kexec_load": "sysadmin",
                 "sched_setattr": "schedattr", "sched_getattr": "schedattr",
                 "landlock_create_ruleset": "landlock", "landlock_add_rule": "landlock", "ptrace": "ptrace",
                 "shmctl": "sysvipc:ipcctl", "msgctl": "sysvipc:ipcctl", "semctl": "sysvipc:ipcctl"}
OWN_WAY = frozenset(PRINTERS) | frozenset(LAZY_PRINTERS)  # every syscall printed by a printer here


def _printer(name: str):
    fn = PRINTERS.get(name)
    if fn is None and name in LAZY_PRINTERS:
        module, _, attr = LAZY_PRINTERS[name].partition(":")
        fn = PRINTERS[name] = getattr(importlib.import_module(f"tracespec.format.{module}"), attr or name)
    return fn
MAKES_FDS = frozenset({"clone", "clone3"})  # printers whose descriptors are ones the call made
STYLED = frozenset({"clone", "clone3", "fcntl", "ioctl", "futex", "prctl", "arch_prctl", "rt_sigreturn", "kcmp",
                    "io_uring_setup", "capget", "capset", "membarrier",
                    "mount", "syslog", "seccomp", "fsconfig", "reboot", "swapon", "kexec_load",
                    "sched_setattr", "sched_getattr", "landlock_create_ruleset", "landlock_add_rule",
                    "ptrace", "shmctl", "msgctl", "semctl"})  # printers that take the abbreviation style and a descriptor's text



def special(ev: SyscallEvent, style: Style = DEFAULT_STYLE, fds=None):
    """The (entry part, exit part[, return text or None]) of a syscall strace prints its own way, or None.
    fds: -y's descriptor table (FdPaths), whose annotation a descriptor argument gets."""
    if ev.info is None or ev.enter is None or ev.info.raw:
        return None
    fn = _printer(ev.info.name)
    if fn is None or len(ev.args) < len(ev.info.args):
        return None
    if ev.info.name not in STYLED:
        return fn(ev)
    # a descriptor's text: with -y what it refers to, in the caller's table or the process named
    # (kcmp's); one the call made (clone3's pidfd) as the call left it
    if fds is None:
        return fn(ev, style, lambda fd, owner=None: str(fd))
    if ev.info.name in MAKES_FDS:
        return fn(ev, style, lambda fd, owner=None: fds.annotate_new(ev.tgid if owner is None else owner, fd))
    return fn(ev, style, lambda fd, owner=None: fds.annotate(ev.tgid if owner is None else owner, fd))
