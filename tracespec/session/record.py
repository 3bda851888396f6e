"""`tracespec record`: a tracing run that keeps the latest records in the kernel and writes only dumps.

The records go to overwritable per-CPU buffers (runtime.overwrite) that nothing reads while all is well.
A small control buffer carries what calls for a dump: the spec's trigger matching a syscall's return,
or a traced process killed by a signal. SIGUSR1 asks for one too, and the run ends with a last one
(named after how the command ended). Each dump decodes everything the buffers hold, in time order,
with the syscalls still in flight marked unfinished.
"""

from __future__ import annotations

import signal
import struct
from dataclasses import dataclass

from tracespec.decode.stream import EventStream
from tracespec.format.values import constants
from tracespec.runtime.loader import Loaded
from tracespec.runtime.overwrite import OverwriteBuffers
from tracespec.runtime.perfbuf import PerfReader
from tracespec.session.run import RunResult, Session
from tracespec.wire.layout import CONTROL, CONTROL_KILLED, CONTROL_TRIGGER

CONTROL_PAGES = 8  # per CPU: control records are 32 bytes, and one per poll is enough
_TS = struct.Struct("<Q")  # every record starts with its time


@dataclass(frozen=True)
class Dump:
    """What one dump holds, for the writer of dumps."""

    number: int
    reason: str
    records: list  # raw records (bytes) and loss reports, every CPU's, oldest first per CPU
    events: list  # decoded, in time order
    lost: int  # records lost so far (the kernel could not write them, or control records were missed)


class RecorderSession(Session):
    def __init__(self, *args, dumps, **kw):
        super().__init__(*args, **kw)
        self.dumps = dumps  # takes each Dump
        self.buffers: OverwriteBuffers | None = None
        self.asked = False
        self.count = 0
        self.lost_control = 0
        self.killed_dumped: set[int] = set()  # processes whose death by a signal a dump was made for

    def _on_usr1(self, signum, frame):
        self.asked = True

    def _prepare(self, loaded: Loaded) -> None:
        self.buffers = OverwriteBuffers(loaded.bpf, "ts_events", self.plan.recorder.pages_per_cpu,
                                        self.plan.max_record)
        self.loaded = loaded
        self.old_usr1 = signal.signal(signal.SIGUSR1, self._on_usr1)

    def _reader(self, loaded: Loaded):
        return PerfReader(loaded.bpf, "ts_control", CONTROL_PAGES)

    def _consume(self, reader) -> None:
        reasons = []
        until = 0
        for r in reader.drain():
            if isinstance(r, (bytes, bytearray)) and len(r) >= CONTROL.size:
                ts, tgid, tid, nr, kind, _, value = CONTROL.unpack_from(r)
                reasons.append(self._reason(kind, tgid, tid, nr, value))
                until = max(until, ts)
            else:
                self.lost_control += getattr(r, "count", 0)
        if self.asked:
            self.asked = False
            reasons.insert(0, "SIGUSR1")
            until = 0  # asked now: everything up to now
        if reasons:  # one dump for all that arrived together, ending at the latest cause
            self._dump("; ".join(dict.fromkeys(r for r in reasons if r)), until)

    def _reason(self, kind: int, tgid: int, tid: int, nr: int, value: int) -> str:
        c = constants()
        if kind == CONTROL_TRIGGER:
            names = {i.nr: i.name for i in self.plan.schema.syscalls}
            name = names.get(nr, f"syscall_{nr:#x}")
            result = f"-1 {c.errno_name(-value)}" if -4096 < value < 0 else str(value)
            return f"trigger: {name} = {result} (pid {tid})"
        if kind == CONTROL_KILLED:
            sig = value & 0x7F
            self.killed_dumped.add(tgid)
            return f"process {tgid} killed by {c.signal_name(sig) or sig}"
        return ""

    def _dump(self, reason: str, until: int = 0) -> None:
        """A dump of what the buffers hold; with `until` (a cause's time), only records made before it:
        the programs went on while the cause reached user space."""
        records = self.buffers.snapshot()
        if until:
            records = [r for r in records if not isinstance(r, (bytes, bytearray)) or _TS.unpack_from(r)[0] <= until]
        stream = EventStream(self.decode, self.plan.schema)
        stream.push([r for r in records if isinstance(r, (bytes, bytearray))])
        stream.push_records([r for r in records if not isinstance(r, (bytes, bytearray))])  # loss marks
        events = stream.finish()
        self.count += 1
        lost = self.loaded.lost() + self.lost_control + stream.undecodable
        self.dumps(Dump(self.count, reason, records, events, lost))

    def _finish(self, loaded: Loaded, reader, child) -> RunResult:
        self._consume(reader)
        if child is not None and child.poll():
            code = child.exit_code
            sig = code - 128 if code > 128 else 0
            reason = f"{self.command[0]} killed by {constants().signal_name(sig) or sig}" if sig else \
                f"{self.command[0]} exited with {code}"
        elif self.stop_signal is not None:
            code = 128 + self.stop_signal if child is not None else 0
            reason = f"stopped by {constants().signal_name(self.stop_signal)}"
        else:
            code = 0
            reason = "the traced processes ended"
        if not (child is not None and child.pid in self.killed_dumped):  # else that dump was the last word
            self._dump(reason)
        lost = loaded.lost() + self.lost_control
        reader.close()
        self.buffers.close()
        loaded.close()
        signal.signal(signal.SIGUSR1, self.old_usr1)
        return RunResult(code, lost, None)

