"""struct msghdr as strace's print_struct_msghdr prints it (sendmsg when it is called, recvmsg when it
returns): the name the kernel read or wrote (msg_namelen "in => out" when it changed), the iovecs with
their bytes, the control messages (decode_msg_control and print_cmsg_type_data as strace 6.1 has them:
at SOL_SOCKET the descriptors, credentials, security context and timestamps, at SOL_IP the packet info,
TTL, TOS, IP options, extended error and original destination; the type alone for the others, SOL_IPV6's
among them), the lengths and the flags. A failed recvmsg shows only the name length it was given,
{msg_namelen=N}."""

from __future__ import annotations

import struct

from tracespec.catalogue.structs import MMSGHDR_SIZE, mmsg_part
from tracespec.decode.events import SyscallEvent
from tracespec.format.sockaddr import ifindex_text, inet_addr_text, sockaddr_at, sockaddr_text
from tracespec.format.values import (DEFAULT_STYLE, Style, constants, enum_text, failed, flags_text, hexval,
                                     signed32, struct_fields, structs)
from tracespec.quote import quote

CMSG_HEADER = struct.Struct("<QII")  # struct cmsghdr on x86_64: cmsg_len, cmsg_level, cmsg_type (ints strace prints as unsigned)
SOL_IP, SOL_SOCKET = 0, 1
UCRED = struct.Struct("<iII")
TIME_PAIR = struct.Struct("<qQ")  # timeval, __kernel_sock_timeval and timespec on x86_64: seconds, then us or ns
SOCK_EE = struct.Struct("<IBBBBII")  # struct sock_extended_err, then the offender's struct sockaddr_in
SOCK_EE_SIZE = SOCK_EE.size + 16
SOCKADDR_STORAGE = 128
IN_PKTINFO_SIZE = 12  # ipi_ifindex, ipi_spec_dst, ipi_addr
DEFAULT_LIMIT = 32  # strace's -s when the schema says nothing
UID_NONE = 0xFFFFFFFF


def _id(v: int) -> str:
    """strace's PRINT_VAL_ID: (uid_t) -1 as -1."""
    return "-1" if v == UID_NONE else str(v)


def _array(items: list[str], limit: int, style: Style) -> str:
    """strace's print_local_array: the first -s elements, then "..." (not under -v)."""
    if not style.verbose and limit < len(items):
        items = items[:limit] + ["..."]
    return "[" + ", ".join(items) + "]"


def _rights(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    ids = [signed32(int.from_bytes(data[i:i + 4], "little")) for i in range(0, len(data) - 3, 4)]
    if fds is None:
        return _array([str(fd) for fd in ids], limit, style)
    # received descriptors are new in the receiver's table: shown as what the call made them
    received = ev.info is not None and ev.info.name in ("recvmsg", "recvmmsg")
    name = fds.annotate_new if received else fds.annotate
    return _array([name(ev.tgid, fd) for fd in ids], limit, style)


def _creds(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    pid, uid, gid = UCRED.unpack_from(data)
    return f"{{pid={pid}, uid={_id(uid)}, gid={_id(gid)}}}"


def _security(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return quote(data, False, style.hex_strings)  # the whole context, not cut at -s


def _pair(data: bytes, second: str) -> str:
    sec, frac = TIME_PAIR.unpack_from(data)
    return f"{{tv_sec={sec}, {second}={frac}}}"


def _timeval(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return _pair(data, "tv_usec") if len(data) >= TIME_PAIR.size else "???"


def _timespec(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return _pair(data, "tv_nsec") if len(data) >= TIME_PAIR.size else "???"


def _timestamping(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    """struct scm_timestamping: three timespecs (software, deprecated, hardware), all or "???"."""
    if len(data) < 3 * TIME_PAIR.size:
        return "???"
    return "[" + ", ".join(_pair(data[i * TIME_PAIR.size:], "tv_nsec") for i in range(3)) + "]"


def _pktinfo(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    index = struct.unpack_from("<i", data)[0]
    return (f"{{ipi_ifindex={ifindex_text(index, style)}, ipi_spec_dst={inet_addr_text(data[4:8], style)}, "
            f"ipi_addr={inet_addr_text(data[8:12], style)}}}")


def _uints(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return _array([str(int.from_bytes(data[i:i + 4], "little")) for i in range(0, len(data) - 3, 4)], limit, style)


def _xbytes(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return _array([hex(b) if b else "0" for b in data], limit, style)


def _recverr(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    errno_, origin, etype, code, _pad, info, edata = SOCK_EE.unpack_from(data)
    offender = sockaddr_text(data[SOCK_EE.size:SOCK_EE_SIZE], style)
    return (f"{{ee_errno={errno_}, ee_origin={origin}, ee_type={etype}, ee_code={code}, ee_info={info}, "
            f"ee_data={edata}, offender={offender}}}")


def _origdstaddr(data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    return sockaddr_text(data[:SOCKADDR_STORAGE], style)


# strace's cmsg_socket_printers and cmsg_ip_printers: by level, the type's printer and the data it needs at
# least (shorter data prints no cmsg_data); SOL_IPV6's and other levels' types have none
PRINTERS = {
    SOL_SOCKET: {1: (_rights, 4), 2: (_creds, UCRED.size), 3: (_security, 1),
                 0x1d: (_timeval, 1), 0x23: (_timespec, 1), 0x25: (_timestamping, 1),  # the _OLD ones
                 0x3f: (_timeval, 1), 0x40: (_timespec, 1), 0x41: (_timestamping, 1)},  # the _NEW ones
    SOL_IP: {8: (_pktinfo, IN_PKTINFO_SIZE), 2: (_uints, 4), 1: (_xbytes, 1), 6: (_xbytes, 1), 7: (_xbytes, 1),
             11: (_recverr, SOCK_EE_SIZE), 20: (_origdstaddr, 16), 23: (_uints, 4), 3: (_security, 1)},
}
TYPE_SETS = {SOL_SOCKET: "scm_types", SOL_IP: "ip_cmsg_types"}


def _cmsg_data(level: int, ctype: int, data: bytes, ev: SyscallEvent, fds, style: Style, limit: int) -> str:
    """strace's print_cmsg_type_data (6.1): the type, then the data when it has a printer for it and the
    data is long enough; no data otherwise."""
    if level not in TYPE_SETS:
        return hex(ctype) if ctype else "0"  # PRINT_VAL_X, in every -X style
    text = enum_text(ctype, constants().sets[TYPE_SETS[level]], style)
    printer = PRINTERS[level].get(ctype)
    if printer is not None and len(data) >= printer[1]:
        text += ", cmsg_data=" + printer[0](data, ev, fds, style, limit)
    return text


def control_text(ptr: int, controllen: int, slot, ev: SyscallEvent, fds, style: Style,
                 limit: int = DEFAULT_LIMIT) -> str:
    """strace's decode_msg_control, over the bytes copied (the first CONTROL_MAX of them)."""
    if slot is None or slot.absent or slot.fault or len(slot.data) < CMSG_HEADER.size:
        return hexval(ptr)
    c = constants()
    buf, pos, left, items = slot.data, 0, len(slot.data), []
    while left >= CMSG_HEADER.size:
        length, level, ctype = CMSG_HEADER.unpack_from(buf, pos)
        take = min(length, left)
        data = buf[pos + CMSG_HEADER.size:pos + take] if take > CMSG_HEADER.size else b""
        items.append(f"{{cmsg_len={length}, cmsg_level={enum_text(level, c.sets['sockopt_levels'], style)}, "
                     f"cmsg_type={_cmsg_data(level, ctype, data, ev, fds, style, limit)}}}")
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
            return f"{{msg_namelen={signed32(given['msg_namelen'])}}}" if given is not None else hexval(value)
        after = ev.slots.get(name)
        data = _whole(after) if after is not ev.entry_slots.get(name) else None
    if data is None:
        return hexval(value)
    user = None if reads or given is None else signed32(given["msg_namelen"])
    return fields_text(struct_fields("msghdr", data), user, ev.slots.get(name + "__name"),
                       ev.slots.get(name + "__iov"), ev.slots.get(name + "__control"), ev, iovec_text, fds, style)


def fields_text(m: dict, user: int | None, name_slot, iov_slot, control_slot, ev: SyscallEvent, iovec_text,
                fds=None, style: Style = DEFAULT_STYLE) -> str:
    """strace's print_struct_msghdr of the msghdr fields m, with what its pointers point to copied in the
    three slots; `user`: the name length given when the kernel wrote the name (recvmsg), else None."""
    namelen = signed32(m["msg_namelen"])
    used = user if user is not None and namelen > user else namelen
    copied = None if name_slot is None or name_slot.absent or name_slot.fault else name_slot.data
    msg_name = sockaddr_at(m["msg_name"], used, copied, style)
    shown_len = f"{user} => {namelen}" if user is not None and user != namelen else str(namelen)
    if not m["msg_iov"]:
        msg_iov = "NULL"
    elif iov_slot is None or iov_slot.absent or iov_slot.fault:
        msg_iov = hexval(m["msg_iov"])
    else:
        msg_iov = iovec_text(iov_slot, style)
    parts = [f"msg_name={msg_name}", f"msg_namelen={shown_len}", f"msg_iov={msg_iov}",
             f"msg_iovlen={m['msg_iovlen']}"]
    if m["msg_controllen"]:
        limit = ev.info.limit if ev.info is not None and ev.info.limit else DEFAULT_LIMIT
        parts.append("msg_control=" + control_text(m["msg_control"], m["msg_controllen"], control_slot, ev, fds,
                                                   style, limit))
    c = constants()
    parts += [f"msg_controllen={m['msg_controllen']}",
              f"msg_flags={flags_text(m['msg_flags'], c.sets['msg_flags'], c, style)}"]
    return "{" + ", ".join(parts) + "}"


def _rights_in(control: bytes, controllen: int) -> list[int]:
    """The descriptors of the SCM_RIGHTS messages in the first controllen bytes of a control buffer."""
    buf = control[:max(controllen, 0)]
    pos, out = 0, []
    while pos + CMSG_HEADER.size <= len(buf):
        length, level, ctype = CMSG_HEADER.unpack_from(buf, pos)
        if length < CMSG_HEADER.size:
            break
        if level == SOL_SOCKET and ctype == 1:
            data = buf[pos + CMSG_HEADER.size:pos + min(length, len(buf) - pos)]
            out += [signed32(int.from_bytes(data[i:i + 4], "little")) for i in range(0, len(data) - 3, 4)]
        pos += (length + 7) & ~7
    return out


def passed_descriptors(ev: SyscallEvent) -> list[list[int]]:
    """The descriptors a successful sendmsg or sendmmsg passed, or recvmsg or recvmmsg received, in
    SCM_RIGHTS control messages: one list per message (recvmmsg's and sendmmsg's first ret ones), from
    the copies the record holds (empty lists where it holds none)."""
    if ev.info is None or ev.ret is None or failed(ev.ret):
        return []
    name = ev.info.name
    arg = "msg" if name in ("sendmsg", "recvmsg") else "mmsg"
    sending = name.startswith("send")
    whole = ev.entry_slots.get(arg) if sending else ev.slots.get(arg)
    if whole is None or whole.absent or whole.fault:
        return []
    if name in ("sendmsg", "recvmsg"):
        parts = [(whole.data[:56], ev.slots.get(arg + "__control"))]
    else:
        parts = [(whole.data[i * MMSGHDR_SIZE:i * MMSGHDR_SIZE + 56], ev.slots.get(f"{arg}__{mmsg_part(i, 'control')}"))
                 for i in range(min(ev.ret, len(whole.data) // MMSGHDR_SIZE))]
    out = []
    for header, control in parts:
        if len(header) < 56 or control is None or control.absent or control.fault:
            out.append([])
            continue
        out.append(_rights_in(control.data, struct_fields("msghdr", header)["msg_controllen"]))
    return out
