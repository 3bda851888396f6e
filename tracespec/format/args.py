"""Which arguments a syscall line shows, which are only known once it returns, and how each reads."""

from __future__ import annotations

from typing import Callable, NamedTuple

from tracespec.catalogue.dirents import D_RECLEN, DIRENT_HEADERS, DIRENTS_SIZE, DIRENTS_SLOT
from tracespec.catalogue.kinds import KINDS, ArgKind, Phase, array_param
from tracespec.catalogue.structs import MMSG_KINDS, POINTER_MEMBERS, SIGSET_SIZE
from tracespec.decode.events import SyscallEvent
from tracespec.wire.records import Slot, iovec_base
from tracespec.quote import needs_hex, quote
from tracespec.format.dirents import entries_text
from tracespec.format.arrays import ARRAY_KINDS, array_text, fdset_text, nodemask_text
from tracespec.format.fdpaths import FD_WHEN
from tracespec.format.msghdr import msghdr_text
from tracespec.format.mmsghdr import mmsgvec_text
from tracespec.format.sockaddr import sockaddr_at
from tracespec.format.special import OWN_WAY
from tracespec.format.structs import complete, file_handle_text, mq_attr_text, sigset_text, struct_text
from tracespec.format.values import (DEFAULT_STYLE, Style, constants, enum_text, enumby_text, failed, hexval, kind_of,
                                     memory_text, scalar_text, struct_fields, structs, unsigned, with_comment)
from tracespec.plan.model import ArgField

# printed when the syscall returns: what the kernel writes, or reads and writes back
EXIT_KINDS = frozenset(name for name, info in KINDS.items()
                       if info.at in (Phase.EXIT, Phase.BOTH) and not info.number and not info.entry_text)
MEMORY_KINDS = frozenset({"path", "str", "ibuf", "obuf", "ostr", "istruct", "ostruct", "iostruct", "iwstruct", "cistruct", "sockaddr",
                          "osockaddr", "sockoptval", "osockoptval", "strv", "envp", "iovec", "oiovec", "fdset",
                          "lefttime", "rstruct", "nodemask", "onodemask", "oenum", "imsgbuf", "omsgbuf"}) \
    | ARRAY_KINDS | MMSG_KINDS
RAW_ARGS = tuple(ArgField(f"arg{i}", i, "hex", 8, False) for i in range(6))
ELLIPSIS = "..."


# structs whose size another argument gives, printed as their address when it is smaller than the struct
# (strace's OPEN_HOW_MIN_SIZE)
SIZED_BY = {"open_how": "usize"}
CONDITIONAL_KINDS = ("omode", "ndev", "newaddr", "cistruct")  # arguments strace prints only when another asks
S_IFMT, S_IFCHR, S_IFBLK = 0o170000, 0o020000, 0o060000
MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4


def open_creates(ev: SyscallEvent) -> bool:
    """Whether the syscall's conditional argument shows. strace's test for open's mode: O_CREAT or the
    kernel's __O_TMPFILE bit (O_TMPFILE without the O_DIRECTORY glibc folds into it: a directory opened
    O_DIRECTORY shows no mode); for mknod's device: a character or block device's mode; for mremap's new
    address: flags that let the mapping move there."""
    c = constants().values
    for f, v in zip(ev.info.args, ev.args):
        if f.kind == "flags(open_flags)":
            return bool(v & (c["O_CREAT"] | c["__O_TMPFILE"]))
        if f.kind == "fmode" and ev.info.name in ("mknod", "mknodat"):
            return (v & S_IFMT) in (S_IFCHR, S_IFBLK)
        if f.kind == "flags(mremap_flags)":
            return bool(v & MREMAP_MAYMOVE) and bool(v & (MREMAP_FIXED | MREMAP_DONTUNMAP))
    return False


def visible(ev: SyscallEvent) -> list[tuple[ArgField, int]]:
    """(field, value) for each argument strace would print (open's mode only when it creates)."""
    if ev.info is None:
        return list(zip(RAW_ARGS, ev.args))
    out = []
    for f, v in zip(ev.info.args, ev.args):
        if kind_of(f)[0] in CONDITIONAL_KINDS and not open_creates(ev):
            continue
        out.append((f, v))
    return out


def split(ev: SyscallEvent) -> tuple[list, list]:
    """Arguments printed at entry, and those printed when the syscall returns."""
    shown = visible(ev)
    for i, (f, _) in enumerate(shown):
        if kind_of(f)[0] in EXIT_KINDS:
            return shown[:i], shown[i:]
    return shown, []


def _arg_value(ev: SyscallEvent, name: str) -> int | None:
    for f, v in zip(ev.info.args, ev.args):
        if f.name == name:
            return v
    return None


def _strv(slot: Slot, style: Style) -> str:
    items = [quote(s.data, s.truncated, style.hex_strings) for s in slot.data]
    if slot.truncated or slot.fault:
        items.append(ELLIPSIS)
    return "[" + ", ".join(items) + "]"


def _iov_base(element: Slot, style: Style) -> str:
    """An element's bytes, or as strace prints one it could not read: the pointer (NULL for none)."""
    if not (element.fault or element.absent):
        return quote(element.data, element.truncated, style.hex_strings)
    base = iovec_base(element)
    return ELLIPSIS if base is None else "NULL" if base == 0 else hexval(base)


def _iovec(slot: Slot, style: Style) -> str:
    items = [f"{{iov_base={_iov_base(s, style)}, iov_len={n}}}" for n, s in slot.data]
    if slot.truncated:
        items.append(ELLIPSIS)
    return "[" + ", ".join(items) + "]"


# the CPU masks strace prints as the numbers of the CPUs set ([0 1]): sched_setaffinity's as given (its
# length), sched_getaffinity's as the kernel wrote it (the return value's bytes)
CPU_MASKS = frozenset({"sched_setaffinity", "sched_getaffinity"})
CPUSET_MAX = 128  # the bytes strace reads at most: the smallest size sched_getaffinity takes from 128 up


def _cpu_mask(slot: Slot, length: int) -> str:
    """strace's print_affinitylist: the CPUs set in the mask's first min(length, 128) bytes, then "..."
    when the mask is longer than that (or than what was copied)."""
    read = min(length, CPUSET_MAX)
    bits = int.from_bytes(slot.data[:read], "little")
    cpus = [str(i) for i in range(8 * len(slot.data[:read])) if bits >> i & 1]
    if -(-read // 8) * 8 < length or len(slot.data) < read:
        cpus.append(ELLIPSIS)
    return "[" + " ".join(cpus) + "]"


# getdents and getdents64: strace (without -v) prints the address and how many entries the kernel wrote:
# counted by the BPF program where they lie (catalogue/dirents.py), or from the copy when it holds all the
# bytes returned


def _dirents(value: int, f: ArgField, ev: SyscallEvent, slot: Slot | None, style: Style) -> str:
    """strace's decode_dents abbreviated: 0x7ffd... /* 7 entries */ ("+" when bytes are left over); the
    address alone when the call failed, or nothing says how many (a copy short of what it returned, the
    entries' memory unreadable, more entries than the program walks). With -v the entries the copy holds
    (format/dirents.py)."""
    ret = ev.ret
    if ret is None or ret < 0:
        return hexval(value, f)
    if style.verbose and style.dirents:
        count = _arg_value(ev, "count")
        if slot is None or slot.absent or slot.fault or (count is not None and ret > unsigned(count, 4)):
            return hexval(value, f)  # strace: the kernel gone bananas when it returns more than count
        return entries_text(ev.info.name, value, slot.data[:ret], ret, style)
    if ret == 0:
        return f"{hexval(value, f)} /* 0 entries */"
    counted = ev.slots.get(DIRENTS_SLOT)
    if counted is not None and not counted.flags and len(counted.data) >= DIRENTS_SIZE:
        count, left = int.from_bytes(counted.data[:4], "little"), int.from_bytes(counted.data[4:8], "little")
        return f"{hexval(value, f)} /* {count}{'+' if left else ''} entries */"
    if slot is None or slot.flags or len(slot.data) < ret:
        return hexval(value, f)
    header, data, pos, count = DIRENT_HEADERS[ev.info.name], slot.data[:ret], 0, 0
    left = ret
    while left >= header:
        count += 1
        reclen = int.from_bytes(data[pos + D_RECLEN:pos + D_RECLEN + 2], "little")
        if reclen > left or reclen < header:
            left = 0 if reclen > left else left - header
            break
        left -= reclen
        pos += reclen
    return f"{hexval(value, f)} /* {count}{'+' if left else ''} entries */"


SOL_SOCKET, SO_ERROR = 1, 4
# the buffers strace prints every byte of in hex (its QUOTE_FORCE_HEX): getrandom's random bytes
HEX_BUFFERS = frozenset({"getrandom"})
# extended attributes' values: strace prints them without their last NUL (print_xattr_val)
XATTR_VALUES = frozenset({"setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr"})
FORCE_HEX = 2  # as -xx


def _sockoptval(ev: SyscallEvent, slot: Slot, style: Style) -> str:
    """An option's value as strace's getsockopt prints it: SO_ERROR's errno by name ([ECONNREFUSED]),
    another 4-byte value as a number, a shorter SO_ERROR in hex, anything else quoted."""
    error = (ev.info.name == "getsockopt" and _arg_value(ev, "level") == SOL_SOCKET
             and _arg_value(ev, "optname") == SO_ERROR)
    if len(slot.data) == 4:
        number = int.from_bytes(slot.data, "little", signed=True)
        known = error and number in constants().errnos
        return f"[{with_comment(str(number), constants().errno_name(number), style) if known else number}]"
    return quote(slot.data, slot.truncated, FORCE_HEX if error else style.hex_strings)


def _in_out_int(ev: SyscallEvent, f: ArgField, size: int = 4) -> str:
    """[in => out] of an int (a length) or, size 8, of an offset (sendfile's, unsigned as strace's
    PRIu64); [in] when the kernel left it or did not write it."""
    signed = size == 4
    before, after = ev.entry_slots.get(f.name), ev.slots.get(f.name)
    b = int.from_bytes(before.data, "little", signed=signed) if before and len(before.data) == size else None
    a = (int.from_bytes(after.data, "little", signed=signed)
         if after and after is not before and len(after.data) == size else None)
    if b is None and a is None:
        return None
    if b is None or a is None or a == b:
        return f"[{b if a is None else a}]"
    return f"[{b} => {a}]" if signed else f"[{b}] => [{a}]"  # sendfile's: two numbers printed


SHORTER_SIGSETS = frozenset({"rt_sigpending"})  # the kernel (and strace) take a sigsetsize of 1 to 8 bytes


def _sigset(ev: SyscallEvent, data: bytes, style: Style, size: int | None = None) -> str | None:
    """strace's print_sigset_addr_len: a mask only when its size (the call's sigsetsize unless given) is
    the kernel's, or for rt_sigpending no longer (then the bytes given, in 32-bit words); else None, the
    address."""
    if size is None:
        size = _arg_value(ev, "sigsetsize")
    if size is None:
        size = _arg_value(ev, "sizemask")  # signalfd's
    if size is None or size == SIGSET_SIZE:
        return struct_text("sigset", data, style)
    if ev.info.name in SHORTER_SIGSETS and 1 <= size < SIGSET_SIZE:
        bits = int.from_bytes(data[:size], "little")
        return sigset_text(bits, 32 * ((size + 3) // 4), style)
    return None


def _sigset_argpack(name: str, value: int, ev: SyscallEvent, style: Style) -> str:
    """pselect6's sixth argument as strace prints it, {sigmask=[USR1], sigsetsize=8}: the mask as
    print_sigset_addr_len shows it (NULL, or its address when its size is not the kernel's or it could
    not be read); the address of a struct that could not be read."""
    slot = ev.entry_slots.get(name)
    if slot is None or slot.absent or slot.fault or len(slot.data) < structs()["sigset_argpack"].size:
        return hexval(value)
    v = struct_fields("sigset_argpack", slot.data)
    mask = ev.entry_slots.get(name + "__sigmask")
    text = None
    if v["p"] == 0:
        text = "NULL"
    elif mask is not None and not (mask.absent or mask.fault) and len(mask.data) >= SIGSET_SIZE:
        text = _sigset(ev, mask.data, style, v["size"])
    return f"{{sigmask={hexval(v['p']) if text is None else text}, sigsetsize={v['size']}}}"


def _absolute(ev: SyscallEvent) -> bool:
    """A sleep until a time (clock_nanosleep's timer flags not 0): the kernel writes no remainder, and
    strace prints its address."""
    return any(f.kind == "flags(timer_flags)" and v for f, v in zip(ev.info.args, ev.args))


def _returned_length(ev: SyscallEvent, name: str, copied: int) -> int:
    """How many bytes of an address the kernel filled in: strace's min(length given, length returned)
    of the in/out length at the argument named (the kernel truncates a longer address to the buffer)."""
    lengths = [copied]
    for slots in (ev.entry_slots, ev.slots):
        slot = slots.get(name)
        if slot is not None and len(slot.data) == 4:
            lengths.append(max(int.from_bytes(slot.data, "little", signed=True), 0))
    return min(lengths)


def render(f: ArgField, value: int, ev: SyscallEvent, fds=None, style: Style = DEFAULT_STYLE) -> str:
    kind, param = kind_of(f)
    if fds is not None and kind not in ("fd", "dirfd") and fds.descriptor_by_other(ev, f.name):
        return fds.annotate(ev.tgid, value)
    if fds is not None and kind in ("fd", "dirfd"):
        return fds.annotate(fds.owner(ev, f.name), value) if value != -100 else f"AT_FDCWD<{fds.cwd(ev.tgid)}>" \
            if fds.cwd(ev.tgid) else "AT_FDCWD"
    if kind == "enumby":
        return enumby_text(value, param, _arg_value(ev, param.split(":")[0]), style)
    if kind not in MEMORY_KINDS:
        return scalar_text(value, f, style)
    if value == 0:
        return "NULL"
    if kind in MMSG_KINDS:  # sendmmsg's and recvmmsg's messages
        return mmsgvec_text(f.name, value, _arg_value(ev, array_param(ArgKind(kind, param))[0]) or 0, ev,
                            kind == "immsgvec", _iovec, fds, style)
    if KINDS[kind].entry_text:  # printed at entry, from the entry's copy
        slot = ev.entry_slots.get(f.name)
        if kind == "fdset":
            return fdset_text(f, value, ev, slot, fds)
        if kind in ARRAY_KINDS:
            return array_text(f, value, ev, slot, fds, style)
    else:
        slot = ev.slots.get(f.name)
    if kind in ARRAY_KINDS:
        return array_text(f, value, ev, slot, fds, style)
    if kind in ("nodemask", "onodemask"):
        return nodemask_text(f, value, ev, slot)
    if kind == "oenum":  # an int the kernel wrote: [NAME] when the call succeeded
        if failed(ev.ret) or slot is None or slot.absent or slot.fault or len(slot.data) < 4:
            return hexval(value, f)
        return f"[{enum_text(int.from_bytes(slot.data[:4], 'little', signed=True), constants().sets[param], style)}]"
    if param == "sigset_argpack":  # structs copied with what their pointer members point to
        return _sigset_argpack(f.name, value, ev, style)
    if param in POINTER_MEMBERS:
        return msghdr_text(f.name, value, ev, kind == "istruct", _iovec, fds, style)
    if ev.info.name in DIRENT_HEADERS and kind == "obuf":
        return _dirents(value, f, ev, slot, style)
    if kind == "iostruct" and param in ("int", "off64"):
        text = _in_out_int(ev, f, 4 if param == "int" else 8)
        return text if text is not None else hexval(value, f)
    if kind == "envp":
        if slot is not None and isinstance(slot.data, tuple) and not slot.absent and (slot.data or not slot.fault):
            return _strv(slot, style)  # copied whole, as -v prints it
        if slot is None or slot.fault or slot.absent:
            return hexval(value, f)
        n = slot.data
        return f"{hexval(value, f)} /* {n}{'+' if slot.truncated else ''} var{'' if n == 1 else 's'} */"
    if slot is None or slot.absent or (slot.fault and not slot.data):
        return hexval(value, f)
    if kind == "rstruct" and _absolute(ev):
        return hexval(value, f)
    if kind in ("imsgbuf", "omsgbuf"):
        return _msgbuf(value, f, slot, style)
    if param == "file_handle":  # name_to_handle_at's, read at entry and written back; open_by_handle_at's
        after = ev.slots.get(f.name) if kind == "iwstruct" and ev.exit is not None else None
        returned = ((ev.ret, after.data if after is not None and not after.fault else None)
                    if kind == "iwstruct" else None)
        text = file_handle_text(slot.data, returned) if not slot.fault else None
        return hexval(value, f) if text is None else text
    if kind in ("istruct", "ostruct", "iostruct", "iwstruct", "cistruct", "lefttime", "rstruct"):
        sized_by = SIZED_BY.get(param)
        if sized_by is not None and unsigned(_arg_value(ev, sized_by) or 0) < structs()[param].size:
            return hexval(value, f)
        if not complete(param, slot.data):
            return hexval(value, f)
        if kind == "cistruct" and param == "mq_attr":  # mq_open's: the flags as a number (printmqattr)
            return mq_attr_text(struct_fields("mq_attr", slot.data), style, names=False)
        if param == "sigset":
            text = _sigset(ev, slot.data, style)
            return hexval(value, f) if text is None else text
        pair = fds.pair_text(ev.tgid, slot.data) if fds is not None and param == "fdpair" else None
        return pair or struct_text(param, slot.data, style)
    if kind == "osockaddr":
        return sockaddr_at(value, _returned_length(ev, param, len(slot.data)), slot.data, style)
    if kind == "sockaddr":
        return sockaddr_at(value, _arg_value(ev, param), slot.data, style)
    if kind in ("sockoptval", "osockoptval"):
        return _sockoptval(ev, slot, style)
    if ev.info.name in CPU_MASKS and not slot.fault:
        if kind == "obuf" and (ev.ret is None or ev.ret < 0):
            return hexval(value, f)
        length = ev.ret if kind == "obuf" else unsigned(_arg_value(ev, "len"), 4)
        return "[]" if length == 0 else _cpu_mask(slot, length)
    if kind == "obuf" and ev.info.name in HEX_BUFFERS and not slot.fault:
        return quote(slot.data, slot.truncated, FORCE_HEX)
    if ev.info.name in XATTR_VALUES and not slot.fault and slot.data.endswith(b"\0") \
            and not (style.hex_strings > 1 or (style.hex_strings and needs_hex(slot.data))):
        # strace's QUOTE_OMIT_TRAILING_0: a value's last NUL is not shown, nor then the ellipsis
        return quote(slot.data[:-1], False, style.hex_strings)
    if kind == "strv":
        return _strv(slot, style)
    if kind in ("iovec", "oiovec"):
        return _iovec(slot, style)
    return memory_text(value, f, slot, False, style)


MTYPE_SIZE = 8  # struct msgbuf's long mtype, before the text


def msgbuf_parts(slot: Slot) -> tuple[int, bytes | None] | None:
    """A System V message's copy read: (its mtype, its text's bytes or None when they could not be read),
    or None when not even its mtype could be: the one reading of it for text and JSON."""
    if len(slot.data) < MTYPE_SIZE:
        return None
    return (int.from_bytes(slot.data[:MTYPE_SIZE], "little", signed=True),
            None if slot.fault else slot.data[MTYPE_SIZE:])


def _msgbuf(value: int, f: ArgField, slot: Slot, style: Style) -> str:
    """A System V message as strace's tprint_msgbuf prints it: {mtype=N, mtext="..."}, the text as long as
    msgsz says (up to -s); the address when its mtype could not be read, the text's when its text could
    not."""
    parts = msgbuf_parts(slot)
    if parts is None:
        return hexval(value, f)
    mtype, data = parts
    text = hexval(value + MTYPE_SIZE) if data is None else quote(data, slot.truncated, style.hex_strings)
    return f"{{mtype={mtype}, mtext={text}}}"


OWN_BUFFERS = HEX_BUFFERS | CPU_MASKS | frozenset(DIRENT_HEADERS) | XATTR_VALUES  # buffers printed other than quoted


# -- the same, worked out once per syscall ------------------------------------------------------------
# A text trace renders millions of lines of a few syscalls: what a syscall's line looks like apart from
# its values (which arguments show, where entry ends, how each argument reads) is decided at its first
# event and kept.

Renderer = Callable[[int, SyscallEvent], str]


class Shape(NamedTuple):
    """How one syscall's arguments print, independent of their values: (argument index, renderer) of
    each argument printed at entry, then of each printed when it returns."""

    fields: int  # arguments the syscall has (events with fewer values take the general path)
    entry: tuple[tuple[int, Renderer], ...]
    exit: tuple[tuple[int, Renderer], ...]
    own: bool  # strace prints it its own way (format/special.py), given its entry record
    name: str  # as SyscallEvent.name
    ret: str  # how its return value reads (SyscallInfo.ret)


DECIMAL_KINDS = frozenset({"int", "size", "off", "fd", "pid"})  # scalar_text prints them with str()
QUOTED_KINDS = frozenset({"path", "str", "ibuf", "obuf", "ostr"})  # render() ends in memory_text for them
CACHE_LIMIT = 4096  # rendered values kept per argument (flags, enums, modes: the costly ones)


def _renderer(f: ArgField, fds, style: Style = DEFAULT_STYLE, syscall: str | None = None) -> Renderer:
    """render(f, v, ev, fds, style), specialised for one argument: the same text, with less work per call."""
    kind, _ = kind_of(f)
    if style != DEFAULT_STYLE:  # the options strace users rarely give take the general path
        return lambda v, ev: render(f, v, ev, fds, style)
    if kind in QUOTED_KINDS and syscall not in OWN_BUFFERS:
        name = f.name

        def quoted(v, ev):
            slot = ev.slots.get(name) if v else None
            if slot is None or slot.flags:  # NULL, nothing copied, or a truncated or faulted copy
                return render(f, v, ev, fds)
            return quote(slot.data)
        return quoted
    if kind in MEMORY_KINDS or kind == "enumby" or (fds is not None and kind in ("fd", "dirfd")):
        return lambda v, ev: render(f, v, ev, fds)
    if fds is not None and (syscall, f.name) in FD_WHEN:  # a descriptor when another argument says so
        return lambda v, ev: render(f, v, ev, fds)
    if kind in DECIMAL_KINDS:
        return lambda v, ev: str(v)
    if kind in ("ptr", "optr"):  # as scalar_text
        return lambda v, ev: "NULL" if v == 0 else hexval(v, f)
    if kind == "hex":
        return lambda v, ev: hexval(v, f)
    cache: dict[int, str] = {}

    def cached(v, ev):
        text = cache.get(v)
        if text is None:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            text = cache[v] = scalar_text(v, f)
        return text
    return cached


def shape(info, fds=None, creates: bool = False, style: Style = DEFAULT_STYLE) -> Shape:
    """The shape of a syscall's line (info None: a number the schema does not know, raw arguments).
    `creates`: open's mode shows (the call has O_CREAT or O_TMPFILE); see has_omode()."""
    fields = RAW_ARGS if info is None else info.args
    shown = [(i, f) for i, f in enumerate(fields)
             if info is None or kind_of(f)[0] not in CONDITIONAL_KINDS or creates]
    cut = next((n for n, (_, f) in enumerate(shown) if kind_of(f)[0] in EXIT_KINDS), len(shown))
    name = info.name if info is not None else None
    rendered = tuple((i, _renderer(f, fds, style, name)) for i, f in shown)
    own = info is not None and not info.raw and info.name in OWN_WAY
    return Shape(len(fields), rendered[:cut], rendered[cut:], own, name, info.ret if info is not None else "int")


def has_omode(info) -> bool:
    """Whether the syscall's shape depends on its flags (open's mode shows only when it creates, mknod's
    device only for a device)."""
    return info is not None and any(kind_of(f)[0] in CONDITIONAL_KINDS for f in info.args)
