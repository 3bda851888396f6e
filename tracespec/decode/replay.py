"""Decode a recorded binary trace: its chunks, in the order they were written, to syscall events."""

from __future__ import annotations

from tracespec.wire.records import LostRecord
from tracespec.decode.stream import EventStream


def replay(chunks, stream: EventStream, write) -> int:
    """Feed ("records" | "watermark" | "lost", value) chunks through `stream`, handing events to `write`
    as watermarks release them, then the rest. Returns the records the chunks report lost."""
    lost = 0
    for kind, value in chunks:
        if kind == "records":
            stream.push(value)
        elif kind == "watermark":
            events = stream.release(value)
            if events:
                write(events)
        elif kind == "lost":
            ts, cpu, count = value
            lost += count
            stream.push_records([LostRecord(ts, cpu, count)])
    write(stream.finish())
    return lost
