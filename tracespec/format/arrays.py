"""Arrays whose element count is another argument or the return value, as strace prints them.

At entry (strace's print_array): NULL, "[]" for no elements, the address when the copy failed, else the
elements, then "..." past the elements copied (the spec's count, strace's -s). Descriptor sets
(select's fd_set) print the descriptors whose bits are set ("[3 4]"). A syscall whose return counts the
descriptors ready (ret kind "ready") explains a positive return from what the kernel wrote back: poll's
revents ("[{fd=3, revents=POLLIN}]"), select's sets ("in [3], out [4]") and the time left
("left {tv_sec=0, tv_usec=999}"); 0 is "Timeout".
"""

from __future__ import annotations

from tracespec.catalogue.kinds import KINDS, ArgKind, Phase, array_param, parse_kind
from tracespec.decode.events import SyscallEvent
from tracespec.format.structs import struct_json, struct_text
from tracespec.format.values import (DEFAULT_STYLE, Style, addr_text, constants, failed, flags_text, hexval, kind_of,
                                     negated_errno_text, ret_text, struct_fields, structs)
from tracespec.plan.model import ArgField
from tracespec.wire.records import Slot

ELLIPSIS = "..."
ARRAY_KINDS = frozenset(name for name, info in KINDS.items() if info.array)
FDSET_KIND = "fdset"
LEFT_KIND = "lefttime"
SET_NAMES = ("in", "out", "except")  # select's three sets, in argument order
FDSET_NFDS_MAX = 1024 * 1024  # strace reads no more descriptors than this


def _arg(ev: SyscallEvent, name: str) -> int | None:
    for f, v in zip(ev.info.args, ev.args):
        if f.name == name:
            return v
    return None


def _count(ev: SyscallEvent, name: str) -> int | None:
    """An array's element count: the argument named (as its C type holds it), or the return value."""
    return ev.ret if name == "ret" else _arg(ev, name)


def _element(elem: str, data: bytes, ev: SyscallEvent, fds, style: Style) -> str:
    """One element as strace's print function for it prints it."""
    if elem == "pollfd":  # print_pollfd: the events only for a descriptor poll looks at
        v = struct_fields("pollfd", data)
        fd = fds.annotate(ev.tgid, v["fd"]) if fds is not None else str(v["fd"])
        if v["fd"] < 0:
            return f"{{fd={fd}}}"
        c = constants()
        return f"{{fd={fd}, events={flags_text(v['events'] & 0xFFFF, c.sets['poll_events'], c, style)}}}"
    if elem == "gid":  # printuid: -1 for (gid_t) -1
        value = struct_fields("gid", data)["value"]
        return "-1" if value == 0xFFFFFFFF else str(value)
    if elem in ("page_addr", "node"):  # move_pages' pages (print_addr) and nodes (print_int_array_member)
        value = struct_fields(elem, data)["value"]
        return addr_text(value) if elem == "page_addr" else str(value)
    if elem == "page_status":  # print_err(status, true): a node, or a negated errno by name
        return negated_errno_text(struct_fields(elem, data)["value"], style)
    return struct_text(elem, data, style)


def array_text(f: ArgField, value: int, ev: SyscallEvent, slot: Slot | None, fds=None,
               style: Style = DEFAULT_STYLE) -> str:
    """strace's print_array of the elements copied (the entry's for an array the kernel reads, the exit's
    for one it writes)."""
    if value == 0:
        return "NULL"
    count_from, elem = array_param(_kind(f))
    count = _count(ev, count_from)
    if count is None or slot is None or slot.absent:
        return hexval(value, f)
    if count == 0:
        return "[]"
    if slot.fault or count < 0:
        return hexval(value, f)
    size = _size(elem)
    n = min(count, len(slot.data) // size)
    items = [_element(elem, slot.data[i * size:(i + 1) * size], ev, fds, style) for i in range(n)]
    if n < count:
        items.append(ELLIPSIS)
    return "[" + ", ".join(items) + "]"


def _kind(f: ArgField) -> ArgKind:
    return parse_kind(f.kind)


def _size(elem: str) -> int:
    return structs()[elem].size


def _nfds(ev: SyscallEvent, name: str) -> int:
    """select's descriptor count as strace takes it: the int, none when negative, at most 1M."""
    v = _arg(ev, name) or 0
    v = (v & 0xFFFFFFFF) - (1 << 32) if v & 0x80000000 else v & 0xFFFFFFFF
    return min(max(v, 0), FDSET_NFDS_MAX)


def _set_bits(data: bytes, nfds: int) -> list[int]:
    bits = int.from_bytes(data, "little")
    return [j for j in range(min(nfds, 8 * len(data))) if bits >> j & 1]


def fdset_text(f: ArgField, value: int, ev: SyscallEvent, slot: Slot | None, fds=None) -> str:
    """A descriptor set at entry: the address when there is nothing to read (no descriptors counted, or
    the copy failed), else the descriptors set, "[3 4]"."""
    nfds = _nfds(ev, _kind(f).param)
    if nfds == 0 or value == 0 or slot is None or slot.absent or slot.fault:
        return "NULL" if value == 0 else hexval(value, f)
    ready = _set_bits(slot.data, nfds)
    return "[" + " ".join(fds.annotate(ev.tgid, j) if fds is not None else str(j) for j in ready) + "]"


WORD_BITS = 64
U64 = (1 << 64) - 1


def _nodemask_longs(maxnode: int) -> int | None:
    """strace's print_nodemask: the longs of a node mask of maxnode bits (the kernel reads maxnode - 1 of
    them), None when there is no such count (none of a non-zero maxnode, or one that wraps around)."""
    maxnode &= U64
    longs = ((maxnode + WORD_BITS - 2) & U64) // WORD_BITS
    if longs < maxnode // WORD_BITS or (maxnode and not longs):
        return None
    return longs


def _node_word(word: int) -> str:
    """One long of a node mask as strace prints it, C's "%#016lx": 16 characters with the "0x" (which
    zero has not), zero-padded."""
    return f"{word:#016x}" if word else "0" * 16


def nodemask_text(f: ArgField, value: int, ev: SyscallEvent, slot: Slot | None) -> str:
    """A NUMA node mask (mbind, set_mempolicy, get_mempolicy's when it returns) as strace prints it: the
    address for a maxnode it cannot count, NULL, "[]" for none, the address when it could not be read
    (or the call failed, for the one the kernel writes), else its longs in hex, "..." past the copy's."""
    longs = _nodemask_longs(_arg(ev, _kind(f).param) or 0)
    if longs is None or value == 0:
        return "NULL" if value == 0 else hexval(value, f)
    if longs == 0:
        return "[]"
    if slot is None or slot.absent or slot.fault or (KINDS[_kind(f).name].at != Phase.ENTER and failed(ev.ret)):
        return hexval(value, f)
    words = [int.from_bytes(slot.data[i:i + 8], "little") for i in range(0, len(slot.data) - 7, 8)][:longs]
    if not words:
        return hexval(value, f)
    return "[" + ", ".join([_node_word(w) for w in words] + ([ELLIPSIS] if len(words) < longs else [])) + "]"


def nodemask_json(f: ArgField, value: int, ev: SyscallEvent, slot: Slot | None):
    """A node mask's longs as numbers (what was copied of them), or the pointer's number."""
    longs = _nodemask_longs(_arg(ev, _kind(f).param) or 0)
    if longs is None or slot is None or slot.absent or slot.fault or (
            KINDS[_kind(f).name].at != Phase.ENTER and failed(ev.ret)):
        return value
    return [int.from_bytes(slot.data[i:i + 8], "little") for i in range(0, len(slot.data) - 7, 8)][:longs]


def _exit_copy(ev: SyscallEvent, name: str) -> Slot | None:
    """What the kernel wrote back into an argument it also read: the exit's copy, when it made one."""
    after = ev.slots.get(name)
    if after is None or after is ev.entry_slots.get(name) or after.absent or after.fault:
        return None
    return after


# strace explains a return in a buffer of 1024 bytes (its outstr), and stops short of its end: poll
# leaves room for an address and ", ], ...", select for ", except [" and a number
OUTSTR = 1024
POLL_ROOM = OUTSTR - (2 + 2 * 8 + len(", ], ...") + 1)
SELECT_ROOM = OUTSTR - (len(", except [") + 1 + 4 * 3 + 2)


def _revents(f: ArgField, ev: SyscallEvent, style: Style) -> str:
    """strace's decode_poll_exiting: the elements whose revents the kernel set, "..." past -s of them
    (or when its buffer would overflow)."""
    _, elem = array_param(_kind(f))
    after = _exit_copy(ev, f.name)
    if after is None:
        return ""
    size = _size(elem)
    n = len(after.data) // size
    c = constants()
    out = ""
    printed = 0
    for i in range(n):
        v = struct_fields(elem, after.data[i * size:(i + 1) * size])
        if not v["revents"]:
            continue
        out += ", " if out else "["
        head = f"{{fd={v['fd']}, revents="
        flags = flags_text(v["revents"] & 0xFFFF, c.sets["poll_events"], c, style)
        if len(out) + len(head) + len(flags) + 1 >= POLL_ROOM:
            return out + "...]"
        out += head + flags + "}"
        printed += 1
    count = _count(ev, array_param(_kind(f))[0]) or 0
    if n < count and printed < (ev.ret or 0):  # ready elements past the copy: strace's "..." after -s
        out += ", ..." if out else "[..."
    return out + "]" if out else ""


def _ready_sets(fields: list[tuple[ArgField, int]], ev: SyscallEvent) -> str:
    """strace's decode_select at exit: each set's descriptors until as many as returned are named."""
    out, sep, ready = "", "", ev.ret
    for i, (f, value) in enumerate(fields):
        if ready <= 0:
            break
        after = _exit_copy(ev, f.name)
        if not value or after is None:
            continue
        first = True
        for j in _set_bits(after.data, _nfds(ev, _kind(f).param)):
            if len(out) < SELECT_ROOM:
                if first:
                    out += f"{sep}{SET_NAMES[i]} [{j}"
                    first, sep = False, ", "
                else:
                    out += f" {j}"
            ready -= 1
            if ready == 0:
                break
        if out:  # strace closes a bracket after every set it read once anything is written
            out += "]"
    return out


def ready_text(ev: SyscallEvent, style: Style = DEFAULT_STYLE) -> str | None:
    """The explanation of a positive "ready" return, None when there is none to give."""
    if ev.info is None or ev.ret is None or failed(ev.ret) or ev.ret <= 0:
        return None
    parts = []
    sets = []
    for f, value in zip(ev.info.args, ev.args):
        kind = kind_of(f)[0]
        if kind in ARRAY_KINDS and KINDS[kind].entry_text and value:
            text = _revents(f, ev, style)
            if text:
                parts.append(text)
        elif kind == FDSET_KIND:
            sets.append((f, value))
    if sets:
        text = _ready_sets(sets, ev)
        if text:
            parts.append(text)
    text = ", ".join(parts)
    for f, value in zip(ev.info.args, ev.args):
        if kind_of(f)[0] == LEFT_KIND and value:
            after = _exit_copy(ev, f.name)
            left = struct_text(kind_of(f)[1], after.data, style) if after is not None else hexval(value, f)
            sep = ", " if text else ""
            if len(text) + len("left ") + 1 + len(sep) + len(left) < OUTSTR:
                text += f"{sep}left {left}"
            elif not sets:  # poll says its time left did not fit; select leaves it out
                text += ", ..."
    return text or None


def ready_ret(ev: SyscallEvent, style: Style = DEFAULT_STYLE) -> str:
    """A "ready" return as strace prints it: "0 (Timeout)", "1 ([{fd=3, revents=POLLIN}])", or as any
    return (an error, a count with nothing to explain)."""
    text = ready_text(ev, style)
    return f"{ev.ret} ({text})" if text is not None else ret_text(ev.ret, "ready")


def _elements_json(elem: str, data: bytes) -> list:
    size = _size(elem)
    return [struct_json(elem, data[i * size:(i + 1) * size]) for i in range(len(data) // size)]


def array_json(f: ArgField, value: int, ev: SyscallEvent) -> tuple:
    """(JSON value, truncated or None) of an array argument: its elements as the kernel left them (an
    array it reads and writes back: the exit's copy when it wrote one, else the entry's), a descriptor
    set or a timeout as {"before", "after"} (after: null when the kernel wrote nothing back); the
    pointer's number when nothing could be read."""
    kind, param = kind_of(f)
    entry = ev.entry_slots.get(f.name)
    if kind == FDSET_KIND or kind == LEFT_KIND:
        after = _exit_copy(ev, f.name)
        if entry is None or entry.absent or entry.fault:
            return value, None
        if kind == FDSET_KIND:
            nfds = _nfds(ev, param)
            return {"before": _set_bits(entry.data, nfds),
                    "after": _set_bits(after.data, nfds) if after is not None else None}, None
        return {"before": struct_json(param, entry.data),
                "after": struct_json(param, after.data) if after is not None else None}, None
    slot = (_exit_copy(ev, f.name) or entry) if KINDS[kind].entry_text else ev.slots.get(f.name)
    if slot is None or slot.absent or slot.fault:
        return value, None
    count_from, elem = array_param(_kind(f))
    items = _elements_json(elem, slot.data)
    count = _count(ev, count_from) or 0
    return items, (count if len(items) < count else None)
