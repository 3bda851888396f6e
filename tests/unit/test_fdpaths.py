"""-y's descriptor table (format/fdpaths.py) on syscall events built from the catalogue, without root.

/proc is replaced by a dictionary the tests change as the traced process would have: lines are printed
after the syscalls happened, so /proc may already show what came later."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tracespec.decode.events import SyscallEvent
from tracespec.format.fdpaths import FdPaths
from tracespec.format.traceheader import BadHeader, _initial_cwds, _initial_fds
from tracespec.pipeline import compile_spec
from tracespec.wire.records import EnterRecord, ExitRecord, Slot

SPEC = Path(__file__).resolve().parent.parent / "specs" / "fdpaths.yaml"
CLONE_FILES, CLONE_THREAD, SIGCHLD = 0x400, 0x10000, 17


@lru_cache(maxsize=1)
def infos() -> dict:
    return {s.name: s for s in compile_spec(str(SPEC), kernel="6.1").plan.schema.syscalls}


def call(name: str, tgid: int, args: tuple, ret: int, slots: dict | None = None) -> SyscallEvent:
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    enter = EnterRecord(0, tgid, tgid, info.nr, 0, 0, b"t", full, ())
    exit_ = ExitRecord(1, tgid, tgid, info.nr, 0, 0, ret, ())
    return SyscallEvent(info, info.nr, tgid, tgid, "t", enter, exit_, full, slots or {}, slots or {})


def pair(a: int, b: int) -> Slot:
    return Slot(a.to_bytes(4, "little", signed=True) + b.to_bytes(4, "little", signed=True), 0)


class Printer:
    """What the text writer does with each line: learn, name the arguments and the result, apply."""

    def __init__(self, fds: FdPaths):
        self.fds = fds

    def line(self, ev: SyscallEvent, *arg_fds: int) -> tuple:
        self.fds.started(ev)
        self.fds.before(ev)
        shown = tuple(self.fds.annotate(ev.tgid, fd) for fd in arg_fds)
        ret = self.fds.annotate_new(ev.tgid, ev.ret) if self.fds.returns_fd(ev) and ev.ret >= 0 else str(ev.ret)
        self.fds.after(ev)
        return shown + (ret,)


def live_fds(proc: dict, initial: dict | None = None) -> FdPaths:
    fds = FdPaths(live=True, initial=initial)
    fds._proc = lambda tgid, what: proc.get((tgid, what))
    return fds


def test_a_close_printed_after_the_number_was_reused_shows_the_socket_it_closed():
    proc = {(1, "fd/3"): "socket:[111]"}
    p = Printer(live_fds(proc, {"command": {}}))
    assert p.line(call("socket", 1, (2, 2, 0), 3)) == ("3<socket:[111]>",)
    proc[(1, "fd/3")] = "socket:[222]"  # by the time close is printed, 3 is the next socket
    assert p.line(call("close", 1, (3,), 0), 3) == ("3<socket:[111]>", "0")
    assert p.line(call("socket", 1, (2, 2, 0), 3)) == ("3<socket:[222]>",)


def test_a_socket_whose_number_now_holds_something_else_is_a_bare_number():
    p = Printer(live_fds({(1, "fd/3"): "/etc/passwd"}, {"command": {}}))
    assert p.line(call("socket", 1, (2, 2, 0), 3)) == ("3",)


def test_names_stay_after_the_process_is_gone():
    proc = {(1, "fd/3"): "pipe:[5]", (1, "fd/4"): "pipe:[5]"}
    p = Printer(live_fds(proc, {"command": {"1": "pipe:[9]"}}))
    ev = call("pipe2", 1, (0, 0), 0, {"fildes": pair(3, 4)})
    p.fds.before(ev)
    assert p.fds.pair_text(1, ev.slots["fildes"].data) == "[3<pipe:[5]>, 4<pipe:[5]>]"
    p.fds.after(ev)
    proc.clear()  # the process ended
    assert p.line(call("write", 1, (4,), 1), 4) == ("4<pipe:[5]>", "1")
    assert p.line(call("write", 1, (1,), 1), 1) == ("1<pipe:[9]>", "1")


def test_dup2_shows_its_target_as_it_was_and_the_result_as_it_is():
    p = Printer(FdPaths(live=False, initial={"command": {"1": "/tmp/out", "0": "/dev/null"}}))
    assert p.line(call("dup2", 1, (1, 5), 5), 1, 5) == ("1</tmp/out>", "5", "5</tmp/out>")
    assert p.line(call("dup2", 1, (0, 5), 5), 0, 5) == ("0</dev/null>", "5</tmp/out>", "5</dev/null>")
    assert p.line(call("fcntl", 1, (5, 1030, 7), 7), 5) == ("5</dev/null>", "7</dev/null>")


def test_exec_drops_close_on_exec_descriptors():
    p = Printer(FdPaths(live=False, initial={"command": {"1": "/tmp/out"}}))
    p.line(call("fcntl", 1, (1, 1030, 6), 6))  # F_DUPFD_CLOEXEC
    p.line(call("dup3", 1, (1, 7, 0o2000000), 7))  # O_CLOEXEC
    p.line(call("fcntl", 1, (1, 0, 8), 8))  # F_DUPFD
    p.line(call("execve", 1, (), 0))
    assert [p.fds.annotate(1, fd) for fd in (1, 6, 7, 8)] == ["1</tmp/out>", "6", "7", "8</tmp/out>"]


def test_close_range_closes_or_marks_close_on_exec():
    p = Printer(FdPaths(live=False, initial={"command": {"3": "/a", "4": "/b", "5": "/c"}}))
    p.line(call("close_range", 1, (4, 4, 4), 0))  # CLOSE_RANGE_CLOEXEC
    p.line(call("close_range", 1, (5, 0xFFFFFFFF, 0), 0))
    assert [p.fds.annotate(1, fd) for fd in (3, 4, 5)] == ["3</a>", "4</b>", "5"]
    p.line(call("execve", 1, (), 0))
    assert p.fds.annotate(1, 4) == "4"


@pytest.mark.parametrize("flags,shared", [(SIGCHLD, False), (CLONE_FILES | SIGCHLD, True)])
def test_fork_copies_the_table_and_clone_files_shares_it(flags, shared):
    p = Printer(FdPaths(live=False, initial={"command": {"1": "/tmp/out"}}))
    p.fds.started(call("clone", 1, (flags,), 2))
    p.fds.forked(1, 2)
    p.line(call("close", 2, (1,), 0), 1)
    assert p.fds.annotate(2, 1) == "1"
    assert p.fds.annotate(1, 1) == ("1" if shared else "1</tmp/out>")


def test_a_thread_uses_its_process_table():
    p = Printer(FdPaths(live=False, initial={"command": {"1": "/tmp/out"}}))
    p.fds.started(call("clone", 1, (CLONE_THREAD | CLONE_FILES,), 2))
    p.fds.forked(1, 2)
    assert 2 not in p.fds.tables and p.fds.annotate(1, 1) == "1</tmp/out>"


@pytest.mark.parametrize("name,args,shown", [
    ("eventfd2", (0, 0), "anon_inode:[eventfd]"), ("epoll_create1", (0,), "anon_inode:[eventpoll]"),
    ("timerfd_create", (1, 0), "anon_inode:[timerfd]"), ("inotify_init1", (0,), "anon_inode:inotify"),
    ("signalfd4", (-1, 0, 8, 0), "anon_inode:[signalfd]")])
def test_anonymous_inodes_are_named_as_proc_names_them(name, args, shown):
    p = Printer(FdPaths(live=False, initial={"command": {}}))
    assert p.line(call(name, 1, args, 4)) == (f"4<{shown}>",)


def test_accept_and_socketpair_make_sockets_named_while_they_live():
    proc = {(1, "fd/3"): "socket:[1]", (1, "fd/4"): "socket:[2]", (1, "fd/5"): "socket:[3]"}
    p = Printer(live_fds(proc, {"command": {}}))
    p.line(call("socket", 1, (2, 1, 0), 3))
    assert p.line(call("accept", 1, (3,), 4), 3) == ("3<socket:[1]>", "4<socket:[2]>")
    ev = call("socketpair", 1, (1, 1, 0), 0, {"usockvec": pair(5, 6)})
    p.fds.before(ev)
    assert p.fds.pair_text(1, ev.slots["usockvec"].data) == "[5<socket:[3]>, 6]"  # 6 is not in /proc


def test_initial_fds_in_a_trace_header_are_checked():
    _initial_fds({"command": {"1": "pipe:[3]"}, "42": {}})
    for bad in ({"x": {}}, {"command": {"one": "/a"}}, {"command": {"1": 5}}, {"command": []}):
        with pytest.raises(BadHeader):
            _initial_fds(bad)


def test_initial_cwds_in_a_trace_header_are_checked():
    _initial_cwds({"command": "/work", "42": "/"})
    for bad in ({"x": "/"}, {"command": 5}, {"command": ["/"]}, []):
        with pytest.raises(BadHeader):
            _initial_cwds(bad)


def test_a_recorded_command_names_at_fdcwd_from_the_header():
    """Decoding has no /proc: the directory the command started in comes from the header, for the
    command and, through fork, for its children."""
    from tracespec.format.fdpaths import FdPaths
    fds = FdPaths(live=False, initial={"command": {}, "7": {}}, initial_cwds={"command": "/srv/w", "7": "/home"})
    fds.seen(100)
    assert fds.cwd(100) == "/srv/w"
    fds.forked(100, 101)
    assert fds.cwd(101) == "/srv/w"
    fds.seen(7)
    assert fds.cwd(7) == "/home"
    fds.seen(8)
    assert fds.cwd(8) is None  # not in the header, and no /proc to ask


def test_a_pidfd_is_named_without_proc():
    p = Printer(live_fds({}, {"command": {}}))
    assert p.line(call("pidfd_open", 1, (1, 0), 3)) == ("3<anon_inode:[pidfd]>",)
    assert p.line(call("close", 1, (3,), 0), 3) == ("3<anon_inode:[pidfd]>", "0")


def test_the_working_directory_follows_the_trace_not_proc():
    """A command starts where tracespec runs; chdir and fchdir move it as the trace shows, whatever /proc
    says by the time the line is printed (here: nothing, the process has gone)."""
    import os
    p = Printer(live_fds({}, {"command": {}}))
    p.line(call("close", 1, (9,), -9))
    assert p.fds.path(1, -100) == os.getcwd()
    p.line(call("chdir", 1, (0,), 0, {"filename": Slot(b"/", 0)}))
    assert p.fds.path(1, -100) == "/"
    p.line(call("chdir", 1, (0,), 0, {"filename": Slot(b"tmp", 0)}))
    assert p.fds.path(1, -100) == os.path.realpath("/tmp")
    p.line(call("openat", 1, (-100, 0, 0), 3, {"filename": Slot(b"/etc", 0)}))
    p.line(call("fchdir", 1, (3,), 0), 3)
    assert p.fds.path(1, -100) == os.path.realpath("/etc")
    p.line(call("chdir", 1, (0,), -2, {"filename": Slot(b"/nonexistent", 0)}))  # failed: stays
    assert p.fds.path(1, -100) == os.path.realpath("/etc")


def test_a_dump_names_inherited_descriptors_and_asks_proc_for_the_rest():
    """A flight recorder's dump begins where its buffers reach: what was open when recording began is
    named, and a descriptor opened since (its open overwritten) is asked of /proc, not taken as closed."""
    proc = {(1, "fd/5"): "/var/log/app.log"}
    initial = {"command": {"1": "pipe:[9]"}}
    fds = FdPaths(live=True, initial=initial, initial_complete=False)
    fds._proc = lambda tgid, what: proc.get((tgid, what))
    p = Printer(fds)
    assert p.line(call("write", 1, (1,), 1), 1) == ("1<pipe:[9]>", "1")
    assert p.line(call("write", 1, (5,), 1), 5) == ("5</var/log/app.log>", "1")
    # a whole run's table is complete: 5 was not open when it began, nor opened since
    p = Printer(live_fds(proc, initial))
    assert p.line(call("write", 1, (5,), -9), 5) == ("5", "-9")


def test_yy_names_a_pidfd_by_its_process():
    """strace -y shows anon_inode:[pidfd], -yy the process the pidfd refers to."""
    fds = FdPaths(live=False, initial={"command": {}}, endpoints=True)
    fds._proc = lambda tgid, what: None
    p = Printer(fds)
    assert p.line(call("pidfd_open", 1, (77, 0), 3)) == ("3<pid:77>",)
    assert p.line(call("pidfd_open", 1, (78, 0), 4)) == ("4<pid:78>",)
    assert p.line(call("close", 1, (3,), 0), 3) == ("3<pid:77>", "0")
    fds.process_ended(78)  # gone: strace finds no pid for it any more
    assert p.line(call("close", 1, (4,), 0), 4) == ("4<anon_inode:[pidfd]>", "0")


def test_a_deleted_file_has_the_mark_after_its_brackets():
    p = Printer(live_fds({(1, "fd/4"): "/tmp/gone (deleted)"}, {"command": {"4": "/tmp/gone (deleted)"}}))
    assert p.line(call("close", 1, (4,), 0), 4) == ("4</tmp/gone>(deleted)", "0")
    p.line(call("memfd_create", 1, (0, 0), 5, {"uname": Slot(b"buf", 0)}))
    assert p.fds.annotate(1, 5) == "5</memfd:buf>(deleted)"


def _msghdr(controllen: int) -> Slot:
    """A struct user_msghdr: only msg_controllen (at 40) matters here."""
    return Slot(bytes(40) + controllen.to_bytes(8, "little") + bytes(8), 0)


def _rights(*fds: int, extra: bytes = b"") -> Slot:
    data = b"".join(fd.to_bytes(4, "little", signed=True) for fd in fds)
    header = (16 + len(data)).to_bytes(8, "little") + (1).to_bytes(4, "little") + (1).to_bytes(4, "little")
    return Slot(header + data + bytes(-len(data) % 8) + extra, 0)


def _message(name: str, tgid: int, fd: int, ret: int, rights: Slot, flags: int = 0) -> SyscallEvent:
    ev = call(name, tgid, (fd, 0x1000, flags), ret, {"msg__control": rights})
    ev.entry_slots["msg"] = ev.slots["msg"] = _msghdr(len(rights.data))
    return ev


def test_descriptors_received_in_scm_rights_are_what_the_peer_sent():
    """The receiver's new descriptors (here 5, a number the sender had just closed) are what the sender
    passed on the receiving socket's peer, on the recvmsg line and the lines after it; without a known
    sender, /proc names them while they live."""
    proc = {(1, "fd/7"): "pipe:[900]"}
    p = Printer(live_fds(proc, {"command": {}}))
    ev = call("socketpair", 1, (1, 1, 0), 0, {"usockvec": pair(3, 4), "fd_inode": Slot((11).to_bytes(8, "little") + (12).to_bytes(8, "little"), 0)})
    p.line(ev)
    p.line(call("openat", 1, (-100, 0, 0), 5, {"filename": Slot(b"/etc/hostname", 0)}))
    sent = _message("sendmsg", 1, 3, 1, _rights(5, 3))
    p.fds.before(sent)
    assert [p.fds.annotate(1, fd) for fd in passed(sent)] == ["5</etc/hostname>", "3<socket:[11]>"]
    p.fds.after(sent)
    p.line(call("close", 1, (5,), 0), 5)
    got = _message("recvmsg", 1, 4, 1, _rights(5, 6), flags=0x40000000)  # MSG_CMSG_CLOEXEC
    p.fds.before(got)
    assert [p.fds.annotate_new(1, fd) for fd in passed(got)] == ["5</etc/hostname>", "6<socket:[11]>"]
    assert p.fds.annotate(1, 5) == "5"  # the argument side: not open before the call
    p.fds.after(got)
    assert p.line(call("read", 1, (6,), 0), 6) == ("6<socket:[11]>", "0")
    p.line(call("execve", 1, (0, 0, 0), 0))
    assert p.fds.annotate(1, 5) == "5"  # close-on-exec, as MSG_CMSG_CLOEXEC asked
    # a receiver whose sender the trace did not see: /proc, while the descriptor lives
    got = _message("recvmsg", 1, 4, 1, _rights(7))
    assert p.line(got) == ("1",)
    assert p.fds.annotate(1, 7) == "7<pipe:[900]>"


def passed(ev: SyscallEvent) -> list[int]:
    from tracespec.format.msghdr import passed_descriptors
    return [fd for batch in passed_descriptors(ev) for fd in batch]


def test_pidfd_getfd_copies_what_the_other_process_has():
    """The copy is what the process the pidfd names has at that number, in the trace's table; a number
    it does not have is left to /proc (none here: bare); close-on-exec always."""
    fds = FdPaths(live=False, initial={"7": {"4": "/srv/data"}, "8": {}}, endpoints=True)
    p = Printer(fds)
    fds.seen(7)
    p.line(call("pidfd_open", 8, (7, 0), 3))
    getfd = call("pidfd_getfd", 8, (3, 4, 0), 5)
    assert fds.annotate(fds.owner(getfd, "fd"), 4) == "4</srv/data>"  # its argument: the other's number
    assert p.line(getfd, 3) == ("3<pid:7>", "5</srv/data>")
    assert p.line(call("pidfd_getfd", 8, (3, 9, 0), 6)) == ("6",)
    p.line(call("execve", 8, (0, 0, 0), 0))
    assert fds.annotate(8, 5) == "5"


def test_mount_and_landlock_descriptors():
    p = Printer(FdPaths(live=False, initial={"command": {}}))
    assert p.line(call("fsopen", 1, (0, 1), 3)) == ("3<anon_inode:[fscontext]>",)  # FSOPEN_CLOEXEC
    assert p.line(call("fsmount", 1, (3, 0, 0), 4), 3) == ("3<anon_inode:[fscontext]>", "4</>")  # its root
    assert p.line(call("open_tree", 1, (-100, 0, 1), 8, {"filename": Slot(b"/tmp", 0)})) == ("8</>",)  # a copy
    assert p.line(call("open_tree", 1, (-100, 0, 0), 9, {"filename": Slot(b"/etc", 0)})) == ("9</etc>",)
    assert p.line(call("landlock_create_ruleset", 1, (0x1000, 8, 0), 5)) == ("5<anon_inode:[landlock-ruleset]>",)
    assert p.line(call("landlock_create_ruleset", 1, (0, 0, 1), 6)) == ("6",)  # the ABI version
    assert p.fds.annotate(1, 6) == "6"
    assert p.line(call("open_by_handle_at", 1, (5, 0, 0), 7)) == ("7",)  # strace shows a number
    p.line(call("execve", 1, (0, 0, 0), 0))
    assert [p.fds.annotate(1, fd) for fd in (3, 5)] == ["3", "5"]


def _unix_ends(name: bytes = b"", peer: int = 0) -> Slot:
    import struct
    return Slot(struct.pack("<HH4xQ", 1, len(name), peer) + name.ljust(32, b"\0"), 0)


def test_descriptors_passed_on_an_accepted_connection_are_what_the_connecting_end_sent():
    """The connecting end's peer is learnt from the accept (in another process): what it sends there is
    what the accepted socket receives, though the sender has closed it and no /proc is asked."""
    fds = FdPaths(live=False, initial={"1": {}, "2": {}})
    p = Printer(fds)
    inode = lambda n: Slot(n.to_bytes(8, "little"), 0)  # noqa: E731
    p.line(call("socket", 1, (1, 1, 0), 3, {"fd_inode": inode(21)}))
    p.line(call("listen", 1, (3, 1), 0, {"sock_ends": _unix_ends(b"/s\0")}))
    p.line(call("socket", 2, (1, 1, 0), 3, {"fd_inode": inode(22)}))
    p.line(call("connect", 2, (3, 0, 110), 0, {"sock_ends": _unix_ends()}))
    p.line(call("accept", 1, (3, 0, 0), 4, {"fd_inode": inode(23), "sock_ends": _unix_ends(b"/s\0", 22)}))
    p.line(call("openat", 2, (-100, 0, 0), 5, {"filename": Slot(b"/etc/hostname", 0)}))
    p.line(_message("sendmsg", 2, 3, 1, _rights(5)))
    p.line(call("close", 2, (5,), 0), 5)
    got = _message("recvmsg", 1, 4, 1, _rights(6))
    p.fds.before(got)
    assert [p.fds.annotate_new(1, fd) for fd in passed(got)] == ["6</etc/hostname>"]
    p.fds.after(got)
    yy = FdPaths(live=False, endpoints=True)
    yy.sock_ends, yy.tables = fds.sock_ends, fds.tables
    assert yy.annotate(2, 3) == "3<UNIX-STREAM:[22->23]>" and yy.annotate(1, 4) == '4<UNIX-STREAM:[23->22,"/s"]>'


def test_yy_asks_fdinfo_for_a_pidfd_the_trace_did_not_see_made():
    fds = live_fds({}, {"command": {"5": "anon_inode:[pidfd]"}})
    fds.endpoints = True
    fds.seen(1)
    fds._pidfd_pid = lambda tgid, fd: 99 if (tgid, fd) == (1, 5) else None
    assert fds.annotate(1, 5) == "5<pid:99>"
    fds._pidfd_pid = lambda tgid, fd: None  # its process gone: fdinfo says -1
    assert fds.annotate(1, 5) == "5<anon_inode:[pidfd]>"
    fds.endpoints = False
    fds._pidfd_pid = lambda tgid, fd: 99
    assert fds.annotate(1, 5) == "5<anon_inode:[pidfd]>"


def test_messages_in_flight_are_received_in_order():
    fds = FdPaths(live=False, initial={"command": {}})
    p = Printer(fds)
    inodes = Slot((11).to_bytes(8, "little") + (12).to_bytes(8, "little"), 0)
    p.line(call("socketpair", 1, (1, 1, 0), 0, {"usockvec": pair(3, 4), "fd_inode": inodes}))
    p.line(call("openat", 1, (-100, 0, 0), 5, {"filename": Slot(b"/a", 0)}))
    p.line(call("openat", 1, (-100, 0, 0), 6, {"filename": Slot(b"/b", 0)}))
    p.line(_message("sendmsg", 1, 3, 1, _rights(5)))
    p.line(_message("sendmsg", 1, 3, 1, _rights(6)))
    p.line(_message("sendmsg", 1, 3, 1, _rights(5, 6)))
    for fds_got, names, flags in (((12,), ["12</a>"], 2), ((7,), ["7</a>"], 0), ((8,), ["8</b>"], 0),
                                  ((9, 10), ["9</a>", "10</b>"], 0), ((11,), ["11"], 0)):  # MSG_PEEK first
        got = _message("recvmsg", 1, 4, 1, _rights(*fds_got), flags)
        p.fds.before(got)
        assert [p.fds.annotate_new(1, fd) for fd in passed(got)] == names
        p.fds.after(got)


def test_clone_pidfd_takes_the_lowest_free_number():
    """CLONE_PIDFD: the parent's pidfd, at the lowest number free (the record does not hold where the
    kernel wrote it), close-on-exec; with an incomplete table /proc is left to name it."""
    fds = FdPaths(live=False, initial={"command": {"0": "/dev/null", "1": "/dev/null", "3": "/x"}}, endpoints=True)
    p = Printer(fds)
    p.line(call("clone", 1, (0x1000 | SIGCHLD, 0, 0x1000, 0, 0), 50))
    assert fds.annotate(1, 2) == "2<pid:50>"
    fds.process_ended(50)
    assert fds.annotate(1, 2) == "2<anon_inode:[pidfd]>"
    p.line(call("execve", 1, (0, 0, 0), 0))
    assert fds.annotate(1, 2) == "2"
    p.line(call("clone", 1, (SIGCHLD, 0, 0, 0, 0), 51))  # no pidfd asked for
    assert fds.annotate(1, 2) == "2"


def test_an_unlinked_file_shows_deleted_after_its_brackets():
    """strace's printfd: the kernel's " (deleted)" taken off the path and printed after the brackets,
    for a file the trace saw removed (unlink, unlinkat, rmdir) as for one /proc names so, and for a
    memfd, whose /proc name always carries it."""
    p = Printer(FdPaths(live=False, initial={"command": {}}))
    p.line(call("chdir", 1, (0,), 0, {"filename": Slot(b"/tmp", 0)}))
    p.line(call("openat", 1, (-100, 0, 0), 3, {"filename": Slot(b"/tmp/a", 0)}))
    p.line(call("openat", 1, (-100, 0, 0), 4, {"filename": Slot(b"b", 0)}))
    p.line(call("openat", 1, (-100, 0, 0), 5, {"filename": Slot(b"/", 0)}))
    p.line(call("unlink", 1, (0,), -2, {"pathname": Slot(b"/tmp/a", 0)}))  # failed: still there
    assert p.fds.annotate(1, 3) == "3</tmp/a>"
    p.line(call("unlink", 1, (0,), 0, {"pathname": Slot(b"a", 0)}))
    p.line(call("unlinkat", 1, (5, 0, 0), 0, {"pathname": Slot(b"tmp/b", 0)}))  # relative to its dirfd's path
    assert [p.fds.annotate(1, fd) for fd in (3, 4, 5)] == ["3</tmp/a>(deleted)", "4</tmp/b>(deleted)", "5</>"]
    assert p.line(call("memfd_create", 1, (0, 1), 6, {"uname": Slot(b"m", 0)})) == ("6</memfd:m>(deleted)",)
    q = Printer(live_fds({(1, "fd/7"): "/var/tmp/x (deleted)"}))
    assert q.line(call("write", 1, (7,), 1), 7) == ("7</var/tmp/x>(deleted)", "1")
