"""What a session expects of the writer it is given (format/ provides them). A session branches on
`raw` alone: a raw writer takes the buffers' bytes as drained, to be decoded later (binary traces); the
others take decoded events, and summary writers the summaries as well."""

from __future__ import annotations

from typing import Protocol, Union, runtime_checkable

from tracespec.wire.summary import SummarySnapshot


@runtime_checkable
class EventWriter(Protocol):
    raw: bool  # False
    syscalls: int  # syscalls written so far (the live status line shows it)

    def write(self, items: list) -> None:
        """Decoded events in time order (decode/events.py's items), as a batch."""

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        """The end of the trace: how many records were lost, and how the traced command ended."""


@runtime_checkable
class SummaryWriter(EventWriter, Protocol):
    def summary(self, snap: SummarySnapshot) -> None:
        """One interval's counts (or the whole run's)."""


@runtime_checkable
class RawWriter(Protocol):
    raw: bool  # True
    bytes: int  # bytes written so far
    syscalls: None  # counted when the trace is decoded

    def write_raw(self, drained, watermark: int | None) -> None:
        """One drain (a ring-buffer stretch as bytes, or a perf buffer's list of records and loss
        reports), then the watermark: every record stamped before it has been written (None: more follows)."""

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        """The end of the trace, as EventWriter.finish."""


Writer = Union[EventWriter, SummaryWriter, RawWriter]
