"""sendmmsg's and recvmmsg's arrays of struct mmsghdr, from synthetic records built byte for byte as the
BPF program writes them (no root): what each entry shows and when (msg_len only for the entries the call
returned, recvmmsg's entries only as many as it returned, failures), the "..." past -s and past the
entries and iovecs tracespec copies, -v, and the plan's side (the slots of each entry, the copies' sizes,
the fewer entries of kernels without bounded loops)."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import replace
from functools import lru_cache

import pytest

from synthetic import ABSENT, FAULT, HEADER, TRUNCATED, slot_bytes
from tracespec.catalogue.structs import MMSG_ENTRIES, MMSG_ENTRIES_UNROLLED, MMSG_IOV_COUNT, mmsg_part
from tracespec.decode.generated import load_decoder
from tracespec.decode.stream import EventStream
from tracespec.format.jsonl import JsonWriter
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec
from tracespec.plan.planner import MAX_RECORD
from tracespec.wire.layout import RETRY_KIND, element_bytes

NR = {"sendmmsg": 307, "recvmmsg": 299}
MSG_DONTWAIT, MSG_TRUNC, MSG_WAITFORONE = 0x40, 0x20, 0x10000


@lru_cache(maxsize=4)
def _compiled(path: str, kernel: str = "6.1"):
    return compile_spec(path, kernel=kernel)


def _spec(tmp_path_factory, extra: str = "") -> str:
    path = tmp_path_factory.mktemp("mmsg") / "mmsg.yaml"
    path.write_text("version: 1\nsyscalls: [sendmmsg, recvmmsg]\n" + extra)
    return str(path)


@lru_cache(maxsize=1)
def _spec_s1() -> str:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="mmsg")) / "mmsg.yaml"
    path.write_text("version: 1\nsyscalls: [sendmmsg, recvmmsg]\nbuffers:\n  max: 1\n")
    return str(path)


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return _spec(tmp_path_factory)


def _layout(schema, nr: int, phase: str):
    return next(lay for lay in schema.layouts if lay.phase == phase and nr in lay.nrs)


def _iov_slot(items, sub: int, flags: int = 0) -> bytes:
    out = struct.pack("<I", len(items) | flags << 16)
    for length, data in items:
        out += (struct.pack("<Q", length) + slot_bytes("buffer", data)).ljust(sub, b"\0")
    return out


def _slots(lay, slots: dict) -> bytes:
    out = b""
    for s in lay.slots:
        name = s.arg + s.name_suffix
        if s.capture == "iovec" and name in slots:
            items, flags = slots[name] if isinstance(slots[name], tuple) else (slots[name], 0)
            out += _iov_slot(items, element_bytes("iovec", s.max), flags)
        else:
            out += slot_bytes(s.capture, *slots.get(name, (b"", ABSENT)))
    return out


def _mmsghdr(name=0, namelen=0, iov=0, iovlen=0, control=0, controllen=0, flags=0, msg_len=0) -> bytes:
    return struct.pack("<QI4xQQQQI4xI4x", name, namelen, iov, iovlen, control, controllen, flags, msg_len)


def _part(i: int, part: str) -> str:
    return f"mmsg__{mmsg_part(i, part)}"


class _Trace:
    def __init__(self, spec: str, kernel: str = "6.1"):
        self.schema = _compiled(spec, kernel).plan.schema
        self.raws: list[bytes] = []
        self.ts = 1000

    def call(self, name: str, args, ret: int, entry: dict | None = None, exit: dict | None = None,
             retried: dict | None = None) -> "_Trace":
        """retried: entry slots copied again at exit (a retry record), by name, as entry's."""
        nr = NR[name]
        lay = _layout(self.schema, nr, "enter")
        raw = [a & 0xFFFFFFFFFFFFFFFF for a in args] + [0] * (len(lay.args) - len(args))
        self.raws.append(HEADER.pack(self.ts, 7, 7, nr, lay.kind, 0) + struct.pack(f"<16s{len(lay.args)}Q", b"t", *raw)
                         + _slots(lay, entry or {}))
        if retried:
            again = [i for i, sl in enumerate(lay.slots) if sl.arg + sl.name_suffix in retried]
            body = b"".join(_slots(replace(lay, slots=(lay.slots[i],)), retried) for i in again)
            self.raws.append(HEADER.pack(self.ts + 5, 7, 7, nr, RETRY_KIND, 0)
                             + struct.pack("<I", sum(1 << i for i in again)) + body)
        xl = _layout(self.schema, nr, "exit")
        self.raws.append(HEADER.pack(self.ts + 10, 7, 7, nr, xl.kind, 0) + struct.pack("<q", ret) + _slots(xl, exit or {}))
        self.ts += 100
        return self

    def events(self):
        stream = EventStream(load_decoder(self.schema), self.schema)
        stream.push(self.raws)
        return stream.finish()

    def lines(self, **options) -> list[str]:
        out = io.StringIO()
        w = TextWriter(out, TextOptions(live=False, **options))
        w.write(self.events())
        w.finish(0)
        return [line.split(" ", 1)[1] for line in out.getvalue().splitlines() if not line.startswith("tracespec:")]


def _sent(n: int, lengths: bool = False) -> bytes:
    return b"".join(_mmsghdr(iov=0x500 + 16 * i, iovlen=1, msg_len=(i + 2) if lengths else 0) for i in range(n))


def _iovs(n: int) -> dict:
    return {_part(i, "iov"): [(i + 2, b"ab" + b"c" * i)] for i in range(n)}


def _entry(data: str, length: int, sent: int | None = None, flags: str = "0") -> str:
    text = (f"{{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov=[{{iov_base={data}, iov_len={length}}}], "
            f"msg_iovlen=1, msg_controllen=0, msg_flags={flags}}}")
    return text + (f", msg_len={sent}}}" if sent is not None else "}")


def test_sendmmsg_shows_msg_len_only_for_the_messages_it_returns(spec):
    lines = (_Trace(spec)
             .call("sendmmsg", (3, 0x400, 3, 0), 2, {"mmsg": (_sent(3), 0), **_iovs(3)}, {"mmsg": (_sent(2, True), 0)})
             .call("sendmmsg", (-1, 0x400, 2, 0), -9, {"mmsg": (_sent(2), 0), **_iovs(2)})
             .call("sendmmsg", (3, 0x400, 0, 0), 0, {"mmsg": (b"", 0)})
             .call("sendmmsg", (3, 0x8, 2, 0), -14, {"mmsg": (b"", FAULT)})
             .call("sendmmsg", (3, 0, 2, 0), -14)
             .lines())
    assert lines[0] == (f'sendmmsg(3, [{_entry(chr(34) + "ab" + chr(34), 2, 2)}, {_entry(chr(34) + "abc" + chr(34), 3, 3)}, '
                        f'{_entry(chr(34) + "abcc" + chr(34), 4)}], 3, 0) = 2')
    assert lines[1] == (f'sendmmsg(-1, [{_entry(chr(34) + "ab" + chr(34), 2)}, {_entry(chr(34) + "abc" + chr(34), 3)}], '
                        '2, 0) = -1 EBADF (Bad file descriptor)')
    assert lines[2:] == ["sendmmsg(3, [], 0, 0) = 0", "sendmmsg(3, 0x8, 2, 0) = -1 EFAULT (Bad address)",
                         "sendmmsg(3, NULL, 2, 0) = -1 EFAULT (Bad address)"]


def test_recvmmsg_shows_the_entries_it_returns_as_it_filled_them(spec):
    given = _mmsghdr(name=0x700, namelen=128, iov=0x500, iovlen=1) + _mmsghdr(name=0x780, namelen=8, iov=0x510,
                                                                              iovlen=1) * 2
    got = (_mmsghdr(name=0x700, namelen=16, iov=0x500, iovlen=1, msg_len=5)
           + _mmsghdr(name=0x780, namelen=16, iov=0x510, iovlen=1, flags=MSG_TRUNC, msg_len=7))
    sin = struct.pack("<HH4s8x", 2, 0x3412, bytes([127, 0, 0, 1]))
    ts, left = struct.pack("<qq", 1, 500), struct.pack("<qq", 0, 999)
    lines = (_Trace(spec)
             .call("recvmmsg", (4, 0x400, 3, MSG_WAITFORONE, 0x600), 2, {"mmsg": (given, 0), "timeout": (ts, 0)},
                   {"mmsg": (got, 0), _part(0, "name"): (sin, 0), _part(0, "iov"): [(64, b"hello")],
                    _part(1, "name"): (sin[:8], 0), _part(1, "iov"): [(64, b"goodbye")], "timeout": (left, 0)})
             .call("recvmmsg", (4, 0x400, 3, MSG_DONTWAIT, 0), -11, {"mmsg": (given, 0)})
             .call("recvmmsg", (4, 0x400, 0, MSG_DONTWAIT, 0), 0, {"mmsg": (b"", 0)}, {"mmsg": (b"", 0)})
             .lines())
    # the second name was given 8 bytes: what the kernel wrote of it, as strace prints a short address
    assert lines[0] == ('recvmmsg(4, [{msg_hdr={msg_name={sa_family=AF_INET, sin_port=htons(4660), '
                        'sin_addr=inet_addr("127.0.0.1")}, msg_namelen=128 => 16, msg_iov=[{iov_base="hello", '
                        'iov_len=64}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=5}, {msg_hdr={msg_name='
                        '{sa_family=AF_INET, sa_data="\\0224\\177\\0\\0\\1"}, msg_namelen=8 => 16, '
                        'msg_iov=[{iov_base="goodbye", iov_len=64}], msg_iovlen=1, msg_controllen=0, '
                        'msg_flags=MSG_TRUNC}, msg_len=7}], 3, MSG_WAITFORONE, {tv_sec=1, tv_nsec=500}) = 2 '
                        '(left {tv_sec=0, tv_nsec=999})')
    assert lines[1] == "recvmmsg(4, 0x400, 3, MSG_DONTWAIT, NULL) = -1 EAGAIN (Resource temporarily unavailable)"
    assert lines[2] == "recvmmsg(4, [], 0, MSG_DONTWAIT, NULL) = 0 (Timeout)"


def test_an_array_running_into_unreadable_memory_shows_where(spec):
    """The BPF copies the readable entries when the whole array faults (ts_put_elems): fewer than asked for
    and than the record holds, then "... /* the first unreadable entry */", as strace's print_array."""
    line = _Trace(spec).call("sendmmsg", (3, 0x400, 3, 0), 1, {"mmsg": (_sent(1), TRUNCATED), **_iovs(1)},
                             {"mmsg": (_sent(1, True), TRUNCATED)}).lines()[0]
    assert line == f'sendmmsg(3, [{_entry(chr(34) + "ab" + chr(34), 2, 2)}, ... /* 0x440 */], 3, 0) = 1'
    # strace reads the next entry before it counts it against -s: under -s 1 the same (checked with strace),
    # but with two entries read "..." alone
    assert _Trace(_spec_s1()).call("sendmmsg", (3, 0x400, 3, 0), 1, {"mmsg": (_sent(1), TRUNCATED), **_iovs(1)},
                                   {"mmsg": (_sent(1, True), TRUNCATED)}).lines()[0].endswith(
        "msg_len=2}, ... /* 0x440 */], 3, 0) = 1")
    assert _Trace(_spec_s1()).call("sendmmsg", (3, 0x400, 3, 0), 2, {"mmsg": (_sent(2), TRUNCATED), **_iovs(2)},
                                   {"mmsg": (_sent(2, True), TRUNCATED)}).lines()[0].endswith(
        "msg_len=2}, ...], 3, 0) = 2")


def test_past_s_and_past_the_copy_the_entries_end_in_dots(spec):
    """-s (the spec's buffers' max) counts the entries shown, as strace's print_array; past the entries
    copied (MMSG_ENTRIES) "..." too, -v or not."""
    vlen = MMSG_ENTRIES + 2
    trace = _Trace(spec).call("sendmmsg", (3, 0x400, vlen, 0), vlen, {"mmsg": (_sent(MMSG_ENTRIES), TRUNCATED),
                                                                      **_iovs(MMSG_ENTRIES)},
                              {"mmsg": (_sent(MMSG_ENTRIES, True), TRUNCATED)})
    for options in ({}, {"verbose": True}):
        line = trace.lines(**options)[0]
        assert line.count("{msg_hdr=") == MMSG_ENTRIES and line.endswith(f"msg_len={MMSG_ENTRIES + 1}}}, ...], "
                                                                         f"{vlen}, 0) = {vlen}")


def test_s_counts_the_entries_shown(tmp_path_factory):
    spec = _spec(tmp_path_factory, "buffers:\n  max: 2\n")
    lines = (_Trace(spec).call("recvmmsg", (4, 0x400, 3, 0, 0), 3, {"mmsg": (_sent(3), 0)},
                               {"mmsg": (_sent(3, True), 0), **_iovs(3)}).lines())
    assert lines[0].count("{msg_hdr=") == 2 and lines[0].endswith("msg_len=3}, ...], 3, 0, NULL) = 3")
    lines = (_Trace(spec).call("recvmmsg", (4, 0x400, 3, 0, 0), 3, {"mmsg": (_sent(3), 0)},
                               {"mmsg": (_sent(3, True), 0), **_iovs(3)}).lines(verbose=True))
    assert lines[0].count("{msg_hdr=") == 3 and lines[0].endswith("msg_len=4}], 3, 0, NULL) = 3")


def test_an_entry_with_more_iovecs_than_copied_ends_them_in_dots(spec):
    many = _mmsghdr(iov=0x500, iovlen=MMSG_IOV_COUNT + 2)
    iovs = [(2, b"hi")] * MMSG_IOV_COUNT
    line = _Trace(spec).call("sendmmsg", (3, 0x400, 1, 0), 1, {"mmsg": (many, 0), _part(0, "iov"): (iovs, TRUNCATED)},
                             {"mmsg": (many[:56] + struct.pack("<I4x", 12), 0)}).lines()[0]
    assert line == ("sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=["
                    + ", ".join(['{iov_base="hi", iov_len=2}'] * MMSG_IOV_COUNT) + ", ...], "
                    f"msg_iovlen={MMSG_IOV_COUNT + 2}, msg_controllen=0, msg_flags=0}}, msg_len=12}}], 1, 0) = 1")


def test_an_entry_copy_made_again_at_exit_mends_its_own_slot(spec):
    """A part that faulted at entry (the page was not in yet) is copied again at exit: the retry record's
    slot replaces that part, named as it is (mmsg__m0_iov), not the array."""
    line = _Trace(spec).call("sendmmsg", (3, 0x400, 1, 0), 1, {"mmsg": (_sent(1), 0), _part(0, "iov"): ([], FAULT)},
                             {"mmsg": (_sent(1, True), 0)}, retried={_part(0, "iov"): [(2, b"ab")]}).lines()[0]
    assert line == f'sendmmsg(3, [{_entry(chr(34) + "ab" + chr(34), 2, 2)}], 1, 0) = 1'


def test_control_messages_of_an_entry(spec):
    control = struct.pack("<Qii", 20, 1, 1) + struct.pack("<i", 5) + b"\0" * 4
    msg = _mmsghdr(iov=0, control=0x600, controllen=24)
    line = _Trace(spec).call("sendmmsg", (3, 0x400, 1, 0), 1, {"mmsg": (msg, 0), _part(0, "control"): (control, 0)},
                             {"mmsg": (msg[:56] + struct.pack("<I4x", 0), 0)}).lines()[0]
    assert line == ("sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control="
                    "[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}], msg_controllen=24, "
                    "msg_flags=0}, msg_len=0}], 1, 0) = 1")


def test_json_lists_the_entries_with_what_they_point_to(spec):
    trace = _Trace(spec).call("sendmmsg", (3, 0x400, 3, 0), 2, {"mmsg": (_sent(3), 0), **_iovs(3)},
                              {"mmsg": (_sent(2, True), 0)})
    out = io.StringIO()
    w = JsonWriter(out)
    w.write(trace.events())
    w.finish(0)
    ev = next(json.loads(line) for line in out.getvalue().splitlines() if '"sendmmsg"' in line)
    entries = ev["args"]["mmsg"]
    assert [e.get("msg_len") for e in entries] == [2, 3, None]
    assert entries[2]["msg_hdr"]["iov"] == [{"len": 4, "data": "abcc"}]


@pytest.mark.parametrize("kernel,entries", [("6.1", MMSG_ENTRIES), ("4.19", MMSG_ENTRIES_UNROLLED)])
def test_each_copied_entry_has_its_own_slots(spec, kernel, entries):
    """The array, then each entry's name, iovecs and control data (sendmmsg's at entry, recvmmsg's at
    exit, with its timeout after); every record within the limit."""
    schema = _compiled(spec, kernel).plan.schema
    send, recv = _layout(schema, NR["sendmmsg"], "enter"), _layout(schema, NR["recvmmsg"], "exit")
    for lay, extra in ((send, 0), (recv, 1)):
        assert len(lay.slots) == 1 + 3 * entries + extra
        assert lay.slots[0].max == 64 * entries and lay.slots[0].elem == 64
        assert [s.entry for s in lay.slots[1:1 + 3 * entries]] == [i for i in range(entries) for _ in range(3)]
        assert lay.max_size <= MAX_RECORD
    assert len(_layout(schema, NR["sendmmsg"], "exit").slots) == 1  # msg_len: the array again
    assert [s.arg for s in _layout(schema, NR["recvmmsg"], "enter").slots] == ["mmsg", "timeout"]
