"""Arguments the sweep of real programs found printed as bare numbers or addresses (issue 19), now
catalogued as strace decodes them: epoll_ctl's operation and event, signalfd's mask and flags,
inotify_add_watch's mask, memfd_create's flags, the scheduling calls' policies, parameters and
interval, getpriority's and setpriority's which; mknod's device, shown only for a device. Each argument rendered from a synthetic event."""

from __future__ import annotations

import struct

from schemas import syscall_infos
from tracespec.decode.events import SyscallEvent
from tracespec.format.args import render, visible
from tracespec.format.values import Style, ret_text
from tracespec.wire.records import EnterRecord, ExitRecord, Slot

SYSCALLS = ["epoll_ctl", "signalfd4", "signalfd", "inotify_add_watch", "memfd_create", "sched_setscheduler",
            "sched_getparam", "sched_getscheduler", "sched_get_priority_max", "sched_rr_get_interval", "getpriority", "setpriority", "mknodat", "mknod"]
VERBOSE = Style(xlat="verbose")


def infos() -> dict:
    return syscall_infos(tuple(SYSCALLS))


def line(name: str, args: tuple, ret: int = 0, slots: dict | None = None, style: Style = Style()) -> str:
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    ev = SyscallEvent(info, info.nr, 1, 1, "t", EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", full, ()),
                      ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ()), full, slots or {}, slots or {})
    return ", ".join(render(f, v, ev, None, style) for f, v in visible(ev))


def test_epoll_ctl_names_its_operation_and_prints_the_event():
    event = Slot(struct.pack("<IQ", 0x80000001, 7), 0)
    assert line("epoll_ctl", (3, 1, 4, 0x5000), slots={"event": event}) == \
        "3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data={u32=7, u64=7}}"
    assert line("epoll_ctl", (3, 2, 4, 0)) == "3, EPOLL_CTL_DEL, 4, NULL"
    assert line("epoll_ctl", (3, 1, 4, 0x5000), slots={"event": event}, style=VERBOSE).startswith(
        "3, 0x1 /* EPOLL_CTL_ADD */, 4, {events=0x80000001 /* EPOLLIN|EPOLLET */")


def test_signalfd_prints_its_mask_by_its_size_and_its_flags():
    usr1 = Slot((1 << 9).to_bytes(8, "little"), 0)
    assert line("signalfd4", (-1, 0x5000, 8, 0x80000), 6, {"user_mask": usr1}) == "-1, [USR1], 8, SFD_CLOEXEC"
    assert line("signalfd4", (-1, 0x5000, 4, 0x800), -22, {"user_mask": usr1}) == "-1, 0x5000, 4, SFD_NONBLOCK"
    assert line("signalfd", (-1, 0x5000, 8), 6, {"user_mask": usr1}) == "-1, [USR1], 8"


def test_inotify_and_memfd_flags():
    assert line("inotify_add_watch", (7, 0x6000, 0x1000300), 1, {"pathname": Slot(b"/tmp", 0)}) == \
        '7, "/tmp", IN_CREATE|IN_DELETE|IN_ONLYDIR'
    assert line("memfd_create", (0x6000, 3), 8, {"uname": Slot(b"m", 0)}) == '"m", MFD_CLOEXEC|MFD_ALLOW_SEALING'


def test_scheduling_policies_parameters_and_intervals():
    prio = Slot(struct.pack("<i", 0), 0)
    assert line("sched_setscheduler", (0, 3, 0x5000), 0, {"param": prio}) == "0, SCHED_BATCH, [0]"
    assert line("sched_getparam", (0, 0x5000), 0, {"param": prio}) == "0, [0]"
    assert line("sched_get_priority_max", (1,), 99) == "SCHED_FIFO"
    assert line("sched_get_priority_max", (9,), -22) == "0x9 /* SCHED_??? */"
    interval = Slot(struct.pack("<qQ", 0, 100000000), 0)
    assert line("sched_rr_get_interval", (0, 0x5000), 0, {"interval": interval}) == \
        "0, {tv_sec=0, tv_nsec=100000000}"
    assert line("getpriority", (0, 0), 20) == "PRIO_PROCESS, 0"
    assert line("setpriority", (2, 0, 5), 0, style=VERBOSE) == "0x2 /* PRIO_USER */, 0, 5"


def test_mknod_shows_its_device_only_for_a_device():
    path = {"filename": Slot(b"/tmp/n", 0)}
    assert line("mknodat", (-100, 0x6000, 0o10600, 0), 0, path) == 'AT_FDCWD, "/tmp/n", S_IFIFO|0600'
    assert line("mknodat", (-100, 0x6000, 0o20600, 0x103), 0, path) == \
        'AT_FDCWD, "/tmp/n", S_IFCHR|0600, makedev(0x1, 0x3)'
    assert line("mknod", (0x6000, 0o60600, 0x103), 0, path, VERBOSE) == \
        '"/tmp/n", 060600 /* S_IFBLK|0600 */, 0x103 /* makedev(0x1, 0x3) */'
    assert line("mknod", (0x6000, 0o100600, 5), 0, path) == '"/tmp/n", S_IFREG|0600'


def test_sched_getscheduler_names_the_policy_it_returns():
    assert ret_text(0, "policy") == "0 (SCHED_OTHER)"
    assert ret_text(6, "policy") == "6 (SCHED_DEADLINE)"
    assert ret_text(9, "policy") == "9"
    assert ret_text(-3, "policy") == "-1 ESRCH (No such process)"
    assert infos()["sched_getscheduler"].ret == "policy"
