"""struct msghdr as strace's print_struct_msghdr prints it (sendmsg when it is called, recvmsg when it
returns): the name the kernel read or wrote (msg_namelen "in => out" when it changed), the iovecs with
their bytes, the control messages (decode_msg_control: SCM_RIGHTS' descriptors, SCM_CREDENTIALS'
{pid, uid, gid}, other data in hex), the lengths and the flags. A failed recvmsg shows only the name
length it was given, {msg_namelen=N}."""

from __future__ import annotations

import struct

from tracespec.decode.events import SyscallEvent
from tracespec.format.sockaddr import sockaddr_at
from tracespec.format.values import (DEFAULT_STYLE, Style, constants, enum_text, failed, flags_text, hexval,
                                     struct_fields, structs)
from tracespec.quote import quote

CMSG_HEADER = struct.Struct("<Qii")  # struct cmsghdr on x86_64: cmsg_len, cmsg_level, cmsg_type
SOL_SOCKET, SCM_RIGHTS, SCM_CREDENTIALS = 1, 1, 2
UCRED = struct.Struct("<iII")
FORCE_HEX = 2  # strace's QUOTE_FORCE_HEX, as -xx


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def _cmsg_data(level: int, ctype: int, data: bytes, ev: SyscallEvent, fds, style: Style) -> tuple[str, bool]:
    """strace's print_cmsg_type_data: the type, then the data when it has a printer for it."""
    c = constants()
    if level == SOL_SOCKET:
        text = enum_text(ctype, c.sets["scm_types"], style)
        if ctype == SCM_RIGHTS and len(data) >= 4:
            ids = [_s32(int.from_bytes(data[i:i + 4], "little")) for i in range(0, len(data) - 3, 4)]
            shown = [fds.annotate(ev.tgid, fd) if fds is not None else str(fd) for fd in ids]
            return f"{text}, cmsg_data=[{', '.join(shown)}]", True
        if ctype == SCM_CREDENTIALS and len(data) >= UCRED.size:
            pid, uid, gid = UCRED.unpack_from(data)
            return f"{text}, cmsg_data={{pid={pid}, uid={uid}, gid={gid}}}", True
        return text, False
    return hex(ctype & 0xFFFFFFFF) if ctype else "0", False


def control_text(ptr: int, controllen: int, slot, ev: SyscallEvent, fds, style: Style) -> str:
    """strace's decode_msg_control, over the bytes copied (the first CONTROL_MAX of them)."""
    if slot is None or slot.absent or slot.fault or len(slot.data) < CMSG_HEADER.size:
        return hexval(ptr)
    c = constants()
    buf, pos, left, items = slot.data, 0, len(slot.data), []
    while left >= CMSG_HEADER.size:
        length, level, ctype = CMSG_HEADER.unpack_from(buf, pos)
        take = min(length, left)
        data = buf[pos + CMSG_HEADER.size:pos + take] if take > CMSG_HEADER.size else b""
        typed, printed = _cmsg_data(level, ctype, data, ev, fds, style)
        item = (f"{{cmsg_len={length}, cmsg_level={enum_text(level, c.sets['sockopt_levels'], style)}, "
                f"cmsg_type={typed}")
        if not printed and data:
            item += f", cmsg_data={quote(data, False, FORCE_HEX)}"
        items.append(item + "}")
        if take < CMSG_HEADER.size:
            left -= CMSG_HEADER.size
            break
        step = (length + 7) & ~7
        if step >= left:
            left = 0
            break
        pos += step
        left -= step
    if left:
        items.append(f"... /* {hexval(ptr + len(buf) - left)} */")
    elif len(buf) < controllen:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def _whole(slot) -> bytes | None:
    if slot is None or slot.absent or slot.fault or len(slot.data) < structs()["msghdr"].size:
        return None
    return slot.data


def msghdr_text(name: str, value: int, ev: SyscallEvent, reads: bool, iovec_text, fds=None,
                style: Style = DEFAULT_STYLE) -> str:
    """The msghdr at argument `name`: `reads` when the kernel reads it (sendmsg: the entry's copy),
    else the copy made when the call returned. iovec_text renders the iovecs' slot."""
    entry = _whole(ev.entry_slots.get(name))
    given = struct_fields("msghdr", entry) if entry is not None else None
    if reads:
        data = entry
    else:
        if failed(ev.ret):
            return f"{{msg_namelen={_s32(given['msg_namelen'])}}}" if given is not None else hexval(value)
        after = ev.slots.get(name)
        data = _whole(after) if after is not ev.entry_slots.get(name) else None
    if data is None:
        return hexval(value)
    m = struct_fields("msghdr", data)
    namelen = _s32(m["msg_namelen"])
    user = None if reads or given is None else _s32(given["msg_namelen"])
    used = user if user is not None and namelen > user else namelen
    name_slot = ev.slots.get(name + "__name")
    copied = None if name_slot is None or name_slot.absent or name_slot.fault else name_slot.data
    msg_name = sockaddr_at(m["msg_name"], used, copied, style)
    shown_len = f"{user} => {namelen}" if user is not None and user != namelen else str(namelen)
    iov_slot = ev.slots.get(name + "__iov")
    if not m["msg_iov"]:
        msg_iov = "NULL"
    elif iov_slot is None or iov_slot.absent or iov_slot.fault:
        msg_iov = hexval(m["msg_iov"])
    else:
        msg_iov = iovec_text(iov_slot, style)
    parts = [f"msg_name={msg_name}", f"msg_namelen={shown_len}", f"msg_iov={msg_iov}",
             f"msg_iovlen={m['msg_iovlen']}"]
    if m["msg_controllen"]:
        parts.append("msg_control=" + control_text(m["msg_control"], m["msg_controllen"],
                                                   ev.slots.get(name + "__control"), ev, fds, style))
    c = constants()
    parts += [f"msg_controllen={m['msg_controllen']}",
              f"msg_flags={flags_text(m['msg_flags'], c.sets['msg_flags'], c, style)}"]
    return "{" + ", ".join(parts) + "}"
