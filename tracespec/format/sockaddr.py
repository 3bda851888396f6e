"""Socket addresses as strace prints them (inet, inet6, unix, netlink; others as raw bytes)."""

from __future__ import annotations

import ipaddress
import struct

from tracespec.quote import quote
from tracespec.format.values import constants

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
SOCKADDR_IN_SIZE = 16  # strace decodes an AF_INET address only when the whole struct sockaddr_in is there


def family_name(family: int) -> str:
    name = constants().sets["address_family"].lookup(family)
    return name or f"{family:#x} /* AF_??? */"


def sockaddr_text(data: bytes) -> str:
    if len(data) < 2:
        return quote(data)
    family = struct.unpack_from("<H", data, 0)[0]
    head = f"sa_family={family_name(family)}"
    if family == AF_INET and len(data) >= SOCKADDR_IN_SIZE:
        port = struct.unpack_from(">H", data, 2)[0]
        addr = ipaddress.IPv4Address(data[4:8])
        return f'{{{head}, sin_port=htons({port}), sin_addr=inet_addr("{addr}")}}'
    if family == AF_INET6 and len(data) >= 24:
        port, flow = struct.unpack_from(">HI", data, 2)
        addr = ipaddress.IPv6Address(data[8:24])
        scope = struct.unpack_from("<I", data, 24)[0] if len(data) >= 28 else 0
        return (f'{{{head}, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), '
                f'inet_pton(AF_INET6, "{addr.compressed}", &sin6_addr), sin6_scope_id={scope}}}')
    if family == AF_UNIX:
        path = data[2:110]
        if path[:1] == b"\0" and len(path) > 1:
            return f"{{{head}, sun_path=@{quote(path[1:])}}}"
        name = path.split(b"\0", 1)[0]
        return f"{{{head}, sun_path={quote(name)}}}"
    if family == AF_NETLINK and len(data) >= 12:
        pid, groups = struct.unpack_from("<II", data, 4)
        return f"{{{head}, nl_pid={pid}, nl_groups={groups:08x}}}"
    return f"{{{head}, sa_data={quote(data[2:])}}}"


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
