"""One tracing run: load, start or find the targets, drain buffers until done, shut down cleanly."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from tracespec.decode.order import SLACK_NS
from tracespec.decode.stream import EventStream
from tracespec.plan.model import Output, Plan, TargetKind
from tracespec.runtime import preflight
from tracespec.runtime.loader import Loaded, PendingLoad, plan_cgroup_ids
from tracespec.runtime.perfbuf import PerfReader
from tracespec.runtime.ringbuf import RingReader
from tracespec.runtime.summary import SummaryMaps
from tracespec.runtime.targets import GatedCommand, WatchedProcess, check_pids, resolve_command
from tracespec.session.writers import Writer
from tracespec.wire.records import LostRecord

POLL_SECONDS = 0.1
TEXT_CHUNK_BYTES = 1 << 20  # records drained at a time to be decoded (text, JSON), about 7,700 syscalls
RAW_CHUNK_BYTES = 64 << 10  # a binary trace's chunks of ring-buffer records hold about this much
# After SIGINT or SIGTERM, tracespec passes the signal on to the command it started (as strace does) and
# traces it this much longer, to show how it ends.
COMMAND_GRACE_SECONDS = 2.0
STATUS_EVERY_S = 0.1  # while a backlog drains, the status line is updated between chunks this often at most


@dataclass
class RunResult:
    exit_code: int
    lost: int  # records the kernel could not deliver, and records that could not be decoded
    syscalls: int | None  # None for a binary trace: its records are counted when decoded


class Session:
    def __init__(self, plan: Plan, c_source: str, decode, writer: Writer | None, *, command: list[str] | None = None,
                 pids: list[int] | None = None, tracefs: str | None = None, notice=None, status=None,
                 interval: float | None = None):
        self.plan = plan
        self.c_source = c_source
        self.decode = decode
        self.writer = writer
        self.command = command
        self.pids = pids or []
        self.tracefs = tracefs
        self.stop_signal: int | None = None
        self.signals = 0
        self.notice = notice or (lambda text: None)  # one line for the user (attached, stopping...)
        self.status = status  # a live status line, or None
        self.interval = interval  # summaries: seconds between them (None: one at the end)
        self.summary: SummaryMaps | None = None
        self.status_at = 0.0  # when the status line was last given the counts
        self._started = False
        self._failed: Exception | None = None  # what start() found, raised by run()
        self.path: str | None = None
        self.watched = []
        self.pending: PendingLoad | None = None

    def _on_signal(self, signum, frame):
        self.stop_signal = signum
        self.signals += 1

    def start(self) -> None:
        """Check the machine and the targets, and start BCC's compile in the background: the caller
        goes on with what the compile does not need (the decoder, the output) until run(). An error
        found here is raised by run(), where it would have been raised had both been one call; the
        caller must then cancel() if it gives up before run()."""
        if self._started:
            return
        self._started = True
        try:
            preflight.check_all(self.tracefs)
            self.path = resolve_command(self.command) if self.command is not None else None
            cgroup_ids = plan_cgroup_ids(self.plan)
            # held from here on: a process that ends while the program compiles is still seen to end
            self.watched = [WatchedProcess(pid) for pid in (check_pids(self.pids) if self.pids else [])]
        except Exception as e:
            self._failed = e
            return
        self.pending = PendingLoad(self.plan, self.c_source, cgroup_ids)

    def cancel(self) -> None:
        """Give up a start() (an error): the compile is waited for and what it loaded released; the
        processes are let go."""
        if self.pending is not None:
            self.pending.cancel()
        for w in self.watched:
            w.close()

    def abandon(self) -> None:
        """Give up a start() at once (Ctrl-C): the compile is not waited for (see PendingLoad.abandon)."""
        if self.pending is not None:
            self.pending.abandon()
        for w in self.watched:
            w.close()

    def run(self) -> RunResult:
        self.start()
        try:
            if self._failed is not None:
                raise self._failed
            return self._run(self.path, [w.pid for w in self.watched])
        except KeyboardInterrupt:
            self.abandon()
            raise
        finally:
            self.cancel()  # nothing left to cancel after _run, but the processes' descriptors

    def _run(self, path: str | None, pids: list[int]) -> RunResult:
        loaded = self.pending.result()
        self.loaded = loaded
        self.lost_seen = 0
        if self.plan.summary is not None:
            self.summary = SummaryMaps(loaded.bpf, self.plan, loaded.set_param)
        child = None
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if path is not None:
                child = GatedCommand(path, self.command)
                loaded.add_target(child.fork(), armed=True)
            for pid in pids:
                loaded.add_target(pid)
            try:
                self._prepare(loaded)
                loaded.attach()
            except BaseException:
                if child is not None:
                    child.cancel()
                raise
            # A perf buffer drops what the programs write before its reader opens it; a ring buffer
            # holds it from the moment it exists, so mapping it (~20 ms for the default 128 MiB) waits
            # until the command has been let go
            reader = None if self.plan.output == Output.RINGBUF else self._reader(loaded)
            if child is not None:
                child.release()
            if reader is None:
                reader = self._reader(loaded)
            gone = self._drop_missed_exits(loaded)
            for w in self.watched:
                if w.pid not in gone:
                    self.notice(f"process {w.pid} attached")
            if self.plan.target.kind in (TargetKind.ALL, TargetKind.CGROUP, TargetKind.COMM):
                self.notice("tracing started; stop with Ctrl-C or SIGTERM")
            try:
                self._loop(loaded, reader, child)
                return self._finish(loaded, reader, child)
            except BaseException:
                if child is not None and not child.poll():
                    self.notice(f"{self.command[0]} (pid {child.pid}) goes on, untraced")
                raise
        finally:
            loaded.close()
            for s, h in old.items():
                signal.signal(s, h)

    def _prepare(self, loaded: Loaded) -> None:
        """Last set-up before the probes go live (a recorder installs its buffers here)."""

    def _reader(self, loaded: Loaded):
        if self.plan.output == Output.RINGBUF:
            return RingReader(loaded.events_fd(), self.plan.ring_pages * 4096)
        return PerfReader(loaded.bpf, "ts_events", self.plan.ring_pages, report_lost=False)

    def _lost_marks(self) -> list[LostRecord]:
        """A mark for the records the program could not write since the last look, placed after those
        already in the buffer (a full buffer refuses what comes after them)."""
        now = time.monotonic_ns()
        total = self.loaded.lost()
        if total <= self.lost_seen:
            return []
        mark = LostRecord(now, -1, total - self.lost_seen)
        self.lost_seen = total
        return [mark]

    def _consume(self, reader) -> None:
        marks = self._lost_marks()
        if self.writer.raw:  # a binary trace: written as drained, decoded later
            watermark = time.monotonic_ns() - SLACK_NS
            # in chunks of bounded size: a disk filling up cuts the trace at the last whole chunk. The
            # watermark comes after the last: records still in the buffer may be older than it
            budget = self.plan.ring_pages * 4096
            while budget > 0:
                drained = reader.drain_raw(RAW_CHUNK_BYTES)
                if not drained:
                    break
                budget -= len(drained) if isinstance(drained, (bytes, bytearray)) else budget
                self.writer.write_raw(drained, None)
                self._update_status()
            self.writer.write_raw(marks or b"", watermark)
            return
        self.stream.push_records(marks)
        # In stretches of bounded size, each decoded and written before the next is copied: a backlog
        # stays in the ring, not in this process's memory, and small batches decode faster (measured
        # with bench/sustained.py: 200k getppid/s kept up, 220k/s written when behind, against 100k and
        # 135k with the whole ring at once). About a ring's worth per call, so that signals and the
        # child are seen; that is at least all the ring held when the call began, as the last call, in
        # _finish, must take.
        budget = self.plan.ring_pages * 4096 + TEXT_CHUNK_BYTES
        while budget > 0:
            watermark = time.monotonic_ns() - SLACK_NS  # the clock, then the drain (see decode/order.py)
            drained = reader.drain(TEXT_CHUNK_BYTES)
            if not drained:  # all drained: what is held and older than the clock's watermark can go
                events = self.stream.release(watermark)
                if events:
                    self.writer.write(events)
                break
            budget -= TEXT_CHUNK_BYTES
            last = self.stream.push(drained)
            # The drain may have stopped short: what is still in the ring was written after the last
            # record drained, so nothing older than it, less the slack, can come any more (one ring
            # buffer keeps the order records were made in). Perf buffers drain whole: last is newer.
            events = self.stream.release(watermark if last is None else min(watermark, last - SLACK_NS))
            if events:
                self.writer.write(events)
            self._update_status()  # a backlog takes many chunks: the line keeps moving meanwhile

    def _update_status(self) -> None:
        """The status line, given the counts at most every STATUS_EVERY_S (it shows them once a second)."""
        if self.status is None:
            return
        now = time.monotonic()
        if now - self.status_at >= STATUS_EVERY_S:
            self.status_at = now
            self.status.update(self._count(), self.loaded.lost())

    def _loop(self, loaded: Loaded, reader, child: GatedCommand | None) -> None:
        self.stream = EventStream(self.decode, self.plan.schema)
        child_done_at = None
        forwarded_at = None
        next_summary = time.monotonic() + self.interval if self.interval else None
        while True:
            reader.wait(POLL_SECONDS)
            self._consume(reader)
            self._flush_writer()
            if next_summary is not None and time.monotonic() >= next_summary:
                next_summary += self.interval
                if self.status is not None:
                    self.status.clear()
                self.writer.summary(self.summary.take())
            self._update_status()
            if child is not None and child_done_at is None and child.poll():
                child_done_at = time.monotonic()
            if self.stop_signal is not None:
                if child is None or child_done_at is not None or self.signals > 1:
                    break
                if forwarded_at is None:  # as strace does: the command gets the signal too
                    forwarded_at = time.monotonic()
                    try:
                        os.kill(child.pid, self.stop_signal)
                    except ProcessLookupError:
                        pass
                elif time.monotonic() - forwarded_at > COMMAND_GRACE_SECONDS:
                    self.notice(f"{self.command[0]} did not end on signal {self.stop_signal}; leaving it running")
                    break
            elif child_done_at is not None or (child is None and self.pids):
                # like strace -f: go on while any traced process (the command's children too) lives
                self._drop_missed_exits(loaded)
                if loaded.targets_left() <= 0:
                    break
        if self.status is not None:
            self.status.clear()

    def _flush_writer(self) -> None:
        """Once per drain cycle (every POLL_SECONDS at most): what the writer batched goes out now, so a
        quiet target's rare line is not held back until the end."""
        flush = getattr(self.writer, "flush", None)
        if flush is not None and not self.writer.raw:
            flush()

    def _drop_missed_exits(self, loaded: Loaded) -> list[int]:
        """The programs take a process out of the maps when it exits, and that ends the trace; a process
        that ended before they were there to see it (while the program compiled) is taken out here.
        Once a process has ended, the programs have done all they will for it: if it is still in the
        maps, they missed it."""
        gone = []
        for w in self.watched:
            if not w.ended and w.exited() and loaded.is_target(w.pid):
                loaded.drop_target(w.pid)
                self.notice(f"process {w.pid} had already exited, before it could be attached")
                gone.append(w.pid)
        return gone

    def _count(self) -> int:
        return self.writer.bytes if self.writer.raw else self.writer.syscalls

    def _finish(self, loaded: Loaded, reader, child: GatedCommand | None) -> RunResult:
        # The trace ends here: what the kernel wrote before this last drain is in it; what it writes while
        # the probes are being released (close, below) is past the end and never read.
        self._consume(reader)
        if not self.writer.raw:
            self.writer.write(self.stream.finish())
        if self.summary is not None:
            self.writer.summary(self.summary.take())
        # A record that cannot be decoded is as lost as one the kernel dropped: count it the same way. The
        # program counts every record the buffer refused; a perf buffer's own loss reports count the same
        # records again, and only mark where in the trace they went missing.
        lost = loaded.lost() + self.stream.undecodable
        reader.close()
        loaded.close()
        if child is not None and child.poll():
            code = child.exit_code
        elif child is not None and self.stop_signal is not None:
            code = 128 + self.stop_signal
        else:
            code = 0  # processes traced until told to stop: stopping is the normal end
        self.writer.finish(lost, code)
        return RunResult(code, lost, self.writer.syscalls)
