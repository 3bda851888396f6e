"""Pair enter and exit records by thread into syscall events, the way strace sees syscalls.

The output is a stream of items in record order:
  Started(event)    a syscall entered (its enter-time arguments are known)
  Finished(event)   it returned; event.exit is set (event.enter is None if it began before tracing).
                    `whole`: its exit record came right after its entry record, and this one item
                    stands for Started and Finished (most syscalls: one item instead of two)
  Unfinished(event) it never returned while traced: the thread entered another syscall (the previous
                    one cannot have returned), or the trace ended; or `killed`: SIGKILL ended the thread
                    in it (the kernel still reports a return, with a restart code, that strace never sees)
  ProcessExit       a traced task ended (a process, or one of its threads)
  Forked            a traced process made a child
  Signalled         a traced task was delivered a signal (strace's "--- SIGCHLD {...} ---")
  Lost              the kernel dropped records (perf buffers report where)
  Noted(event)      a syscall recorded only for fd_paths' descriptor table (SyscallInfo.bookkeeping: the
                    spec does not trace it): at its entry (`done` False), and when it returned. Never a
                    line, a count or an export; no Started, Finished or Unfinished is made of it
"""

from __future__ import annotations

from typing import NamedTuple

from tracespec.wire.layout import FLAG_DEFERRED
from tracespec.wire.records import (TRUNCATED, EnterRecord, ExecArgsRecord, ExitRecord, ForkRecord,
                                     LostRecord, ProcExitRecord, RetryRecord, SigframeRecord, SignalRecord,
                                     Slot)
from tracespec.decode.siginfo import Siginfo, parse_siginfo
from tracespec.decode.values import converter
from tracespec.catalogue.kinds import NAMED_CAPTURES, Capture, Phase, Written, written
from tracespec.plan.model import Schema, SyscallInfo


class SyscallEvent(NamedTuple):
    info: SyscallInfo | None  # None: a syscall number the schema does not know
    nr: int
    tgid: int
    tid: int
    comm: str
    enter: EnterRecord | None
    exit: ExitRecord | None
    args: tuple  # typed argument values (empty without the enter record)
    slots: dict  # argument name -> Slot: what the kernel wrote (exit) over what it read (entry)
    entry_slots: dict  # argument name -> Slot copied at entry (for values printed as [before => after])

    @property
    def name(self) -> str:
        return self.info.name if self.info else f"syscall_{self.nr:#x}"

    @property
    def ts(self) -> int:
        return self.enter.ts if self.enter else self.exit.ts

    @property
    def duration_ns(self) -> int | None:
        if self.enter and self.exit:
            return self.exit.ts - self.enter.ts
        return None

    @property
    def ret(self) -> int | None:
        return self.exit.ret if self.exit else None


class Started(NamedTuple):
    event: SyscallEvent


class Finished(NamedTuple):
    event: SyscallEvent
    whole: bool = False  # its entry came just before, with nothing between: there was no Started for it


class Unfinished(NamedTuple):
    event: SyscallEvent
    killed: bool = False


class Noted(NamedTuple):
    """A bookkeeping syscall for -y's descriptor table: entered (`done` False: a clone's flags), or
    returned (its event complete). Writers that keep no descriptor table ignore it."""

    event: SyscallEvent
    done: bool = True


def _unfinished(ev: SyscallEvent) -> list:
    """An Unfinished for a syscall that never returned while traced; nothing for a bookkeeping one."""
    return [] if ev.info is not None and ev.info.bookkeeping else [Unfinished(ev)]


class ProcessExit(NamedTuple):
    """A traced task (a process, or one of its threads) ended."""

    ts: int
    tgid: int  # its process's id
    tid: int  # the task's own id (the process's id for its main thread)
    code: int  # the kernel's exit_code: (status << 8) | signal, or -1 when unknown


class Forked(NamedTuple):
    ts: int
    parent: int  # the parent's process id
    child: int  # the new task's id


class Signalled(NamedTuple):
    """A signal the kernel delivered to a traced task, with its siginfo's fields."""

    ts: int
    tgid: int
    tid: int
    sig: int
    info: Siginfo


class Lost(NamedTuple):
    ts: int
    count: int


# The kernel's restart codes (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK): a syscall
# a signal interrupted returns one of them to the kernel, never to the program.
RESTART_RETS = frozenset({-512, -513, -514, -516})
SIGKILL = 9
# How long a return with a restart code is held while waiting to see whether SIGKILL ends the thread: the
# thread's exit follows within microseconds when it does.
KILL_WAIT_NS = 50_000_000


# Syscalls whose return no exit tracepoint reports: rt_sigreturn restores the registers of the signal
# frame, orig_ax (the syscall number) among them, to -1, so the exit probes see no syscall to match. It
# always "returns" (to where the signal interrupted), with a value only the frame knew: like exit, it
# is complete at its entry, and its return value unknown (strace's "= ?").
NO_EXIT_RECORD = frozenset({"rt_sigreturn"})
# ... but its signal frame holds both, read at its entry (a SigframeRecord just before it): the mask it
# restores becomes this slot, the rax it restores its return
SIGFRAME_MASK_SLOT = "mask"


def never_reports_return(info: SyscallInfo | None) -> bool:
    return info is not None and (info.ret == "none" or info.name in NO_EXIT_RECORD)


# Syscalls that return 0 without writing their output memory: wait4 under WNOHANG, no child changed.
WRITES_NOTHING_ON_ZERO = frozenset({"wait4"})


def kernel_wrote(info: SyscallInfo | None, ret: int) -> bool:
    """Whether the return value says the kernel wrote the memory an exit record copied (strace decodes
    only then, and prints the pointer otherwise): never when the syscall failed."""
    if -4095 <= ret < 0:
        return False
    return ret != 0 or info is None or info.name not in WRITES_NOTHING_ON_ZERO


def _comm(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


_new = tuple.__new__  # builds a named tuple without the Python call its own __new__ costs, per event


class Pairer:
    def __init__(self, schema: Schema):
        self.infos = {s.nr: s for s in schema.syscalls}
        self.layouts = {lay.kind: lay for lay in schema.layouts}
        self.enter_layouts = {nr: lay for lay in schema.layouts if lay.phase == Phase.ENTER for nr in lay.nrs}
        self.conditions: dict[int, tuple] = {}  # exit layout kind -> each slot's Written condition
        self.pending: dict[int, SyscallEvent] = {}  # tid -> started syscall
        # Items wait in `queue` behind a return with a restart code until it is known whether the thread
        # died of SIGKILL there: tid -> (its Finished's index in queue, the event before its exit).
        self.queue: list = []
        self.held: dict[int, tuple[int, SyscallEvent]] = {}
        # What every record of a syscall needs, worked out at its first record: the typed-argument
        # converter (by nr), slot names (by layout kind and nr), task names (by their raw bytes).
        self.converters: dict[int, object] = {}
        self.slot_names: dict[tuple[int, int], tuple[str, ...]] = {}
        self.comms: dict[bytes, str] = {}
        self.frames: dict[int, SigframeRecord] = {}  # tid -> its rt_sigreturn's frame, until its entry record
        # Signals sent to a thread in a syscall that, unptraced, it never takes (SignalRecord.sent): strace
        # shows one when the thread goes back to user space, after that syscall's line: tid -> them, until
        # the syscall ends
        self.sent: dict[int, list] = {}
        # What ended a process's other threads: the signals its threads took (tgid -> them) and the thread
        # that called exit_group (tgid -> tid). A thread whose syscall returned a restart code and that then
        # ended of it without taking a signal itself was killed by the kernel's SIGKILL of the group's end
        # (strace, which never sees that return, prints the syscall unfinished).
        self.group_signals: dict[int, set] = {}
        self.group_exit: dict[int, int] = {}

    def _slot_names(self, kind: int, nr: int) -> tuple[str, ...]:
        """The argument name of each slot of a record (a family's layout knows only positions)."""
        key = (kind, nr)
        names = self.slot_names.get(key)
        if names is None:
            lay = self.layouts.get(kind)
            info = self.infos.get(nr)
            names = tuple((info.args[sl.index].name if info is not None and sl.index < len(info.args)
                           and sl.capture not in NAMED_CAPTURES else sl.arg)
                          + sl.name_suffix for sl in lay.slots) if lay is not None else ()
            self.slot_names[key] = names
        return names

    def _slots(self, kind: int, nr: int, slots: tuple, into: dict) -> None:
        """Slots by the name of the argument they belong to."""
        for name, s in zip(self._slot_names(kind, nr), slots):
            into[name] = s

    def _with_exit_slots(self, slots: dict, r: ExitRecord) -> dict:
        """The entry's slots with what the exit record copied over them (a new dict: the entry's stays),
        when the kernel wrote it: the one place exit copies are judged, for every syscall and format."""
        conditions = self.conditions.get(r.kind)
        if conditions is None:
            lay = self.layouts.get(r.kind)
            conditions = self.conditions[r.kind] = tuple(sl.written for sl in lay.slots) if lay is not None else ()
        if all(w == Written.OK for w in conditions):
            if not kernel_wrote(self.infos.get(r.nr), r.ret):
                return slots
            merged = dict(slots)
            self._slots(r.kind, r.nr, r.slots, merged)
            return merged
        # copies made under conditions of their own (poll's revents when it returned more than 0,
        # nanosleep's remainder when it was interrupted): each kept only when its condition holds
        merged = dict(slots)
        names = self._slot_names(r.kind, r.nr)
        ok = kernel_wrote(self.infos.get(r.nr), r.ret)
        for name, s, w in zip(names, r.slots, conditions):
            if (ok if w == Written.OK else written(w, r.ret)):
                merged[name] = s
        return merged

    def _convert(self, nr: int) -> tuple[int, object]:
        """(how many argument values, None or the function typing them)."""
        info = self.infos.get(nr)
        self.converters[nr] = (len(info.args), converter(info.args)) if info is not None else (6, None)
        return self.converters[nr]

    def _resolve(self, r) -> None:
        """A record of a thread whose syscall returned a restart code says how that syscall ended."""
        tid = getattr(r, "tid", None)
        if type(r) is SignalRecord and r.sent:
            return  # made in the sender: says nothing of how the thread's syscall ended
        if tid in self.held:
            index, ev = self.held.pop(tid)
            if isinstance(r, ProcExitRecord) and r.code >= 0 and self._zapped(r):
                self.queue[index] = Unfinished(ev, killed=True)

    def _zapped(self, r: ProcExitRecord) -> bool:
        """Whether a thread that ended right after a restart code was ended by the kernel's SIGKILL: its own,
        or its group's end by another thread (exit_group, or a fatal signal another thread took)."""
        sig = r.code & 0x7F
        if sig == SIGKILL:
            return True
        if sig == 0:
            return self.group_exit.get(r.tgid, r.tid) != r.tid
        return sig in self.group_signals.get(r.tgid, ())

    def release_held(self, before_ts: int) -> list:
        """Let go of restart-code returns older than `before_ts` minus the wait: no SIGKILL came."""
        for tid, (index, ev) in list(self.held.items()):
            if self.queue[index].event.exit.ts < before_ts - KILL_WAIT_NS:
                del self.held[tid]
        return self._ready()

    def _ready(self) -> list:
        if not self.held:
            out, self.queue = self.queue, []
            return out
        cut = min(index for index, _ in self.held.values())
        out, self.queue = self.queue[:cut], self.queue[cut:]
        self.held = {tid: (index - cut, ev) for tid, (index, ev) in self.held.items()}
        return out

    def feed(self, records) -> list:
        out = self.queue
        pending = self.pending
        held = self.held
        infos = self.infos
        comms = self.comms
        converters = self.converters
        frames = self.frames
        sent = self.sent
        # each record with the one after it, to see an entry followed at once by its exit
        records = records if isinstance(records, list) else list(records)
        following = records[1:]
        following.append(None)
        skip = False
        for r, nxt in zip(records, following):
            if skip:  # the exit of a whole syscall, already made into its event
                skip = False
                continue
            if held:
                self._resolve(r)
            t = type(r)
            if t is EnterRecord:
                tid = r.tid
                prev = pending.pop(tid, None)
                if prev is not None:
                    out += _unfinished(prev)
                if sent and tid in sent:
                    out += sent.pop(tid)
                # a frame read at rt_sigreturn's entry goes with this thread's next entry record only
                frame = frames.pop(tid, None) if frames else None
                nr = r.nr
                n, convert = converters.get(nr) or self._convert(nr)
                args = r.args[:n] if convert is None else convert(r.args)
                slots: dict = {}
                if r.slots:
                    self._slots(r.kind, nr, r.slots, slots)
                comm = comms.get(r.comm)
                if comm is None:
                    comm = comms[r.comm] = _comm(r.comm)
                info = infos.get(nr)
                if info is not None and info.bookkeeping:  # for -y's table only: no line, no count
                    if type(nxt) is ExitRecord and nxt.tid == tid and nxt.nr == nr:
                        exit_slots = self._with_exit_slots(slots, nxt) if nxt.slots else slots
                        out.append(_new(Noted, (_new(SyscallEvent, (info, nr, r.tgid, tid, comm, r, nxt, args,
                                                                    exit_slots, slots)), True)))
                        skip = True
                        continue
                    ev = _new(SyscallEvent, (info, nr, r.tgid, tid, comm, r, None, args, slots, slots))
                    pending[tid] = ev
                    out.append(_new(Noted, (ev, False)))
                    continue
                if (type(nxt) is ExitRecord and nxt.tid == tid and nxt.nr == nr and not held
                        and not r.flags & FLAG_DEFERRED and nxt.ret not in RESTART_RETS):
                    exit_slots = self._with_exit_slots(slots, nxt) if nxt.slots else slots
                    done = _new(SyscallEvent, (info, nr, r.tgid, tid, comm, r, nxt, args, exit_slots, slots))
                    out.append(_new(Finished, (done, True)))
                    skip = True
                    continue
                ev = _new(SyscallEvent, (info, nr, r.tgid, tid, comm, r, None, args, slots, slots))
                if frame is not None and info is not None and info.name in NO_EXIT_RECORD \
                        and not r.flags & FLAG_DEFERRED:
                    # rt_sigreturn with what its frame restores: whole, its return the restored rax
                    slots = {SIGFRAME_MASK_SLOT: Slot(frame.mask.to_bytes(8, "little"), 0)}
                    ret = ExitRecord(r.ts, r.tgid, tid, nr, r.kind, 0, frame.rax, ())
                    out.append(_new(Finished, (ev._replace(exit=ret, slots=slots, entry_slots=slots), True)))
                    continue
                if never_reports_return(info) and not r.flags & FLAG_DEFERRED:
                    # exit and exit_group never return: strace prints them whole at entry, and the
                    # thread's end may come much later (a main thread's, when its process ends);
                    # rt_sigreturn's return is never reported (NO_EXIT_RECORD)
                    if info.name == "exit_group":
                        self.group_exit[r.tgid] = tid
                    out.append(_new(Started, (ev,)))
                    out.append(Unfinished(ev))
                    continue
                pending[tid] = ev
                if not r.flags & FLAG_DEFERRED:
                    out.append(_new(Started, (ev,)))
            elif t is ExitRecord:
                ev = pending.pop(r.tid, None)
                if ev is None or ev.nr != r.nr:
                    if ev is not None:
                        out += _unfinished(ev)
                    if sent and r.tid in sent:
                        out += sent.pop(r.tid)
                    continue  # began before tracing (or its entry was lost): nothing to pair with
                info, nr, tgid, tid, comm, enter, _, args, slots, entry_slots = ev
                if r.slots:
                    slots = self._with_exit_slots(slots, r)
                done = _new(SyscallEvent, (info, nr, tgid, tid, comm, enter, r, args, slots, entry_slots))
                if info is not None and info.bookkeeping:
                    out.append(_new(Noted, (done, True)))
                    if sent and tid in sent:
                        out += sent.pop(tid)
                    continue
                if enter.flags & FLAG_DEFERRED:
                    out.append(Started(ev))
                if r.ret in RESTART_RETS:
                    held[r.tid] = (len(out), ev)
                out.append(_new(Finished, (done, False)))
                if sent and tid in sent:
                    out += sent.pop(tid)
                    held.pop(tid, None)  # it goes back to user space to take them: not killed there
            elif t is RetryRecord:
                ev = pending.get(r.tid)
                lay = self.enter_layouts.get(r.nr)
                if ev is not None and ev.nr == r.nr and lay is not None:
                    slots = dict(ev.slots)
                    names = self._slot_names(lay.kind, r.nr)  # a struct's pointer members by their own names
                    for i, s in r.slots:
                        if i < len(names) and not (s.fault or s.absent) and self.infos.get(r.nr) is not None:
                            slots[names[i]] = s
                    pending[r.tid] = ev._replace(slots=slots, entry_slots=slots)
            elif t is ExecArgsRecord:
                ev = pending.get(r.tid)
                lay = self.enter_layouts.get(r.nr)
                if ev is not None and ev.nr == r.nr and lay is not None:
                    pending[r.tid] = self._exec_args(ev, lay, r)
            elif t is ProcExitRecord:
                ev = pending.pop(r.tid, None)
                if ev is not None:
                    out += _unfinished(ev)
                if sent and r.tid in sent:
                    out += sent.pop(r.tid)
                out.append(ProcessExit(r.ts, r.tgid, r.tid, r.code))
                if r.tid == r.tgid:  # the process's line comes last
                    self.group_signals.pop(r.tgid, None)
                    self.group_exit.pop(r.tgid, None)
            elif t is ForkRecord:
                out.append(Forked(r.ts, r.tgid, r.child))
            elif t is SigframeRecord:
                frames[r.tid] = r
            elif t is SignalRecord:
                item = Signalled(r.ts, r.tgid, r.tid, r.sig, parse_siginfo(r.info))
                self.group_signals.setdefault(r.tgid, set()).add(r.sig)
                if r.sent and r.tid in pending:  # taken, under strace, when this syscall returns
                    sent.setdefault(r.tid, []).append(item)
                else:
                    out.append(item)
            elif t is LostRecord:
                out.append(Lost(r.ts, r.count))
        return self._ready()

    @staticmethod
    def _exec_args(ev: SyscallEvent, lay, r: ExecArgsRecord) -> SyscallEvent:
        """Mend entry copies that faulted with what the successful execve used."""
        slots = dict(ev.slots)
        for sl in lay.slots:
            name = ev.info.args[sl.index].name if ev.info else sl.arg
            old = slots.get(name)
            if old is None or not old.fault:
                continue
            if sl.capture == Capture.STRING and not r.filename.fault:
                data = r.filename.data[:sl.max]
                slots[name] = Slot(data, TRUNCATED if len(r.filename.data) > sl.max else 0)
            elif sl.capture == Capture.STRV and name == "argv" and not (r.args.fault or r.args.absent):
                parts = r.args.data.split(b"\0")
                if parts and parts[-1] == b"":
                    parts.pop()
                items = tuple(Slot(p[:sl.max], TRUNCATED if len(p) > sl.max else 0) for p in parts[:sl.count])
                slots[name] = Slot(items, TRUNCATED if len(parts) > sl.count or r.args.truncated else 0)
        return ev._replace(slots=slots, entry_slots=slots)

    def finish(self) -> list:
        """What is held back, then the syscalls still in flight when tracing stops."""
        self.held.clear()
        out = self._ready() + [u for e in sorted(self.pending.values(), key=lambda e: e.ts) for u in _unfinished(e)]
        self.pending.clear()
        for signals in self.sent.values():  # sent to threads still in their syscall
            out += signals
        self.sent.clear()
        return out
