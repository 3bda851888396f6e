"""Sockets' endpoints for -yy, keyed by inode, as strace prints them: `TCP:[127.0.0.1:5000->127.0.0.1:41234]`,
`UNIX-STREAM:[12345->12346]`, `UNIX-STREAM:[12345,"/run/x.sock"]`, `UNIX:[12345->12346]` (datagrams).

strace asks sock_diag netlink when it prints a line. tracespec has most endpoints from its records
(format/fdpaths.py); what they lack is asked here, best effort while the socket lives: TCP and UDP (v4
and v6) from /proc/PID/net/* (the process's network namespace), UNIX sockets from sock_diag (only it
knows a UNIX socket's peer). A socket that is gone, or unbound, has no endpoints: strace then prints the
protocol and the inode, `TCP:[12345]`.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from tracespec.format.values import constants
from tracespec.quote import quote

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET = 1, 2, 5
SOCK_TYPE_MASK = 0xF
# the kernel's protocol names (a socket's system.sockprotoname, which strace prints): a datagram and a
# seqpacket UNIX socket are both "UNIX" (net/unix/af_unix.c's unix_dgram_proto)
UNIX_TYPES = {SOCK_STREAM: "UNIX-STREAM", SOCK_DGRAM: "UNIX", SOCK_SEQPACKET: "UNIX"}
INET_FILES = (("tcp", "TCP"), ("tcp6", "TCPv6"), ("udp", "UDP"), ("udp6", "UDPv6"))

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, NLMSG_ERROR = 4, 20, 1, 2
UDIAG_SHOW_NAME, UDIAG_SHOW_PEER = 1, 4
UNIX_DIAG_NAME, UNIX_DIAG_PEER = 0, 2


def protocol(family: int, kind: int) -> str | None:
    """strace's protocol name for a socket() call's family and type (None: it would print socket:[N])."""
    kind &= SOCK_TYPE_MASK
    if family == AF_UNIX:
        return UNIX_TYPES.get(kind)
    if family in (AF_INET, AF_INET6):
        base = {SOCK_STREAM: "TCP", SOCK_DGRAM: "UDP"}.get(kind)
        return base + ("v6" if family == AF_INET6 else "") if base else None
    if family == AF_NETLINK:
        return "NETLINK"
    return None


def endpoint(tgid: int, inode: str) -> tuple[str, str | None] | None:
    """(protocol, endpoints or None when it has none) for a live socket, or None if not found. A process
    that has gone has no /proc/PID/net: tracespec's own network namespace is asked then (an inode names
    one socket on the whole system, so what is found there is that socket, still open elsewhere)."""
    for where in (str(tgid), "self"):
        readable = False
        for name, proto in INET_FILES:
            found = _inet(f"/proc/{where}/net/{name}", inode, name.endswith("6"))
            if found is _UNREADABLE:
                continue
            readable = True
            if found is not None:
                return proto, found or None
        if readable:
            break
    return _unix(int(inode)) if inode.isdigit() else None


_UNREADABLE = object()  # _inet: the file cannot be read (the process has gone)


def _inet(path: str, inode: str, v6: bool):
    """'' for a socket listed without endpoints (unbound), its endpoints, None if not listed, or
    _UNREADABLE."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return _UNREADABLE
    for line in lines:
        cols = line.split()
        if len(cols) > 9 and cols[9] == inode:
            local, remote = _address(cols[1], v6), _address(cols[2], v6)
            if local.endswith(":0"):
                return ""
            return local if remote.endswith(":0") else f"{local}->{remote}"
    return None


def _address(text: str, v6: bool) -> str:
    """/proc/net/tcp's `0100007F:BDD1` (32-bit words in host order) as 127.0.0.1:48593."""
    hexaddr, hexport = text.split(":")
    raw = b"".join(struct.pack("<I", int(hexaddr[i:i + 8], 16)) for i in range(0, len(hexaddr), 8))
    port = int(hexport, 16)
    if v6:
        return f"[{ipaddress.IPv6Address(raw).compressed}]:{port}"
    return f"{ipaddress.IPv4Address(raw)}:{port}"


def _unix(inode: int) -> tuple[str, str | None] | None:
    """A UNIX socket's type, peer inode and path, from sock_diag."""
    req = struct.pack("=BBHIII", AF_UNIX, 0, 0, 0xFFFFFFFF, inode, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER) + \
        struct.pack("=II", 0xFFFFFFFF, 0xFFFFFFFF)
    msg = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0) + req
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as s:
            s.settimeout(1.0)
            s.send(msg)
            reply = s.recv(8192)
    except OSError:
        return None
    if len(reply) < 16 + 16:
        return None
    _, kind = struct.unpack_from("=IH", reply)
    if kind == NLMSG_ERROR:
        return None
    _, sock_type, _, _, ino = struct.unpack_from("=BBBBI", reply, 16)
    proto = UNIX_TYPES.get(sock_type)
    if proto is None or ino != inode:
        return None
    peer, path = _unix_attributes(reply[32:])
    text = str(inode) + (f"->{peer}" if peer else "") + (f",{path}" if path is not None else "")
    return proto, text if (peer or path is not None) else None


def unix_name(name: bytes) -> str:
    """A UNIX socket's name (its sun_path bytes) as strace shows it: a path quoted to its first NUL, an
    abstract name (it starts with a NUL) @ and quoted whole: `@"name"`."""
    if name[:1] == b"\0":
        return "@" + quote(name[1:])
    return quote(name.split(b"\0", 1)[0])


def netlink_name(protocol: int) -> str:
    """strace's name of a netlink protocol in -yy's `NETLINK:[ROUTE:1234]`: NETLINK_ROUTE without its
    prefix (the number when it has no name)."""
    name = constants().sets["netlink_protocols"].lookup(protocol)
    if name is None:
        return str(protocol)
    return name[len("NETLINK_"):] if name.startswith("NETLINK_") else name


def _unix_attributes(data: bytes) -> tuple[int, str | None]:
    peer, path = 0, None
    while len(data) >= 4:
        length, kind = struct.unpack_from("=HH", data)
        if length < 4:
            break
        value = data[4:length]
        if kind == UNIX_DIAG_PEER and len(value) >= 4:
            peer = struct.unpack_from("=I", value)[0]
        elif kind == UNIX_DIAG_NAME and value:
            path = unix_name(value)
        data = data[(length + 3) & ~3:]
    return peer, path
