"""Socket addresses as strace prints them (inet, inet6, unix, netlink, packet; others as raw bytes)."""

from __future__ import annotations

import ipaddress
import socket
import struct

from tracespec.quote import hex_quote, quote
from tracespec.format.values import DEFAULT_STYLE, Style, constants, enum_text, hexval, with_comment

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
SOCKADDR_IN_SIZE = 16  # strace decodes an AF_INET address only when the whole struct sockaddr_in is there
SOCKADDR_LL_SIZE = 20  # likewise struct sockaddr_ll
SLL_ADDR_OFFSET = 12
SA_FAMILY_SIZE = 2
SOCKADDR_MIN = SA_FAMILY_SIZE  # strace decodes no address shorter than its family: it prints the pointer


def ifindex_text(index: int, style: Style) -> str:
    """strace's print_ifindex: the interface's name as this machine knows it, if_nametoindex("lo")."""
    try:
        name = socket.if_indextoname(index) if index else None
    except OSError:
        name = None
    if name is None:
        return str(index)
    return with_comment(str(index), f"if_nametoindex({quote(name.encode(), False, style.hex_strings)})", style)


def inet_addr_text(data: bytes, style: Style = DEFAULT_STYLE) -> str:
    """strace's print_inet_addr of an IPv4 address (4 bytes): inet_addr("A.B.C.D") (its text quoted as
    -x and -xx say), the bytes in hex under -X raw, both under -X verbose."""
    named = f"inet_addr({quote(str(ipaddress.IPv4Address(data[:4])).encode(), False, style.hex_strings)})"
    return with_comment(hex_quote(data[:4]), named, style)


def _port(data: bytes, style: Style) -> str:
    """strace's PRINT_FIELD_NET_PORT: htons(N), or the two bytes in hex (-X raw), or both."""
    return with_comment(hex_quote(data[:2]), f"htons({int.from_bytes(data[:2], 'big')})", style)


def _inet6(data: bytes, style: Style) -> str:
    """strace's print_sockaddr_data_in6 (the caller checked the port, flow and address are there): the
    scope of a link-local address is an interface (if_nametoindex("lo")), else a number."""
    flow = with_comment(hex_quote(data[4:8]), f"htonl({int.from_bytes(data[4:8], 'big')})", style)
    addr = ipaddress.IPv6Address(data[8:24])
    text = quote(addr.compressed.encode(), False, style.hex_strings)
    if style.xlat == "abbrev":
        where = f"inet_pton(AF_INET6, {text}, &sin6_addr)"
    else:
        where = "sin6_addr=" + with_comment(hex_quote(data[8:24]), f"inet_pton(AF_INET6, {text})", style)
    out = f"sin6_port={_port(data[2:4], style)}, sin6_flowinfo={flow}, {where}"
    if len(data) >= 28:
        scope = struct.unpack_from("<I", data, 24)[0]
        link_local = addr.is_link_local or (addr.is_multicast and (data[9] & 0x0F) == 2)
        out += f", sin6_scope_id={ifindex_text(scope, style) if link_local else scope}"
    return out


def _byte(b: int) -> str:
    """C's "%#02x": 0x-prefixed, but zero is 00."""
    return f"{b:#x}" if b else "00"


def _packet(data: bytes, style: Style) -> str:
    """strace's print_sockaddr_data_ll (the caller checked the whole struct sockaddr_ll is there)."""
    c = constants()
    proto, index, hatype, pkttype, halen = struct.unpack_from("<HiHBB", data, 2)
    raw_proto = hex_quote(data[2:4], False)
    swapped = int.from_bytes(data[2:4], "big")
    named = f"htons({enum_text(swapped, c.sets['ethernet_protocols'])})"
    proto_text = raw_proto if style.xlat == "raw" else f"{raw_proto} /* {named} */" if style.xlat == "verbose" else named
    text = (f"sll_protocol={proto_text}, sll_ifindex={ifindex_text(index, style)}, "
            f"sll_hatype={enum_text(hatype, c.sets['arp_hardware_types'], style)}, "
            f"sll_pkttype={enum_text(pkttype, c.sets['af_packet_types'], style)}, sll_halen={halen}")
    if halen:
        room = len(data) - SLL_ADDR_OFFSET
        items = []
        for i in range(halen):
            if i >= room:
                items.append("...")
                break
            items.append(_byte(data[SLL_ADDR_OFFSET + i]))
        text += f", sll_addr=[{', '.join(items)}]"
    return text


def sockaddr_text(data: bytes, style: Style = DEFAULT_STYLE) -> str:
    if len(data) < 2:
        return quote(data)
    family = struct.unpack_from("<H", data, 0)[0]
    head = f"sa_family={enum_text(family, constants().sets['address_family'], style)}"
    if len(data) == SA_FAMILY_SIZE:  # strace's print_sockaddr: the family alone (an unnamed AF_UNIX socket's)
        return f"{{{head}}}"
    if family == AF_INET and len(data) >= SOCKADDR_IN_SIZE:
        return f'{{{head}, sin_port={_port(data[2:4], style)}, sin_addr={inet_addr_text(data[4:8], style)}}}'
    if family == AF_INET6 and len(data) >= 24:
        return f"{{{head}, {_inet6(data, style)}}}"
    if family == AF_UNIX:
        path = data[2:110]
        if path[:1] == b"\0" and len(path) > 1:
            return f"{{{head}, sun_path=@{quote(path[1:])}}}"
        name = path.split(b"\0", 1)[0]
        return f"{{{head}, sun_path={quote(name)}}}"
    if family == AF_NETLINK and len(data) >= 12:
        pid, groups = struct.unpack_from("<II", data, 4)
        return f"{{{head}, nl_pid={pid}, nl_groups={groups:08x}}}"
    if family == AF_PACKET and len(data) >= SOCKADDR_LL_SIZE:
        return f"{{{head}, {_packet(data, style)}}}"
    return f"{{{head}, sa_data={quote(data[2:])}}}"


def sockaddr_at(address: int, length: int, data: bytes | None, style: Style = DEFAULT_STYLE) -> str:
    """strace's decode_sockaddr: the address of `length` bytes at `address`, decoded from the bytes copied
    (data, None when nothing could be); an address shorter than its family (a length below 2, negative
    too) or not copied is its pointer, NULL or hexadecimal."""
    if length < SOCKADDR_MIN or data is None:
        return "NULL" if address == 0 else hexval(address)
    return sockaddr_text(data[:length], style)


def sockaddr_json(data: bytes) -> dict:
    if len(data) < 2:
        return {"raw": data.hex()}
    family = struct.unpack_from("<H", data, 0)[0]
    out: dict = {"family": constants().sets["address_family"].lookup(family) or family}
    if family == AF_INET and len(data) >= 8:
        out.update(port=struct.unpack_from(">H", data, 2)[0], addr=str(ipaddress.IPv4Address(data[4:8])))
    elif family == AF_INET6 and len(data) >= 24:
        out.update(port=struct.unpack_from(">H", data, 2)[0], addr=ipaddress.IPv6Address(data[8:24]).compressed)
    elif family == AF_UNIX:
        path = data[2:110]
        if path[:1] == b"\0" and len(path) > 1:
            out["abstract"] = path[1:].decode("utf-8", "surrogateescape")
        else:
            out["path"] = path.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    else:
        out["data"] = data[2:].hex()
    return out
