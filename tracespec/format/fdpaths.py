"""What a file descriptor refers to, for `fd_paths` (strace's -y): `read(3</etc/hostname>, ...)`.

BPF cannot produce a path from a descriptor here, so this is user space's knowledge, in order of
trust: what the traced process opened a descriptor as (the path it passed, its symbolic links resolved
as strace shows them), copied by dup and forgotten at close; then, while the process still lives,
/proc/PID/fd/N (sockets and pipes appear as socket:[inode] and pipe:[inode]); else nothing is shown.
"""

from __future__ import annotations

import os

from tracespec.decode.events import SyscallEvent

AT_FDCWD = -100
OPENERS = {"open": (None, "filename"), "openat": ("dfd", "filename"), "openat2": ("dfd", "filename"),
           "creat": (None, "pathname")}
DUPS = {"dup": "fildes", "dup2": "oldfd", "dup3": "oldfd"}


class FdPaths:
    def __init__(self, live: bool = True):
        self.known: dict[tuple[int, int], str] = {}
        self.cwds: dict[int, str] = {}
        self.live = live  # False when decoding a recorded trace: /proc describes other processes then

    def _proc(self, tgid: int, what: str) -> str | None:
        if not self.live:
            return None
        try:
            return os.readlink(f"/proc/{tgid}/{what}")
        except OSError:
            return None

    def cwd(self, tgid: int) -> str | None:
        live = self._proc(tgid, "cwd")
        if live is not None:
            self.cwds[tgid] = live
        return self.cwds.get(tgid)

    def seen(self, tgid: int) -> None:
        """When a process first shows up (it probably still runs), note its working directory and the
        descriptors it inherited, for when it is gone by the time its lines are printed."""
        if tgid in self.cwds or not self.live:
            return
        self.cwd(tgid)
        try:
            fds = os.listdir(f"/proc/{tgid}/fd")
        except OSError:
            return
        for name in fds:
            target = self._proc(tgid, f"fd/{name}")
            if target is not None:
                self.known.setdefault((tgid, int(name)), target)

    def path(self, tgid: int, fd: int) -> str | None:
        if fd == AT_FDCWD:
            return self.cwd(tgid)
        p = self.known.get((tgid, fd))
        if p is None and fd >= 0:
            p = self._proc(tgid, f"fd/{fd}")
        return p

    def annotate(self, tgid: int, fd: int) -> str:
        p = self.path(tgid, fd)
        return f"{fd}<{p}>" if p is not None else str(fd)

    def before(self, ev: SyscallEvent) -> None:
        """Learn from a syscall before its line is printed (its returned descriptor is shown too)."""
        if ev.info is None or ev.exit is None or ev.ret is None or ev.ret < 0:
            return
        name = ev.info.name
        args = dict(zip((f.name for f in ev.info.args), ev.args))
        if name in OPENERS:
            dirfd_name, path_name = OPENERS[name]
            slot = ev.slots.get(path_name)
            if slot is None or slot.fault or slot.absent or slot.truncated:
                return
            path = slot.data.decode("utf-8", "surrogateescape")
            if not path.startswith("/"):
                base = self.path(ev.tgid, args[dirfd_name]) if dirfd_name else self.cwd(ev.tgid)
                if base is None:
                    return
                path = os.path.join(base, path)
            # symbolic links are resolved on this machine's file system: only meaningful while tracing
            self.known[(ev.tgid, ev.ret)] = os.path.realpath(path) if self.live else os.path.normpath(path)
        elif name in DUPS:
            old = self.path(ev.tgid, args[DUPS[name]])
            if old is not None:
                self.known[(ev.tgid, ev.ret)] = old
        elif name in ("chdir", "fchdir"):
            self.cwds.pop(ev.tgid, None)

    def after(self, ev: SyscallEvent) -> None:
        """Forget what a close ended (after its line showed the path)."""
        if ev.info is not None and ev.info.name == "close" and ev.args:
            self.known.pop((ev.tgid, ev.args[0]), None)

    def forked(self, parent: int, child: int) -> None:
        """A child starts with its parent's descriptors and working directory."""
        self.seen(parent)
        for (tgid, fd), p in list(self.known.items()):
            if tgid == parent:
                self.known.setdefault((child, fd), p)
        if parent in self.cwds:
            self.cwds.setdefault(child, self.cwds[parent])

    def process_ended(self, tgid: int) -> None:
        for key in [k for k in self.known if k[0] == tgid]:
            del self.known[key]
        self.cwds.pop(tgid, None)
