"""Structs strace decodes on both sides of a call (issue 19), on the printers of format/special.py and
the plan that copies them: clone3's clone_args with what the kernel wrote behind pidfd and parent_tid,
io_uring_setup's io_uring_params as given and as filled in, kcmp by type. The cases the end-to-end
test (tests/test_e2e_rules8.py) cannot make: copies that faulted, short structs, reserved words."""

from __future__ import annotations

import struct
import tempfile
from functools import lru_cache
from pathlib import Path

from tracespec.codegen.lower import _slot_call
from tracespec.decode.events import SyscallEvent
from tracespec.format.fdpaths import FdPaths
from tracespec.format.special import special
from tracespec.format.values import Style, constants
from tracespec.pipeline import compile_spec
from tracespec.plan.model import Phase
from tracespec.wire.records import FAULT as FAULT_FLAG, EnterRecord, ExitRecord, Slot

C = constants().values
RAW, VERBOSE = Style(xlat="raw"), Style(xlat="verbose")
FAULT = Slot(b"", FAULT_FLAG)  # a copy that faulted
SPEC = "version: 1\nsyscalls: [clone3, io_uring_setup, kcmp, close]\n"


@lru_cache(maxsize=1)
def plan():
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "s.yaml"
        spec.write_text(SPEC)
        return compile_spec(str(spec), kernel="6.1").plan


def infos() -> dict:
    return {s.name: s for s in plan().schema.syscalls}


def call(name: str, args: tuple, ret: int | None, entry: dict | None = None, after: dict | None = None,
         tgid: int = 1) -> SyscallEvent:
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    enter = EnterRecord(0, tgid, tgid, info.nr, 0, 0, b"t", full, ())
    exit_ = None if ret is None else ExitRecord(1, tgid, tgid, info.nr, 0, 0, ret, ())
    entry = entry or {}
    return SyscallEvent(info, info.nr, tgid, tgid, "t", enter, exit_, full, {**entry, **(after or {})}, entry)


def clone_args(flags: int, pidfd: int = 0, child_tid: int = 0, parent_tid: int = 0, exit_signal: int = 17,
               stack: int = 0, stack_size: int = 0, tls: int = 0, set_tid: int = 0, set_tid_size: int = 0,
               cgroup: int = 0) -> Slot:
    return Slot(struct.pack("<11Q", flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                            set_tid, set_tid_size, cgroup), 0)


def int_slot(value: int) -> Slot:
    return Slot(value.to_bytes(4, "little", signed=True), 0)


PIDFD, PARENT_SETTID, INTO_CGROUP = 0x1000, 0x100000, 0x200000000


def test_clone3_shows_what_the_kernel_wrote_behind_pidfd_and_parent_tid():
    uargs = clone_args(PIDFD | PARENT_SETTID, pidfd=0x7000, parent_tid=0x7004)
    ev = call("clone3", (0x6000, 88), 4242, {"uargs": uargs},
              {"uargs__pidfd": int_slot(5), "uargs__parent_tid": int_slot(4242)})
    enter, exit_ = special(ev)
    assert enter == ("{flags=CLONE_PIDFD|CLONE_PARENT_SETTID, pidfd=0x7000, parent_tid=0x7004, exit_signal=SIGCHLD, "
                     "stack=NULL, stack_size=0}")
    assert exit_ == " => {pidfd=[5], parent_tid=[4242]}, 88"
    # the int read, not the return value: what strace's printnum_pid reads there
    ev = call("clone3", (0x6000, 88), 4242, {"uargs": uargs},
              {"uargs__pidfd": int_slot(5), "uargs__parent_tid": int_slot(17)})
    assert special(ev)[1] == " => {pidfd=[5], parent_tid=[17]}, 88"


def test_clone3_shows_a_pointer_it_could_not_read_and_nothing_when_it_failed():
    uargs = clone_args(PIDFD | PARENT_SETTID, pidfd=0x7000, parent_tid=0x7004)
    ev = call("clone3", (0x6000, 88), 4242, {"uargs": uargs}, {"uargs__pidfd": FAULT, "uargs__parent_tid": int_slot(9)})
    assert special(ev)[1] == " => {pidfd=0x7000, parent_tid=[9]}, 88"
    ev = call("clone3", (0x6000, 88), -22, {"uargs": uargs}, {"uargs__pidfd": int_slot(5)})
    assert special(ev)[1] == ", 88"
    ev = call("clone3", (0x6000, 88), None, {"uargs": uargs})  # in flight: the entry part alone
    assert special(ev)[1] == ", 88"


def test_clone3_without_pidfd_or_parent_settid_shows_nothing_written():
    ev = call("clone3", (0x6000, 88), 7, {"uargs": clone_args(0, exit_signal=17)}, {"uargs__pidfd": int_slot(5)})
    assert special(ev) == ("{flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88", "")


def test_clone3_reads_as_many_bytes_as_strace():
    """min(size, 88) bytes: past them the fields are zero; cgroup only past 80 bytes, shown when not zero
    or asked for (CLONE_INTO_CGROUP); fewer than 64 bytes: the address."""
    full = clone_args(0, cgroup=5, set_tid=0x9000, set_tid_size=40)
    assert special(call("clone3", (0x6000, 64), -22, {"uargs": full}))[0] == \
        "{flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 64"
    assert special(call("clone3", (0x6000, 80), -22, {"uargs": full}))[0] == \
        "{flags=0, exit_signal=SIGCHLD, stack=NULL, stack_size=0, set_tid=0x9000, set_tid_size=40}, 80"
    assert special(call("clone3", (0x6000, 88), -22, {"uargs": full}))[0].endswith("set_tid_size=40, cgroup=5}, 88")
    asked = clone_args(INTO_CGROUP)
    assert special(call("clone3", (0x6000, 88), -22, {"uargs": asked}))[0] == \
        "{flags=CLONE_INTO_CGROUP, exit_signal=SIGCHLD, stack=NULL, stack_size=0, cgroup=0}, 88"
    assert special(call("clone3", (0x6000, 63), -22, {"uargs": full}))[0] == "0x6000, 63"
    assert special(call("clone3", (0x6000, 88), -14, {"uargs": FAULT}))[0] == "0x6000, 88"


def test_clone3_follows_the_xlat_styles():
    ev = call("clone3", (0x6000, 88), 3, {"uargs": clone_args(PIDFD, pidfd=0x7000)}, {"uargs__pidfd": int_slot(3)})
    assert special(ev, RAW)[0] == "{flags=0x1000, pidfd=0x7000, exit_signal=17, stack=NULL, stack_size=0}"
    assert special(ev, VERBOSE)[0] == ("{flags=0x1000 /* CLONE_PIDFD */, pidfd=0x7000, exit_signal=17 /* SIGCHLD */, "
                                       "stack=NULL, stack_size=0}")


def test_clone3_copies_the_ints_behind_its_pointers_when_it_returns():
    fam = next(f for f in plan().families if any(m.name == "clone3" for m in f.members))
    parts = [(s.part, s.via, s.max, s.via_len_size) for s in fam.exit.slots]
    assert parts == [("pidfd", 8, 4, 0), ("parent_tid", 24, 4, 0)]
    assert not any(s.part for s in fam.enter.slots)
    calls = [_slot_call(s, fam.members[0], Phase.EXIT) for s in fam.exit.slots]
    assert calls == ["ts_put_buf(r, off, ts_user_u64(a[0] + 8), (ret < 0 ? -1 : 4), 4)",
                     "ts_put_buf(r, off, ts_user_u64(a[0] + 24), (ret < 0 ? -1 : 4), 4)"]


def test_y_takes_clone3s_pidfd_from_what_the_kernel_wrote():
    """The number the kernel wrote, not the lowest free one (3 here): -y names it, and it stays in the table."""
    fds = FdPaths(live=False, initial={"command": {}})
    fds._proc = lambda tgid, what: None
    fds.seen(1)
    ev = call("clone3", (0x6000, 88), 50, {"uargs": clone_args(PIDFD, pidfd=0x7000)}, {"uargs__pidfd": int_slot(7)})
    fds.started(ev)
    fds.before(ev)
    assert special(ev, fds=fds)[1] == " => {pidfd=[7<anon_inode:[pidfd]>]}, 88"
    fds.after(ev)
    assert fds.annotate(1, 7) == "7<anon_inode:[pidfd]>"
    assert fds.annotate(1, 3) == "3"


def params(flags: int = 0, sq_thread_cpu: int = 0, idle: int = 0, wq_fd: int = 0, resv=(0, 0, 0),
           sq_entries: int = 0, cq_entries: int = 0, features: int = 0, sq_off=(0,) * 8, sq_resv2: int = 0,
           cq_off=(0,) * 8, cq_resv2: int = 0) -> Slot:
    return Slot(struct.pack("<10I8IQ8IQ", sq_entries, cq_entries, flags, sq_thread_cpu, idle, features, wq_fd,
                            *resv, *sq_off, sq_resv2, *cq_off, cq_resv2), 0)


def test_io_uring_setup_shows_what_the_kernel_filled_in_when_it_succeeded():
    given = params(flags=C["IORING_SETUP_CQSIZE"], cq_entries=64)
    filled = params(flags=C["IORING_SETUP_CQSIZE"], sq_entries=4, cq_entries=64, features=0x3 | 0x2000,
                    sq_off=(0, 4, 16, 24, 36, 32, 1088, 0), cq_off=(8, 12, 20, 28, 44, 64, 40, 0))
    ev = call("io_uring_setup", (4, 0x7000), 3, {"params": given}, {"params": filled})
    assert special(ev) == (
        "4, {flags=IORING_SETUP_CQSIZE, sq_thread_cpu=0, sq_thread_idle=0",
        ", sq_entries=4, cq_entries=64, features=IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP|0x2000, "
        "sq_off={head=0, tail=4, ring_mask=16, ring_entries=24, flags=36, dropped=32, array=1088}, "
        "cq_off={head=8, tail=12, ring_mask=20, ring_entries=28, overflow=44, cqes=64, flags=40}}")


def test_io_uring_setup_shows_the_reserved_words_only_when_set():
    filled = params(sq_off=(1,) * 7 + (9,), sq_resv2=0x10, cq_off=(2,) * 8)
    ev = call("io_uring_setup", (1, 0x7000), 3, {"params": params(sq_thread_cpu=3, idle=10)}, {"params": filled})
    enter, exit_ = special(ev)
    assert enter == "1, {flags=0, sq_thread_cpu=0x3, sq_thread_idle=10"
    assert ", sq_off={head=1, tail=1, ring_mask=1, ring_entries=1, flags=1, dropped=1, array=1, resv1=0x9, resv2=0x10}" \
        in exit_
    assert exit_.endswith(", cq_off={head=2, tail=2, ring_mask=2, ring_entries=2, overflow=2, cqes=2, flags=2, "
                          "resv1=0x2}}")
    ev = call("io_uring_setup", (1, 0x7000), -22, {"params": params(resv=(0, 5, 0))})
    assert special(ev) == ("1, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, resv=[0, 0x5, 0]", "}")


def test_io_uring_setup_names_the_workqueue_it_attaches_to():
    given = params(flags=C["IORING_SETUP_ATTACH_WQ"], wq_fd=3)
    ev = call("io_uring_setup", (2, 0x7000), -9, {"params": given})
    assert special(ev)[0] == "2, {flags=IORING_SETUP_ATTACH_WQ, sq_thread_cpu=0, sq_thread_idle=0, wq_fd=3"
    fds = FdPaths(live=False, initial={"command": {"3": "anon_inode:[io_uring]"}})
    fds.seen(1)
    assert special(ev, fds=fds)[0].endswith("wq_fd=3<anon_inode:[io_uring]>")
    assert special(ev, VERBOSE)[0].startswith("2, {flags=0x20 /* IORING_SETUP_ATTACH_WQ */, ")


def test_io_uring_setup_without_its_struct_shows_the_address():
    assert special(call("io_uring_setup", (4, 8), -14, {"params": FAULT})) == ("4, 0x8", "")
    # the exit copy missing (faulted): strace's tfetch failed, the struct closes
    ev = call("io_uring_setup", (4, 0x7000), 3, {"params": params()}, {"params": FAULT})
    assert special(ev) == ("4, {flags=0, sq_thread_cpu=0, sq_thread_idle=0", "}")


class Named:
    """-y's annotate: which process's table a descriptor was looked up in."""

    def annotate(self, tgid: int, fd: int) -> str:
        return f"{fd}<of {tgid}>"


def test_kcmp_prints_by_type():
    k = C
    assert special(call("kcmp", (10, 20, k["KCMP_FILE"], 3, 4), 0))[0] == "10, 20, KCMP_FILE, 3, 4"
    assert special(call("kcmp", (10, 20, k["KCMP_FILE"], 3, 4), 0), fds=Named())[0] == \
        "10, 20, KCMP_FILE, 3<of 10>, 4<of 20>"
    for name in ("KCMP_VM", "KCMP_FILES", "KCMP_FS", "KCMP_SIGHAND", "KCMP_IO", "KCMP_SYSVSEM"):
        assert special(call("kcmp", (10, 20, k[name], 3, 4), 0))[0] == f"10, 20, {name}"
    assert special(call("kcmp", (10, 20, 99, 0, 0x10), -22))[0] == "10, 20, 0x63 /* KCMP_??? */, 0, 0x10"
    assert special(call("kcmp", (10, 20, 99, 0, 0x10), -22), RAW)[0] == "10, 20, 0x63, 0, 0x10"
    assert special(call("kcmp", (10, 0xFFFFFFFF, k["KCMP_VM"]), -3), VERBOSE)[0] == "10, -1, 0x1 /* KCMP_VM */"


def test_kcmp_epoll_tfd_shows_the_slot_in_the_second_process():
    slot = Slot(struct.pack("<3I", 5, 6, 0), 0)
    ev = call("kcmp", (10, 20, C["KCMP_EPOLL_TFD"], 6, 0x7000), 0, {"idx2": slot})
    assert special(ev)[0] == "10, 20, KCMP_EPOLL_TFD, 6, {efd=5, tfd=6, toff=0}"
    assert special(ev, fds=Named())[0] == "10, 20, KCMP_EPOLL_TFD, 6<of 10>, {efd=5<of 20>, tfd=6<of 20>, toff=0}"
    ev = call("kcmp", (10, 20, C["KCMP_EPOLL_TFD"], 6, 8), -14, {"idx2": FAULT})
    assert special(ev)[0] == "10, 20, KCMP_EPOLL_TFD, 6, 0x8"
