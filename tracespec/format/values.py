"""Argument and return values rendered as strace renders them, from the catalogue's argument kinds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tracespec.catalogue import Constants, ConstantSet
from tracespec.catalogue.constants import NETWORK_ORDER, load_constants
from tracespec.catalogue.structs import StructLayout, load_structs
from tracespec.wire.records import Slot
from tracespec.quote import quote
from tracespec.plan.model import ArgField

S_IFMT = 0o170000
ERESTART_MIN, ERESTART_MAX = 512, 516  # strace prints "? ERESTART..." for these


@lru_cache(maxsize=1)
def constants() -> Constants:
    return load_constants()


@lru_cache(maxsize=1)
def structs() -> dict[str, StructLayout]:
    return load_structs()


def kind_of(f: ArgField) -> tuple[str, str | None]:
    name, _, rest = f.kind.partition("(")
    return name, (rest[:-1] if rest else None)


def hexval(value: int, f: ArgField | None = None) -> str:
    """C's "%#lx": 0x-prefixed, except zero, which is plain 0."""
    if value < 0:
        bits = 8 * (min(f.size, 8) if f else 8)
        value &= (1 << bits) - 1
    return hex(value) if value else "0"


@dataclass(frozen=True)
class Style:
    """strace's abbreviation options: how constants print (-X), strings (-x, -xx) and structs (-v)."""

    xlat: str = "abbrev"  # abbrev: names; raw: the number; verbose: the number and its names in a comment
    hex_strings: int = 0  # 0: octal escapes; 1 (-x): a string with non-printable bytes all in hex; 2 (-xx): all
    verbose: bool = False  # -v: structs with every field, not strace's abbreviation ({st_mode=..., ...})
    # the trace copied getdents' entries to print them (its spec says abbrev: false, as -v makes it): -v on
    # a trace recorded without keeps the count, the copy holding too little of them to print
    dirents: bool = False


DEFAULT_STYLE = Style()
XLAT_STYLES = ("abbrev", "raw", "verbose")


def unsigned(value: int, size: int = 8) -> int:
    """The value as its C type of `size` bytes holds it, unsigned (a 32-bit flag word is never 64-bit)."""
    return value & ((1 << (8 * min(size, 8))) - 1)


def signed32(value: int) -> int:
    """The value as a C int holds it (strace's (int) casts: a descriptor, a length, a command)."""
    v = value & 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def flag_names(value: int, cset: ConstantSet, c: Constants) -> tuple[list[str], int]:
    """The names making up a flags value, in strace's order, and the bits no name covers."""
    names = []
    rest = value
    if cset.lead_enum:
        ename, mask = cset.lead_enum
        lead = c.sets[ename]
        if lead.kind == "flags":  # a lead set of flags (statx's sync type): its names, its unknown bits kept
            if rest & mask:
                lead_names, lead_rest = flag_names(rest & mask, lead, c)
                names += lead_names
                rest = (rest & ~mask) | lead_rest
            elif lead.zero:
                names.append(lead.zero)
        else:
            name = lead.lookup(rest & mask)
            if name is not None:
                names.append(name)
                rest &= ~mask
    for name, bits in cset.entries:
        if bits and rest & bits == bits:
            names.append(name)
            rest &= ~bits
    if cset.trail_enum:
        ename, mask = cset.trail_enum
        name = c.sets[ename].lookup(rest & mask) if rest & mask else None
        if name is not None:
            names.append(name)
            rest &= ~mask
    return names, rest


def zero_name(cset: ConstantSet, c: Constants) -> str | None:
    """How a flags value of 0 is named: the set's zero=, else its lead set's name for 0."""
    if cset.zero or not cset.lead_enum:
        return cset.zero
    lead = c.sets[cset.lead_enum[0]]
    return lead.zero if lead.kind == "flags" else lead.lookup(0)


def with_comment(number: str, names: str, style: Style) -> str:
    """strace's print_xlat styles: the names (abbrev), the number (raw), or the number with its names."""
    if style.xlat == "raw":
        return number
    if style.xlat == "verbose":
        return f"{number} /* {names} */"
    return names


def flags_text(value: int, cset: ConstantSet, c: Constants, style: Style = DEFAULT_STYLE) -> str:
    """strace's printflags: known names joined by |, then the unknown rest in hex; a value no name
    covers at all is the number with the set's comment (0x8 /* CLOSE_RANGE_??? */). A split set prints
    its lead set's bits and the rest as two such values (socket types, statx's flags)."""
    if cset.split and cset.lead_enum:
        ename, mask = cset.lead_enum
        lead, part, rest = c.sets[ename], value & mask, value & ~mask
        if lead.kind == "flags":
            text = flags_text(part, lead, c, style)
        else:
            name = lead.lookup(part)
            if name is None:  # strace's tprint_sock_type: the whole value as the flags
                return _printflags(value, cset, c, style, None)
            text = with_comment(hexval(part), name, style)
        return text + "|" + _printflags(rest, cset, c, style, None) if rest else text
    return _printflags(value, cset, c, style, zero_name(cset, c))


def _printflags(value: int, cset: ConstantSet, c: Constants, style: Style, zero: str | None) -> str:
    number = hex(value) if value else "0"
    dflt = cset.unknown_text
    if value == 0:
        if style.xlat == "raw" and not dflt:
            return ""
        return with_comment("0", zero, style) if zero else "0" if dflt else ""
    names, rest = flag_names(value, cset, c) if not cset.split else _own_names(value, cset)
    if not names:
        return number if style.xlat == "raw" or not dflt else f"{number} /* {dflt} */"
    text = "|".join(names + ([hex(rest)] if rest else []))
    return with_comment(number, text, style)


def _own_names(value: int, cset: ConstantSet) -> tuple[list[str], int]:
    """A split set's own names for the bits its lead set does not print."""
    names = []
    for name, bits in cset.entries:
        if bits and value & bits == bits:
            names.append(name)
            value &= ~bits
    return names, value


def enum_text(value: int, cset: ConstantSet, style: Style = DEFAULT_STYLE) -> str:
    """strace's printxval: the value's name, or the number with the set's comment (0x52 /* SO_??? */)."""
    number = hex(value) if value > 0 else str(value)
    name = cset.lookup(value)
    if name is None:
        return number if style.xlat == "raw" or not cset.unknown_text else f"{number} /* {cset.unknown_text} */"
    return with_comment(number, name, style)


def mode_text(value: int) -> str:
    """C's "%#03o": a leading 0, at least three digits (0644, 000, 007)."""
    digits = f"{value:o}"
    return ("0" + digits if value else digits).rjust(3, "0")


def symbolic_mode(mode: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's print_symbolic_mode_t: S_IFREG|0644; a file type no name covers, or -X raw, the octal
    number; -X verbose the number with the names in a comment."""
    c = constants()
    ifmt = c.sets["file_type"].lookup(mode & S_IFMT) if mode & S_IFMT else ""
    if ifmt is None:
        return mode_text(mode)
    bits = ""
    for bit, name in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")):
        if mode & bit:
            bits += name + "|"
    return with_comment(mode_text(mode), f"{ifmt}{'|' if ifmt else ''}{bits}{mode_text(mode & 0o777)}", style)


def makedev(dev: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's print_dev_t: makedev(major, minor) in hex (C's %#x: a 0 is plain 0, makedev(0x5, 0));
    -X raw the number, -X verbose the number with makedev() in a comment."""
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF & 0xFFFFFFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF & 0xFFFFFFFF)
    return with_comment(hexval(dev), f"makedev({hexval(major)}, {hexval(minor)})", style)


def struct_fields(name: str, data: bytes) -> dict[str, int | bytes]:
    import struct as _struct

    from tracespec.catalogue.structs import field_format

    layout = structs()[name]
    out = {}
    for f in layout.fields:
        fmt = "<" + field_format(f.type)
        if f.offset + _struct.calcsize(fmt) <= len(data):
            out[f.name] = _struct.unpack_from(fmt, data, f.offset)[0]
    return out


def scalar_text(value: int, f: ArgField, style: Style = DEFAULT_STYLE) -> str:
    kind, param = kind_of(f)
    c = constants()
    if kind in ("int", "size", "off", "fd", "pid"):
        return str(value)
    if kind == "uint":  # an unsigned C type is never negative, whatever the slot held
        return str(unsigned(value, f.size))
    if kind == "dirfd":
        return with_comment("-100", "AT_FDCWD", style) if value == -100 else str(value)
    if kind in ("ptr", "optr", "newaddr"):
        return "NULL" if value == 0 else hexval(value, f)
    if kind in ("hex", "opstruct", "opistruct"):  # opstruct: where no operation says what it points to (format/special.py)
        return hexval(value, f)
    if kind == "sig":
        return signal_text(value, style)
    if kind in ("uid", "gid"):
        return "-1" if value in (0xFFFFFFFF, -1) else str(value)
    if kind == "ipcflags":  # strace's shmget and kin: the flags above the permission bits, then those
        rest = unsigned(value, 4)
        names = flags_text(rest & ~0o777, c.sets[param], c, style)
        return f"{names}|{mode_text(rest & 0o777)}" if names else mode_text(rest & 0o777)
    if kind == "persona":
        return persona_text(value, style)
    if kind == "ioprio":
        return ioprio_arg_text(value, style)
    if kind in ("mode", "omode"):
        return mode_text(value)
    if kind == "ndev":
        return makedev(unsigned(value, f.size), style)
    if kind == "fmode":
        return symbolic_mode(value, style)
    if kind == "flags":
        return flags_text(unsigned(value, f.size), c.sets[param], c, style)
    if kind == "enum":
        return enum_text(enum_value(value, f, c.sets[param]), c.sets[param], style)
    if kind == "denum":
        name = c.sets[param].lookup(unsigned(value, 4))
        return with_comment(str(signed32(value)), name, style) if name else str(signed32(value))
    return str(value)


PER_MASK = 0xFF
PERSONA_QUERY = 0xFFFFFFFF  # personality(0xffffffff) changes nothing and returns the current one


def persona_text(value: int, style: Style = DEFAULT_STYLE, query: bool = True) -> str:
    """strace's printpersona: the type (the low byte, by name) and the flags above it, joined by |; the
    query value 0xffffffff as a number where an argument has it (query=True)."""
    value &= 0xFFFFFFFF
    if query and value == PERSONA_QUERY:
        return hexval(value)
    c = constants()
    text = enum_text(value & PER_MASK, c.sets["personality_type"], style)
    rest = value & ~PER_MASK
    return f"{text}|{flags_text(rest, c.sets['personality_flags'], c, style)}" if rest else text


IOPRIO_CLASS_SHIFT = 13


def ioprio_text(value: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's sprint_ioprio: IOPRIO_PRIO_VALUE(class, data), the class as -X prints a name."""
    value &= 0xFFFFFFFF
    cls = enum_text(value >> IOPRIO_CLASS_SHIFT, constants().sets["ioprio_class"], style)
    return f"IOPRIO_PRIO_VALUE({cls}, {value & ((1 << IOPRIO_CLASS_SHIFT) - 1)})"


def ioprio_arg_text(value: int, style: Style = DEFAULT_STYLE) -> str:
    """ioprio_set's priority: the macro form (-X raw: the int alone; -X verbose: the int, the form in a
    comment)."""
    return with_comment(str(value), ioprio_text(value, style), style)


def signal_text(value: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's printsignal: the signal's name (the number with it under -X), an unknown one's number."""
    name = constants().signal_name(value)
    return with_comment(str(value), name, style) if name else str(value)


def enum_value(value: int, f: ArgField, cset: ConstantSet) -> int:
    """The value an enum argument is looked up as: its C type's unsigned value, or for a signed type the
    negative one a name has (getrusage's RUSAGE_CHILDREN is -1)."""
    v = unsigned(value, f.size)
    if f.signed and cset.lookup(v) is None:
        bits = 8 * min(f.size, 8)
        negative = v - (1 << bits) if v >> (bits - 1) else v
        if cset.lookup(negative) is not None:
            return negative
    return v


NAMED_KINDS = frozenset({"flags", "enum", "denum", "sig", "dirfd", "persona"})  # scalar kinds whose values have names


def value_names(value: int, f: ArgField) -> list[str] | None:
    """The names of a scalar argument's value, as strace would print them, for JSON's `NAME_names` beside
    the number: a flags value's names in strace's order (unknown bits last, in hex), an enum's or a
    signal's name ([] when the value has none), AT_FDCWD; None where the kind has no names to give."""
    kind, param = kind_of(f)
    c = constants()
    if kind == "flags":
        v, cset = unsigned(value, f.size), c.sets[param]
        if v == 0:
            zero = zero_name(cset, c)
            return [zero] if zero else []
        names, rest = flag_names(v, cset, c)
        return names + ([hex(rest)] if rest else [])
    if kind == "enum":
        name = c.sets[param].lookup(enum_value(value, f, c.sets[param]))
        return [name] if name is not None else []
    if kind == "sig":
        name = c.signal_name(value)
        return [name] if name else []
    if kind == "denum":
        name = c.sets[param].lookup(unsigned(value, 4))
        return [name] if name is not None else []
    if kind == "dirfd" and value == -100:
        return ["AT_FDCWD"]
    if kind == "persona":  # the type's name (none for an unknown one), then the flags' (the query: none)
        v = unsigned(value, 4)
        if v == PERSONA_QUERY:
            return []
        name = c.sets["personality_type"].lookup(v & PER_MASK)
        names, rest = flag_names(v & ~PER_MASK, c.sets["personality_flags"], c)
        return ([name] if name is not None else []) + names + ([hex(rest)] if rest else [])
    return None


def enumby_text(value: int, param: str, other: int | None, style: Style = DEFAULT_STYLE) -> str:
    """A value from the set another argument selects (a socket option by its level)."""
    c = constants()
    _, map_name = param.split(":")
    set_name = c.maps[map_name].set_for(other) if other is not None else None
    if set_name is None:
        return str(value)
    if set_name.startswith(NETWORK_ORDER):  # strace's htons(ETH_P_ALL)
        swapped = int.from_bytes(unsigned(value, 2).to_bytes(2, "little"), "big")
        return f"htons({enum_text(swapped, c.sets[set_name.removeprefix(NETWORK_ORDER)], style)})"
    return enum_text(unsigned(value, 4), c.sets[set_name], style)


def memory_text(value: int, f: ArgField, slot: Slot | None, failed: bool, style: Style = DEFAULT_STYLE) -> str:
    """A pointer argument whose memory was copied: the string or buffer, else the address."""
    if value == 0:
        return "NULL"
    if slot is None or slot.fault or slot.absent:
        return hexval(value, f)
    return quote(slot.data, slot.truncated, style.hex_strings)


def copied(slot: Slot | None, size: int) -> bytes | None:
    """The bytes of a struct copy, None when the copy is missing, faulted or shorter than size (then
    strace, which could not read the struct either, prints its address)."""
    if slot is None or slot.absent or slot.fault or len(slot.data) < size:
        return None
    return slot.data


def addr_text(value: int) -> str:
    """An address as strace's printaddr prints it: NULL, or in hex."""
    return "NULL" if value == 0 else hexval(value)


def named_memory_text(ev, name: str, style: Style = DEFAULT_STYLE, at_exit: bool = False) -> str:
    """The argument called name of a syscall event, copied at entry (a path, a string) or at exit, as the
    general printer shows it: for the printers of syscalls strace prints in a shape of their own."""
    i = next(i for i, f in enumerate(ev.info.args) if f.name == name)
    slot = ev.slots.get(name) if at_exit else ev.entry_slots.get(name)
    return memory_text(ev.args[i], ev.info.args[i], slot, at_exit and failed(ev.ret), style)


def negated_errno_text(value: int, style: Style = DEFAULT_STYLE) -> str:
    """strace's print_err(value, true): a number, or a negated errno by name (-EFAULT; -X raw: -14; -X
    verbose: -14 /* -EFAULT */)."""
    info = constants().errnos.get(-value) if value < 0 else None
    name = info.name if info else None
    if name is None or style.xlat == "raw":
        return str(value)
    return f"{value} /* -{name} */" if style.xlat == "verbose" else f"-{name}"


def errno_text(errno: int) -> str:
    c = constants()
    name = c.errno_name(errno)
    return f"{name} ({c.errno_message(errno)})"


# returns whose name strace prints after them (sched_getscheduler's policy, adjtimex's clock state)
RET_NAMES = {"policy": "sched_policy", "clockstate": "adjtimex_state"}


def ret_text(ret: int, kind: str, style: Style = DEFAULT_STYLE) -> str:
    if -4095 <= ret < 0:
        errno = -ret
        if ERESTART_MIN <= errno <= ERESTART_MAX:
            return f"? {errno_text(errno)}"
        return f"-1 {errno_text(errno)}"
    if kind == "hex":
        return hexval(ret & 0xFFFFFFFFFFFFFFFF)
    if kind == "mode":
        return mode_text(ret)
    if kind == "none":
        return "?"
    if kind in ("timeout", "ready") and ret == 0:
        return "0 (Timeout)"
    if kind == "sig":  # strace's rt_sigtimedwait: the signal's number, its name after it
        name = constants().signal_name(ret)
        return f"{ret} ({name})" if name else str(ret)
    if kind == "time":  # strace's time: the seconds, their date after them
        return f"{ret} ({date_text(ret)})" if date_text(ret) else str(ret)
    if kind == "persona":  # strace's personality: RVAL_HEX with its names after it
        return f"{hexval(ret & 0xFFFFFFFF)} ({persona_text(ret, style, query=False)})"
    if kind == "ioprio":  # strace's ioprio_get: the number, its meaning after it (-X raw: the number)
        return str(ret) if style.xlat == "raw" else f"{ret} ({ioprio_text(ret, style)})"
    if kind in RET_NAMES:  # strace's RVAL_STR: the name after the number, whatever -X says
        name = constants().sets[RET_NAMES[kind]].lookup(ret)
        return f"{ret} ({name})" if name is not None else str(ret)
    return str(ret)


def date_text(sec: int, part: int = 0, width: int = 9) -> str:
    """strace's sprinttime_ex: the local time in ISO 8601, its fraction (nanoseconds, or microseconds with
    width 6) when not zero; "" for the epoch itself, a fraction out of range or a time the C library
    cannot convert."""
    import time

    if (sec == 0 and part == 0) or not 0 <= part < 10 ** width:
        return ""
    try:
        when = time.localtime(sec)
    except (OverflowError, OSError, ValueError):
        return ""
    fraction = f".{part:0{width}d}" if part else ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", when) + fraction + time.strftime("%z", when)


def failed(ret: int | None) -> bool:
    return ret is not None and -4095 <= ret < 0
