"""CTF (the Common Trace Format, as LTTng writes it) for babeltrace2 and the tools built on it, written by
babeltrace2's own sink.ctf.fs component, fed from a source component class defined here (Debian's
python3-bt2: babeltrace2 2.0's Python bindings). The trace is a directory: `metadata` and one stream.

A syscall is two events, LTTng's way: syscall_entry_NAME at its entry (pid, tid, comm and the
arguments as they were at entry) and syscall_exit_NAME at its return (the same, the arguments as the
JSON output has them, i.e. with what the kernel wrote, then ret, errno and duration_ns: errno is an
enumeration, the error's number labelled with its name, 0 "none" for a call that did not fail); one that never
returned has syscall_unfinished_NAME instead of its exit, when that is known. Arguments are typed
fields: numbers are 64-bit integers (signed or not as their C type), buffers (read's and write's) are
arrays of bytes (empty when the memory could not be read: the JSON output shows the pointer then), other
memory (paths, strings, structs) is a string: the text itself, or the JSON text of what format/jsonl.py
shows (a struct, a list, a pointer that could not be read, null). Bytes that
are not UTF-8 are written as backslash escapes (\\xNN). An exit whose entry came before tracing
began has its arguments 0 and "" (the JSON output's args are {} then). Process ends are process_exit (pid, tid,
exited: the status or -1, signal: the one that killed it or 0, core_dumped), forks fork (parent, child), a
signal a traced task took signal_deliver (pid, tid, sig, its name, si_code, and the JSON output's siginfo as
text), loss marks lost (count), and the last event,
trace_end, has the JSON output's closing counts: lost, syscalls, unfinished.

CTF wants the clock never to go back within a stream: an event the kernel stamped earlier than one
already written (a deferred entry) is written at the later time; duration_ns keeps the truth.
The trace is written as events come: each batch is pushed through the graph at once.
"""

from __future__ import annotations

import collections
import gc
import json
import os

import bt2

from tracespec.errors import ExitStatus, TracespecError
from tracespec.decode.values import width
from tracespec.decode.events import Finished, Forked, Lost, ProcessExit, Signalled, Started, Unfinished
from tracespec.format import args as A
from tracespec.format.jsonl import JsonWriter, signal_delivered
from tracespec.format.values import constants, kind_of

INT64_MAX = (1 << 63) - 1
UINT64 = (1 << 64) - 1
BUFFER_KINDS = frozenset({"ibuf", "obuf"})  # bytes, NULs and all: CTF strings would end at the first NUL


def memory_text(value) -> str:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return json.dumps(value, ensure_ascii=True)


def number(value: int, signed: bool) -> int:
    """An integer as its field holds it (the raw 64 bits, should a value not fit its C type)."""
    if signed:
        return value if -INT64_MAX - 1 <= value <= INT64_MAX else ((value & UINT64) ^ (1 << 63)) - (1 << 63)
    return value & UINT64


def _field_kind(f) -> str:
    kind = kind_of(f)[0]
    if kind in BUFFER_KINDS:
        return "bytes"
    if kind in A.MEMORY_KINDS:
        return "string"
    return "s64" if width(f)[1] else "u64"  # as the decoder types it: fds are ints whatever the table says


def field_value(value, kind: str):
    """An argument's JSON value (format/jsonl.py) as its CTF field holds it."""
    if kind == "string":
        return memory_text(value)
    if kind == "bytes":
        return list(value.encode("utf-8", "surrogateescape")) if isinstance(value, str) else []
    return number(value, kind == "s64")


class Feed:
    """What the writer hands the graph's source: events to turn into messages, and whether it is over."""

    def __init__(self):
        self.pending: collections.deque = collections.deque()  # (event class, ts, field values)
        self.done = False
        self.source: TraceSource | None = None


class TraceIterator(bt2._UserMessageIterator):
    def __init__(self, config, port):
        self.feed: Feed = port.user_data
        self.stream = None
        self.ended = False

    def __next__(self):
        feed, source = self.feed, self.feed.source
        if self.stream is None:
            self.stream = source.trace.create_stream(source.stream_class)
            return self._create_stream_beginning_message(self.stream)
        if feed.pending:
            event_class, ts, values = feed.pending.popleft()
            msg = self._create_event_message(event_class, self.stream, default_clock_snapshot=ts)
            payload = msg.event.payload_field
            for name, value in values:
                payload[name] = value
            return msg
        if feed.done:
            if not self.ended:
                self.ended = True
                return self._create_stream_end_message(self.stream)
            raise StopIteration
        raise bt2.TryAgain  # nothing yet: the writer pushes the next batch


class TraceSource(bt2._UserSourceComponent, message_iterator_class=TraceIterator):
    """The trace's classes: a wall clock in ns, one stream class, event classes made as needed."""

    def __init__(self, config, params, feed: Feed):
        feed.source = self
        self.trace_class = self._create_trace_class()
        clock = self._create_clock_class(frequency=1_000_000_000, name="realtime", origin_is_unix_epoch=True,
                                         description="CLOCK_REALTIME, as the JSON output's ts_ns")
        self.stream_class = self.trace_class.create_stream_class(default_clock_class=clock,
                                                                  assigns_automatic_event_class_id=True)
        self.trace = self.trace_class(environment={"tracer_name": "tracespec"})
        self._add_output_port("out", feed)

    def event_class(self, name: str, fields: list[tuple[str, str]]):
        """fields: (name, "s64" | "u64" | "string" | "bytes")."""
        tc = self.trace_class
        payload = tc.create_structure_field_class()
        for field, kind in fields:
            if kind == "string":
                payload.append_member(field, tc.create_string_field_class())
            elif kind == "bytes":  # sink.ctf.fs gives it its length field
                payload.append_member(field, tc.create_dynamic_array_field_class(
                    tc.create_unsigned_integer_field_class(8)))
            elif kind == "errno":
                payload.append_member(field, self._errno_class())
            elif kind == "s64":
                payload.append_member(field, tc.create_signed_integer_field_class(64))
            else:
                payload.append_member(field, tc.create_unsigned_integer_field_class(64))
        return self.stream_class.create_event_class(name=name, payload_field_class=payload)

    def _errno_class(self):
        """errno numbers labelled with their names: a number where there is no error, not an empty string
        (babeltrace2 2.0's CTF reader can show an empty string as the previous event's value)."""
        fc = self.trace_class.create_signed_enumeration_field_class(64)  # one per event class: never shared
        fc.add_mapping("none", bt2.SignedIntegerRangeSet([(0, 0)]))
        for number, info in sorted(constants().errnos.items()):
            fc.add_mapping(info.name, bt2.SignedIntegerRangeSet([(number, number)]))
        return fc


WHO = [("pid", "s64"), ("tid", "s64"), ("comm", "string")]
FIXED = {
    "process_exit": [("pid", "s64"), ("tid", "s64"), ("exited", "s64"), ("signal", "s64"), ("core_dumped", "u64")],
    "fork": [("parent", "s64"), ("child", "s64")],
    "signal_deliver": [("pid", "s64"), ("tid", "s64"), ("sig", "s64"), ("name", "string"), ("code", "s64"),
                       ("siginfo", "string")],
    "lost": [("count", "u64")],
    "trace_end": [("lost", "u64"), ("syscalls", "u64"), ("unfinished", "u64")],
}


class CtfWriter:
    raw = False

    def __init__(self, path: str, clock_offset_ns: int = 0):
        self.offset = clock_offset_ns
        self.json = JsonWriter(None, clock_offset_ns)
        self.feed = Feed()
        self.graph = self._graph(path)
        self.classes: dict[str, object] = {}
        self.args_of: dict[int, tuple] = {}  # syscall nr -> ((ArgField, "s64"|"u64"|"string"), ...)
        self.last_ts = 0
        self.syscalls = 0
        self.unfinished = 0

    def _graph(self, path: str):
        """Our source connected to babeltrace2's CTF sink, writing into the directory `path`."""
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise TracespecError(f"cannot write a CTF trace into {path}: it exists and is not an empty directory",
                                 hint="CTF is a directory: give -o a new one", exit_code=ExitStatus.CANNOT_TRACE)
        ctf = bt2.find_plugin("ctf")
        if ctf is None or "fs" not in ctf.sink_component_classes:
            raise TracespecError("babeltrace2's ctf plugin (sink.ctf.fs) is not installed",
                                 hint="apt-get install babeltrace2 python3-bt2", exit_code=ExitStatus.CANNOT_TRACE)
        graph = bt2.Graph()
        source = graph.add_component(TraceSource, "tracespec", obj=self.feed)
        sink = graph.add_component(ctf.sink_component_classes["fs"], "ctf",
                                   params={"path": path, "assume-single-trace": True, "quiet": True})
        graph.connect_ports(source.output_ports["out"], sink.input_ports["in"])
        return graph

    # -- classes -----------------------------------------------------------------------------------

    def _arg_kinds(self, ev) -> tuple:
        kinds = self.args_of.get(ev.nr)
        if kinds is None:
            kinds = self.args_of[ev.nr] = tuple(
                (f, _field_kind(f))
                for f in (ev.info.args if ev.info else A.RAW_ARGS))
        return kinds

    def _class(self, name: str, fields: list[tuple[str, str]]):
        cls = self.classes.get(name)
        if cls is None:
            cls = self.classes[name] = self.feed.source.event_class(name, fields)
        return cls

    def _syscall_class(self, phase: str, ev):
        fields = WHO + [(f.name, kind) for f, kind in self._arg_kinds(ev)]
        if phase == "exit":
            fields += [("ret", "s64"), ("errno", "errno"), ("duration_ns", "s64")]
        return self._class(f"syscall_{phase}_{ev.name}", fields)

    # -- events ------------------------------------------------------------------------------------

    def _push(self, cls, ts: int, values: list) -> None:
        self.last_ts = max(ts, self.last_ts)
        self.feed.pending.append((cls, self.last_ts, values))

    def _values(self, ev, obj: dict) -> list:
        values = [("pid", obj["pid"]), ("tid", obj["tid"]), ("comm", memory_text(obj["comm"]))]
        args = obj["args"]
        for f, kind in self._arg_kinds(ev):
            v = args.get(f.name, 0 if kind in ("s64", "u64") else "")  # absent: its entry came before tracing
            values.append((f.name, field_value(v, kind)))
        return values

    def _entry(self, ev) -> None:
        obj = self.json.event(ev, False)
        self._push(self._syscall_class("entry", ev), obj["ts_ns"], self._values(ev, obj))

    def _exit(self, ev) -> None:
        obj = self.json.event(ev, True)
        failed = obj["errno"] is not None
        values = self._values(ev, obj) + [("ret", obj["ret"]), ("errno", -obj["ret"] if failed else 0),
                                          ("duration_ns", obj["duration_ns"] or 0)]
        self._push(self._syscall_class("exit", ev), obj["ts_ns"] + (obj["duration_ns"] or 0), values)

    def _unfinished(self, ev) -> None:
        obj = self.json.event(ev, False)
        self._push(self._syscall_class("unfinished", ev), self.last_ts, self._values(ev, obj))

    def _process_exit(self, item: ProcessExit) -> None:
        signal = item.code & 0x7F
        self._push(self._class("process_exit", FIXED["process_exit"]), item.ts + self.offset,
                   [("pid", item.tgid), ("tid", item.tid), ("exited", -1 if signal else (item.code >> 8) & 0xFF),
                    ("signal", signal), ("core_dumped", 1 if signal and item.code & 0x80 else 0)])

    def _signal(self, item: Signalled) -> None:
        fields = signal_delivered(item)
        self._push(self._class("signal_deliver", FIXED["signal_deliver"]), item.ts + self.offset,
                   [("pid", item.tgid), ("tid", item.tid), ("sig", item.sig), ("name", str(fields["signal"])),
                    ("code", item.info.code), ("siginfo", json.dumps(fields["siginfo"]))])

    def write(self, items) -> None:
        for item in items:
            t = type(item)
            if t is Finished:
                self.syscalls += 1
                if item.whole:  # no Started came for it: its entry, as it was then
                    self._entry(item.event._replace(slots=item.event.entry_slots))
                self._exit(item.event)
            elif t is Started:
                self._entry(item.event)
            elif t is Unfinished:
                self.syscalls += 1
                self.unfinished += 1
                self._unfinished(item.event)
            elif t is ProcessExit and item.code >= 0:
                self._process_exit(item)
            elif t is Forked:
                self._push(self._class("fork", FIXED["fork"]), item.ts + self.offset,
                           [("parent", item.parent), ("child", item.child)])
            elif t is Lost:
                self._push(self._class("lost", FIXED["lost"]), item.ts + self.offset, [("count", item.count)])
            elif t is Signalled:
                self._signal(item)
        self._pump()

    def _pump(self) -> None:
        """Run the graph until the source has nothing more to give (or the trace is over)."""
        while True:
            try:
                self.graph.run_once()
            except bt2.TryAgain:
                return
            except StopIteration:
                return

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        self._push(self._class("trace_end", FIXED["trace_end"]), self.last_ts,
                   [("lost", lost), ("syscalls", self.syscalls), ("unfinished", self.unfinished)])
        self.feed.done = True
        self._pump()
        # the sink writes the metadata when the graph goes: drop every reference to it now
        self.feed.source = None
        self.graph = None
        gc.collect()
