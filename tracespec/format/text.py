"""strace-style text: `PID name(args) = ret`, with strace's handling of interleaved threads.

A syscall's line is printed whole when it returns. If another thread's syscall comes in between, its
entry part is printed first, ending with `<unfinished ...>`, and the return later as
`PID <... name resumed>rest) = ret`, exactly as strace -f does. With -ff each thread has a file of its own
(PerThreadFiles) and its lines are always whole, as strace -ff writes them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from tracespec.decode.events import (Finished, Forked, Lost, Noted, ProcessExit, Signalled, Started, SyscallEvent,
                                     Unfinished, never_reports_return)
from tracespec.format import args as A
from tracespec.format.fdpaths import FdPaths
from tracespec.format.siginfo import signal_line
from tracespec.format.arrays import ready_ret
from tracespec.format.special import special
from tracespec.format.values import Style, constants, ret_text
from tracespec.quote import quote


PLAIN_RETS = frozenset({"int", "fd"})  # what ret_text prints with str() when the call did not fail


@dataclass(frozen=True)
class TextOptions:
    timestamps: int = 0  # 0: none, 1: -t (time of day), 2: -tt (with microseconds), 3: -ttt (epoch)
    relative: bool = False  # -r: time since the previous line
    syscall_times: bool = False  # -T: time spent in each syscall
    fd_paths: bool = False  # -y: what each descriptor refers to
    live: bool = True  # the traced processes run now (False: decoding a recorded trace; no /proc lookups)
    initial_fds: dict | None = None  # -y: what /proc showed open when tracing began, by pid (or "command")
    endpoints: bool = False  # -yy: sockets with their addresses
    initial_cwds: dict | None = None  # -y, decoding: the working directories when tracing began, by pid
    initial_complete: bool = True  # initial_fds is every descriptor there is where the events begin (not
    # in a flight recorder's dump, which begins later)
    xlat: str = "abbrev"  # -X: how constants print (abbrev | raw | verbose)
    hex_strings: int = 0  # -x: 1, -xx: 2 (strings in hex)
    verbose: bool = False  # -v: structs with every field
    dirents: bool = False  # the trace copied getdents' entries to print them (Style.dirents)
    comm: bool = False  # each line names its process after the pid: 4711 [curl] connect(...)
    per_thread: bool = False  # -ff: lines are never split by another thread's (each goes to its own file)

    @property
    def style(self) -> Style:
        return Style(self.xlat, self.hex_strings, self.verbose, self.dirents)


class TextWriter:
    raw = False  # takes decoded events (a binary trace's writer takes raw records)

    def __init__(self, out, options: TextOptions = TextOptions(), clock_offset_ns: int = 0):
        self.out = out
        self.opt = options
        self.offset = clock_offset_ns  # add to a record's CLOCK_MONOTONIC time for wall-clock time
        self.open: SyscallEvent | None = None
        self.prev_ts: int | None = None
        self.buf: list[str] = []
        self.syscalls = 0
        self.fds = (FdPaths(options.live, options.initial_fds, options.endpoints, options.initial_cwds,
                            options.initial_complete) if options.fd_paths else None)
        self.style = options.style
        self.shapes: dict = {}  # by syscall number; (number, creates) for those shaped by open's flags
        self.omode: dict[int, bool] = {}  # syscall number -> whether its shape depends on open's flags
        # lines start with the tid alone
        self.per_thread = options.per_thread
        self.plain = not (options.relative or options.timestamps or options.comm)
        self.comms: dict[int, tuple[str, str]] = {}  # tid -> (name, as shown), for its exit line (which has none)

    # -- line pieces ------------------------------------------------------------------------------
    def prefix(self, tid: int, ts: int, comm: str | None = None) -> str:
        if self.plain:
            return f"{tid} "
        o = self.opt
        parts = [str(tid)]
        if o.comm:
            parts.append(self._comm(tid, comm))
        if o.relative:
            delta = 0 if self.prev_ts is None else ts - self.prev_ts
            self.prev_ts = ts
            parts.append(f"{delta / 1e9:12.6f}")
        if o.timestamps:
            wall = ts + self.offset
            secs, ns = divmod(wall, 1_000_000_000)
            if o.timestamps >= 3:
                parts.append(f"{secs}.{ns // 1000:06d}")
            else:
                clock = time.strftime("%H:%M:%S", time.localtime(secs))
                parts.append(clock if o.timestamps == 1 else f"{clock}.{ns // 1000:06d}")
        return " ".join(parts) + " "

    def _comm(self, tid: int, comm: str | None) -> str:
        """[name], as traceloop shows it; a name with bytes a terminal must not see is escaped."""
        known = self.comms.get(tid)
        if comm is None:  # an exit line: the name the task had last
            return known[1] if known else "[?]"
        if known is None or known[0] != comm:  # new, or renamed (exec, prctl)
            safe = comm.isprintable() and comm.isascii()
            known = self.comms[tid] = (comm, f"[{comm}]" if safe else
                                       f"[{quote(comm.encode('utf-8', 'surrogateescape'))[1:-1]}]")
        return known[1]

    def _shape(self, ev: SyscallEvent) -> A.Shape:
        """The syscall's shape, made at its first event (open's two: with and without its mode)."""
        key = ev.nr
        sh = self.shapes.get(key)
        if sh is None:
            if ev.nr not in self.omode:
                self.omode[ev.nr] = A.has_omode(ev.info)
            if not self.omode[ev.nr]:
                sh = self.shapes[key] = A.shape(ev.info, self.fds, style=self.style)
            else:
                creates = A.open_creates(ev)
                sh = self.shapes.get((key, creates))
                if sh is None:
                    sh = self.shapes[(key, creates)] = A.shape(ev.info, self.fds, creates, self.style)
        return sh

    def whole(self, ev: SyscallEvent) -> str:
        """enter_part + exit_part, worked out together: most lines are a whole syscall."""
        sh = self.shapes.get(ev.nr) or self._shape(ev)
        args = ev.args
        if sh.own or len(args) != sh.fields or sh.name is None or self.fds is not None or self.opt.syscall_times:
            return self.enter_part(ev) + self.exit_part(ev)
        entry = ", ".join([r(args[i], ev) for i, r in sh.entry]) if sh.entry else ""
        if sh.exit:
            rest = ", ".join([r(args[i], ev) for i, r in sh.exit])
            entry = f"{entry}, {rest}" if entry else rest
        ret = ev.exit.ret
        kind = sh.ret
        if kind == "ready":
            return f"{sh.name}({entry}) = {ready_ret(ev, self.style)}"
        return f"{sh.name}({entry}) = {ret if kind in PLAIN_RETS and ret >= 0 else ret_text(ret, kind, self.style)}"

    def enter_part(self, ev: SyscallEvent) -> str:
        sh = self.shapes.get(ev.nr) or self._shape(ev)
        own = special(ev, self.style, self.fds) if sh.own else None
        if own is not None:
            return f"{ev.name}({own[0]}"
        args = ev.args
        if len(args) != sh.fields:  # an event without all its arguments: the general path
            at_entry, at_exit = A.split(ev)
            text = ", ".join(A.render(f, v, ev, self.fds, self.style) for f, v in at_entry)
            if at_exit and at_entry:
                text += ", "
        elif not sh.entry:
            text = ""
        else:
            text = ", ".join([r(args[i], ev) for i, r in sh.entry])
            if sh.exit:
                text += ", "
        return f"{ev.name}({text}"

    def exit_part(self, ev: SyscallEvent) -> str:
        sh = self.shapes.get(ev.nr) or self._shape(ev)
        own = special(ev, self.style, self.fds) if sh.own else None
        if own is not None:
            text = own[1]
        else:
            args = ev.args
            if len(args) != sh.fields:
                _, at_exit = A.split(ev)
                text = ", ".join(A.render(f, v, ev, self.fds, self.style) for f, v in at_exit)
            elif not sh.exit:
                text = ""
            else:
                text = ", ".join([r(args[i], ev) for i, r in sh.exit])
        info = ev.info
        kind = info.ret if info else "int"
        ret = str(ev.ret) if kind in PLAIN_RETS and ev.ret >= 0 else \
            ready_ret(ev, self.style) if kind == "ready" else ret_text(ev.ret, kind, self.style)
        if self.fds is not None and info is not None and ev.ret is not None and ev.ret >= 0 and self.fds.returns_fd(ev):
            ret = self.fds.annotate_new(ev.tgid, ev.ret)
        if own is not None and len(own) > 2 and own[2] is not None:  # a return strace explains (fcntl's flags)
            ret = own[2]
        tail = f"{text}) = {ret}"
        if self.opt.syscall_times and ev.duration_ns is not None:
            tail += f" <{ev.duration_ns / 1e9:.6f}>"
        return tail

    def close_open(self) -> None:
        """Another event comes between the open syscall's entry and return: print its entry part now."""
        ev = self.open
        if ev is not None:
            self.buf.append(self.prefix(ev.tid, ev.ts, ev.comm) + self.enter_part(ev) + " <unfinished ...>\n")
            self.open = None

    # -- items --------------------------------------------------------------------------------------
    def write(self, items) -> None:
        buf = self.buf
        plain = self.plain
        for item in items:
            t = type(item)
            if t is Started:
                if self.open is not None:
                    self.close_open()
                if not self.per_thread:  # -ff: printed whole when it returns, in its thread's own file
                    self.open = item.event  # printed when it returns, or when something comes between
                if self.fds is not None:
                    self.fds.started(item.event)
            elif t is Finished:
                self.syscalls += 1
                ev = item.event
                if item.whole:  # Started and Finished in one item: the same lines
                    if self.open is not None:
                        self.close_open()
                    if self.fds is not None:
                        self.fds.seen(ev.tgid)
                        self.fds.before(ev)
                    start = f"{ev.tid} " if plain else self.prefix(ev.tid, ev.ts, ev.comm)
                    buf.append(f"{start}{self.whole(ev)}\n")
                    if self.fds is not None:
                        self.fds.after(ev)
                    continue
                if self.fds is not None:
                    self.fds.before(ev)
                if self.per_thread or (self.open is not None and self.open.tid == ev.tid):
                    start = f"{ev.tid} " if plain else self.prefix(ev.tid, ev.ts, ev.comm)
                    buf.append(start + self.enter_part(ev) + self.exit_part(ev) + "\n")
                    self.open = None
                else:
                    self.close_open()
                    buf.append(f"{self.prefix(ev.tid, ev.exit.ts, ev.comm)}<... {ev.name} resumed>{self.exit_part(ev)}\n")
                if self.fds is not None:
                    self.fds.after(ev)
            elif t is Unfinished:
                self.syscalls += 1
                ev = item.event
                never_returns = never_reports_return(ev.info)
                # strace's ends: a syscall that cannot return, one SIGKILL ended, one in flight
                tail = ") = ?" if never_returns else " <unfinished ...>) = ?" if item.killed else " <unfinished ...>"
                if self.per_thread or (self.open is not None and self.open.tid == ev.tid):
                    buf.append(self.prefix(ev.tid, ev.ts, ev.comm) + self.enter_part(ev) + tail + "\n")
                    self.open = None
                elif never_returns or item.killed:
                    self.close_open()
                    lead = f"{self.prefix(ev.tid, ev.ts, ev.comm)}<... {ev.name} resumed>"
                    buf.append(lead + (" <unfinished ...>) = ?\n" if item.killed else ") = ?\n"))
            elif t is ProcessExit:
                self.close_open()
                if self.fds is not None:
                    if item.tid == item.tgid:  # the process, not one of its threads: its descriptors go
                        self.fds.process_ended(item.tgid)
                line = exit_text(item.code)
                if line:
                    buf.append(f"{self.prefix(item.tid, item.ts)}{line}\n")
            elif t is Signalled:
                self.close_open()
                buf.append(f"{self.prefix(item.tid, item.ts)}{signal_line(item.sig, item.info, self.style)}\n")
            elif t is Forked:
                if self.fds is not None:
                    self.fds.forked(item.parent, item.child)
            elif t is Lost:
                self.close_open()
                buf.append(f"tracespec: {item.count} records lost here\n")
            elif t is Noted:  # fd_paths' bookkeeping: the table learns from it, nothing is printed
                if self.fds is not None:
                    self.note(item)
        if len(buf) > 256:
            self.flush()

    def note(self, item: Noted) -> None:
        """A syscall the spec does not trace, recorded for -y's table: what it did to the descriptors, as
        a printed one's changes are applied (a line being printed meanwhile has staged none yet)."""
        ev = item.event
        if not item.done:
            self.fds.started(ev)
            return
        self.fds.seen(ev.tgid)
        self.fds.before(ev)
        self.fds.after(ev)

    def flush(self) -> None:
        """Write what is batched; the session calls it after each drain, so that a line reaches its
        destination promptly however rare the syscalls, and many lines still go out in one write."""
        if self.buf:
            self.out.write("".join(self.buf))
            self.buf.clear()
            self.out.flush()

    def finish(self, lost: int = 0, exit_code: int | None = None) -> None:
        self.close_open()
        self.flush()
        self.out.flush()


def exit_text(code: int) -> str | None:
    """strace's process-exit line from the kernel's exit_code, or None when it is not known."""
    if code < 0:
        return None
    sig = code & 0x7F
    if sig == 0:
        return f"+++ exited with {(code >> 8) & 0xFF} +++"
    name = constants().signal_name(sig) or str(sig)
    return f"+++ killed by {name}{' (core dumped)' if code & 0x80 else ''} +++"


class PerThreadFiles:
    """strace -ff -o FILE's output: each thread's lines in FILE.TID, without the tid that starts them
    (strace keeps one file per traced task, and a thread is one). The TextWriter's lines all start with
    the tid; a line that does not (a note of lost records) concerns every file, and goes to each one
    open (the total lost is also said at the end, on standard error). A task's file is closed after its exit line, as strace closes it when the task goes;
    a later task with a reused id starts it again, as strace does."""

    def __init__(self, path: str):
        self.path = path
        self.files: dict[str, object] = {}
        self.written: list[str] = []  # every file made, in order

    def _file(self, tid: str):
        f = self.files.get(tid)
        if f is None:
            name = f"{self.path}.{tid}"
            f = self.files[tid] = open(name, "w", encoding="utf-8", errors="surrogateescape")
            self.written.append(name)
        return f

    def write(self, text: str) -> None:
        for line in text.splitlines(keepends=True):
            tid, _, rest = line.partition(" ")
            if not tid.isdigit():
                for f in self.files.values():
                    f.write(line)
                continue
            self._file(tid).write(rest)
            if rest.endswith(" +++\n") and "+++ " in rest:  # the task's exit line: its file is complete
                self.files.pop(tid).close()

    def flush(self) -> None:
        for f in self.files.values():
            f.flush()

    def close(self) -> None:
        files, self.files = self.files, {}
        for f in files.values():
            f.close()


def writable_directory(path: str) -> bool:
    """Whether -ff's files, PATH.TID, can be made: checked before tracing starts."""
    return os.access(os.path.dirname(os.path.abspath(path)), os.W_OK | os.X_OK)
