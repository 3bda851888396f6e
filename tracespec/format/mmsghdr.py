"""sendmmsg's and recvmmsg's arrays of struct mmsghdr as strace 6.1 prints them (its decode_mmsgvec and
print_struct_mmsghdr), both when the call returns: each entry {msg_hdr={...}, msg_len=N}, its msghdr as
sendmsg's and recvmsg's (format/msghdr.py).

sendmmsg: the vlen entries the kernel read (copied at entry), msg_len for the first ones, as many as it
returned (none when it failed). recvmmsg: only the entries it returned, as it filled them (their name
length given => written, each one's iovecs holding its msg_len bytes); its address when it failed. As
strace's print_array: "[]" for no entries, the first -s of them (all under -v), then "...", which also
stands for the entries past what tracespec copies (catalogue/structs.py MMSG_ENTRIES); an array that runs
into memory that cannot be read shows the entries before it, then "... /* ADDRESS */" of the first that
could not be read.
"""

from __future__ import annotations

from tracespec.catalogue.structs import MMSGHDR_SIZE, MSG_LEN_AT, mmsg_part
from tracespec.decode.events import SyscallEvent
from tracespec.format.msghdr import DEFAULT_LIMIT, fields_text
from tracespec.format.values import DEFAULT_STYLE, Style, failed, hexval, struct_fields, unsigned

ELLIPSIS = "..."
MSGHDR_SIZE = 56
IOV_LIMIT = 1024  # strace prints at most this many entries, -v or not (its UIO_MAXIOV)


def _copy(slot) -> bytes | None:
    return None if slot is None or slot.absent or slot.fault else slot.data


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def mmsgvec_text(name: str, value: int, vlen: int, ev: SyscallEvent, sending: bool, iovec_text, fds=None,
                 style: Style = DEFAULT_STYLE) -> str:
    """The array at argument `name` of `vlen` entries (the argument as an unsigned int)."""
    vlen = unsigned(vlen, 4)
    entry = ev.entry_slots.get(name)
    exit_ = ev.slots.get(name)
    after = _copy(exit_) if exit_ is not entry else None
    ok = ev.ret is not None and not failed(ev.ret)
    if sending:
        count, with_len, data = vlen, (ev.ret if ok else 0), _copy(entry)
        given = None
    else:
        if not ok:
            return hexval(value)
        count, with_len, data = ev.ret, ev.ret, after
        given = _copy(entry)
    if count == 0:
        return "[]"
    if data is None:
        return hexval(value)
    limit = ev.info.limit if ev.info is not None and ev.info.limit else DEFAULT_LIMIT
    readable = len(data) // MMSGHDR_SIZE
    # fewer entries copied than asked for and than the record holds (one slot of parts each): the array
    # ran into memory that could not be read, there
    room = 0
    while f"{name}__{mmsg_part(room, 'iov')}" in ev.slots:
        room += 1
    stopped = readable < min(count, room)
    shown = min(count, readable, IOV_LIMIT)
    items = []
    for i in range(shown):
        if not style.verbose and i >= limit:
            break
        at = i * MMSGHDR_SIZE
        m = struct_fields("msghdr", data[at:at + MSGHDR_SIZE])
        user = None
        if given is not None and len(given) >= at + MSGHDR_SIZE:
            user = int.from_bytes(given[at + 8:at + 12], "little", signed=True)
        slots = [ev.slots.get(f"{name}__{mmsg_part(i, part)}") for part in ("name", "iov", "control")]
        text = "{msg_hdr=" + fields_text(m, user, *slots, ev, iovec_text, fds, style)
        if i < with_len:
            lengths = data if not sending else after
            if lengths is not None and len(lengths) >= at + MMSGHDR_SIZE:
                text += f", msg_len={_u32(lengths, at + MSG_LEN_AT)}"
        items.append(text + "}")
    if len(items) < min(count, IOV_LIMIT):
        items.append(f"{ELLIPSIS} /* {hexval(value + readable * MMSGHDR_SIZE)} */" if stopped and len(items) == readable
                     else ELLIPSIS)
    return "[" + ", ".join(items) + "]"
