"""Raw records to syscall events, in time order: the decoding a live trace and a replayed binary trace share."""

from __future__ import annotations

from tracespec.decode.events import Pairer
from tracespec.decode.order import Reorder
from tracespec.plan.model import Schema


class EventStream:
    """Decode each raw record, hold records until a watermark says none older can still come, pair them.

    A record the decoder refuses is counted in `undecodable`: it is as lost as one the kernel dropped.
    """

    def __init__(self, decode_all, schema: Schema):
        self.decode_all = decode_all
        self.reorder = Reorder()
        self.pairer = Pairer(schema)
        self.undecodable = 0

    def push(self, raw) -> int | None:
        """Records as drained: bytes to decode. Returns the time of the last one (None if none): a
        buffer drained in part holds records no older than that, within the slack."""
        records: list = []
        self.undecodable += self.decode_all(raw, records)
        self.reorder.push(records)
        return records[-1].ts if records else None

    def push_records(self, records) -> None:
        """Records a reader already made (loss marks)."""
        self.reorder.push(records)

    def release(self, watermark: int) -> list:
        """Events of the records stamped before `watermark` (CLOCK_MONOTONIC ns)."""
        ready = self.reorder.release(watermark)
        events = self.pairer.feed(ready) if ready else []
        return events + self.pairer.release_held(watermark) if self.pairer.held else events

    def finish(self) -> list:
        """Every record left, then the syscalls still in flight as unfinished."""
        return self.pairer.feed(self.reorder.release_all()) + self.pairer.finish()
