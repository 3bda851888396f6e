"""Arrays whose element count is another argument or the return value, from synthetic records built
byte for byte as the BPF program writes them (no root): poll's pollfds and the revents it returns,
select's fd sets and the time left, the gids of getgroups and setgroups, nanosleep's remainder. The
plan's side too: the copy's size (count x element, capped), and the return values at which an exit copy
is made and kept."""

from __future__ import annotations

import io
import struct
from functools import lru_cache

import pytest

from synthetic import ABSENT, FAULT, HEADER, slot_bytes
from tracespec.catalogue.kinds import Written, written
from tracespec.codegen.lower import render_c
from tracespec.decode.generated import load_decoder
from tracespec.decode.stream import EventStream
from tracespec.errors import SpecError
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec
from tracespec.wire.layout import element_bytes

NR = {"poll": 7, "select": 23, "nanosleep": 35, "getgroups": 115, "setgroups": 116, "clock_nanosleep": 230,
      "ppoll": 271, "epoll_wait": 232, "sendmsg": 46, "recvmsg": 47}
ERESTART_RESTARTBLOCK = -516
POLLIN, POLLPRI, POLLOUT = 1, 2, 4


def _spec(tmp_path_factory, extra: str = "") -> str:
    path = tmp_path_factory.mktemp("arrays") / "arrays.yaml"
    path.write_text("version: 1\nsyscalls: [" + ", ".join(NR) + "]\n" + extra)
    return str(path)


@lru_cache(maxsize=8)
def _compiled(path: str, kernel: str = "6.1", table: bool | None = None):
    return compile_spec(path, kernel=kernel, table=table)


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return _spec(tmp_path_factory)


def _layout(schema, nr: int, phase: str):
    return next(lay for lay in schema.layouts if lay.phase == phase and nr in lay.nrs)


def _iov_slot(items, sub: int) -> bytes:
    """An iovec slot as ts_put_iov writes it: the count, then per element its length and its bytes."""
    out = struct.pack("<I", len(items))
    for length, data in items:
        out += (struct.pack("<Q", length) + slot_bytes("buffer", data)).ljust(sub, b"\0")
    return out


def _slots(lay, slots: dict) -> bytes:
    out = b""
    for s in lay.slots:
        name = s.arg + s.name_suffix
        if s.capture == "iovec" and name in slots:
            out += _iov_slot(slots[name], element_bytes("iovec", s.max))
        else:
            out += slot_bytes(s.capture, *slots.get(name, (b"", ABSENT)))
    return out


class _Trace:
    def __init__(self, spec: str):
        self.schema = _compiled(spec).plan.schema
        self.raws: list[bytes] = []
        self.ts = 1000

    def call(self, name: str, args, ret: int, entry: dict | None = None, exit: dict | None = None) -> "_Trace":
        nr = NR[name]
        lay = _layout(self.schema, nr, "enter")
        raw = [a & 0xFFFFFFFFFFFFFFFF for a in args] + [0] * (len(lay.args) - len(args))
        self.raws.append(HEADER.pack(self.ts, 7, 7, nr, lay.kind, 0) + struct.pack(f"<16s{len(lay.args)}Q", b"t", *raw)
                         + _slots(lay, entry or {}))
        xl = _layout(self.schema, nr, "exit")
        self.raws.append(HEADER.pack(self.ts + 10, 7, 7, nr, xl.kind, 0) + struct.pack("<q", ret) + _slots(xl, exit or {}))
        self.ts += 100
        return self

    def lines(self, **options) -> list[str]:
        stream = EventStream(load_decoder(self.schema), self.schema)
        stream.push(self.raws)
        out = io.StringIO()
        w = TextWriter(out, TextOptions(live=False, **options))
        w.write(stream.finish())
        w.finish(0)
        return [line.split(" ", 1)[1] for line in out.getvalue().splitlines() if not line.startswith("tracespec:")]


def _pollfds(*fds) -> bytes:
    return b"".join(struct.pack("<ihh", *f) for f in fds)


def test_poll_prints_its_array_at_entry_and_the_revents_of_a_positive_return(spec):
    fds = _pollfds((3, POLLIN, 0), (6, POLLOUT, 0), (-1, POLLIN, 0))
    back = _pollfds((3, POLLIN, 0), (6, POLLOUT, POLLOUT), (-1, POLLIN, 0))
    lines = (_Trace(spec)
             .call("poll", (0x7F00, 3, 0), 1, {"ufds": (fds, 0)}, {"ufds": (back, 0)})
             .call("poll", (0x7F00, 1, 0), 0, {"ufds": (fds[:8], 0)})
             .call("poll", (0, 0, 0), 0)
             .call("poll", (0x8, 1, 0), -14, {"ufds": (b"", FAULT)})
             .call("poll", (0x7F00, 0, 5), 0, {"ufds": (b"", 0)})
             .lines())
    assert lines == ["poll([{fd=3, events=POLLIN}, {fd=6, events=POLLOUT}, {fd=-1}], 3, 0) = 1 ([{fd=6, revents=POLLOUT}])",
                     "poll([{fd=3, events=POLLIN}], 1, 0) = 0 (Timeout)",
                     "poll(NULL, 0, 0) = 0 (Timeout)",
                     "poll(0x8, 1, 0) = -1 EFAULT (Bad address)",
                     "poll([], 0, 5) = 0 (Timeout)"]


def test_an_array_longer_than_the_copy_ends_in_dots_at_entry_and_exit(spec):
    """The copy holds the spec's count of elements (32, strace's -s): "..." past them, and past the ready
    ones when the return counts more than the copy shows."""
    n = 40
    fds = _pollfds(*[(3, POLLIN | POLLPRI, 0)] * 32)
    back = _pollfds(*[(3, POLLIN | POLLPRI, POLLIN)] * 32)
    line = _Trace(spec).call("poll", (0x7F00, n, 0), n, {"ufds": (fds, 1)}, {"ufds": (back, 1)}).lines()[0]
    assert line == ("poll([" + ", ".join(["{fd=3, events=POLLIN|POLLPRI}"] * 32) + ", ...], 40, 0) = 40 (["
                    + ", ".join(["{fd=3, revents=POLLIN}"] * 32) + ", ...])")


def test_ppoll_shows_the_time_left_only_with_a_positive_return(spec):
    fds = _pollfds((3, POLLIN, 0))
    ts, left = struct.pack("<qq", 1, 500), struct.pack("<qq", 0, 999)
    lines = (_Trace(spec)
             .call("ppoll", (0x7F00, 1, 0x7E00, 0, 8), 1, {"ufds": (fds, 0), "tsp": (ts, 0)},
                   {"ufds": (_pollfds((3, POLLIN, POLLIN)), 0), "tsp": (left, 0)})
             .call("ppoll", (0x7F00, 1, 0x7E00, 0, 8), 0, {"ufds": (fds, 0), "tsp": (ts, 0)})
             .lines())
    assert lines == ["ppoll([{fd=3, events=POLLIN}], 1, {tv_sec=1, tv_nsec=500}, NULL, 8) = 1 "
                     "([{fd=3, revents=POLLIN}], left {tv_sec=0, tv_nsec=999})",
                     "ppoll([{fd=3, events=POLLIN}], 1, {tv_sec=1, tv_nsec=500}, NULL, 8) = 0 (Timeout)"]


def _fdset(*fds: int) -> bytes:
    bits = sum(1 << fd for fd in fds)
    return bits.to_bytes(8, "little")


def test_select_sets_at_entry_and_as_the_kernel_wrote_them_back(spec):
    tv, left = struct.pack("<qq", 1, 0), struct.pack("<qq", 0, 999)
    lines = (_Trace(spec)
             .call("select", (7, 0x10, 0x20, 0x30, 0x40), 1,
                   {"inp": (_fdset(3, 5), 0), "outp": (_fdset(6), 0), "exp": (_fdset(), 0), "tvp": (tv, 0)},
                   {"inp": (_fdset(), 0), "outp": (_fdset(6), 0), "exp": (_fdset(), 0), "tvp": (left, 0)})
             .call("select", (7, 0x10, 0x20, 0, 0), 2, {"inp": (_fdset(3, 5), 0), "outp": (_fdset(6), 0)},
                   {"inp": (_fdset(3), 0), "outp": (_fdset(6), 0)})
             .call("select", (4, 0x10, 0, 0, 0x40), 0, {"inp": (_fdset(3), 0), "tvp": (tv, 0)})
             .call("select", (3, 0x8, 0, 0, 0), -14, {"inp": (b"", FAULT)})
             .call("select", (0, 0, 0, 0, 0x40), 0, {"tvp": (tv, 0)})
             .lines())
    assert lines == ["select(7, [3 5], [6], [], {tv_sec=1, tv_usec=0}) = 1 (out [6], left {tv_sec=0, tv_usec=999})",
                     "select(7, [3 5], [6], NULL, NULL) = 2 (in [3], out [6])",
                     "select(4, [3], NULL, NULL, {tv_sec=1, tv_usec=0}) = 0 (Timeout)",
                     "select(3, 0x8, NULL, NULL, NULL) = -1 EFAULT (Bad address)",
                     "select(0, NULL, NULL, NULL, {tv_sec=1, tv_usec=0}) = 0 (Timeout)"]


def test_select_closes_a_bracket_after_each_set_it_read_once_one_was_named(spec):
    """strace's decode_select appends "]" after every set it read back once anything was written, even a
    set with no descriptor ready: "in [3]], except [5]"."""
    line = (_Trace(spec)
            .call("select", (7, 0x10, 0x20, 0x30, 0), 2, {"inp": (_fdset(3), 0), "outp": (_fdset(6), 0),
                                                          "exp": (_fdset(5), 0)},
                  {"inp": (_fdset(3), 0), "outp": (_fdset(), 0), "exp": (_fdset(5), 0)})
            .lines()[0])
    assert line.endswith(" = 2 (in [3]], except [5])")


def _gids(*gids: int) -> bytes:
    return struct.pack(f"<{len(gids)}I", *gids)


def test_group_lists_from_their_count_or_the_return_value(spec):
    lines = (_Trace(spec)
             .call("getgroups", (0, 0), 0)
             .call("getgroups", (64, 0x7F00), 3, exit={"grouplist": (_gids(0, 27, 100), 0)})
             .call("getgroups", (64, 0x7F00), 0, exit={"grouplist": (b"", 0)})
             .call("getgroups", (1, 0x7F00), -22)
             .call("setgroups", (3, 0x7F00), 0, {"grouplist": (_gids(0, 27, 0xFFFFFFFF), 0)})
             .call("setgroups", (2, 0x8), -14, {"grouplist": (b"", FAULT)})
             .lines())
    assert lines == ["getgroups(0, NULL) = 0", "getgroups(64, [0, 27, 100]) = 3", "getgroups(64, []) = 0",
                     "getgroups(1, 0x7f00) = -1 EINVAL (Invalid argument)", "setgroups(3, [0, 27, -1]) = 0",
                     "setgroups(2, 0x8) = -1 EFAULT (Bad address)"]


def test_a_remainder_only_when_the_sleep_was_interrupted_and_relative(spec):
    req, rem = struct.pack("<qq", 5, 0), struct.pack("<qq", 4, 99)
    lines = (_Trace(spec)
             .call("nanosleep", (0x10, 0x20), 0, {"rqtp": (req, 0)}, {"rmtp": (rem, 0)})
             .call("nanosleep", (0x10, 0x20), ERESTART_RESTARTBLOCK, {"rqtp": (req, 0)}, {"rmtp": (rem, 0)})
             .call("clock_nanosleep", (0, 0, 0x10, 0x20), ERESTART_RESTARTBLOCK, {"rqtp": (req, 0)},
                   {"rmtp": (rem, 0)})
             .call("clock_nanosleep", (0, 1, 0x10, 0x20), -514, {"rqtp": (req, 0)}, {"rmtp": (rem, 0)})
             .lines())
    assert lines[0] == "nanosleep({tv_sec=5, tv_nsec=0}, 0x20) = 0"
    assert lines[1] == "nanosleep({tv_sec=5, tv_nsec=0}, {tv_sec=4, tv_nsec=99}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    assert lines[2].startswith("clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0}, {tv_sec=4, tv_nsec=99}) = ?")
    assert lines[3].startswith("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=5, tv_nsec=0}, 0x20) = ?")


def test_the_copies_are_count_times_element_capped_and_guarded_by_the_return(spec):
    """A family's own programs (the table's are below)."""
    p = _compiled(spec, table=False).plan
    c = render_c(p)
    poll_enter = next(s for s in _layout(p.schema, NR["poll"], "enter").slots if s.index == 0)
    assert (poll_enter.elem, poll_enter.max, poll_enter.written) == (8, 32 * 8, Written.OK)
    poll_exit = next(s for s in _layout(p.schema, NR["poll"], "exit").slots if s.index == 0)
    assert poll_exit.written == Written.POSITIVE
    assert "ts_put_buf(r, off, a[0], (ret <= 0 ? -1 : ((s64)(u32)a[1] * 8)), 256)" in c
    assert "ts_put_buf(r, off, a[1], (ret * 4), 128)" in c  # getgroups: as many as it returned
    assert "((ret < -516 || ret > -512) ? -1 : 16)" in c  # the remainder: only when interrupted
    sets = [s for s in _layout(p.schema, NR["select"], "enter").slots if s.bits]
    assert len(sets) == 3 and all(s.max == 1024 for s in sets)


def test_the_table_copies_arrays_as_the_families_own_programs_would(spec):
    """The table's rows say the same: elements, bit sets, and at exit the return value's condition."""
    from tracespec.plan.model import SlotLen

    p = _compiled(spec).plan
    assert p.table is not None
    rows = {nr: e for e in p.table.entries for nr in e.nrs}
    poll = rows[NR["poll"]]
    assert (poll.enter[0].elem, poll.enter[0].len_from, poll.enter[0].len_index) == (8, SlotLen.ARG, 1)
    assert (poll.exit[0].elem, poll.exit[0].written) == (8, Written.POSITIVE)
    groups = rows[NR["getgroups"]].exit[0]
    assert (groups.elem, groups.len_from, groups.written) == (4, SlotLen.RET, Written.OK)
    remainder = rows[NR["nanosleep"]].exit[0]
    assert (remainder.len_from, remainder.written, remainder.max) == (SlotLen.CONST, Written.RESTART, 16)
    select = rows[NR["select"]]
    assert [s.bits for s in select.enter] == [True, True, True, False]
    assert all(s.written == Written.POSITIVE for s in select.exit)
    c = render_c(p)
    assert "elements of 8 bytes, when the return value is positive" in c  # the row's comment says so


def test_a_node_mask_row_counts_the_bits_the_kernel_reads(tmp_path):
    """maxnode - 1 bits (SlotLayout.bits_over): the table's slot word carries the 1, as the family's own
    programs have it in their length expression."""
    from tracespec.codegen.table_c import SLOT_BITS_OVER, slot_word

    spec = tmp_path / "numa.yaml"
    spec.write_text("version: 1\nsyscalls: [set_mempolicy, mbind, close]\n")
    p = compile_spec(str(spec), kernel="6.1").plan
    assert p.table is not None
    rows = {name: e for e in p.table.entries for name in e.names}
    mask = next(s for s in rows["set_mempolicy"].enter if s.bits)
    assert mask.bits_over == 1 and (slot_word(mask) >> SLOT_BITS_OVER) & 3 == 1
    own = compile_spec(str(spec), kernel="6.1", table=False)
    assert "((u64)a[2] - 1)" in own.c_source  # set_mempolicy(mode, nmask, maxnode)


def test_the_spec_count_is_the_number_of_elements(tmp_path_factory):
    p = _compiled(_spec(tmp_path_factory, "buffers:\n  max: 4\n")).plan
    assert next(s for s in _layout(p.schema, NR["poll"], "enter").slots if s.index == 0).max == 4 * 8
    d = tmp_path_factory.mktemp("count")
    (d / "count.yaml").write_text("version: 1\nsyscalls:\n  - name: setgroups\n    args:\n      grouplist: {count: 2}\n")
    p = _compiled(str(d / "count.yaml")).plan
    assert next(s for s in _layout(p.schema, NR["setgroups"], "enter").slots).max == 2 * 4
    (d / "max.yaml").write_text("version: 1\nsyscalls:\n  - name: poll\n    args:\n      ufds: {max: 8}\n")
    with pytest.raises(SpecError, match="count of elements"):
        _compiled(str(d / "max.yaml"))


def test_written_conditions():
    assert written(Written.OK, 0) and not written(Written.OK, -14)
    assert written(Written.POSITIVE, 1) and not written(Written.POSITIVE, 0) and not written(Written.POSITIVE, -4)
    assert written(Written.RESTART, -516) and written(Written.RESTART, -512) and not written(Written.RESTART, -4)
    assert not written(Written.RESTART, 0) and not written(Written.RESTART, -515)


@pytest.mark.parametrize("kernel", ["4.19", "5.4", "6.1"])
def test_the_arrays_plan_on_every_profile(spec, kernel):
    assert _compiled(spec, kernel).plan.families


def test_arrays_in_json_as_lists_and_before_after(spec):
    from synthetic import CheckedJsonWriter as JsonWriter  # the fast line held to the dict
    import json
    t = _Trace(spec)
    fds = _pollfds((3, POLLIN, 0), (6, POLLOUT, 0))
    t.call("poll", (0x7F00, 3, 0), 1, {"ufds": (fds, 1)}, {"ufds": (_pollfds((3, POLLIN, 0), (6, POLLOUT, POLLOUT)), 1)})
    t.call("select", (7, 0x10, 0, 0, 0), 1, {"inp": (_fdset(3, 5), 0)}, {"inp": (_fdset(5), 0)})
    t.call("getgroups", (64, 0x7F00), -14)
    stream = EventStream(load_decoder(t.schema), t.schema)
    stream.push(t.raws)
    out = io.StringIO()
    w = JsonWriter(out)
    w.write(stream.finish())
    w.finish(0)
    objs = [json.loads(line) for line in out.getvalue().splitlines() if '"syscall"' in line]
    assert objs[0]["args"]["ufds"] == [{"fd": 3, "events": 1, "revents": 0}, {"fd": 6, "events": 4, "revents": 4}]
    assert objs[0]["truncated"] == {"ufds": 3}
    assert objs[1]["args"]["inp"] == {"before": [3, 5], "after": [5]}
    assert objs[2]["args"]["grouplist"] == 0x7F00


def test_element_layouts_match_the_headers(tmp_path):
    import shutil
    import subprocess
    from tracespec.format.values import structs
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (./setup installs gcc)"
    prog = ("#include <stdio.h>\n#include <stddef.h>\n#include <poll.h>\n#include <sys/epoll.h>\nint main(void) {\n"
            'printf("%zu %zu %zu %zu\\n", sizeof(struct pollfd), offsetof(struct pollfd, events), '
            'offsetof(struct pollfd, revents), sizeof(struct epoll_event));\n'
            'printf("%zu\\n", offsetof(struct epoll_event, data));\nreturn 0;\n}\n')
    (tmp_path / "p.c").write_text(prog)
    subprocess.run([cc, "-o", str(tmp_path / "p"), str(tmp_path / "p.c")], check=True)
    first, second = subprocess.run([str(tmp_path / "p")], check=True, capture_output=True, text=True).stdout.splitlines()
    s = structs()
    offsets = {f.name: f.offset for f in s["pollfd"].fields}
    assert tuple(map(int, first.split())) == (s["pollfd"].size, offsets["events"], offsets["revents"],
                                               s["epoll_event"].size)
    assert int(second) == {f.name: f.offset for f in s["epoll_event"].fields}["data.u64"]


def test_epoll_events_as_many_as_returned(spec):
    t = _Trace(spec)
    events = struct.pack("<IQ", 1 | 0x80000000, 0x1234) + struct.pack("<IQ", 0x4, 7)
    lines = (t.call("epoll_wait", (7, 0x7F00, 4, 0), 2, exit={"events": (events, 0)})
             .call("epoll_wait", (7, 0x7F00, 4, 0), 0, exit={"events": (b"", 0)})
             .call("epoll_wait", (7, 0x8, 4, 0), -14)
             .lines())
    assert lines == ["epoll_wait(7, [{events=EPOLLIN|EPOLLET, data={u32=4660, u64=4660}}, "
                     "{events=EPOLLOUT, data={u32=7, u64=7}}], 4, 0) = 2",
                     "epoll_wait(7, [], 4, 0) = 0", "epoll_wait(7, 0x8, 4, 0) = -1 EFAULT (Bad address)"]


def _msghdr(name=0, namelen=0, iov=0, iovlen=0, control=0, controllen=0, flags=0) -> bytes:
    return struct.pack("<QI4xQQQQI4x", name, namelen, iov, iovlen, control, controllen, flags)


def _cmsg(level: int, ctype: int, data: bytes) -> bytes:
    length = 16 + len(data)
    return (struct.pack("<Qii", length, level, ctype) + data).ljust((length + 7) & ~7, b"\0")


def test_message_headers_with_their_iovecs_names_and_control_messages(spec):
    sent = _msghdr(iov=0x500, iovlen=2, control=0x600, controllen=56)
    control = _cmsg(1, 1, struct.pack("<ii", 3, 4)) + _cmsg(1, 2, struct.pack("<iII", 42, 0, 0))
    given = _msghdr(name=0x700, namelen=110, iov=0x500, iovlen=1)
    got = _msghdr(name=0x700, namelen=16, iov=0x500, iovlen=1, flags=0x20)
    sun = struct.pack("<H", 1) + b"/tmp/s\0"
    lines = (_Trace(spec)
             .call("sendmsg", (3, 0x400, 0), 11, {"msg": (sent, 0), "msg__iov": [(5, b"hello"), (6, b" world")],
                                                  "msg__control": (control[:56], 0)})
             .call("recvmsg", (4, 0x400, 0), 4, {"msg": (given, 0)},
                   {"msg": (got, 0), "msg__name": (sun, 0), "msg__iov": [(64, b"ping")]})
             .call("recvmsg", (4, 0x400, 0x40), -11, {"msg": (given, 0)})
             .call("sendmsg", (3, 0x400, 0), 1, {"msg": (_msghdr(control=0x600, controllen=300), 0),
                                                 "msg__control": (_cmsg(41, 0x32, b"\1\2"), 1)})
             .lines())
    assert lines[0] == ('sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hello", iov_len=5}, '
                        '{iov_base=" world", iov_len=6}], msg_iovlen=2, msg_control=[{cmsg_len=24, '
                        'cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 4]}, {cmsg_len=28, '
                        'cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=42, uid=0, gid=0}}], '
                        'msg_controllen=56, msg_flags=0}, 0) = 11')
    assert lines[1] == ('recvmsg(4, {msg_name={sa_family=AF_UNIX, sun_path="/tmp/s"}, msg_namelen=110 => 16, '
                        'msg_iov=[{iov_base="ping", iov_len=64}], msg_iovlen=1, msg_controllen=0, '
                        'msg_flags=MSG_TRUNC}, 0) = 4')
    assert lines[2] == "recvmsg(4, {msg_namelen=110}, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)"
    # a level without printers (SOL_IPV6): the type in hex and no data, as strace 6.1 prints it; more
    # control data than copied: "..."
    assert lines[3] == ('sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control='
                        '[{cmsg_len=18, cmsg_level=SOL_IPV6, cmsg_type=0x32}, ...], '
                        'msg_controllen=300, msg_flags=0}, 0) = 1')


def _control(*cmsgs: bytes) -> tuple[bytes, bytes]:
    """A sendmsg's struct msghdr whose control buffer holds these messages, and that buffer."""
    data = b"".join(cmsgs)
    return _msghdr(control=0x600, controllen=len(data)), data


def _sent_control(spec, *cmsgs: bytes, **options) -> str:
    """What sendmsg's line shows as msg_control=[...]."""
    msg, data = _control(*cmsgs)
    line = _Trace(spec).call("sendmsg", (3, 0x400, 0), 0, {"msg": (msg, 0), "msg__control": (data, 0)}).lines(**options)[0]
    return line[line.index("msg_control=") + len("msg_control="):line.index(", msg_controllen=")]


def _pair(sec: int, frac: int) -> bytes:
    return struct.pack("<qQ", sec, frac)


SOL_IP, SOL_SOCKET, SOL_IPV6 = 0, 1, 41


def test_ip_level_control_messages_as_strace_prints_them(spec):
    """SOL_IP's packet info, TTL, TOS and IP options, extended error with its offender and original
    destination (strace's cmsg_ip_printers); an unknown type's comment, no data."""
    pktinfo = struct.pack("<i4s4s", 0, bytes([127, 0, 0, 1]), bytes([10, 1, 2, 3]))
    sin = struct.pack("<HH4s8x", 2, 0x3412, bytes([127, 0, 0, 1]))  # port 0x1234 in network order
    ee = struct.pack("<IBBBBII", 111, 2, 3, 3, 0, 0, 0) + sin
    text = _sent_control(spec, _cmsg(SOL_IP, 8, pktinfo), _cmsg(SOL_IP, 2, struct.pack("<I", 64)),
                         _cmsg(SOL_IP, 1, b"\x10"), _cmsg(SOL_IP, 7, b"\x01\x01\x01\x00"), _cmsg(SOL_IP, 11, ee),
                         _cmsg(SOL_IP, 20, sin), _cmsg(SOL_IP, 0x63, b"\x01\x02"), _cmsg(SOL_IP, 23, struct.pack("<I", 9)))
    assert text == ('[{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=0, '
                    'ipi_spec_dst=inet_addr("127.0.0.1"), ipi_addr=inet_addr("10.1.2.3")}}, '
                    '{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_TTL, cmsg_data=[64]}, '
                    '{cmsg_len=17, cmsg_level=SOL_IP, cmsg_type=IP_TOS, cmsg_data=[0x10]}, '
                    '{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_RETOPTS, cmsg_data=[0x1, 0x1, 0x1, 0]}, '
                    '{cmsg_len=48, cmsg_level=SOL_IP, cmsg_type=IP_RECVERR, cmsg_data={ee_errno=111, ee_origin=2, '
                    'ee_type=3, ee_code=3, ee_info=0, ee_data=0, offender={sa_family=AF_INET, sin_port=htons(4660), '
                    'sin_addr=inet_addr("127.0.0.1")}}}, '
                    '{cmsg_len=32, cmsg_level=SOL_IP, cmsg_type=IP_ORIGDSTADDR, cmsg_data={sa_family=AF_INET, '
                    'sin_port=htons(4660), sin_addr=inet_addr("127.0.0.1")}}, '
                    '{cmsg_len=18, cmsg_level=SOL_IP, cmsg_type=0x63 /* IP_??? */}, '
                    '{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_CHECKSUM, cmsg_data=[9]}]')
    # shorter than its printer needs: the type alone
    assert _sent_control(spec, _cmsg(SOL_IP, 8, pktinfo[:8]), _cmsg(SOL_IP, 11, ee[:31])) == (
        '[{cmsg_len=24, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO}, {cmsg_len=47, cmsg_level=SOL_IP, '
        'cmsg_type=IP_RECVERR}]')
    raw = _sent_control(spec, _cmsg(SOL_IP, 8, pktinfo), _cmsg(SOL_IP, 20, sin), xlat="raw")
    assert raw == ('[{cmsg_len=28, cmsg_level=0, cmsg_type=0x8, cmsg_data={ipi_ifindex=0, '
                   'ipi_spec_dst="\\x7f\\x00\\x00\\x01", ipi_addr="\\x0a\\x01\\x02\\x03"}}, '
                   '{cmsg_len=32, cmsg_level=0, cmsg_type=0x14, cmsg_data={sa_family=0x2, sin_port="\\x12\\x34", '
                   'sin_addr="\\x7f\\x00\\x00\\x01"}}]')
    verbose = _sent_control(spec, _cmsg(SOL_IP, 20, sin), xlat="verbose")
    assert verbose == ('[{cmsg_len=32, cmsg_level=0 /* SOL_IP */, cmsg_type=0x14 /* IP_ORIGDSTADDR */, '
                       'cmsg_data={sa_family=0x2 /* AF_INET */, sin_port="\\x12\\x34" /* htons(4660) */, '
                       'sin_addr="\\x7f\\x00\\x00\\x01" /* inet_addr("127.0.0.1") */}}]')
    assert 'inet_addr("\\x31\\x32\\x37\\x2e\\x30\\x2e\\x30\\x2e\\x31")' in _sent_control(
        spec, _cmsg(SOL_IP, 8, pktinfo), hex_strings=2)


def test_an_interface_index_is_named_as_this_machine_names_it(spec):
    import socket
    lo = socket.if_nametoindex("lo")
    pktinfo = struct.pack("<i4s4s", lo, bytes(4), bytes(4))
    assert f'ipi_ifindex=if_nametoindex("lo")' in _sent_control(spec, _cmsg(SOL_IP, 8, pktinfo))
    assert f'ipi_ifindex={lo} /* if_nametoindex("lo") */' in _sent_control(spec, _cmsg(SOL_IP, 8, pktinfo), xlat="verbose")


def test_socket_level_timestamps_credentials_and_security_contexts(spec):
    """SCM_TIMESTAMP's timeval, SCM_TIMESTAMPNS' timespec and SCM_TIMESTAMPING's three, old and new
    (the same layout on x86_64); "???" when the data is too short; (uid_t) -1 as -1."""
    three = _pair(5, 6) + _pair(0, 0) + _pair(-1, 7)
    text = _sent_control(spec, _cmsg(SOL_SOCKET, 0x1d, _pair(1796299828, 524925)), _cmsg(SOL_SOCKET, 0x23, _pair(-2, 9)),
                         _cmsg(SOL_SOCKET, 0x25, three), _cmsg(SOL_SOCKET, 0x3f, _pair(1, 2)),
                         _cmsg(SOL_SOCKET, 0x40, _pair(3, 4)), _cmsg(SOL_SOCKET, 0x41, three),
                         _cmsg(SOL_SOCKET, 0x1d, b"\1\2"), _cmsg(SOL_SOCKET, 0x25, three[:47]),
                         _cmsg(SOL_SOCKET, 2, struct.pack("<iII", 9, 0xFFFFFFFF, 5)),
                         _cmsg(SOL_SOCKET, 3, b"system_u\0"), _cmsg(SOL_SOCKET, 0x50, b"\1\2\3\4"),
                         _cmsg(SOL_SOCKET, 0x36, b""))
    assert text == ('[{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, '
                    'cmsg_data={tv_sec=1796299828, tv_usec=524925}}, '
                    '{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data={tv_sec=-2, tv_nsec=9}}, '
                    '{cmsg_len=64, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPING_OLD, cmsg_data=[{tv_sec=5, '
                    'tv_nsec=6}, {tv_sec=0, tv_nsec=0}, {tv_sec=-1, tv_nsec=7}]}, '
                    '{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_NEW, cmsg_data={tv_sec=1, tv_usec=2}}, '
                    '{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPNS_NEW, cmsg_data={tv_sec=3, tv_nsec=4}}, '
                    '{cmsg_len=64, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPING_NEW, cmsg_data=[{tv_sec=5, '
                    'tv_nsec=6}, {tv_sec=0, tv_nsec=0}, {tv_sec=-1, tv_nsec=7}]}, '
                    '{cmsg_len=18, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, cmsg_data=???}, '
                    '{cmsg_len=63, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPING_OLD, cmsg_data=???}, '
                    '{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=9, uid=-1, gid=5}}, '
                    '{cmsg_len=25, cmsg_level=SOL_SOCKET, cmsg_type=SCM_SECURITY, cmsg_data="system_u\\0"}, '
                    '{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=0x50 /* SCM_??? */}, '
                    '{cmsg_len=16, cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING_OPT_STATS}]')
    # another level: the type as a number in every -X style; negative ones as unsigned
    assert _sent_control(spec, _cmsg(0x1234, 0x77, b"\1"), xlat="verbose") == (
        '[{cmsg_len=17, cmsg_level=0x1234 /* SOL_??? */, cmsg_type=0x77}]')
    assert _sent_control(spec, _cmsg(-1, -2, b"\1\2\3\4"), _cmsg(SOL_SOCKET, -3, b"\1\2\3\4")) == (
        '[{cmsg_len=20, cmsg_level=0xffffffff /* SOL_??? */, cmsg_type=0xfffffffe}, '
        '{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=0xfffffffd /* SCM_??? */}]')


def test_control_message_arrays_stop_at_the_string_limit(tmp_path_factory):
    """strace's -s bounds the arrays in control messages (descriptors, IP options), not the bytes read:
    the spec's buffers count, as -s sets it; -v prints them all."""
    spec = _spec(tmp_path_factory, "buffers: {max: 2}\n")
    rights = _cmsg(SOL_SOCKET, 1, struct.pack("<3i", 3, 4, 5))
    opts = _cmsg(SOL_IP, 7, b"\x01\x01\x01\x00")
    assert _sent_control(spec, rights, opts) == (
        '[{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 4, ...]}, '
        '{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_RETOPTS, cmsg_data=[0x1, 0x1, ...]}]')
    assert _sent_control(spec, rights, opts, verbose=True) == (
        '[{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 4, 5]}, '
        '{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_RETOPTS, cmsg_data=[0x1, 0x1, 0x1, 0]}]')
    many = _cmsg(SOL_SOCKET, 1, struct.pack("<40i", *range(40)))
    default = _spec(tmp_path_factory)
    assert _sent_control(default, many).endswith("cmsg_data=[" + ", ".join(map(str, range(32))) + ", ...]}]")


def test_message_headers_in_json_carry_what_their_pointers_point_to(spec):
    from synthetic import CheckedJsonWriter as JsonWriter  # the fast line held to the dict
    import json
    t = _Trace(spec)
    t.call("sendmsg", (3, 0x400, 0), 5, {"msg": (_msghdr(iov=0x500, iovlen=1), 0), "msg__iov": [(5, b"hello")]})
    stream = EventStream(load_decoder(t.schema), t.schema)
    stream.push(t.raws)
    out = io.StringIO()
    w = JsonWriter(out)
    w.write(stream.finish())
    w.finish(0)
    msg = next(json.loads(line) for line in out.getvalue().splitlines() if '"sendmsg"' in line)["args"]["msg"]
    assert msg["iov"] == [{"len": 5, "data": "hello"}] and msg["msg_iovlen"] == 1 and "name" not in msg
