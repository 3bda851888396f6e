"""One tracing run: load, start or find the targets, drain buffers until done, shut down cleanly."""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass

from tracespec.decode.events import Pairer
from tracespec.decode.order import SLACK_NS, Reorder
from tracespec.errors import TracespecError
from tracespec.plan.model import Plan
from tracespec.runtime import preflight
from tracespec.runtime.loader import Loaded, load
from tracespec.runtime.perfbuf import PerfReader
from tracespec.runtime.ringbuf import RingReader
from tracespec.runtime.targets import GatedCommand, check_pids, resolve_command

POLL_SECONDS = 0.1


@dataclass
class RunResult:
    exit_code: int
    lost: int  # records the kernel could not deliver, and records that could not be decoded
    syscalls: int


class Session:
    def __init__(self, plan: Plan, c_source: str, decode, writer, *, command: list[str] | None = None,
                 pids: list[int] | None = None, tracefs: str | None = None):
        self.plan = plan
        self.c_source = c_source
        self.decode = decode
        self.writer = writer
        self.command = command
        self.pids = pids or []
        self.tracefs = tracefs
        self.stop_signal: int | None = None
        self.undecodable = 0
        self.count = 0

    def _on_signal(self, signum, frame):
        self.stop_signal = signum

    def run(self) -> RunResult:
        bcc = preflight.check_all(self.tracefs)
        path = resolve_command(self.command) if self.command is not None else None
        pids = check_pids(self.pids) if self.pids else []
        loaded = load(bcc, self.plan, self.c_source)
        child = None
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if path is not None:
                child = GatedCommand(path, self.command)
                loaded.add_target(child.fork(), armed=True)
            for pid in pids:
                loaded.add_target(pid)
            try:
                loaded.attach()
            except BaseException:
                if child is not None:
                    child.cancel()
                raise
            reader = self._reader(loaded)
            if child is not None:
                child.release()
            self._loop(loaded, reader, child)
            return self._finish(loaded, reader, child)
        finally:
            loaded.close()
            for s, h in old.items():
                signal.signal(s, h)

    def _reader(self, loaded: Loaded):
        if self.plan.output == "ringbuf":
            return RingReader(loaded.events_fd(), self.plan.ring_pages * 4096)
        return PerfReader(loaded.bpf, "ts_events", self.plan.ring_pages)

    def _consume(self, reader, reorder: Reorder, pairer: Pairer, final: bool = False) -> None:
        watermark = time.monotonic_ns() - SLACK_NS
        raw = reader.drain()
        decode = self.decode
        records = []
        for r in raw:
            if isinstance(r, (bytes, bytearray, memoryview)):
                try:
                    records.append(decode(r))
                except ValueError:
                    self.undecodable += 1
            else:
                records.append(r)
        reorder.push(records)
        ready = reorder.release_all() if final else reorder.release(watermark)
        if ready:
            self.writer.write(pairer.feed(ready))

    def _loop(self, loaded: Loaded, reader, child: GatedCommand | None) -> None:
        self.reorder = Reorder()
        self.pairer = Pairer(self.plan.schema)
        child_done_at = None
        while self.stop_signal is None:
            reader.wait(POLL_SECONDS)
            self._consume(reader, self.reorder, self.pairer)
            if child is not None and child.poll() and child_done_at is None:
                child_done_at = time.monotonic()
            if child_done_at is not None or (child is None and self.pids):
                # like strace -f: go on while any traced process (the command's children too) lives
                if loaded.targets_left() == 0:
                    break

    def _finish(self, loaded: Loaded, reader, child: GatedCommand | None) -> RunResult:
        # The trace ends here: what the kernel wrote before this last drain is in it; what it writes while
        # the probes are being released (close, below) is past the end and never read.
        self._consume(reader, self.reorder, self.pairer, final=True)
        self.writer.write(self.pairer.finish())
        # A record that cannot be decoded is as lost as one the kernel dropped: count it the same way.
        lost = loaded.lost() + getattr(reader, "lost_total", 0) + self.undecodable
        reader.close()
        loaded.close()
        self.writer.finish(lost)
        if child is not None and child.poll():
            code = child.exit_code
        elif self.stop_signal is not None:
            code = 128 + self.stop_signal
        else:
            code = 0
        return RunResult(code, lost, self.writer.syscalls)
