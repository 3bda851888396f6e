"""Perfetto traces (open them in https://ui.perfetto.dev or trace_processor): a timeline of syscalls.

One process track per traced process and one thread track per thread, named by comm (and the process by
the argv of its last successful execve). Each syscall is one slice on its thread's track, from entry to
exit, named by the syscall; its arguments, return value and errno are debug annotations shaped as the
JSON writer's contract (format/jsonl.py) shapes them, and its categories say "syscall" plus "failed" or
"unfinished". A syscall that never returned ends where its thread did something else next, or where the
trace ends. Forks, execs, exits and lost records are instant events; lost records also make a counter
("records lost", cumulative), and a summary (-c) becomes counters per syscall: calls, errors, time.

The file is written as it goes: each batch of events becomes a batch of packets, so a trace of any
length converts in constant memory. Event names, categories and annotation names are interned on one
packet sequence, so each appears once in the file however many syscalls carry it.

Timestamps are the wall clock (CLOCK_REALTIME), the JSON output's ts_ns, so both line up.
"""

from __future__ import annotations

from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb

from tracespec.decode.events import Finished, Forked, Lost, ProcessExit, Signalled, Unfinished
from tracespec.format.jsonl import JsonWriter, process_end, signal_delivered

SEQUENCE_ID = 1
REALTIME = pb.BuiltinClock.BUILTIN_CLOCK_REALTIME
MONOTONIC = pb.BuiltinClock.BUILTIN_CLOCK_MONOTONIC
CLEARED = pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED
NEEDS_STATE = pb.TracePacket.SEQ_NEEDS_INCREMENTAL_STATE
SLICE_BEGIN = pb.TrackEvent.TYPE_SLICE_BEGIN
SLICE_END = pb.TrackEvent.TYPE_SLICE_END
INSTANT = pb.TrackEvent.TYPE_INSTANT
COUNTER = pb.TrackEvent.TYPE_COUNTER
# Track uuids: one space per kind, so a pid and a tid of the same number never share a track.
TRACE_TRACK = 1
PROCESS_BASE = 1 << 32
THREAD_BASE = 2 << 32
COUNTER_BASE = 3 << 32
INT64_MAX = (1 << 63) - 1
PACKETS_PER_WRITE = 512


class Interner:
    """Names given an iid the first time they are seen; the new ones wait in `fresh` for the packet
    that first uses them to carry them in its interned_data."""

    def __init__(self, field: str):
        self.field = field  # InternedData's repeated field: event_names, event_categories, ...
        self.iids: dict[str, int] = {}
        self.fresh: list[tuple[int, str]] = []

    def iid(self, name: str) -> int:
        iid = self.iids.get(name)
        if iid is None:
            iid = self.iids[name] = len(self.iids) + 1
            self.fresh.append((iid, name))
        return iid

    def move_into(self, interned) -> None:
        for iid, name in self.fresh:
            getattr(interned, self.field).add(iid=iid, name=name)
        self.fresh.clear()


def set_annotation(ann, value) -> None:
    """A JSON value (as the JSON writer makes it) as a debug annotation's value."""
    if value is None:  # a NULL pointer (or a return that never came)
        ann.pointer_value = 0
    elif isinstance(value, bool):
        ann.bool_value = value
    elif isinstance(value, int):
        if value > INT64_MAX:
            ann.uint_value = value
        else:
            ann.int_value = value
    elif isinstance(value, str):
        ann.string_value = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    elif isinstance(value, dict):
        for k, v in value.items():
            entry = ann.dict_entries.add(name=k)
            set_annotation(entry, v)
    elif isinstance(value, (list, tuple)):
        if not value:  # an annotation with no array values would have no value at all
            ann.legacy_json_value = "[]"
        for v in value:
            set_annotation(ann.array_values.add(), v)
    else:
        ann.string_value = str(value)


class PerfettoWriter:
    raw = False

    def __init__(self, out, clock_offset_ns: int = 0, schema=None):
        """schema: the plan's, for a summary's syscall names (events carry their own)."""
        self.names_by_nr = {i.nr: i.name for i in schema.syscalls} if schema is not None else {}
        self.out = getattr(out, "buffer", out)  # protobuf bytes, even through a text stream
        self.offset = clock_offset_ns
        self.json = JsonWriter(None, clock_offset_ns)  # the contract's view of each event
        self.names = Interner("event_names")
        self.categories = Interner("event_categories")
        self.annotations = Interner("debug_annotation_names")
        self.trace = pb.Trace()
        self.started = False
        self.processes: dict[int, tuple[str, list[str] | None]] = {}  # pid -> (name, argv) as described
        self.threads: dict[int, tuple[int, str]] = {}  # tid -> (pid, name) as described
        self.open_unfinished: dict[int, int] = {}  # tid -> the track whose unfinished slice is open
        self.counters: dict[str, int] = {}  # counter name -> its track uuid
        self.last_ts = 0
        self.syscalls = 0
        self.unfinished = 0
        self.lost_here = 0

    # -- packets -----------------------------------------------------------------------------------

    def _packet(self, ts: int | None = None):
        if not self.started:
            self._start(ts if ts is not None else self.offset)
        pkt = self.trace.packet.add()
        pkt.trusted_packet_sequence_id = SEQUENCE_ID
        if ts is not None:
            pkt.timestamp = ts
            if ts > self.last_ts:
                self.last_ts = ts
        return pkt

    def _start(self, ts: int) -> None:
        """The sequence's first packet: it clears incremental state and says the clock; a snapshot
        ties the wall clock to the monotonic one the kernel stamped records with."""
        self.started = True
        snap = self.trace.packet.add()
        snap.trusted_packet_sequence_id = SEQUENCE_ID
        snap.clock_snapshot.primary_trace_clock = REALTIME
        snap.clock_snapshot.clocks.add(clock_id=REALTIME, timestamp=ts)
        snap.clock_snapshot.clocks.add(clock_id=MONOTONIC, timestamp=ts - self.offset)
        first = self.trace.packet.add()
        first.trusted_packet_sequence_id = SEQUENCE_ID
        first.sequence_flags = CLEARED
        first.trace_packet_defaults.timestamp_clock_id = REALTIME
        first.track_descriptor.uuid = TRACE_TRACK
        first.track_descriptor.name = "tracespec"

    def _event_packet(self, ts: int, track: int, kind: int, name: str | None, categories=()):
        pkt = self._packet(ts)
        pkt.sequence_flags = NEEDS_STATE
        te = pkt.track_event
        te.type = kind
        te.track_uuid = track
        if name is not None:
            te.name_iid = self.names.iid(name)
        for c in categories:
            te.category_iids.append(self.categories.iid(c))
        return pkt, te

    def _intern(self, pkt) -> None:
        """Carry the names first used by this packet (call once its annotations are set)."""
        if self.names.fresh or self.categories.fresh or self.annotations.fresh:
            for interner in (self.names, self.categories, self.annotations):
                interner.move_into(pkt.interned_data)

    def _annotate(self, te, fields: dict) -> None:
        add = te.debug_annotations.add
        iid = self.annotations.iid
        for key, value in fields.items():
            if type(value) is int and -INT64_MAX <= value <= INT64_MAX:  # most values: one call, not three
                add(name_iid=iid(key), int_value=value)
            else:
                set_annotation(add(name_iid=iid(key)), value)

    def _flush_packets(self, force: bool = False) -> None:
        if self.trace.packet and (force or len(self.trace.packet) >= PACKETS_PER_WRITE):
            self.out.write(self.trace.SerializeToString())
            self.trace = pb.Trace()  # a new message: Clear() keeps the old one's arena, which only grows

    # -- tracks ------------------------------------------------------------------------------------

    def _process_track(self, pid: int, name: str, argv: list[str] | None = None) -> int:
        uuid = PROCESS_BASE + pid
        known = self.processes.get(pid)
        if known is None or (argv is not None and known != (name, argv)):
            self.processes[pid] = (name, argv)
            desc = self._packet().track_descriptor
            desc.uuid = uuid
            desc.process.pid = pid
            desc.process.process_name = name
            if argv:
                desc.process.cmdline.extend(argv)
        return uuid

    def _thread_track(self, pid: int, tid: int, comm: str) -> int:
        uuid = THREAD_BASE + tid
        if self.threads.get(tid) != (pid, comm):
            parent = self._process_track(pid, comm)
            self.threads[tid] = (pid, comm)
            desc = self._packet().track_descriptor
            desc.uuid = uuid
            desc.parent_uuid = parent
            desc.thread.pid = pid
            desc.thread.tid = tid
            desc.thread.thread_name = comm
        return uuid

    def _counter_track(self, name: str, unit=pb.CounterDescriptor.UNIT_COUNT) -> int:
        uuid = self.counters.get(name)
        if uuid is None:
            uuid = self.counters[name] = COUNTER_BASE + len(self.counters)
            desc = self._packet().track_descriptor
            desc.uuid = uuid
            desc.parent_uuid = TRACE_TRACK
            desc.name = name
            desc.counter.unit = unit
        return uuid

    # -- events ------------------------------------------------------------------------------------

    def _close_unfinished(self, tid: int, ts: int) -> None:
        """An unfinished syscall's slice ends when its thread is next seen doing something."""
        track = self.open_unfinished.pop(tid, None)
        if track is not None:
            self._event_packet(ts, track, SLICE_END, None)

    def _syscall(self, ev, finished: bool) -> None:
        obj = self.json.event(ev, finished)
        ts = obj["ts_ns"]
        self._close_unfinished(ev.tid, ts)
        track = self._thread_track(ev.tgid, ev.tid, ev.comm)
        categories = ("syscall", "failed") if obj["errno"] else ("syscall",) if finished else ("syscall", "unfinished")
        pkt, te = self._event_packet(ts, track, SLICE_BEGIN, obj["syscall"], categories)
        fields = dict(obj["args"])
        if finished:
            fields["ret"] = obj["ret"]
            if obj["errno"]:
                fields["errno"] = obj["errno"]
            fields["duration_ns"] = obj["duration_ns"]
        else:
            fields["unfinished"] = True
        if "truncated" in obj:
            fields["truncated"] = obj["truncated"]
        self._annotate(te, fields)
        self._intern(pkt)
        if finished:
            end = ts + (obj["duration_ns"] or 0)
            self._event_packet(end, track, SLICE_END, None)
            if obj["syscall"] in ("execve", "execveat") and obj["ret"] == 0:
                self._exec(ev, obj, end)
        else:
            self.open_unfinished[ev.tid] = track

    def _exec(self, ev, obj: dict, ts: int) -> None:
        argv = obj["args"].get("argv")
        argv = [a for a in argv if isinstance(a, str)] if isinstance(argv, list) else None
        name = argv[0].rsplit("/", 1)[-1] if argv else ev.comm
        self._process_track(ev.tgid, name, argv or [name])
        self._instant(ts, self._thread_track(ev.tgid, ev.tid, ev.comm), "exec", {"filename": obj["args"].get("filename")})

    def _instant(self, ts: int, track: int, name: str, fields: dict) -> None:
        pkt, te = self._event_packet(ts, track, INSTANT, name, ("tracespec",))
        self._annotate(te, fields)
        self._intern(pkt)

    def _exit(self, item: ProcessExit) -> None:
        ts = item.ts + self.offset
        self._close_unfinished(item.tid, ts)
        pid, comm = self.threads.get(item.tid, (item.tgid, ""))
        track = self._thread_track(item.tgid, item.tid, comm)
        self._instant(ts, track, "exit", process_end(item))

    def _signal(self, item: Signalled) -> None:
        """A signal's delivery: an instant on the thread's track, named for the signal, with its siginfo."""
        ts = item.ts + self.offset
        _, comm = self.threads.get(item.tid, (item.tgid, ""))
        fields = signal_delivered(item)
        self._instant(ts, self._thread_track(item.tgid, item.tid, comm), str(fields["signal"]), fields)

    def _fork(self, item: Forked) -> None:
        ts = item.ts + self.offset
        name = self.processes.get(item.parent, ("",))[0]
        self._instant(ts, self._process_track(item.parent, name), "fork",
                      {"parent": item.parent, "child": item.child})

    def _lost(self, item: Lost) -> None:
        ts = item.ts + self.offset
        self.lost_here += item.count
        self._instant(ts, TRACE_TRACK, "lost", {"lost_here": item.count})
        self._count(ts, "records lost", self.lost_here)

    def _count(self, ts: int, name: str, value: int, unit=pb.CounterDescriptor.UNIT_COUNT) -> None:
        track = self._counter_track(name, unit)
        _, te = self._event_packet(ts, track, COUNTER, None)
        te.counter_value = value

    def write(self, items) -> None:
        for item in items:
            t = type(item)
            if t is Finished:
                self.syscalls += 1
                self._syscall(item.event, True)
            elif t is Unfinished:
                self.syscalls += 1
                self.unfinished += 1
                self._syscall(item.event, False)
            elif t is ProcessExit and item.code >= 0:
                self._exit(item)
            elif t is Forked:
                self._fork(item)
            elif t is Signalled:
                self._signal(item)
            elif t is Lost:
                self._lost(item)
        self._flush_packets()

    def summary(self, snap) -> None:
        """A summary (one interval's or the run's) as counters at its end: per syscall, its calls,
        errors and time in the syscall."""
        ts = snap.end_ns + self.offset
        for e in snap.entries:
            name = self.names_by_nr.get(e.nr) or f"syscall_{e.nr:#x}"
            who = f" {e.comm}[{e.tid or e.tgid}]" if e.tgid else ""
            self._count(ts, f"{name}{who} calls", e.calls)
            self._count(ts, f"{name}{who} errors", e.errors)
            self._count(ts, f"{name}{who} time", e.total_ns, pb.CounterDescriptor.UNIT_TIME_NS)
            self.syscalls += e.calls
        self._flush_packets()

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        end = self.last_ts
        for tid in list(self.open_unfinished):
            self._close_unfinished(tid, end)
        self._instant(end, TRACE_TRACK, "end of trace",
                      {"lost": lost, "syscalls": self.syscalls, "unfinished": self.unfinished})
        self._count(end, "records lost", lost)
        self._flush_packets(force=True)
        self.out.flush()
