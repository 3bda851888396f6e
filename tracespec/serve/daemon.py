"""The daemon's state: each spec's program, loaded once, and the recorders added to it while it runs.

A recorder is a cgroup v2 group and its own overwritable buffers (runtime.recorders). Dumps decode
what the buffers hold, in time order, syscalls in flight marked unfinished (as `record` does), and
are rendered in record's formats. A thread watches the programs' control buffers: a trigger, or a
process of a recorded group killed by a signal, dumps that group's recorder into --dump-dir.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import sys
import threading
import time
from dataclasses import dataclass, field

from tracespec.decode.generated import load_decoder
from tracespec.decode.stream import EventStream
from tracespec.errors import TracespecError
from tracespec.format.values import constants
from tracespec.runtime.overwrite import PAGE
from tracespec.runtime.perfbuf import PerfReader
from tracespec.runtime.recorders import ServedProgram
from tracespec.wire.layout import CONTROL, CONTROL_KILLED, CONTROL_TRIGGER

CONTROL_PAGES = 8
FORMATS = ("text", "json", "bin")
_TS = struct.Struct("<Q")


class RequestError(TracespecError):
    """A request the daemon refuses: its status and one line saying why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Spec:
    """A spec the daemon serves: its program, and what decoding and writing its records needs."""

    name: str
    path: str
    text: str
    program: ServedProgram
    decode: object
    fd_paths: bool
    reader: PerfReader | None = None


@dataclass
class Recorder:
    id: int
    name: str
    cgroup: str
    cgroup_id: int
    spec: Spec
    slot: int
    pages_per_cpu: int
    cpus: int
    created: float = field(default_factory=time.time)
    dumps: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # a dump and the close never overlap
    closed: bool = False
    # -y: what the group's processes had open, and their working directories, when the recorder was
    # added (by pid, as `record -y` takes them): a dump names the descriptors they had before, though
    # they may be gone by the time it is written
    initial_fds: dict = field(default_factory=dict)
    initial_cwds: dict = field(default_factory=dict)

    @property
    def buffer_bytes(self) -> int:
        return self.pages_per_cpu * PAGE * self.cpus


@dataclass(frozen=True)
class DumpResult:
    number: int
    reason: str
    events: list
    records: list
    lost: int


class Daemon:
    def __init__(self, specs: list[Spec], dump_dir: str | None, keep: int, dump_format: str, notice,
                 default_size: int):
        self.specs = specs
        self.default_size = default_size  # a recorder's buffer, all CPUs together, unless /add says size=
        self.dump_dir = dump_dir
        self.keep = keep
        self.dump_format = dump_format
        self.notice = notice
        self.recorders: dict[int, Recorder] = {}
        self.by_cgroup: dict[int, Recorder] = {}
        self.lock = threading.Lock()
        self.next_id = 0
        self.offset = time.time_ns() - time.monotonic_ns()
        self.stopping = threading.Event()
        self.written: dict[int, list[str]] = {}  # recorder id -> its dump files, oldest first

    # -- recorders --------------------------------------------------------------------------------------

    def spec_named(self, name: str | None) -> Spec:
        if not name:
            return self.specs[0]
        for s in self.specs:
            if s.name == name:
                return s
        raise RequestError(f"no spec named {json.dumps(name)} (served: {', '.join(s.name for s in self.specs)})",
                           404)

    def add(self, name: str, group: tuple[str, int], pages_per_cpu: int, spec: Spec) -> Recorder:
        path, cgroup_id = group
        with self.lock:
            old = self.by_cgroup.get(cgroup_id)
            if old is not None:
                raise RequestError(f"the cgroup {path} is recorded already, as id {old.id}", 409)
            rid = self.next_id
            self.next_id += 1
            # reserved, so that a second add of the group waits for no one and is refused
            placeholder = Recorder(rid, name, path, cgroup_id, spec, -1, pages_per_cpu, len(self._cpus()))
            self.by_cgroup[cgroup_id] = placeholder
        try:
            slot = spec.program.add(cgroup_id, pages_per_cpu)
        except BaseException:
            with self.lock:
                self.by_cgroup.pop(cgroup_id, None)
            raise
        placeholder.slot = slot
        if spec.fd_paths:  # taken once the group is recorded: whatever it opens from here on is in the buffers
            from tracespec.runtime.targets import descriptors_in_group, directories_at_start

            placeholder.initial_fds = descriptors_in_group(path)
            placeholder.initial_cwds = directories_at_start(placeholder.initial_fds)
        with self.lock:
            self.recorders[rid] = placeholder
        return placeholder

    @staticmethod
    def _cpus() -> list[int]:
        from tracespec.runtime.bpfsys import online_cpus

        return online_cpus()

    def get(self, rid: int) -> Recorder:
        with self.lock:
            r = self.recorders.get(rid)
        if r is None:
            raise RequestError("invalid index", 404)  # traceloop's words
        return r

    def find(self, *, name: str | None = None, cgroup: str | None = None) -> Recorder:
        with self.lock:
            found = [r for r in self.recorders.values()
                     if (name is not None and r.name == name) or (cgroup is not None and r.cgroup == cgroup)]
        if not found and cgroup is not None:  # the same group, spelt another way (relative, via a link)
            from tracespec.runtime.cgroup import resolve_cgroup
            try:
                cid = resolve_cgroup(cgroup)[1]
            except TracespecError:
                cid = None
            with self.lock:
                found = [r for r in self.recorders.values() if r.cgroup_id == cid]
        if not found:
            what = f"name {json.dumps(name)}" if name is not None else f"cgroup {json.dumps(cgroup)}"
            raise RequestError(f"prog with {what} not found", 404)
        return min(found, key=lambda r: r.id)

    def close(self, r: Recorder) -> None:
        with r.lock:
            if r.closed:
                return
            r.closed = True
            with self.lock:
                self.recorders.pop(r.id, None)
                self.by_cgroup.pop(r.cgroup_id, None)
            r.spec.program.remove(r.cgroup_id, r.slot)

    def list(self) -> list[Recorder]:
        with self.lock:
            return sorted(self.recorders.values(), key=lambda r: r.id)

    def status(self, r: Recorder) -> dict:
        counts = r.spec.program.read_counts(r.slot)
        fill = r.spec.program.fill(r.slot)
        return {"id": r.id, "name": r.name, "cgroup": r.cgroup, "cgroup_id": r.cgroup_id, "spec": r.spec.name,
                "cgroup_exists": os.path.isdir(r.cgroup), "buffer_bytes": r.buffer_bytes,
                "buffer_used_bytes": fill[0], "bytes_overwritten": fill[1], "syscalls": counts.syscalls,
                "errors": counts.errors, "lost": counts.lost, "dumps": r.dumps, "created": r.created}

    # -- dumps ------------------------------------------------------------------------------------------

    def dump(self, r: Recorder, reason: str, until: int = 0) -> DumpResult:
        with r.lock:
            if r.closed:
                raise RequestError("invalid index", 404)
            records = r.spec.program.snapshot(r.slot)
            r.dumps += 1
            number = r.dumps
            lost = r.spec.program.read_counts(r.slot).lost
        if until:  # a cause's dump ends with it: the programs went on while it reached user space
            records = [x for x in records if not isinstance(x, (bytes, bytearray)) or _TS.unpack_from(x)[0] <= until]
        stream = EventStream(r.spec.decode, r.spec.program.plan.schema)
        stream.push([x for x in records if isinstance(x, (bytes, bytearray))])
        stream.push_records([x for x in records if not isinstance(x, (bytes, bytearray))])
        events = stream.finish()
        return DumpResult(number, reason, events, records, lost + stream.undecodable)

    def render(self, r: Recorder, d: DumpResult, fmt: str) -> bytes:
        """The dump as `record` writes one: text or JSON Lines framed by the dump's line, or a trace file."""
        spec = r.spec
        if fmt == "bin":
            from tracespec.format.binary import BinWriter

            out = io.BytesIO()
            w = BinWriter(out, spec.program.plan.schema.to_json(), spec.path, spec.text, self.offset, spec.fd_paths,
                          r.initial_fds, initial_cwds=r.initial_cwds)
            w.write_raw(d.records, None)
            w.finish(d.lost, None)
            return out.getvalue()
        from tracespec.format.jsonl import JsonWriter
        from tracespec.format.text import TextOptions, TextWriter

        out = io.StringIO()
        head = f"recorder {r.id} [{r.name}] {r.cgroup}: {d.reason}"
        if fmt == "json":
            out.write(json.dumps({"dump": d.number, "recorder": r.id, "name": r.name, "cgroup": r.cgroup,
                                  "reason": d.reason}) + "\n")
            writer = JsonWriter(out, self.offset)
        else:
            out.write(f"=== dump {d.number}: {head} ===\n")
            # a dump's events begin where the buffers' reach does: a descriptor the start lacks is asked of /proc
            writer = TextWriter(out, TextOptions(fd_paths=spec.fd_paths, live=True, initial_fds=r.initial_fds,
                                                 initial_cwds=r.initial_cwds, initial_complete=False), self.offset)
        writer.write(d.events)
        writer.finish(d.lost)
        if fmt == "text":
            out.write(f"=== end of dump {d.number}: {writer.syscalls} syscalls, {d.lost} records lost ===\n")
        return out.getvalue().encode("utf-8", "surrogateescape")

    # -- triggers and deaths ----------------------------------------------------------------------------

    def watch(self) -> None:
        """Until stop: read the control buffers; dump the recorders whose trigger held or whose process
        was killed by a signal."""
        for s in self.specs:
            s.reader = PerfReader(s.program.loaded.bpf, "ts_control", CONTROL_PAGES)
        while not self.stopping.is_set():
            for s in self.specs:
                try:
                    s.reader.wait(0.1 if len(self.specs) == 1 else 0.02)
                    self._consume(s)
                except Exception as e:  # noqa: BLE001 - the daemon outlives any one dump's failure
                    self.notice(f"a dump on a trigger failed: {type(e).__name__}: {e}")

    def _consume(self, s: Spec) -> None:
        causes: dict[int, tuple[list[str], int]] = {}
        for rec in s.reader.drain():
            if not isinstance(rec, (bytes, bytearray)) or len(rec) < CONTROL.size:
                if getattr(rec, "count", 0):
                    self.notice(f"{rec.count} trigger or death notices lost: their dumps are not written")
                continue
            ts, tgid, tid, nr, kind, slot, value = CONTROL.unpack_from(rec)
            reasons, until = causes.setdefault(slot, ([], 0))
            reasons.append(self._reason(s, kind, tgid, tid, nr, value))
            causes[slot] = (reasons, max(until, ts))
        for slot, (reasons, until) in causes.items():
            with self.lock:
                r = next((x for x in self.recorders.values() if x.spec is s and x.slot == slot), None)
            if r is not None:
                self.dump_to_dir(r, "; ".join(dict.fromkeys(x for x in reasons if x)), until)

    @staticmethod
    def _reason(s: Spec, kind: int, tgid: int, tid: int, nr: int, value: int) -> str:
        c = constants()
        if kind == CONTROL_TRIGGER:
            names = {i.nr: i.name for i in s.program.plan.schema.syscalls}
            result = f"-1 {c.errno_name(-value)}" if -4096 < value < 0 else str(value)
            return f"trigger: {names.get(nr, f'syscall_{nr:#x}')} = {result} (pid {tid})"
        if kind == CONTROL_KILLED:
            sig = value & 0x7F
            return f"process {tgid} killed by {c.signal_name(sig) or sig}"
        return ""

    def dump_to_dir(self, r: Recorder, reason: str, until: int = 0) -> str | None:
        if self.dump_dir is None:
            self.notice(f"recorder {r.id}: {reason}: no dump written (start serve with --dump-dir)")
            return None
        try:
            d = self.dump(r, reason, until)
        except RequestError:
            return None  # closed meanwhile
        ext = {"text": "txt", "json": "jsonl", "bin": "tsb"}[self.dump_format]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", r.name)[:64] or "recorder"
        path = os.path.join(self.dump_dir, f"{r.id}-{safe}.{d.number}.{ext}")
        data = self.render(r, d, self.dump_format)
        tmp = path + ".part"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        files = self.written.setdefault(r.id, [])
        files.append(path)
        while len(files) > self.keep:
            try:
                os.unlink(files.pop(0))
            except OSError:
                pass
        self.notice(f"recorder {r.id} [{r.name}]: dump {d.number} ({reason}): {path}")
        return path

    # -- the end ----------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self.stopping.set()
        for r in self.list():
            self.close(r)
        for s in self.specs:
            s.program.close()


def load_specs(paths: list[str], max_recorders: int, kernel: str | None = None) -> list[Spec]:
    """Compile and load each spec once, for recorders of cgroups to come."""
    from tracespec.pipeline import compile_spec
    from tracespec.plan.model import ServePlan, Target
    from tracespec.runtime import loader
    from tracespec.spec import load_spec

    from tracespec.runtime.bpfsys import possible_cpus

    cpus = max(possible_cpus()) + 1
    out: list[Spec] = []
    names: set[str] = set()
    try:
        for path in paths:
            spec = load_spec(path)
            compiled = compile_spec(spec, kernel, Target(kind="cgroup", follow=False), recorder_bytes=0,
                                    cpus=cpus, serve=ServePlan(max_recorders, cpus))
            loaded = loader.load(compiled.plan, compiled.c_source)
            try:
                loaded.attach()
            except BaseException:
                loaded.close()
                raise
            name = os.path.splitext(os.path.basename(path))[0]
            while name in names:
                name += "_"
            names.add(name)
            out.append(Spec(name, path, compiled.validated.spec.text, ServedProgram(loaded),
                            load_decoder(compiled.plan.schema), compiled.validated.spec.fd_paths))
    except BaseException:
        for s in out:
            s.program.close()
        raise
    return out


def notice(text: str) -> None:
    try:
        sys.stderr.write(f"tracespec serve: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
