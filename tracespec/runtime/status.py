"""A live status line on a terminal for long traces: elapsed time, events per second, records lost."""

from __future__ import annotations

import time

FIRST_AFTER_S = 1.0  # short traces never show it
EVERY_S = 1.0


class StatusLine:
    def __init__(self, stream, unit: str = "syscalls"):
        self.stream = stream
        self.unit = unit  # what the counts count: syscalls, or bytes for a binary trace
        self.start = time.monotonic()
        self.last_at = self.start
        self.last_count = 0
        self.shown = False

    def update(self, count: int, lost: int) -> None:
        now = time.monotonic()
        if now - self.start < FIRST_AFTER_S or now - self.last_at < EVERY_S:
            return
        rate = (count - self.last_count) / (now - self.last_at)
        self.last_at, self.last_count = now, count
        text = (f"tracespec: {now - self.start:6.1f} s  {count:,} {self.unit}  {rate:,.0f} {self.unit}/s  "
                f"{lost:,} lost")
        self.stream.write("\r\033[K" + text)
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
