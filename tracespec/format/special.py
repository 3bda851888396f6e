"""Syscalls strace prints in a shape of their own: clone's named arguments, clone3's struct."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import (DEFAULT_STYLE, Style, constants, enum_text, failed, flags_text, hexval,
                                     struct_fields, unsigned)

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


# fcntl: how the third argument reads, by command (strace's fcntl.c); a command not named here has
# none, an unknown one a hex number
FCNTL_ARG = {
    "F_DUPFD": "int", "F_DUPFD_CLOEXEC": "int", "F_DUPFD_QUERY": "int", "F_SETOWN": "int", "F_SETPIPE_SZ": "int",
    "F_SETFD": "flags:fd_flags", "F_SETFL": "flags:open_flags", "F_NOTIFY": "flags:dnotify_flags",
    "F_ADD_SEALS": "flags:seal_flags", "F_SETLEASE": "enum:lease_type", "F_SETSIG": "sig",
    # a struct strace would read (struct flock, f_owner_ex, a hint): its address, as nothing is copied
    "F_GETLK": "ptr", "F_SETLK": "ptr", "F_SETLKW": "ptr", "F_OFD_GETLK": "ptr", "F_OFD_SETLK": "ptr",
    "F_OFD_SETLKW": "ptr", "F_SETOWN_EX": "ptr", "F_GETOWN_EX": "ptr", "F_GETOWNER_UIDS": "ptr",
    "F_GET_RW_HINT": "ptr", "F_SET_RW_HINT": "ptr", "F_GET_FILE_RW_HINT": "ptr", "F_SET_FILE_RW_HINT": "ptr",
    "F_CANCELLK": "hex",
}
# fcntl: returns strace explains, by command: (flag set, the word before its names)
FCNTL_RET = {"F_GETFD": ("fd_flags", "flags"), "F_GETFL": ("open_flags", "flags"), "F_GET_SEALS": ("seal_flags", "seals")}


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
        return c.signal_name(unsigned(value, size)) or str(unsigned(value, size))
    if kind == "ptr":
        return _addr(value)
    return hexval(value)


def _fcntl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, str | None]:
    c = constants()
    fd, cmd, arg = ev.args[0], unsigned(ev.args[1], 4), ev.args[2]
    cmd_set = c.sets["fcntl_cmd"]
    name = cmd_set.lookup(cmd)
    how = FCNTL_ARG.get(name, "none") if name is not None else "hex"
    enter = f"{fd_text(fd)}, {enum_text(cmd, cmd_set, style)}"
    if how != "none":
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
IOCTL_INT_ARG = frozenset({"TCSBRK", "TCSBRKP", "TCXONC", "TCFLSH", "TIOCSCTTY", "FICLONE"})
IOCTL_PTR_ARG = frozenset({
    "TCGETS", "TCSETS", "TCSETSW", "TCSETSF", "TCGETA", "TCSETA", "TCSETAW", "TCSETAF", "TIOCGWINSZ",
    "TIOCSWINSZ", "TIOCGPGRP", "TIOCSPGRP", "TIOCOUTQ", "TIOCSTI", "TIOCMGET", "TIOCMBIS", "TIOCMBIC",
    "TIOCMSET", "TIOCGSOFTCAR", "TIOCSSOFTCAR", "FIONREAD", "TIOCLINUX", "TIOCGSID", "TIOCGETD", "TIOCSETD",
    "FIONBIO", "TIOCGPTN", "TIOCSPTLCK", "TIOCGDEV", "TIOCGPKT", "TIOCGPTLCK", "TIOCGEXCL", "FIOASYNC",
    "FIOQSIZE", "FICLONERANGE", "FIDEDUPERANGE", "FS_IOC_GETFLAGS", "FS_IOC_SETFLAGS", "FS_IOC_GETVERSION",
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


def _ioctl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str, None]:
    fd, request, arg = ev.args[0], unsigned(ev.args[1], 4), ev.args[2]
    names = [n for n, v in constants().sets["ioctl_request"].entries if v == request]
    if any(n in IOCTL_INT_ARG for n in names):
        shown = str(unsigned(arg, 4) - (1 << 32) if unsigned(arg, 4) >= 1 << 31 else unsigned(arg, 4))
    elif any(n in IOCTL_PTR_ARG for n in names):
        shown = _addr(arg)
    else:
        shown = hexval(arg)
    return f"{fd_text(fd)}, {ioctl_request_text(request, style)}, {shown}", "", None


PRINTERS = {"clone": _clone, "clone3": _clone3, "fcntl": _fcntl, "ioctl": _ioctl}
STYLED = frozenset({"fcntl", "ioctl"})  # printers that take the abbreviation style and a descriptor's text


def special(ev: SyscallEvent, style: Style = DEFAULT_STYLE, fds=None):
    """The (entry part, exit part[, return text or None]) of a syscall strace prints its own way, or None.
    fds: -y's descriptor table (FdPaths), whose annotation a descriptor argument gets."""
    if ev.info is None or ev.enter is None or ev.info.raw:
        return None
    fn = PRINTERS.get(ev.info.name)
    if fn is None or len(ev.args) < len(ev.info.args):
        return None
    if ev.info.name not in STYLED:
        return fn(ev)
    return fn(ev, style, str if fds is None else lambda fd: fds.annotate(ev.tgid, fd))
