"""Records as the BPF program wrote them, decoded into tuples (immutable and cheap to make)."""

from __future__ import annotations

from typing import NamedTuple, Union

from tracespec.wire.layout import IOVEC_BASE_SIZE, SLOT_ABSENT, SLOT_FAULT, SLOT_TRUNCATED

TRUNCATED = SLOT_TRUNCATED >> 16
FAULT = SLOT_FAULT >> 16
ABSENT = SLOT_ABSENT >> 16


class Slot(NamedTuple):
    """Memory copied for an argument: the bytes, and TRUNCATED / FAULT / ABSENT flags."""

    data: bytes
    flags: int

    @property
    def truncated(self) -> bool:
        return bool(self.flags & TRUNCATED)

    @property
    def fault(self) -> bool:
        return bool(self.flags & FAULT)

    @property
    def absent(self) -> bool:
        return bool(self.flags & ABSENT)


def iovec_base(element: Slot) -> int | None:
    """An iovec element whose bytes were not copied (NULL, or unreadable): its iov_base, which the record
    holds in their place where it had room (wire/layout.IOVEC_BASE_SIZE); None for the others."""
    if (element.fault or element.absent) and len(element.data) == IOVEC_BASE_SIZE:
        return int.from_bytes(element.data, "little")
    return None


class EnterRecord(NamedTuple):
    ts: int
    tgid: int
    tid: int
    nr: int
    kind: int
    flags: int
    comm: bytes
    args: tuple  # raw 64-bit argument values
    slots: tuple  # Slot per captured argument, in layout order


class ExitRecord(NamedTuple):
    ts: int
    tgid: int
    tid: int
    nr: int
    kind: int
    flags: int
    ret: int
    slots: tuple


class ProcExitRecord(NamedTuple):
    """A traced process ended; `code` is the kernel's exit_code (-1 when unknown)."""

    ts: int
    tgid: int
    tid: int
    code: int


class RetryRecord(NamedTuple):
    """Entry copies that faulted, made again when the syscall returned: (enter slot index, Slot) pairs."""

    ts: int
    tgid: int
    tid: int
    nr: int
    slots: tuple


class ExecArgsRecord(NamedTuple):
    """What a successful execve really used: its filename and its arguments, NUL-separated."""

    ts: int
    tgid: int
    tid: int
    nr: int
    filename: "Slot"
    args: "Slot"


class ForkRecord(NamedTuple):
    """A traced process made a child (a process, or a thread of its own)."""

    ts: int
    tgid: int
    tid: int
    child: int


class SignalRecord(NamedTuple):
    """A signal the kernel delivered to a traced task (in the task, as it dequeued it): the signal's
    number and its siginfo's bytes, as the kernel's struct kernel_siginfo holds them."""

    ts: int
    tgid: int
    tid: int
    sig: int
    info: bytes
    sent: int = 0  # a signal sent that the task, unptraced, never takes: why (wire/layout.py's SIGSENT_*)


class SigframeRecord(NamedTuple):
    """Read at rt_sigreturn's entry from the signal frame: the mask it restores and the rax it restores
    (its return value, which no exit record reports)."""

    ts: int
    tgid: int
    tid: int
    mask: int
    rax: int


class LostRecord(NamedTuple):
    """Records the kernel could not deliver (perf buffer overflow), reported where they were lost."""

    ts: int
    cpu: int
    count: int


Record = Union[EnterRecord, ExitRecord, ProcExitRecord, RetryRecord, ExecArgsRecord, ForkRecord, SignalRecord,
               SigframeRecord, LostRecord]
