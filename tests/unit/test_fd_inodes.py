"""fd_paths' inodes read by the kernel (catalogue/descriptors.py): what the planner asks for, the C it
lowers to, and records built byte for byte as that C writes them, decoded and printed without /proc."""

from __future__ import annotations

import io
import struct
from functools import lru_cache

from tracespec.catalogue.descriptors import (ENDPOINT_SYSCALLS, FD_INODE_MEMBERS, FD_INODE_SLOT, INODE_DESCRIPTORS,
                                             SOCK_ENDS_MEMBERS, SOCK_ENDS_SLOT)
from tracespec.catalogue.kinds import Capture, Written
from tracespec.decode.generated import load_decoder
from tracespec.decode.stream import EventStream
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec
from tracespec.spec.parse import parse_spec_text
from tracespec.wire.layout import SLOT_ABSENT

CALLS = ("socket", "socketpair", "pipe", "pipe2", "accept", "accept4", "close", "write", "exit_group", "bind", "listen",
         "connect", "sendto")
HEADER = struct.Struct("<QIIIHH")
AF_UNIX, AF_INET, SOCK_STREAM, SOCK_DGRAM = 1, 2, 1, 2


@lru_cache(maxsize=4)
def compiled(fd_paths: bool, kernel: str = "6.1"):
    text = "version: 1\nsyscalls: [" + ", ".join(CALLS) + "]\n" + ("fd_paths: true\n" if fd_paths else "")
    return compile_spec(parse_spec_text(text, "fd.yaml"), kernel)


def _inode_slots(plan, capture: Capture = Capture.FDINODE) -> dict[str, tuple]:
    """syscall -> its exit layout's fdinode (or sockends) slots."""
    out = {}
    for fam in plan.families:
        for m in fam.members:
            out[m.name] = tuple(sl for sl in fam.exit.slots if sl.capture == capture)
    return out


def test_fd_paths_gives_each_descriptor_maker_one_inode_slot_and_the_btf_offsets():
    plan = compiled(True).plan
    slots = _inode_slots(plan)
    for name in INODE_DESCRIPTORS:
        (sl,) = slots[name]
        assert sl.arg == FD_INODE_SLOT and sl.inline
        assert (sl.count, sl.max) == ((2, 16) if INODE_DESCRIPTORS[name][1] else (1, 8))
    assert slots["socketpair"][0].index == 3 and slots["pipe2"][0].index == 0
    assert not any(slots.get(name) for name in ("close", "write", "exit_group"))
    first = plan.fd_inode_param
    assert [p.name for p in plan.params[first:first + len(FD_INODE_MEMBERS)]] == [f"btf:{m}" for m in FD_INODE_MEMBERS]
    assert [p.index for p in plan.params] == list(range(len(plan.params)))
    c = compiled(True).c_source
    assert "ts_put_fd_inodes(r, off, ret, a[3], 2);" in c and "ts_put_fd_inodes(r, off, ret, 0, 1);" in c
    assert f"#define TS_P_FD_FILES {first}" in c and f"#define TS_P_FD_I_INO {first + 5}" in c
    assert "#define TS_NEED_FD_INODE 1" in c


def test_fd_paths_reads_the_endpoints_bind_listen_connect_and_accept_leave():
    plan = compiled(True).plan
    ends = _inode_slots(plan, Capture.SOCKENDS)
    assert {name for name, slots in ends.items() if slots} == set(ENDPOINT_SYSCALLS) & set(CALLS)
    assert ends["accept4"][0].count == 1 and ends["connect"][0].count == 0 and ends["connect"][0].index == 0
    first = plan.sock_ends_param
    assert [p.name for p in plan.params[first:first + len(SOCK_ENDS_MEMBERS)]] == [f"btf:{m}" for m in SOCK_ENDS_MEMBERS]
    c = compiled(True).c_source
    # a descriptor argument's endpoints whatever the call returned (a failed send or connect binds too)
    assert "ts_put_sock_ends(r, off, (s64)(s32)a[0], 1);" in c and "ts_put_sock_ends(r, off, ret, ret >= 0);" in c
    assert "ret >= 0);" not in c.replace("ts_put_sock_ends(r, off, ret, ret >= 0);", "")
    assert ends["connect"][0].written == Written.ALWAYS and ends["sendto"][0].written == Written.ALWAYS
    assert ends["accept4"][0].written == Written.OK
    assert "#define TS_NEED_SOCK_ENDS 1" in c and f"#define TS_P_SK_SK {first + 1}" in c


def test_without_fd_paths_nothing_is_read_and_socket_stays_raw():
    plan = compiled(False).plan
    assert plan.fd_inode_param is None and not any(_inode_slots(plan).values())
    assert plan.sock_ends_param is None and not any(_inode_slots(plan, Capture.SOCKENDS).values())
    assert not any(p.name.startswith("btf:") and p.name[4:] in FD_INODE_MEMBERS + SOCK_ENDS_MEMBERS
                   for p in plan.params)
    assert "socket" in {i.name for i in plan.generic}  # no copies: the shared raw layout
    c = compiled(False).c_source
    assert "ts_put_fd_inodes(r, off" not in c and "#define TS_NEED_FD_INODE" not in c and "#define TS_P_FD_" not in c
    assert "ts_put_sock_ends(r, off" not in c and "#define TS_NEED_SOCK_ENDS" not in c


def test_a_summary_reads_no_inodes():
    from tracespec.plan.model import SummaryPlan
    text = "version: 1\nsyscalls: [socket, pipe2, connect]\nfd_paths: true\n"
    plan = compile_spec(parse_spec_text(text, "fd.yaml"), "6.1", summary=SummaryPlan()).plan
    assert plan.fd_inode_param is None and not any(_inode_slots(plan).values())
    assert plan.sock_ends_param is None and not any(_inode_slots(plan, Capture.SOCKENDS).values())


# --- records as the C writes them, decoded and printed by a recorded trace's decoder (no /proc) ----------

def _layout(plan, nr: int, phase: str):
    lays = [lay for lay in plan.schema.layouts if lay.phase == phase]
    return next((lay for lay in lays if nr in lay.nrs), None) or next(lay for lay in lays if lay.name == "*")


def _slot(data: bytes | None) -> bytes:
    if data is None:
        return struct.pack("<I", SLOT_ABSENT)
    return struct.pack("<I", len(data)) + data.ljust((len(data) + 3) & ~3, b"\0")


def _call(plan, name: str, tgid: int, ts: int, args: tuple, ret: int, exit_slots: dict | None = None,
          enter_slots: dict | None = None) -> list[bytes]:
    info = next(i for i in plan.schema.syscalls if i.name == name)
    lay = _layout(plan, info.nr, "enter")
    raw = list(args) + [0] * (len(lay.args) - len(args))
    enter = HEADER.pack(ts, tgid, tgid, info.nr, lay.kind, 0) + struct.pack(f"<16s{len(lay.args)}Q", b"t", *raw)
    enter += b"".join(_slot((enter_slots or {}).get(info.args[sl.index].name)) for sl in lay.slots)
    xlay = _layout(plan, info.nr, "exit")
    exit_ = HEADER.pack(ts + 10, tgid, tgid, info.nr, xlay.kind, 0) + struct.pack("<q", ret)
    # a family's layout names its slots by position: the argument's own name is the syscall's
    names = [sl.arg if sl.capture in (Capture.FDINODE, Capture.SOCKENDS) else info.args[sl.index].name
             for sl in xlay.slots]
    exit_ += b"".join(_slot((exit_slots or {}).get(name)) for name in names)
    return [enter, exit_]


def _inodes(*inodes: int) -> bytes:
    return b"".join(struct.pack("<Q", i) for i in inodes)


def _ends(family: int, local: tuple[str, int], remote: tuple[str, int] = ("0.0.0.0", 0)) -> bytes:
    """The sockends payload as ts_put_sock_ends writes it."""
    import socket
    head = struct.pack("<HHH2x", family, local[1], socket.htons(remote[1]))
    if family == socket.AF_INET:
        return head + socket.inet_aton(local[0]) + socket.inet_aton(remote[0]) + bytes(32)
    return head + bytes(8) + socket.inet_pton(socket.AF_INET6, local[0]) + socket.inet_pton(socket.AF_INET6, remote[0])


def _fds(a: int, b: int) -> bytes:
    return struct.pack("<ii", a, b)


def _text(raws: list[bytes], endpoints: bool = False) -> list[str]:
    schema = compiled(True).plan.schema
    stream = EventStream(load_decoder(schema), schema)
    stream.push(raws)
    assert stream.undecodable == 0
    out = io.StringIO()
    w = TextWriter(out, TextOptions(fd_paths=True, live=False, initial_fds={"command": {}}, endpoints=endpoints))
    w.write(stream.finish())
    w.finish(0)
    return out.getvalue().splitlines()


def test_sockets_and_pipes_are_named_from_the_records_alone():
    plan = compiled(True).plan
    raws = _call(plan, "socket", 7, 100, (AF_INET, SOCK_DGRAM, 0), 3, {FD_INODE_SLOT: _inodes(4101)})
    raws += _call(plan, "close", 7, 200, (3,), 0)
    raws += _call(plan, "socket", 7, 300, (AF_INET, SOCK_DGRAM, 0), 3, {FD_INODE_SLOT: _inodes(4102)})
    raws += _call(plan, "pipe2", 7, 400, (0x7ff0, 0), 0, {"fildes": _fds(4, 5), FD_INODE_SLOT: _inodes(88, 88)})
    raws += _call(plan, "write", 7, 500, (5, 0, 0), 0)
    raws += _call(plan, "accept4", 7, 600, (3, 0, 0, 0), 6, {FD_INODE_SLOT: _inodes(4103)})
    raws += _call(plan, "socketpair", 7, 700, (AF_UNIX, SOCK_DGRAM, 0, 0x7ff8), 0,
                  {"usockvec": _fds(8, 9), FD_INODE_SLOT: _inodes(51, 52)})
    raws += _call(plan, "write", 7, 800, (9, 0, 0), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws)]
    assert lines[0] == "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<socket:[4101]>"
    assert lines[1] == "close(3<socket:[4101]>) = 0"
    assert lines[2] == "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<socket:[4102]>"
    assert lines[3] == "pipe2([4<pipe:[88]>, 5<pipe:[88]>], 0) = 0"
    assert lines[4].startswith("write(5<pipe:[88]>, ")
    assert lines[5] == "accept4(3<socket:[4102]>, NULL, NULL, 0) = 6<socket:[4103]>"
    assert lines[6] == "socketpair(AF_UNIX, SOCK_DGRAM, 0, [8<socket:[51]>, 9<socket:[52]>]) = 0"
    assert lines[7].startswith("write(9<socket:[52]>, ")
    yy = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert yy[0] == "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[4101]>"
    assert yy[6] == "socketpair(AF_UNIX, SOCK_DGRAM, 0, [8<UNIX:[51->52]>, 9<UNIX:[52->51]>]) = 0"


def test_an_inode_the_kernel_could_not_read_leaves_the_bare_number():
    plan = compiled(True).plan
    raws = _call(plan, "socket", 7, 100, (AF_INET, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(0)})
    raws += _call(plan, "pipe", 7, 200, (0x7ff0,), 0, {"fildes": _fds(4, 5)})  # no inode slot: ABSENT
    lines = [line.split(" ", 1)[1] for line in _text(raws)]
    assert lines == ["socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3", "pipe([4, 5]) = 0"]


def test_tcp_endpoints_are_those_of_the_syscall_not_of_the_printing():
    """-yy: each line shows the endpoints the last bind, listen, connect or accept before it left; a
    socket not bound yet has none (TCP:[inode]); IPv6 addresses in brackets."""
    plan = compiled(True).plan
    lo = "127.0.0.1"
    raws = _call(plan, "socket", 7, 100, (AF_INET, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(301)})
    raws += _call(plan, "bind", 7, 200, (3, 0, 16), 0, {SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 4000))})
    raws += _call(plan, "listen", 7, 300, (3, 1), 0, {SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 4000))})
    raws += _call(plan, "accept", 7, 400, (3, 0, 0), 4,
                  {FD_INODE_SLOT: _inodes(302), SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 4000), (lo, 50001))})
    raws += _call(plan, "socket", 7, 500, (10, SOCK_STREAM, 0), 5, {FD_INODE_SLOT: _inodes(303)})
    raws += _call(plan, "connect", 7, 600, (5, 0, 28), 0, {SOCK_ENDS_SLOT: _ends(10, ("::1", 50002), ("::1", 4001))})
    raws += _call(plan, "close", 7, 700, (5,), 0)
    raws += _call(plan, "connect", 7, 800, (3, 0, 16), -22)  # failed: nothing read, nothing changes
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert lines[1].startswith("bind(3<TCP:[301]>, ")
    assert lines[2] == "listen(3<TCP:[127.0.0.1:4000]>, 1) = 0"
    assert lines[3] == "accept(3<TCP:[127.0.0.1:4000]>, NULL, NULL) = 4<TCP:[127.0.0.1:4000->127.0.0.1:50001]>"
    assert lines[4] == "socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 5<TCPv6:[303]>"
    assert lines[6] == "close(5<TCPv6:[[::1]:50002->[::1]:4001]>) = 0"
    assert lines[7].startswith("connect(3<TCP:[127.0.0.1:4000]>, ")
    plain = [line.split(" ", 1)[1] for line in _text(raws)]  # -y: the inode only
    assert plain[2] == "listen(3<socket:[301]>, 1) = 0"


def test_a_failed_send_or_connect_that_bound_a_udp_socket_shows_its_port_after():
    """The kernel binds an unbound UDP socket before it sends or connects and keeps the port when the call
    then fails (EMSGSIZE, EACCES, EDESTADDRREQ): strace -yy shows it from the next line; the failed call's
    own line shows the socket as it was. A failed send on what is not a socket changes nothing."""
    plan = compiled(True).plan
    raws = _call(plan, "socket", 7, 100, (AF_INET, SOCK_DGRAM, 0), 3, {FD_INODE_SLOT: _inodes(501)})
    raws += _call(plan, "sendto", 7, 200, (3, 0, 70000, 0, 0, 16), -90, {SOCK_ENDS_SLOT: _ends(AF_INET, ("0.0.0.0", 4242))})
    raws += _call(plan, "write", 7, 300, (3, 0, 0), -89)
    raws += _call(plan, "socket", 7, 400, (AF_INET, SOCK_DGRAM, 0), 4, {FD_INODE_SLOT: _inodes(502)})
    raws += _call(plan, "connect", 7, 500, (4, 0, 16), -13, {SOCK_ENDS_SLOT: _ends(AF_INET, ("0.0.0.0", 4243))})
    raws += _call(plan, "write", 7, 600, (4, 0, 0), -89)
    raws += _call(plan, "socket", 7, 700, (AF_INET, SOCK_DGRAM, 0), 5, {FD_INODE_SLOT: _inodes(503)})
    raws += _call(plan, "sendto", 7, 800, (5, 0, 1, 0, 0, 0), -14, {SOCK_ENDS_SLOT: _ends(AF_INET, ("0.0.0.0", 0))})
    raws += _call(plan, "write", 7, 900, (5, 0, 0), -89)  # EFAULT before the send: not bound
    raws += _call(plan, "pipe2", 7, 1000, (0x7ff0, 0), 0, {"fildes": _fds(8, 9), FD_INODE_SLOT: _inodes(88, 88)})
    raws += _call(plan, "sendto", 7, 1100, (9, 0, 1, 0, 0, 16), -88, {SOCK_ENDS_SLOT: _ends(AF_INET, ("1.2.3.4", 99))})
    raws += _call(plan, "write", 7, 1200, (9, 0, 0), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert lines[1].startswith("sendto(3<UDP:[501]>, ") and lines[1].endswith(" = -1 EMSGSIZE (Message too long)")
    assert lines[2].startswith("write(3<UDP:[0.0.0.0:4242]>, ")
    assert lines[4].startswith("connect(4<UDP:[502]>, ") and lines[5].startswith("write(4<UDP:[0.0.0.0:4243]>, ")
    assert lines[7].startswith("sendto(5<UDP:[503]>, ") and lines[8].startswith("write(5<UDP:[503]>, ")
    assert lines[11].startswith("write(9<pipe:[88]>, ")


def test_the_first_endpoints_found_stay_as_strace_keeps_them():
    """strace caches a socket's endpoints by inode when it first finds them: a UDP socket bound, then
    connected, shows its local address alone from then on; one first bound by its connect shows both."""
    plan = compiled(True).plan
    lo = "127.0.0.1"
    raws = _call(plan, "socket", 7, 100, (AF_INET, SOCK_DGRAM, 0), 3, {FD_INODE_SLOT: _inodes(401)})
    raws += _call(plan, "bind", 7, 200, (3, 0, 16), 0, {SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 5000))})
    raws += _call(plan, "connect", 7, 300, (3, 0, 16), 0, {SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 5000), (lo, 6000))})
    raws += _call(plan, "write", 7, 400, (3, 0, 0), 0)
    raws += _call(plan, "socket", 7, 500, (AF_INET, SOCK_DGRAM, 0), 4, {FD_INODE_SLOT: _inodes(402)})
    raws += _call(plan, "connect", 7, 600, (4, 0, 16), 0, {SOCK_ENDS_SLOT: _ends(AF_INET, (lo, 7000), (lo, 6000))})
    raws += _call(plan, "write", 7, 700, (4, 0, 0), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert lines[3].startswith("write(3<UDP:[127.0.0.1:5000]>, ")
    assert lines[5].startswith("connect(4<UDP:[402]>, ")
    assert lines[6].startswith("write(4<UDP:[127.0.0.1:7000->127.0.0.1:6000]>, ")


def _unix_ends(name: bytes = b"", peer: int = 0) -> bytes:
    """A UNIX socket's sockends payload: its name's length, its peer's inode, the name's first bytes."""
    return struct.pack("<HH4xQ", AF_UNIX, len(name), peer) + name[:32].ljust(32, b"\0")


def _netlink_ends(portid: int) -> bytes:
    return struct.pack("<H6xI", 16, portid) + bytes(36)


def test_unix_endpoints_come_from_the_records_alone():
    """-yy on UNIX sockets gone by the time their lines are printed: a bound one by its name (a path, or
    @"abstract"), an accepted one by its peer and the listener's name, the connecting end by the one that
    accepted it from the accept on (its connect found no peer yet: a bare inode until then), a name
    longer than the record holds left to sock_diag (none here: the inode)."""
    plan = compiled(True).plan
    raws = _call(plan, "socket", 7, 100, (AF_UNIX, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(501)})
    raws += _call(plan, "bind", 7, 200, (3, 0, 110), 0, {SOCK_ENDS_SLOT: _unix_ends(b"/tmp/s\0")})
    raws += _call(plan, "listen", 7, 300, (3, 1), 0, {SOCK_ENDS_SLOT: _unix_ends(b"/tmp/s\0")})
    raws += _call(plan, "socket", 8, 400, (AF_UNIX, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(502)})
    raws += _call(plan, "connect", 8, 500, (3, 0, 110), 0, {SOCK_ENDS_SLOT: _unix_ends()})
    raws += _call(plan, "write", 8, 550, (3, 0, 0), 0)
    raws += _call(plan, "accept", 7, 600, (3, 0, 0), 4,
                  {FD_INODE_SLOT: _inodes(503), SOCK_ENDS_SLOT: _unix_ends(b"/tmp/s\0", 502)})
    raws += _call(plan, "write", 8, 700, (3, 0, 0), 0)
    raws += _call(plan, "close", 7, 800, (4,), 0)
    raws += _call(plan, "socket", 7, 900, (AF_UNIX, SOCK_DGRAM, 0), 5, {FD_INODE_SLOT: _inodes(504)})
    raws += _call(plan, "bind", 7, 1000, (5, 0, 9), 0, {SOCK_ENDS_SLOT: _unix_ends(b"\0abs")})
    raws += _call(plan, "close", 7, 1100, (5,), 0)
    raws += _call(plan, "socket", 7, 1200, (AF_UNIX, SOCK_DGRAM, 0), 5, {FD_INODE_SLOT: _inodes(505)})
    raws += _call(plan, "bind", 7, 1300, (5, 0, 110), 0, {SOCK_ENDS_SLOT: _unix_ends(b"/" + b"x" * 40)})
    raws += _call(plan, "close", 7, 1400, (5,), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert lines[1].startswith("bind(3<UNIX-STREAM:[501]>, ")
    assert lines[2] == 'listen(3<UNIX-STREAM:[501,"/tmp/s"]>, 1) = 0'
    assert lines[5].startswith("write(3<UNIX-STREAM:[502]>, ")
    assert lines[6] == 'accept(3<UNIX-STREAM:[501,"/tmp/s"]>, NULL, NULL) = 4<UNIX-STREAM:[503->502,"/tmp/s"]>'
    assert lines[7].startswith("write(3<UNIX-STREAM:[502->503]>, ")
    assert lines[8] == 'close(4<UNIX-STREAM:[503->502,"/tmp/s"]>) = 0'
    assert lines[11] == 'close(5<UNIX:[504,@"abs"]>) = 0'
    assert lines[14] == "close(5<UNIX:[505]>) = 0"


def test_netlink_sockets_show_their_protocol_and_port_once_bound():
    plan = compiled(True).plan
    raws = _call(plan, "socket", 7, 100, (16, 3, 0), 3, {FD_INODE_SLOT: _inodes(601)})  # NETLINK_ROUTE
    raws += _call(plan, "bind", 7, 200, (3, 0, 12), 0, {SOCK_ENDS_SLOT: _netlink_ends(0)})
    raws += _call(plan, "bind", 7, 300, (3, 0, 12), 0, {SOCK_ENDS_SLOT: _netlink_ends(4242)})
    raws += _call(plan, "close", 7, 400, (3,), 0)
    raws += _call(plan, "socket", 7, 500, (16, 2, 16), 3, {FD_INODE_SLOT: _inodes(602)})  # NETLINK_GENERIC
    raws += _call(plan, "connect", 7, 600, (3, 0, 12), 0, {SOCK_ENDS_SLOT: _netlink_ends(99)})
    raws += _call(plan, "close", 7, 700, (3,), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    assert lines[0] == "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 3<NETLINK:[601]>"
    assert lines[2].startswith("bind(3<NETLINK:[601]>, ")  # the first bind left no port id
    assert lines[3] == "close(3<NETLINK:[ROUTE:4242]>) = 0"
    assert lines[6] == "close(3<NETLINK:[GENERIC:99]>) = 0"
    assert [line.split(" ", 1)[1] for line in _text(raws)][3] == "close(3<socket:[601]>) = 0"


def test_a_unix_name_longer_than_the_record_holds_is_the_one_bind_gave():
    """The record holds a name's first 32 bytes: a longer one is the name the bind seen gave (the
    listener's, for the sockets it accepts), when the two agree on those bytes."""
    import socket
    plan = compiled(True).plan
    path = b"/tmp/" + b"d" * 40 + b"/socket"
    addr = struct.pack("<H", socket.AF_UNIX) + path + bytes(108 - len(path))
    raws = _call(plan, "socket", 7, 100, (AF_UNIX, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(701)})
    raws += _call(plan, "bind", 7, 200, (3, 0x1000, 110), 0, {SOCK_ENDS_SLOT: _unix_ends(path + b"\0")},
                  {"umyaddr": addr})
    raws += _call(plan, "accept", 7, 300, (3, 0, 0), 4,
                  {FD_INODE_SLOT: _inodes(702), SOCK_ENDS_SLOT: _unix_ends(path + b"\0", 703)})
    raws += _call(plan, "close", 7, 400, (3,), 0)
    raws += _call(plan, "socket", 7, 500, (AF_UNIX, SOCK_STREAM, 0), 3, {FD_INODE_SLOT: _inodes(704)})
    raws += _call(plan, "listen", 7, 600, (3, 1), 0, {SOCK_ENDS_SLOT: _unix_ends(b"/" + b"e" * 40 + b"\0")})
    raws += _call(plan, "close", 7, 700, (3,), 0)
    lines = [line.split(" ", 1)[1] for line in _text(raws, endpoints=True)]
    shown = path.decode()
    assert lines[2] == f'accept(3<UNIX-STREAM:[701,"{shown}"]>, NULL, NULL) = 4<UNIX-STREAM:[702->703,"{shown}"]>'
    assert lines[3] == f'close(3<UNIX-STREAM:[701,"{shown}"]>) = 0'
    assert lines[6] == "close(3<UNIX-STREAM:[704]>) = 0"  # bound before the trace: not known
