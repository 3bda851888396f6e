"""Classes of arguments strace decodes by rules of their own, from synthetic records built byte for byte
as the BPF program writes them (no root): pselect6's sixth argument (a struct holding the signal mask's
address and size, the mask copied through it), socket addresses shorter than their family (their
pointer), and the NUMA memory policy calls (modes with their flags, node masks, the policy
get_mempolicy returns). The plan's side too: what the BPF program copies for them."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
from functools import lru_cache

import pytest

from synthetic import ABSENT, FAULT, HEADER, TRUNCATED, slot_bytes
from tracespec.catalogue import load_catalogue
from tracespec.codegen.lower import render_c
from tracespec.decode.generated import load_decoder
from tracespec.decode.stream import EventStream
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec

NR = {"pselect6": 270, "sendto": 44, "connect": 42, "bind": 49, "getsockname": 51, "recvfrom": 45,
      "accept": 43, "sendmsg": 46, "recvmsg": 47, "mbind": 237, "set_mempolicy": 238, "get_mempolicy": 239,
      "migrate_pages": 256, "set_mempolicy_home_node": 450}
SIGUSR1_BIT = 1 << 9
ADDR = 0x7FFD00001000  # where an argument points


def _spec(tmp_path_factory, names, extra: str = "") -> str:
    path = tmp_path_factory.mktemp("classes") / "classes.yaml"
    path.write_text("version: 1\nsyscalls: [" + ", ".join(names) + "]\n" + extra)
    return str(path)


@lru_cache(maxsize=8)
def _compiled(path: str, kernel: str = "6.1"):
    return compile_spec(path, kernel=kernel)


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return _spec(tmp_path_factory, NR)


def _layout(schema, nr: int, phase: str):
    """The syscall's record layout, or the shared one of syscalls that copy nothing."""
    lays = [lay for lay in schema.layouts if lay.phase == phase]
    return next((lay for lay in lays if nr in lay.nrs), None) or next(lay for lay in lays if lay.name == "*")


def _slots(name: str, lay, slots: dict) -> bytes:
    """The slots of a record, by the syscall's own argument names (a family's layout names its first)."""
    args = load_catalogue().get(name).args
    return b"".join(slot_bytes(s.capture, *slots.get(args[s.index].name + s.name_suffix, (b"", ABSENT)))
                    for s in lay.slots)


class _Trace:
    """Enter and exit records of calls, decoded and printed as text."""

    def __init__(self, spec: str, nrs: dict = NR):
        self.schema = _compiled(spec).plan.schema
        self.nrs = nrs
        self.raws: list[bytes] = []
        self.ts = 1000

    def call(self, name: str, args, ret: int, entry: dict | None = None, exit: dict | None = None) -> "_Trace":
        nr = self.nrs[name]
        lay = _layout(self.schema, nr, "enter")
        raw = [a & 0xFFFFFFFFFFFFFFFF for a in args] + [0] * (len(lay.args) - len(args))
        self.raws.append(HEADER.pack(self.ts, 7, 7, nr, lay.kind, 0) + struct.pack(f"<16s{len(lay.args)}Q", b"t", *raw)
                         + _slots(name, lay, entry or {}))
        xl = _layout(self.schema, nr, "exit")
        self.raws.append(HEADER.pack(self.ts + 10, 7, 7, nr, xl.kind, 0) + struct.pack("<q", ret)
                         + _slots(name, xl, exit or {}))
        self.ts += 100
        return self

    def lines(self, xlat: str = "abbrev") -> list[str]:
        stream = EventStream(load_decoder(self.schema), self.schema)
        stream.push(self.raws)
        out = io.StringIO()
        w = TextWriter(out, TextOptions(live=False, xlat=xlat))
        w.write(stream.finish())
        w.finish(0)
        return [line.split(" ", 1)[1] for line in out.getvalue().splitlines() if not line.startswith("tracespec:")]

    def json(self) -> list[dict]:
        import json
        from synthetic import CheckedJsonWriter as JsonWriter  # the fast line held to the dict
        stream = EventStream(load_decoder(self.schema), self.schema)
        stream.push(self.raws)
        out = io.StringIO()
        w = JsonWriter(out)
        w.write(stream.finish())
        w.finish(0)
        return [json.loads(line) for line in out.getvalue().splitlines() if '"syscall"' in line]


# -- pselect6's sixth argument ---------------------------------------------------------------------

def _argpack(p: int, size: int) -> bytes:
    return struct.pack("<QQ", p, size)


def _fdset(*fds: int) -> bytes:
    return sum(1 << fd for fd in fds).to_bytes(8, "little")


def _pselect(t: _Trace, sig: int, ret: int, pack: tuple | None = None, mask: tuple | None = None) -> _Trace:
    entry = {"inp": (_fdset(3), 0)}
    if pack is not None:
        entry["sig"] = pack
    if mask is not None:
        entry["sig__sigmask"] = mask
    return t.call("pselect6", (4, 0x500, 0, 0, 0, sig), ret, entry, {"inp": (_fdset(3), 0)} if ret > 0 else None)


def test_pselect6_prints_its_signal_mask_through_the_struct_as_strace_does(spec):
    mask = SIGUSR1_BIT.to_bytes(8, "little")
    t = _Trace(spec)
    _pselect(t, ADDR, 1, (_argpack(0x600, 8), 0), (mask, 0))
    _pselect(t, ADDR, 1, (_argpack(0x600, 8), 0), ((~0 & ~(3 << 31) & (1 << 64) - 1).to_bytes(8, "little"), 0))
    _pselect(t, ADDR, 1, (_argpack(0, 8), 0))  # no mask: the copy through a NULL is none
    _pselect(t, 0, 1)
    _pselect(t, ADDR, -22, (_argpack(0x600, 4), 0), (mask[:4], 0))  # a size not the kernel's: the address
    _pselect(t, ADDR, -22, (_argpack(0x600, 16), 0), (mask, TRUNCATED))
    _pselect(t, ADDR, -22, (_argpack(0x600, 0), 0), (b"", 0))
    _pselect(t, ADDR, -14, (_argpack(0x8, 8), 0), (b"", FAULT))  # the mask unreadable
    _pselect(t, 0x8, -14, (b"", FAULT))  # the struct unreadable
    assert t.lines() == [
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=[USR1], sigsetsize=8}) = 1 (in [3])",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=~[RTMIN RT_1], sigsetsize=8}) = 1 (in [3])",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=NULL, sigsetsize=8}) = 1 (in [3])",
        "pselect6(4, [3], NULL, NULL, NULL, NULL) = 1 (in [3])",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=0x600, sigsetsize=4}) = -1 EINVAL (Invalid argument)",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=0x600, sigsetsize=16}) = -1 EINVAL (Invalid argument)",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=0x600, sigsetsize=0}) = -1 EINVAL (Invalid argument)",
        "pselect6(4, [3], NULL, NULL, NULL, {sigmask=0x8, sigsetsize=8}) = -1 EFAULT (Bad address)",
        "pselect6(4, [3], NULL, NULL, NULL, 0x8) = -1 EFAULT (Bad address)"]


def test_pselect6_signal_mask_follows_the_xlat_options_and_reaches_json(spec):
    t = _pselect(_Trace(spec), ADDR, 1, (_argpack(0x600, 8), 0), (SIGUSR1_BIT.to_bytes(8, "little"), 0))
    assert t.lines("raw")[0].endswith(", {sigmask=[10], sigsetsize=8}) = 1 (in [3])")
    assert t.lines("verbose")[0].endswith(", {sigmask=[10 /* USR1 */], sigsetsize=8}) = 1 (in [3])")
    sig = t.json()[0]["args"]["sig"]
    assert sig["p"] == 0x600 and sig["size"] == 8 and sig["sigmask"] == {"bits": SIGUSR1_BIT}


def test_pselect6_copies_the_mask_through_the_struct_at_entry(spec):
    """The BPF program reads the struct, then the mask at its first word, of the size at its second, at
    most the kernel's 8 bytes (the entry's slots: the struct, then the mask)."""
    plan = _compiled(spec).plan
    lay = _layout(plan.schema, NR["pselect6"], "enter")
    sig = [s for s in lay.slots if s.arg == "sig"]
    assert [(s.part, s.max, s.via, s.via_len) for s in sig] == [("", 16, -1, 0), ("sigmask", 8, 0, 8)]
    assert not [s for s in _layout(plan.schema, NR["pselect6"], "exit").slots if s.arg == "sig"]
    assert "ts_put_buf(r, off, ts_user_u64(a[5] + 0), (s64)(u64)ts_user_u64(a[5] + 8), 8)" in render_c(plan)


# -- socket addresses shorter than their family ----------------------------------------------------

SIN = struct.pack("<HH4s8x", 2, 0x0900, bytes([127, 0, 0, 1]))  # AF_INET, port 9 (network order), 127.0.0.1
SUN_FAMILY = struct.pack("<H", 1)  # AF_UNIX alone: an unnamed socket


def _int(v: int) -> tuple:
    return struct.pack("<i", v), 0


def test_an_address_shorter_than_its_family_is_its_pointer(spec):
    """strace's decode_sockaddr: a length below 2 (negative too) prints the address, NULL when it is."""
    t = (_Trace(spec)
         .call("sendto", (5, 0x500, 2, 0, ADDR, 0), -22, {"buff": (b"hi", 0), "addr": (b"", 0)})
         .call("sendto", (5, 0x500, 2, 0, ADDR, 1), -22, {"buff": (b"hi", 0), "addr": (SIN[:1], 0)})
         .call("sendto", (5, 0x500, 2, 0, ADDR, -1), -22, {"buff": (b"hi", 0)})
         .call("sendto", (5, 0x500, 2, 0, 0, 0), -89, {"buff": (b"hi", 0)})
         .call("sendto", (5, 0x500, 2, 0, ADDR, 2), -22, {"buff": (b"hi", 0), "addr": (SIN[:2], 0)})
         .call("connect", (5, ADDR, 0), -22, {"uservaddr": (b"", 0)})
         .call("connect", (5, ADDR, 16), -111, {"uservaddr": (SIN, 0)})
         .call("bind", (5, ADDR, 1), -22, {"umyaddr": (SIN[:1], 0)}))
    assert t.lines() == [
        'sendto(5, "hi", 2, 0, 0x7ffd00001000, 0) = -1 EINVAL (Invalid argument)',
        'sendto(5, "hi", 2, 0, 0x7ffd00001000, 1) = -1 EINVAL (Invalid argument)',
        'sendto(5, "hi", 2, 0, 0x7ffd00001000, -1) = -1 EINVAL (Invalid argument)',
        'sendto(5, "hi", 2, 0, NULL, 0) = -1 EDESTADDRREQ (Destination address required)',
        'sendto(5, "hi", 2, 0, {sa_family=AF_INET}, 2) = -1 EINVAL (Invalid argument)',
        "connect(5, 0x7ffd00001000, 0) = -1 EINVAL (Invalid argument)",
        'connect(5, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED '
        "(Connection refused)",
        "bind(5, 0x7ffd00001000, 1) = -1 EINVAL (Invalid argument)"]


def test_a_returned_address_shorter_than_its_family_is_its_pointer(spec):
    """The kernel's returned length, or the one given when shorter (strace's min of the two), below 2:
    the pointer (a stream socket names no sender, [110 => 0]; a buffer given 0 or 1 bytes)."""
    t = (_Trace(spec)
         .call("getsockname", (5, ADDR, 0x600), 0, {"usockaddr_len": _int(0)},
               {"usockaddr": (SIN, 0), "usockaddr_len": _int(16)})
         .call("getsockname", (5, ADDR, 0x600), 0, {"usockaddr_len": _int(1)},
               {"usockaddr": (SIN, 0), "usockaddr_len": _int(16)})
         .call("getsockname", (5, ADDR, 0x600), 0, {"usockaddr_len": _int(16)},
               {"usockaddr": (SIN, 0), "usockaddr_len": _int(16)})
         .call("recvfrom", (7, 0x500, 1, 0, ADDR, 0x600), 1, {"addr_len": _int(110)},
               {"ubuf": (b"a", 0), "addr": (b"", 0), "addr_len": _int(0)})
         .call("recvfrom", (7, 0x500, 1, 0, ADDR, 0x600), 1, {"addr_len": _int(110)},
               {"ubuf": (b"a", 0), "addr": (SUN_FAMILY, 0), "addr_len": _int(2)})
         .call("accept", (8, ADDR, 0x600), -22, {"upeer_addrlen": _int(0)}))
    assert t.lines() == [
        "getsockname(5, 0x7ffd00001000, [0 => 16]) = 0",
        "getsockname(5, 0x7ffd00001000, [1 => 16]) = 0",
        'getsockname(5, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, [16]) = 0',
        'recvfrom(7, "a", 1, 0, 0x7ffd00001000, [110 => 0]) = 1',
        'recvfrom(7, "a", 1, 0, {sa_family=AF_UNIX}, [110 => 2]) = 1',
        "accept(8, 0x7ffd00001000, [0]) = -1 EINVAL (Invalid argument)"]


def _msghdr(name=0, namelen=0, iov=0, iovlen=0) -> bytes:
    return struct.pack("<QI4xQQQQI4x", name, namelen, iov, iovlen, 0, 0, 0)


def test_a_message_name_shorter_than_its_family_is_its_pointer(spec):
    t = (_Trace(spec)
         .call("sendmsg", (3, 0x400, 0), -22, {"msg": (_msghdr(ADDR, 1, 0x500, 1), 0), "msg__name": (SIN[:1], 0),
                                               "msg__iov": (b"", ABSENT)})
         .call("recvmsg", (4, 0x400, 0), 1, {"msg": (_msghdr(ADDR, 110, 0), 0)},
               {"msg": (_msghdr(ADDR, 0, 0), 0), "msg__name": (b"", 0)}))
    assert t.lines() == [
        "sendmsg(3, {msg_name=0x7ffd00001000, msg_namelen=1, msg_iov=0x500, msg_iovlen=1, msg_controllen=0, "
        "msg_flags=0}, 0) = -1 EINVAL (Invalid argument)",
        "recvmsg(4, {msg_name=0x7ffd00001000, msg_namelen=110 => 0, msg_iov=NULL, msg_iovlen=0, msg_controllen=0, "
        "msg_flags=0}, 0) = 1"]


# -- NUMA memory policies --------------------------------------------------------------------------

MPOL_PREFERRED, MPOL_BIND, MPOL_WEIGHTED_INTERLEAVE = 1, 2, 6
MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING = 0x8000, 0x4000, 0x2000
MAP = 0x7F0000000000  # a mapping's address


def _longs(*words: int) -> bytes:
    return b"".join(struct.pack("<Q", w) for w in words)


def test_set_mempolicy_modes_and_node_masks_as_strace_prints_them(spec):
    """A mode is its policy (first, when it has a name), then its flags, then what no name covers; a node
    mask is maxnode - 1 bits in longs, each "%#016lx"; maxnode 0 is "[]", 1 (no longs) the address."""
    one = (_longs(1), 0)
    t = (_Trace(spec)
         .call("set_mempolicy", (MPOL_BIND, 0x600, 2), 0, {"nmask": one})
         .call("set_mempolicy", (MPOL_PREFERRED | MPOL_F_STATIC_NODES, 0x600, 64), 0, {"nmask": one})
         .call("set_mempolicy", (MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING,
                                 0x600, 64), -22, {"nmask": one})
         .call("set_mempolicy", (MPOL_F_STATIC_NODES, 0x600, 64), -22, {"nmask": (_longs(0), 0)})
         .call("set_mempolicy", (7 | MPOL_F_STATIC_NODES, 0x600, 64), -22, {"nmask": one})
         .call("set_mempolicy", (0x1234, 0x600, 64), -22, {"nmask": one})
         .call("set_mempolicy", (-1, 0x600, 64), -22, {"nmask": one})
         .call("set_mempolicy", (MPOL_WEIGHTED_INTERLEAVE, 0x600, 64), 0, {"nmask": one})
         .call("set_mempolicy", (0, 0, 0), 0)
         .call("set_mempolicy", (MPOL_BIND, 0x600, 0), -22, {"nmask": (b"", 0)})
         .call("set_mempolicy", (MPOL_BIND, 0x600, 1), -22, {"nmask": (b"", 0)})
         .call("set_mempolicy", (MPOL_BIND, 0x600, (1 << 64) - 1), -22, {"nmask": (_longs(*[0] * 32), TRUNCATED)})
         .call("set_mempolicy", (MPOL_BIND, 0x600, 130), 0, {"nmask": (_longs(5, 1 << 63 | 1, 3), 0)})
         .call("set_mempolicy", (MPOL_BIND, 0x600, 129), 0, {"nmask": (_longs(5, 1 << 63 | 1), 0)})
         .call("set_mempolicy", (MPOL_BIND, 0x600, 40 * 64), 0, {"nmask": (_longs(1, *[0] * 31), TRUNCATED)})
         .call("set_mempolicy", (MPOL_BIND, 0x8, 64), -14, {"nmask": (b"", FAULT)}))
    zero = "0" * 16
    assert t.lines() == [
        "set_mempolicy(MPOL_BIND, [0x00000000000001], 2) = 0",
        "set_mempolicy(MPOL_PREFERRED|MPOL_F_STATIC_NODES, [0x00000000000001], 64) = 0",
        "set_mempolicy(MPOL_BIND|MPOL_F_STATIC_NODES|MPOL_F_RELATIVE_NODES|MPOL_F_NUMA_BALANCING, "
        "[0x00000000000001], 64) = -1 EINVAL (Invalid argument)",
        f"set_mempolicy(MPOL_DEFAULT|MPOL_F_STATIC_NODES, [{zero}], 64) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_F_STATIC_NODES|0x7, [0x00000000000001], 64) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(0x1234 /* MPOL_??? */, [0x00000000000001], 64) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_F_STATIC_NODES|MPOL_F_RELATIVE_NODES|MPOL_F_NUMA_BALANCING|0xffff1fff, "
        "[0x00000000000001], 64) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_WEIGHTED_INTERLEAVE, [0x00000000000001], 64) = 0",
        "set_mempolicy(MPOL_DEFAULT, NULL, 0) = 0",
        "set_mempolicy(MPOL_BIND, [], 0) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_BIND, 0x600, 1) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_BIND, 0x600, 18446744073709551615) = -1 EINVAL (Invalid argument)",
        "set_mempolicy(MPOL_BIND, [0x00000000000005, 0x8000000000000001, 0x00000000000003], 130) = 0",
        "set_mempolicy(MPOL_BIND, [0x00000000000005, 0x8000000000000001], 129) = 0",
        f"set_mempolicy(MPOL_BIND, [0x00000000000001, {', '.join([zero] * 31)}, ...], 2560) = 0",
        "set_mempolicy(MPOL_BIND, 0x8, 64) = -1 EFAULT (Bad address)"]
    assert t.lines("raw")[1] == "set_mempolicy(0x8001, [0x00000000000001], 64) = 0"
    assert t.lines("verbose")[4].startswith("set_mempolicy(0x8007 /* MPOL_F_STATIC_NODES|0x7 */, ")
    assert t.lines("verbose")[8] == "set_mempolicy(0 /* MPOL_DEFAULT */, NULL, 0) = 0"


def test_get_mempolicy_prints_everything_when_it_returns(spec):
    """The policy the kernel wrote, [MPOL_BIND], and the mask, when it succeeded; their addresses when it
    failed; the flags by name; the address it looks up a pointer."""
    t = (_Trace(spec)
         .call("get_mempolicy", (0, 0, 0, 0, 0), 0)
         .call("get_mempolicy", (0x600, 0x700, 64, 0, 0), 0, None, {"policy": _int(MPOL_BIND), "nmask": (_longs(1), 0)})
         .call("get_mempolicy", (0x600, 0x700, 128, 0, 0), 0, None, {"policy": _int(0), "nmask": (_longs(0, 0), 0)})
         .call("get_mempolicy", (0x600, 0, 0, 0, 4), 0, None, {"policy": _int(0)})
         .call("get_mempolicy", (0x600, 0x700, 64, 0, 0), 0, None,
               {"policy": _int(MPOL_PREFERRED | MPOL_F_STATIC_NODES), "nmask": (_longs(1), 0)})
         .call("get_mempolicy", (0x600, 0x700, 64, MAP, 3), 0, None, {"policy": _int(0), "nmask": (_longs(0), 0)})
         .call("get_mempolicy", (0x600, 0x700, 64, 0, 0x10), -22)
         .call("get_mempolicy", (0x600, 0x700, 0, 0, 0x10), -22)
         .call("get_mempolicy", (0x8, 0x700, 64, 0, 0), -14))
    assert t.lines() == [
        "get_mempolicy(NULL, NULL, 0, NULL, 0) = 0",
        "get_mempolicy([MPOL_BIND], [0x00000000000001], 64, NULL, 0) = 0",
        f"get_mempolicy([MPOL_DEFAULT], [{'0' * 16}, {'0' * 16}], 128, NULL, 0) = 0",
        "get_mempolicy([MPOL_DEFAULT], NULL, 0, NULL, MPOL_F_MEMS_ALLOWED) = 0",
        "get_mempolicy([0x8001 /* MPOL_??? */], [0x00000000000001], 64, NULL, 0) = 0",
        f"get_mempolicy([MPOL_DEFAULT], [{'0' * 16}], 64, 0x7f0000000000, MPOL_F_NODE|MPOL_F_ADDR) = 0",
        "get_mempolicy(0x600, 0x700, 64, NULL, 0x10 /* MPOL_??? */) = -1 EINVAL (Invalid argument)",
        "get_mempolicy(0x600, [], 0, NULL, 0x10 /* MPOL_??? */) = -1 EINVAL (Invalid argument)",
        "get_mempolicy(0x8, 0x700, 64, NULL, 0) = -1 EFAULT (Bad address)"]
    assert t.lines("verbose")[1] == "get_mempolicy([0x2 /* MPOL_BIND */], [0x00000000000001], 64, NULL, 0) = 0"
    args = t.json()[1]["args"]
    assert args["policy"] == MPOL_BIND and args["nmask"] == [1]


def test_mbind_migrate_pages_and_the_home_node_as_strace_prints_them(spec):
    one = (_longs(1), 0)
    t = (_Trace(spec)
         .call("mbind", (MAP, 8192, MPOL_BIND, 0x600, 64, 3), 0, {"nmask": one})
         .call("mbind", (MAP, 8192, MPOL_BIND, 0x600, 64, 0x2C), -22, {"nmask": one})
         .call("mbind", (MAP, 8192, 0, 0, 0, 0), 0)
         .call("mbind", (MAP, 8192, MPOL_PREFERRED | MPOL_F_STATIC_NODES, 0x600, 64, 0x100), -22, {"nmask": one})
         .call("mbind", (0, 0, 0x10002, 0x600, 64, 0x10), -22, {"nmask": one})
         .call("mbind", (0, 0, -1, 0x600, 64, 0), -22, {"nmask": one})
         .call("migrate_pages", (0, 64, 0x600, 0x700), 0, {"old_nodes": one, "new_nodes": (_longs(2), 0)})
         .call("migrate_pages", (0, 2, 0x600, 0x8), -14, {"old_nodes": one, "new_nodes": (b"", FAULT)})
         .call("set_mempolicy_home_node", (MAP, 8192, 0, 0), -2)
         .call("set_mempolicy_home_node", (MAP, 8192, 5, 1), -22))
    assert t.lines() == [
        "mbind(0x7f0000000000, 8192, MPOL_BIND, [0x00000000000001], 64, MPOL_MF_STRICT|MPOL_MF_MOVE) = 0",
        "mbind(0x7f0000000000, 8192, MPOL_BIND, [0x00000000000001], 64, MPOL_MF_MOVE_ALL|0x28) = -1 EINVAL "
        "(Invalid argument)",
        "mbind(0x7f0000000000, 8192, MPOL_DEFAULT, NULL, 0, 0) = 0",
        "mbind(0x7f0000000000, 8192, MPOL_PREFERRED|MPOL_F_STATIC_NODES, [0x00000000000001], 64, 0x100 /* MPOL_??? */)"
        " = -1 EINVAL (Invalid argument)",
        "mbind(NULL, 0, 0x10002 /* MPOL_??? */, [0x00000000000001], 64, 0x10 /* MPOL_??? */) = -1 EINVAL "
        "(Invalid argument)",
        "mbind(NULL, 0, MPOL_F_STATIC_NODES|MPOL_F_RELATIVE_NODES|MPOL_F_NUMA_BALANCING|0xffffffffffff1fff, "
        "[0x00000000000001], 64, 0) = -1 EINVAL (Invalid argument)",
        "migrate_pages(0, 64, [0x00000000000001], [0x00000000000002]) = 0",
        "migrate_pages(0, 2, [0x00000000000001], 0x8) = -1 EFAULT (Bad address)",
        "set_mempolicy_home_node(0x7f0000000000, 8192, 0, 0) = -1 ENOENT (No such file or directory)",
        "set_mempolicy_home_node(0x7f0000000000, 8192, 5, 0x1) = -1 EINVAL (Invalid argument)"]


def _copy_length_expr(plan, name: str) -> tuple[str, int]:
    """The C expression of the bytes the program copies for a syscall's node mask, and the copy's most."""
    from tracespec.codegen.lower import _len_expr
    fam = next(f for f in plan.families if any(m.name == name for m in f.members))
    lay = fam.enter if name != "get_mempolicy" else fam.exit
    slot = next(s for s in lay.slots if s.arg == "nmask")
    return _len_expr(slot, fam.members[0], lay.phase), slot.max


@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="a C compiler is needed")
@pytest.mark.parametrize("name,index", [("set_mempolicy", 2), ("mbind", 4), ("get_mempolicy", 2)])
def test_the_node_mask_copy_is_as_long_as_the_kernel_reads(name, index, spec, tmp_path):
    """The generated C's length of the copy, compiled and run for maxnode values around the edges: the
    longs of maxnode - 1 bits, and past what the copy holds (a huge maxnode too) one byte more than it,
    which the copy marks truncated; get_mempolicy's nothing when the call failed."""
    expr, most = _copy_length_expr(_compiled(spec).plan, name)
    values = [0, 1, 2, 64, 65, 66, 129, 130, 8 * most, 8 * most + 1, 8 * most + 2, 1 << 63, (1 << 64) - 1]
    rets = [0, -22] if name == "get_mempolicy" else [0]
    prog = ("#include <stdio.h>\ntypedef unsigned long long u64; typedef long long s64;\n"
            "typedef unsigned int u32; typedef int s32;\n"
            f"static s64 len(u64 *a, s64 ret) {{ return {expr}; }}\n"
            "int main(void) { u64 a[6] = {0}; s64 rets[] = {" + ", ".join(map(str, rets)) + "};\n"
            "u64 v[] = {" + ", ".join(f"{v}ull" for v in values) + "};\n"
            f"for (unsigned r = 0; r < {len(rets)}; r++) for (unsigned i = 0; i < {len(values)}; i++) "
            f"{{ a[{index}] = v[i]; printf(\"%lld\\n\", len(a, rets[r])); }}\n return 0; }}\n")
    (tmp_path / "len.c").write_text(prog)
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run([cc, "-Wall", "-Werror", "-Wno-unused-parameter", "-o", str(tmp_path / "len"),
                    str(tmp_path / "len.c")], check=True, capture_output=True, text=True)
    got = [int(x) for x in subprocess.run([str(tmp_path / "len")], check=True, capture_output=True,
                                          text=True).stdout.split()]

    def want(maxnode: int, ret: int) -> int:
        if ret < 0:
            return -1
        bits = (maxnode - 1) % (1 << 64)
        return most + 1 if bits > 8 * most else (bits + 63) // 64 * 8
    assert got == [want(v, r) for r in rets for v in values]
    assert most == 32 * 8, "strace's -s 32 longs, the spec's buffers' max"
    assert re.search(r"\bret\b", expr) if name == "get_mempolicy" else "ret" not in expr


def test_a_node_mask_copies_the_specs_count_of_longs(tmp_path_factory):
    """As arrays: the spec's count of elements (longs), else its buffers' max (what -s sets); a max of
    bytes is refused with a message."""
    from tracespec.errors import SpecError
    def nmask_spec(option: str) -> str:
        path = tmp_path_factory.mktemp("nmask") / "nmask.yaml"
        path.write_text("version: 1\nsyscalls:\n  - name: set_mempolicy\n    args:\n      nmask: {" + option + "}\n")
        return str(path)
    counted = nmask_spec("count: 2")
    lay = _layout(_compiled(counted).plan.schema, 238, "enter")
    assert [s.max for s in lay.slots if s.arg == "nmask"] == [16]
    t = _Trace(counted, {"set_mempolicy": 238}).call("set_mempolicy", (MPOL_BIND, 0x600, 40 * 64), 0,
                                                     {"nmask": (_longs(1, 0), TRUNCATED)})
    assert t.lines() == [f"set_mempolicy(MPOL_BIND, [0x00000000000001, {'0' * 16}, ...], 2560) = 0"]
    short = _spec(tmp_path_factory, ["set_mempolicy"], "buffers: {max: 4}\n")
    assert [s.max for s in _layout(_compiled(short).plan.schema, 238, "enter").slots] == [32]
    with pytest.raises(SpecError, match="takes a count of elements, not a max"):
        compile_spec(nmask_spec("max: 8"), kernel="6.1")
