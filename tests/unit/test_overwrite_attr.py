"""The flight recorder's perf buffers (runtime/overwrite.py): overwritable, and never a wakeup per record
(what that cost a recorded syscall is measured by bench/serve_cost.py; this checks the setting)."""

from __future__ import annotations

import struct

from tracespec.runtime.overwrite import PERF_ATTR_SIZE, WRITE_BACKWARD, backward_event_attr

WATERMARK = 1 << 14  # perf_event_attr flag bit: wakeup_watermark instead of wakeup_events


def test_overwritable_buffers_wake_nobody_per_record():
    attr = backward_event_attr()
    assert len(attr) == PERF_ATTR_SIZE
    (flags,) = struct.unpack_from("<Q", attr, 40)
    (wakeup,) = struct.unpack_from("<I", attr, 48)  # wakeup_events (or wakeup_watermark with WATERMARK)
    assert flags & WRITE_BACKWARD and not flags & WATERMARK
    assert wakeup == 0
