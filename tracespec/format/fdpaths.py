"""What a file descriptor refers to, for `fd_paths` (strace's -y): `read(3</etc/hostname>, ...)`.

BPF cannot produce a path from a descriptor here, so this is user space's knowledge, kept as each
process's descriptor table the way the trace changes it: opens (with the path passed, its symbolic
links resolved as strace shows them), sockets, pipes, accepted connections, anonymous inodes, dup and
fcntl copies, close and close_range, exec dropping close-on-exec descriptors, and fork copying the
table (or sharing it, with CLONE_FILES). What was open before tracing began comes from /proc, read when
tracing started (tracespec's own descriptors for a command it starts: the command inherits them).

A socket's or a pipe's inode (`socket:[N]`, `pipe:[N]`) comes from the kernel: the exits of socket,
accept, pipe, socketpair ... read each new descriptor's inode into their record's FD_INODE_SLOT
(catalogue/descriptors.py), so it is known however late the line is printed, after the process reused
the number or exited, and in a recorded trace decoded elsewhere. For -yy, a socket's endpoints come from
the kernel too, as bind, listen, connect, accept and the sends leave them (the first ones found stay, as
strace's cache keeps them): a TCP or UDP socket's addresses, a UNIX socket's peer and name (a connecting
end learns its peer when the connection is accepted; a socketpair's ends are each other's peers), a
netlink socket's port id; what the trace did not record is asked of /proc and sock_diag when the line is
printed. Descriptors received in SCM_RIGHTS messages join the receiver's table as what the sender passed
on the receiving socket's peer, when the trace saw it send them, else as /proc names them. /proc/PID/fd/N is read when a line is printed only for what neither names (a trace without
those slots, a descriptor of a kind the trace does not know), and only while the trace says descriptor
N is still what that line's syscall used: the link must be of the kind the trace expects, and what it
gives is kept, so that a later line shows what was recorded. When nothing is known, the bare number is
printed, as strace does when it cannot resolve a descriptor.
"""

from __future__ import annotations

import os
import socket
import stat
import struct

from tracespec.catalogue.descriptors import ENDPOINT_SYSCALLS, FD_INODE_SLOT, SOCK_ENDS_SLOT, UNIX_NAME_MAX
from tracespec.decode.events import SyscallEvent
from tracespec.format.msghdr import passed_descriptors
from tracespec.format.sockets import (AF_NETLINK, AF_UNIX, endpoint as socket_endpoint, netlink_name,
                                      protocol as socket_protocol, unix_name)

AT_FDCWD = -100
O_CLOEXEC = 0o2000000  # also SOCK_CLOEXEC, EFD_, TFD_, SFD_, EPOLL_, IN_CLOEXEC
MFD_CLOEXEC = 1
MSG_CMSG_CLOEXEC, MSG_PEEK = 0x40000000, 2
F_DUPFD, F_SETFD, F_DUPFD_CLOEXEC = 0, 2, 1030
FD_CLOEXEC = 1
CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC = 2, 4
CLONE_FILES, CLONE_THREAD, CLONE_PIDFD = 0x400, 0x10000, 0x1000
EBADF = 9
DELETED = " (deleted)"  # what /proc adds to the path of a file that was deleted

OPENERS = {"open": (None, "filename", "flags"), "openat": ("dfd", "filename", "flags"),
           "openat2": ("dfd", "filename", None), "creat": (None, "pathname", None),
           "open_tree": ("dfd", "filename", "flags"), "open_tree_attr": ("dfd", "filename", "flags")}
OPEN_TREE_CLONE = 1  # open_tree's detached copy, and fsmount's new mount: their root, which /proc shows as /
DUPS = {"dup": "fildes", "dup2": "oldfd", "dup3": "oldfd"}
# Descriptors on anonymous inodes: the name /proc shows (and strace prints), and the flags argument
# that may ask for close-on-exec.
ANON = {"eventfd": ("anon_inode:[eventfd]", None), "eventfd2": ("anon_inode:[eventfd]", "flags"),
        "timerfd_create": ("anon_inode:[timerfd]", "flags"),
        "signalfd": ("anon_inode:[signalfd]", None), "signalfd4": ("anon_inode:[signalfd]", "flags"),
        "epoll_create": ("anon_inode:[eventpoll]", None), "epoll_create1": ("anon_inode:[eventpoll]", "flags"),
        "inotify_init": ("anon_inode:inotify", None), "inotify_init1": ("anon_inode:inotify", "flags"),
        "fanotify_init": ("anon_inode:[fanotify]", "flags"), "userfaultfd": ("anon_inode:[userfaultfd]", "flags"),
        "perf_event_open": ("anon_inode:[perf_event]", None), "io_uring_setup": ("anon_inode:[io_uring]", None),
        "pidfd_open": ("anon_inode:[pidfd]", None), "fsopen": ("anon_inode:[fscontext]", "flags"),
        "fspick": ("anon_inode:[fscontext]", "flags"),
        "landlock_create_ruleset": ("anon_inode:[landlock-ruleset]", None)}
# whose flag asking for close-on-exec is not O_CLOEXEC's bit (FSOPEN_CLOEXEC, FSPICK_CLOEXEC)
CLOEXEC_BIT = {"fsopen": 1, "fspick": 1, "fsmount": 1}
LANDLOCK_CREATE_RULESET_VERSION = 1
ALWAYS_CLOEXEC = frozenset({"pidfd_open", "bpf", "perf_event_open", "memfd_secret", "landlock_create_ruleset",
                            "pidfd_getfd"})
EXECS = frozenset({"execve", "execveat"})
P_PIDFD = 3
# (syscall, argument) -> (the index of the argument that says so, its value): a descriptor then
FD_WHEN = {("waitid", "upid"): (0, P_PIDFD)}
CLONES = frozenset({"clone", "clone3", "fork", "vfork"})


class OpenFile:
    """What descriptors refer to (dup'ed ones share it): a path or a name /proc gave, once known."""

    __slots__ = ("kind", "target", "protocol", "seen_endpoint", "recorded", "detail")

    def __init__(self, kind: str, target: str | None = None, protocol: str | None = None):
        self.kind = kind  # "path", "socket", "pipe", "anon" (named by the trace), or "other"
        self.target = target  # None: /proc may name it while the descriptor lives
        self.protocol = protocol  # sockets: TCP, UDPv6, UNIX-STREAM... (-yy), from socket()'s arguments
        self.detail: str | None = None  # -yy: a pidfd's process (pid:N); a netlink socket's protocol (ROUTE)
        self.seen_endpoint: str | None = None  # -yy: the first endpoints read (strace keeps them)
        self.recorded: str | None = None  # -yy: a TCP or UDP socket's endpoints as the kernel gave them
        # when the first bind, listen, connect, accept or send that found it bound returned

    @classmethod
    def from_link(cls, link: str) -> "OpenFile":
        kind = "socket" if link.startswith("socket:[") else "pipe" if link.startswith("pipe:[") else \
            "anon" if link.startswith("anon_inode:") else "path"
        return cls(kind, link)


class Table:
    """A process's descriptors: number -> (OpenFile, close-on-exec). `complete`: every descriptor the
    process has is here (its start was seen, or /proc was read when tracing began); otherwise a number
    not here may still be open, and /proc is asked for it."""

    __slots__ = ("fds", "complete")

    def __init__(self, fds: dict | None = None, complete: bool = True):
        self.fds: dict[int, tuple[OpenFile, bool]] = fds if fds is not None else {}
        self.complete = complete

    def copy(self) -> "Table":
        return Table(dict(self.fds), self.complete)


def table_from_links(links: dict, complete: bool = True) -> Table:
    """A table from what /proc showed when tracing began: {fd: link target}."""
    return Table({int(fd): (OpenFile.from_link(str(target)), False) for fd, target in links.items()}, complete)


DELETED = " (deleted)"  # the kernel's suffix to the /proc link of an unlinked file


class FdPaths:
    def __init__(self, live: bool = True, initial: dict | None = None, endpoints: bool = False,
                 initial_cwds: dict | None = None, initial_complete: bool = True):
        self.tables: dict[int, Table] = {}
        self.cwds: dict[int, str] = {}
        self.live = live  # False when decoding a recorded trace: /proc describes other processes then
        self.endpoints = endpoints  # -yy: sockets with their addresses
        # what /proc showed when tracing began, by process id ("command": the command tracespec started)
        self.initial: dict[str, dict] = dict(initial or {})
        self.initial_cwds: dict[str, str] = dict(initial_cwds or {})  # the same keys: working directories
        # whether `initial` is all a process has where the events begin: a flight recorder's dump begins
        # later (what came before is overwritten), so a descriptor `initial` lacks may have been opened
        # meanwhile, and /proc is asked for it
        self.initial_complete = initial_complete
        self.cloning: dict[int, int] = {}  # tgid -> clone flags of the fork it is in
        self.staged: tuple[int, list] | None = None  # the changes of the syscall being printed
        self.devices: dict[str, str] = {}  # -yy: path -> "<char 1:3>" for devices, "" for the rest
        # descriptors sent in SCM_RIGHTS messages not received yet: the receiving socket's inode (the
        # sender's peer) -> the open files of each message, in order (None: not known)
        self.in_flight: dict[str, list[list]] = {}
        # -yy: sockets' endpoints by inode, as the kernel gave them when a syscall returned (the first
        # ones found stay, as strace's cache keeps them): UNIX and netlink sockets, and a UNIX socket's
        # peer learnt when the connection was accepted
        self.sock_ends: dict[str, str] = {}
        self.exited: set[int] = set()  # processes that ended (-yy: their pidfds show no pid)
        # -yy: UNIX sockets' names as bind gave them (an accepted socket has its listener's), for those
        # longer than a record holds
        self.unix_names: dict[str, bytes] = {}

    # -- /proc ------------------------------------------------------------------------------------------
    def _proc(self, tgid: int, what: str) -> str | None:
        if not self.live:
            return None
        try:
            return os.readlink(f"/proc/{tgid}/{what}")
        except OSError:
            return None

    def _pidfd_pid(self, tgid: int, fd: int) -> int | None:
        """The process of a live pidfd, as /proc/PID/fdinfo/FD says (None once it has gone: -1)."""
        if not self.live:
            return None
        try:
            with open(f"/proc/{tgid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("Pid:"):
                        pid = int(line.split()[1])
                        return pid if pid > 0 else None
        except (OSError, ValueError, IndexError):
            return None
        return None

    def cwd(self, tgid: int) -> str | None:
        """The working directory: as the trace knows it (a command's is tracespec's, a child's its
        parent's), else what /proc shows now (kept until a chdir)."""
        known = self.cwds.get(tgid)
        if known is not None:
            return known
        live = self._proc(tgid, "cwd")
        if live is not None:
            self.cwds[tgid] = live
        return live

    def _snapshot(self, tgid: int) -> Table:
        """A process whose start tracing did not see: what /proc shows now (it may have changed since)."""
        table = Table(complete=False)
        try:
            names = os.listdir(f"/proc/{tgid}/fd") if self.live else []
        except OSError:
            names = []
        for name in names:
            link = self._proc(tgid, f"fd/{name}")
            if link is not None:
                table.fds[int(name)] = (OpenFile.from_link(link), False)
        return table

    # -- tables -----------------------------------------------------------------------------------------
    def seen(self, tgid: int) -> None:
        """When a process first shows up: its table from what tracing began with, else from /proc now."""
        if tgid in self.tables:
            return
        links, cwd = self.initial.pop(str(tgid), None), self.initial_cwds.pop(str(tgid), None)
        if links is None:
            links = self.initial.pop("command", None)
            if links is not None:  # the command tracespec started began where tracespec ran
                cwd = os.getcwd() if self.live else self.initial_cwds.pop("command", None)
        if cwd is not None:
            self.cwds[tgid] = cwd
        self.tables[tgid] = (table_from_links(links, self.initial_complete) if links is not None
                             else self._snapshot(tgid))
        self.cwd(tgid)

    def started(self, ev: SyscallEvent) -> None:
        """A syscall entered: a fork's flags say whether the child shares the table."""
        self.seen(ev.tgid)
        if ev.info is not None and ev.info.name in CLONES:
            self.cloning[ev.tgid] = _clone_flags(ev)

    def forked(self, parent: int, child: int) -> None:
        """A child starts with a copy of its parent's descriptors (the same table with CLONE_FILES)."""
        flags = self.cloning.pop(parent, 0)
        if flags & CLONE_THREAD:
            return  # a thread: the process's own table
        self.seen(parent)
        table = self.tables[parent]
        self.tables[child] = table if flags & CLONE_FILES else table.copy()
        self.exited.discard(child)  # its number, used again
        if parent in self.cwds:
            self.cwds.setdefault(child, self.cwds[parent])

    def process_ended(self, tgid: int) -> None:
        self.exited.add(tgid)
        self.tables.pop(tgid, None)
        self.cwds.pop(tgid, None)
        self.cloning.pop(tgid, None)

    # -- naming -----------------------------------------------------------------------------------------
    def _entry(self, tgid: int, fd: int, new: bool) -> tuple[OpenFile, bool] | None | bool:
        """(OpenFile, cloexec); None: not open; False: not known (the table is not complete)."""
        if new and self.staged is not None and self.staged[0] == tgid:
            for op in reversed(self.staged[1]):
                if op[0] == "set" and op[1] == fd:
                    return op[2]
        table = self.tables.get(tgid)
        entry = table.fds.get(fd) if table is not None else None
        if entry is None and (table is None or not table.complete):
            return False
        return entry

    def _name(self, tgid: int, fd: int, f: OpenFile) -> str | None:
        """What an open file is called: recorded, or read from /proc if it is of the kind expected."""
        if f.target is None and f.kind != "path":
            link = self._proc(tgid, f"fd/{fd}")
            expected = {"socket": "socket:[", "pipe": "pipe:["}.get(f.kind, "")
            if link is not None and link.startswith(expected):
                f.target = link
        if self.endpoints and f.kind == "socket" and f.target is not None:
            return self._with_endpoints(tgid, f)
        if self.endpoints and f.detail is None and f.target == "anon_inode:[pidfd]":
            pid = self._pidfd_pid(tgid, fd)  # one the trace did not see made: its process, while it lives
            return f"pid:{pid}" if pid is not None else f.target
        if self.endpoints and f.kind == "anon" and f.detail is not None:
            # a pidfd's process while it lives; once it has exited, strace finds no pid and shows the inode
            if not (f.detail.startswith("pid:") and f.detail[4:].isdigit() and int(f.detail[4:]) in self.exited):
                return f.detail
        return f.target

    def _with_endpoints(self, tgid: int, f: OpenFile) -> str:
        """-yy: `TCP:[127.0.0.1:5000->127.0.0.1:41234]`, as strace prints them, while the socket lives."""
        inode = f.target[len("socket:["):-1]
        recorded = f.recorded or self.sock_ends.get(inode)
        if recorded is not None and f.protocol is not None:  # as of the syscall, not of the printing
            return f"{f.protocol}:[{recorded}]"
        found = socket_endpoint(tgid, inode) if self.live and f.seen_endpoint is None else None
        if found is not None:  # the first endpoints found stay, as strace's cache keeps them
            f.protocol, f.seen_endpoint = found
        if f.protocol is None:
            return f.target
        return f"{f.protocol}:[{f.seen_endpoint or inode}]"

    def path(self, tgid: int, fd: int, new: bool = False) -> str | None:
        if fd == AT_FDCWD:
            return self.cwd(tgid)
        entry = self._entry(tgid, fd, new)
        if entry is False:
            return self._proc(tgid, f"fd/{fd}") if fd >= 0 else None
        return self._name(tgid, fd, entry[0]) if entry is not None else None

    @staticmethod
    def descriptor_by_other(ev: SyscallEvent, arg: str) -> bool:
        """Whether an argument that is not always a descriptor is one in this call, as another argument
        says (waitid's id with P_PIDFD)."""
        rule = FD_WHEN.get((ev.info.name, arg)) if ev.info is not None else None
        return rule is not None and len(ev.args) > rule[0] and ev.args[rule[0]] == rule[1]

    def owner(self, ev: SyscallEvent, arg: str) -> int:
        """The process whose table a descriptor argument is in: the caller's, but for pidfd_getfd's `fd`,
        the process its pidfd names (pidfd_open's; the caller's when the trace does not know it)."""
        if ev.info is not None and ev.info.name == "pidfd_getfd" and arg == "fd" and ev.args:
            pid = _pidfd_process(self, ev.tgid, ev.args[0])
            if pid is not None:
                return pid
        return ev.tgid

    def annotate(self, tgid: int, fd: int) -> str:
        """An argument: what the descriptor was when the syscall began. A negative one is no descriptor
        (strace's printfd finds nothing under /proc for it): AT_FDCWD too, where an argument that is not
        a directory descriptor holds it."""
        return str(fd) if fd < 0 else self._bracketed(fd, self.path(tgid, fd))

    def annotate_new(self, tgid: int, fd: int) -> str:
        """A returned descriptor (or one the kernel wrote, as pipe's): what the syscall made it."""
        return self._bracketed(fd, self.path(tgid, fd, new=True))

    def _bracketed(self, fd: int, p: str | None) -> str:
        """strace's printfd: the path in angle brackets; the kernel's " (deleted)" of a file unlinked
        (a memfd's always) taken off it and printed after them, 8</memfd:m>(deleted), unless a file of
        that very name is the descriptor's (strace's get_proc_pid_fd_path)."""
        if p is None:
            return str(fd)
        if p.endswith(DELETED) and len(p) > len(DELETED) and not self._named_so(p):
            return f"{fd}<{self._device(p[:-len(DELETED)])}>(deleted)"
        return f"{fd}<{self._device(p)}>"

    def _named_so(self, p: str) -> bool:
        """Whether a file's name really ends in " (deleted)": only a live trace can look (os.lstat)."""
        if not self.live or not p.startswith("/"):
            return False
        try:
            os.lstat(p)
        except OSError:
            return False
        return True

    def _device(self, p: str) -> str:
        """-yy: a character or block device's numbers after its path, as strace shows them
        (`/dev/null<char 1:3>`), from the file system while tracing."""
        if not self.endpoints or not self.live or not p.startswith("/"):
            return p
        suffix = self.devices.get(p)
        if suffix is None:
            try:
                st = os.stat(p)
            except OSError:
                st = None
            suffix = ""
            if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
                kind = "char" if stat.S_ISCHR(st.st_mode) else "block"
                suffix = f"<{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}>"
            self.devices[p] = suffix
        return p + suffix

    @staticmethod
    def returns_fd(ev: SyscallEvent) -> bool:
        """Whether the return value is a descriptor (fcntl's is for F_DUPFD and F_DUPFD_CLOEXEC)."""
        if ev.info.ret == "fd":
            # strace shows open_by_handle_at's as a number, and a ruleset's version is not a descriptor
            if ev.info.name == "open_by_handle_at":
                return False
            if ev.info.name == "landlock_create_ruleset":
                return not (len(ev.args) > 2 and ev.args[2] & LANDLOCK_CREATE_RULESET_VERSION)
            return True
        return ev.info.name == "fcntl" and len(ev.args) > 1 and ev.args[1] in (F_DUPFD, F_DUPFD_CLOEXEC)

    def pair_text(self, tgid: int, data: bytes) -> str | None:
        """pipe's and socketpair's [3<pipe:[N]>, 4<pipe:[N]>]."""
        if len(data) < 8:
            return None
        a, b = struct.unpack_from("<ii", data)
        return f"[{self.annotate_new(tgid, a)}, {self.annotate_new(tgid, b)}]"

    # -- learning from syscalls -------------------------------------------------------------------------
    def before(self, ev: SyscallEvent) -> None:
        """Work out what a syscall changes, before its line is printed: its arguments are shown as they
        were, what it returns as it made them; after() applies the changes."""
        self.staged = None
        if ev.info is None or ev.exit is None or ev.ret is None:
            return
        ops = _changes(self, ev)
        if ops:
            self.staged = (ev.tgid, ops)

    def after(self, ev: SyscallEvent) -> None:
        staged, self.staged = self.staged, None
        if staged is None:
            return
        tgid, ops = staged
        self.seen(tgid)
        for op in ops:
            table = self.tables[tgid]
            if op[0] == "set":
                table.fds[op[1]] = op[2]
            elif op[0] == "del":
                table.fds.pop(op[1], None)
            elif op[0] == "unshare":
                self.tables[tgid] = table.copy()
            elif op[0] == "exec":
                self.tables[tgid] = Table({fd: e for fd, e in table.fds.items() if not e[1]}, table.complete)
            elif op[0] == "ends":
                entry = table.fds.get(op[1])
                if entry is not None and entry[0].kind == "socket" and entry[0].recorded is None:
                    entry[0].recorded = op[2]  # the first ones found stay, as strace's cache keeps them
            elif op[0] == "inode_ends":
                self.sock_ends.setdefault(op[1], op[2])
            elif op[0] == "sent":
                self.in_flight.setdefault(op[1], []).append(op[2])
            elif op[0] == "taken":  # received: no longer in flight
                del self.in_flight[op[1]][:op[2]]
            elif op[0] == "range":
                _close_range(table, *op[1:])
            elif op[0] == "unlinked":  # every process's descriptors on the file removed
                for t in self.tables.values():
                    for entry in t.fds.values():
                        if entry[0].kind == "path" and entry[0].target == op[1]:
                            entry[0].target += DELETED
            elif op[0] == "cwd":  # the new directory, or None: /proc is asked when it is needed
                if op[1] is None:
                    self.cwds.pop(tgid, None)
                else:
                    self.cwds[tgid] = op[1]


def _clone_flags(ev: SyscallEvent) -> int:
    name = ev.info.name
    if name == "clone" and ev.args:
        return ev.args[0]
    if name == "clone3":
        slot = ev.slots.get("uargs")
        if slot is not None and not slot.fault and len(slot.data) >= 8:
            return int.from_bytes(slot.data[:8], "little")
    return 0


def _clone_pidfd(fds: FdPaths, ev: SyscallEvent) -> list:
    """A clone with CLONE_PIDFD gave the parent a pidfd on the child (close-on-exec): the number as the
    kernel wrote it (clone3's pidfd, clone's parent_tid, copied when the call returned), else the lowest
    free one, which the kernel takes and a complete table knows; an incomplete one leaves it to /proc."""
    table = fds.tables.get(ev.tgid)
    written = ev.slots.get("uargs__pidfd" if ev.info.name == "clone3" else "parent_tidptr")
    if written is not None and not written.absent and not written.fault and len(written.data) >= 4:
        fd = int.from_bytes(written.data[:4], "little", signed=True)
    elif table is None or not table.complete:
        return []
    else:
        fd = next(n for n in range(len(table.fds) + 1) if n not in table.fds)
    made = OpenFile("anon", "anon_inode:[pidfd]")
    made.detail = f"pid:{ev.ret}"
    return [("set", fd, (made, True))]


def _close_range(table: Table, first: int, last: int, flags: int) -> None:
    for fd in [fd for fd in table.fds if first <= fd <= last]:
        if flags & CLOSE_RANGE_CLOEXEC:
            table.fds[fd] = (table.fds[fd][0], True)
        else:
            del table.fds[fd]


def _changes(fds: FdPaths, ev: SyscallEvent) -> list:
    """The table changes a finished syscall made: ("set", fd, (OpenFile, cloexec)), ("del", fd), ..."""
    name = ev.info.name
    ret = ev.ret
    args = dict(zip((f.name for f in ev.info.args), ev.args))
    if name == "close":
        return [("del", args.get("fd"))] if ret != -EBADF else []
    if ret < 0:  # nothing changed, but a socket a failed send or connect bound first
        return _ends(fds, ev, args) if ENDPOINT_SYSCALLS.get(name) is not None else []
    if name in OPENERS:
        if name.startswith("open_tree") and args.get("flags", 0) & OPEN_TREE_CLONE:
            return [("set", ret, (OpenFile("path", "/"), bool(args.get("flags", 0) & O_CLOEXEC)))]
        return _opened(fds, ev, args)
    if name == "fsmount":
        return [("set", ret, (OpenFile("path", "/"), bool(args.get("flags", 0) & CLOEXEC_BIT["fsmount"])))]
    if name in DUPS:
        old = fds._entry(ev.tgid, args[DUPS[name]], False)
        if not old or (name != "dup" and args[DUPS[name]] == ret):
            return [] if old is not False else [("del", ret)]
        return [("set", ret, (old[0], bool(name == "dup3" and args.get("flags", 0) & O_CLOEXEC)))]
    if name == "fcntl":
        return _fcntl(fds, ev, args)
    if name == "socket":
        family, kind = args.get("family", 0), args.get("type", 0)
        made = OpenFile("socket", _inode_name(ev, "socket", 0), socket_protocol(family, kind))
        if family == AF_NETLINK:
            made.detail = netlink_name(args.get("protocol", 0))
        return [("set", ret, (made, bool(kind & O_CLOEXEC)))]
    if name in ("accept", "accept4"):
        listening = fds._entry(ev.tgid, args.get("fd", -1), False)
        proto = listening[0].protocol if listening else None
        made = OpenFile("socket", _inode_name(ev, "socket", 0), proto)
        ops = [("set", ret, (made, bool(args.get("flags", 0) & O_CLOEXEC)))]
        inode = made.target[len("socket:["):-1] if made.target else None
        lf = listening[0] if listening else None
        linode = lf.target[len("socket:["):-1] if lf is not None and lf.kind == "socket" and lf.target else None
        if inode is not None and linode in fds.unix_names:
            fds.unix_names[inode] = fds.unix_names[linode]
        made.recorded = _endpoints(ev, inode, lf, fds.unix_names.get(inode))
        peer = _unix_peer(made)
        if peer is not None and proto in ("UNIX-STREAM", "UNIX"):
            ops.append(("inode_ends", peer, f"{peer}->{inode}"))  # the connecting end's peer: this one
        return ops
    if name in ("recvmsg", "recvmmsg"):
        return _received(fds, ev, args)
    if name in ENDPOINT_SYSCALLS:
        return _ends(fds, ev, args) + _sent(fds, ev, args) if name in ("sendmsg", "sendmmsg") else \
            _ends(fds, ev, args)
    if name in ("pipe", "pipe2", "socketpair"):
        return _pair(ev, args)
    if name in ANON:
        target, flag_arg = ANON[name]
        if name.startswith("signalfd") and args.get("ufd", -1) >= 0:
            return []  # changes the mask of a signalfd it was given, and returns it
        if name == "landlock_create_ruleset" and args.get("flags", 0) & LANDLOCK_CREATE_RULESET_VERSION:
            return []  # the ABI version, not a descriptor
        cloexec = bool(args.get(flag_arg, 0) & CLOEXEC_BIT.get(name, O_CLOEXEC)) if flag_arg else name in ALWAYS_CLOEXEC
        made = OpenFile("anon", target)
        if name == "pidfd_open" and args.get("pid", 0) > 0:
            made.detail = f"pid:{args['pid']}"  # -yy names a pidfd by its process: `<pid:1234>`
        return [("set", ret, (made, cloexec))]
    if name == "memfd_create":
        slot = ev.slots.get("uname")
        label = None if slot is None or slot.fault or slot.truncated else \
            f"/memfd:{slot.data.decode('utf-8', 'surrogateescape')} (deleted)"
        return [("set", ret, (OpenFile("anon" if label else "other", label), bool(args.get("flags", 0) & MFD_CLOEXEC)))]
    if name == "close_range":
        ops = [("unshare",)] if args.get("flags", 0) & CLOSE_RANGE_UNSHARE else []
        return ops + [("range", args.get("fd", 0), args.get("max_fd", 0), args.get("flags", 0))]
    if name in EXECS:
        return [("exec",)]
    if name in CLONES and ret > 0 and _clone_flags(ev) & CLONE_PIDFD:
        return _clone_pidfd(fds, ev)
    if name in ("chdir", "fchdir"):
        return [("cwd", _new_cwd(fds, ev, args))]
    if name == "pidfd_getfd":
        return [("set", ret, (_other_process_file(fds, ev, args), True))]
    if name in UNLINKERS:
        gone = _removed(fds, ev, args)
        return [("unlinked", gone)] if gone is not None else []
    if ev.info.ret == "fd":  # any other syscall making a descriptor: /proc names it while it lives
        cloexec = name in ALWAYS_CLOEXEC or bool(args.get("flags", 0) & CLOEXEC_BIT.get(name, 0))
        return [("set", ret, (OpenFile("other"), cloexec))]
    return []


def _ends(fds: FdPaths, ev: SyscallEvent, args: dict) -> list:
    """The endpoints the kernel left a socket argument (bind, connect, a send), when the trace knows the
    descriptor as a socket: ("ends", fd, text), which after() keeps when none were known; a bind's UNIX
    name is learnt as it succeeds."""
    sock = fds._entry(ev.tgid, args.get("fd", -1), False)
    f = sock[0] if sock and sock[0].kind == "socket" else None
    inode = f.target[len("socket:["):-1] if f is not None and f.target else None
    if f is None:
        return []
    if ev.info.name == "bind" and inode is not None and ev.ret >= 0:
        _learn_unix_name(fds, ev, args, inode)
    ends = _endpoints(ev, inode, f, fds.unix_names.get(inode) if inode is not None else None)
    return [("ends", args.get("fd"), ends)] if ends is not None else []


def _other_process_file(fds: FdPaths, ev: SyscallEvent, args: dict) -> OpenFile:
    """pidfd_getfd's copy of another process's descriptor: what that descriptor is in the trace's table of
    the process the pidfd names (pidfd_open's), else named by /proc while the copy lives."""
    pid = _pidfd_process(fds, ev.tgid, args.get("pidfd", -1))
    table = fds.tables.get(pid) if pid is not None else None
    entry = table.fds.get(args.get("fd", -1)) if table is not None else None
    return entry[0] if entry is not None else OpenFile("other")


def _pidfd_process(fds: FdPaths, tgid: int, pidfd: int) -> int | None:
    """The process a pidfd refers to, when pidfd_open made it in the trace."""
    entry = fds._entry(tgid, pidfd, False)
    detail = entry[0].detail if entry else None
    if detail is not None and detail.startswith("pid:") and detail[4:].isdigit():
        return int(detail[4:])
    return None


def _unix_peer(f: OpenFile | None, fds: FdPaths | None = None) -> str | None:
    """The inode of a UNIX socket's peer, when its endpoints are known (`12345->12346`): recorded for it,
    or (fds given) learnt by its inode, as a connecting end learns its peer from the accept."""
    text = f.recorded or f.seen_endpoint if f is not None else None
    if not text and fds is not None and f is not None and f.kind == "socket" and f.target:
        text = fds.sock_ends.get(f.target[len("socket:["):-1])
    if not text or "->" not in text:
        return None
    peer = text.split("->", 1)[1].split(",", 1)[0]
    return peer if peer.isdigit() else None


def _sent(fds: FdPaths, ev: SyscallEvent, args: dict) -> list:
    """sendmsg, sendmmsg: what the descriptors passed in SCM_RIGHTS messages were, for the peer that
    receives them (only when the sending socket's peer is known)."""
    sock = fds._entry(ev.tgid, args.get("fd", -1), False)
    peer = _unix_peer(sock[0], fds) if sock else None
    if peer is None:
        return []
    ops = []
    for batch in passed_descriptors(ev):
        if batch:
            ops.append(("sent", peer, [e[0] if e else None for e in (fds._entry(ev.tgid, fd, False) for fd in batch)]))
    return ops


def _received(fds: FdPaths, ev: SyscallEvent, args: dict) -> list:
    """recvmsg, recvmmsg: the descriptors SCM_RIGHTS messages installed in the receiver's table, as
    what the sender passed when the trace saw it send them on this socket's peer, else named by /proc
    while they live."""
    sock = fds._entry(ev.tgid, args.get("fd", -1), False)
    inode = sock[0].target[len("socket:["):-1] if sock and sock[0].kind == "socket" and sock[0].target else None
    cloexec = bool(args.get("flags", 0) & MSG_CMSG_CLOEXEC)
    queue = fds.in_flight.get(inode, []) if inode is not None else []
    ops, taken = [], 0
    for batch in passed_descriptors(ev):
        if not batch:
            continue
        sent = [None] * len(batch)
        if taken < len(queue) and len(queue[taken]) == len(batch):
            sent, taken = queue[taken], taken + 1
        ops += [("set", fd, (f if f is not None else OpenFile("other"), cloexec)) for fd, f in zip(batch, sent)]
    peek = args.get("flags", 0) & MSG_PEEK  # the message stays (its descriptors are installed all the same)
    return ops + ([("taken", inode, taken)] if taken and not peek else [])
UNLINKERS = {"unlink": None, "rmdir": None, "unlinkat": "dfd"}  # -> the directory argument


def _removed(fds: FdPaths, ev: SyscallEvent, args: dict) -> str | None:
    """The path unlink, unlinkat or rmdir removed, as opens resolve theirs; None when the trace cannot
    tell. Descriptors open on it then read as /proc names them, with " (deleted)"."""
    slot = ev.slots.get("pathname")
    if slot is None or slot.fault or slot.absent or slot.truncated:
        return None
    path = slot.data.decode("utf-8", "surrogateescape")
    if not path.startswith("/"):
        dirfd = UNLINKERS[ev.info.name]
        base = fds.path(ev.tgid, args[dirfd]) if dirfd else fds.cwd(ev.tgid)
        if base is None:
            return None
        path = os.path.join(base, path)
    head, tail = os.path.split(os.path.normpath(path))  # the name itself is gone: resolve its directory
    return os.path.join(os.path.realpath(head) if fds.live else head, tail)


def _new_cwd(fds: FdPaths, ev: SyscallEvent, args: dict) -> str | None:
    """Where chdir or fchdir moved the process: its path (symbolic links resolved while tracing), or the
    path of the descriptor it gave; None when the trace cannot tell."""
    if ev.info.name == "fchdir":
        entry = fds._entry(ev.tgid, args.get("fd", -1), False)
        return entry[0].target if entry and entry[0].kind == "path" else None
    slot = ev.slots.get("filename")
    if slot is None or slot.fault or slot.absent or slot.truncated:
        return None
    path = slot.data.decode("utf-8", "surrogateescape")
    if not path.startswith("/"):
        base = fds.cwd(ev.tgid)
        if base is None:
            return None
        path = os.path.join(base, path)
    return os.path.realpath(path) if fds.live else os.path.normpath(path)


def _opened(fds: FdPaths, ev: SyscallEvent, args: dict) -> list:
    dirfd_name, path_name, flags_name = OPENERS[ev.info.name]
    flags = args.get(flags_name, 0) if flags_name else 0
    if ev.info.name == "openat2":
        how = ev.slots.get("how")
        flags = int.from_bytes(how.data[:8], "little") if how is not None and len(how.data) >= 8 else 0
    cloexec = bool(flags & O_CLOEXEC)
    slot = ev.slots.get(path_name)
    if slot is None or slot.fault or slot.absent or slot.truncated:
        return [("set", ev.ret, (OpenFile("other"), cloexec))]
    path = slot.data.decode("utf-8", "surrogateescape")
    if not path.startswith("/"):
        base = fds.path(ev.tgid, args[dirfd_name]) if dirfd_name else fds.cwd(ev.tgid)
        if base is None:
            return [("set", ev.ret, (OpenFile("other"), cloexec))]
        path = os.path.join(base, path)
    # symbolic links are resolved on this machine's file system: only meaningful while tracing
    resolved = os.path.realpath(path) if fds.live else os.path.normpath(path)
    return [("set", ev.ret, (OpenFile("path", resolved), cloexec))]


def _fcntl(fds: FdPaths, ev: SyscallEvent, args: dict) -> list:
    cmd, fd = args.get("cmd"), args.get("fd")
    entry = fds._entry(ev.tgid, fd, False)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        return [("set", ev.ret, (entry[0], cmd == F_DUPFD_CLOEXEC))] if entry else []
    if cmd == F_SETFD and entry:
        return [("set", fd, (entry[0], bool(args.get("arg", 0) & FD_CLOEXEC)))]
    return []


def _pair(ev: SyscallEvent, args: dict) -> list:
    """pipe/pipe2/socketpair: the two descriptors the kernel wrote into the array."""
    slot = ev.slots.get("usockvec" if ev.info.name == "socketpair" else "fildes")
    if slot is None or slot.fault or slot.absent or len(slot.data) < 8:
        return []
    a, b = struct.unpack_from("<ii", slot.data)
    if ev.info.name == "socketpair":
        family, kind = args.get("family", 0), args.get("type", 0)
        proto = socket_protocol(family, kind)
        cloexec = bool(kind & O_CLOEXEC)
        ends = OpenFile("socket", _inode_name(ev, "socket", 0), proto), OpenFile("socket", _inode_name(ev, "socket", 1), proto)
        if family == AF_UNIX and ends[0].target and ends[1].target:  # -yy: each is the other's peer, for good
            ia, ib = (f.target[len("socket:["):-1] for f in ends)
            ends[0].seen_endpoint, ends[1].seen_endpoint = f"{ia}->{ib}", f"{ib}->{ia}"
        return [("set", a, (ends[0], cloexec)), ("set", b, (ends[1], cloexec))]
    cloexec = bool(args.get("flags", 0) & O_CLOEXEC)
    pipe = OpenFile("pipe", _inode_name(ev, "pipe", 0))  # both ends: one pipe, one inode
    return [("set", a, (pipe, cloexec)), ("set", b, (pipe, cloexec))]


def _learn_unix_name(fds: FdPaths, ev: SyscallEvent, args: dict, inode: str) -> None:
    """A successful bind of a UNIX socket: the name it gave (sun_path, as long as addrlen says)."""
    slot = ev.entry_slots.get("umyaddr") or ev.slots.get("umyaddr")
    if slot is None or slot.fault or slot.absent or len(slot.data) < 3:
        return
    if int.from_bytes(slot.data[:2], "little") != AF_UNIX:
        return
    fds.unix_names[inode] = slot.data[2:max(args.get("addrlen", 0), 2)]


def _endpoints(ev: SyscallEvent, inode: str | None = None, f: OpenFile | None = None,
               long_name: bytes | None = None) -> str | None:
    """-yy: a socket's endpoints as strace prints them, from what the kernel held when the syscall
    returned (catalogue/descriptors.py's layout): a TCP or UDP socket's (`127.0.0.1:5000->127.0.0.1:41234`,
    or the local one alone before it is connected), a UNIX socket's inode (given), its peer's and its name
    (`12345->12346,"/run/x.sock"`), a netlink socket's protocol and port id (`ROUTE:4242`, its protocol
    from f); None for a socket without them yet (not bound, not connected), or of another family."""
    slot = ev.slots.get(SOCK_ENDS_SLOT)
    if slot is None or slot.fault or slot.absent or len(slot.data) < 48:
        return None
    family, local_port, remote_port = struct.unpack_from("<HHH", slot.data)
    if family == AF_UNIX:
        return _unix_ends(slot.data, inode, long_name)
    if family == AF_NETLINK:
        portid = int.from_bytes(slot.data[8:12], "little")
        detail = f.detail if f is not None else None
        return f"{detail}:{portid}" if portid and detail else None
    remote_port = socket.ntohs(remote_port)
    if family == socket.AF_INET:
        local, remote = (socket.inet_ntop(socket.AF_INET, slot.data[at:at + 4]) for at in (8, 12))
    elif family == socket.AF_INET6:
        local, remote = (f"[{socket.inet_ntop(socket.AF_INET6, slot.data[at:at + 16])}]" for at in (16, 32))
    else:
        return None
    if not local_port:
        return None
    return f"{local}:{local_port}" + (f"->{remote}:{remote_port}" if remote_port else "")


def _unix_ends(data: bytes, inode: str | None, long_name: bytes | None = None) -> str | None:
    """A UNIX socket's `inode->peer,"name"` from its slot (its name's length after the family, the peer's
    inode at 8, the name's first bytes at 16); None when it has neither, or its name is longer than the
    slot holds and the trace did not see it bound (long_name: what bind gave it; sock_diag is asked
    then, while the socket lives)."""
    length = int.from_bytes(data[2:4], "little")
    peer = int.from_bytes(data[8:16], "little")
    if inode is None or not (peer or length):
        return None
    name = data[16:16 + length]
    if length > UNIX_NAME_MAX:
        if long_name is None or len(long_name) < length or long_name[:UNIX_NAME_MAX] != data[16:16 + UNIX_NAME_MAX]:
            return None
        name = long_name[:length]
    text = inode + (f"->{peer}" if peer else "")
    return text + ("," + unix_name(name) if name else "")


def _inode_name(ev: SyscallEvent, kind: str, i: int) -> str | None:
    """`socket:[N]` or `pipe:[N]`, from the inode the kernel gave the syscall's i-th new descriptor when
    it returned (None when the record has none: /proc is asked while the descriptor lives)."""
    slot = ev.slots.get(FD_INODE_SLOT)
    if slot is None or slot.fault or slot.absent or len(slot.data) < 8 * (i + 1):
        return None
    inode = int.from_bytes(slot.data[8 * i:8 * i + 8], "little")
    return f"{kind}:[{inode}]" if inode else None
