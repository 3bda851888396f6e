"""Records built byte for byte the way the generated BPF program writes them, for tests without root.

The schema comes from tests/unit/synthetic.yaml compiled for the 6.1 profile (no running kernel needed);
the bytes follow templates/decoder.py.j2: a 24-byte header (ts, tgid, tid, nr, kind, flags), then for
an enter record comm and the raw arguments, for an exit record the return value, then the slots (an info
word, length | flags << 16, and the bytes, padded as the decoder steps over them).
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache
from pathlib import Path

from tracespec.decode.generated import load_decoder
from tracespec.wire.layout import (FORK_KIND, PROC_EXIT_KIND, RETRY_KIND, SIGFRAME_KIND, SIGINFO_SIZE, SIGNAL_KIND,
                                   SIGSENT_KIND, SLOT_ABSENT,
                                   SLOT_FAULT, SLOT_TRUNCATED)
from tracespec.decode.stream import EventStream
from tracespec.format.jsonl import JsonWriter
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec
from tracespec.plan.model import Schema

SPEC = Path(__file__).with_name("synthetic.yaml")
HEADER = struct.Struct("<QIIIHH")
NR = {"read": 0, "write": 1, "close": 3, "rt_sigreturn": 15, "exit_group": 231, "openat": 257}
AT_FDCWD = -100
O_RDONLY_CLOEXEC = 0o2000000
ERESTARTSYS = -512
FAULT, TRUNCATED, ABSENT = SLOT_FAULT >> 16, SLOT_TRUNCATED >> 16, SLOT_ABSENT >> 16


@lru_cache(maxsize=1)
def schema() -> Schema:
    return compile_spec(str(SPEC), kernel="6.1").plan.schema


@lru_cache(maxsize=1)
def decoder():
    return load_decoder(schema())


def _layout(nr: int, phase: str):
    lays = [lay for lay in schema().layouts if lay.phase == phase]
    return next((lay for lay in lays if nr in lay.nrs), None) or next(lay for lay in lays if lay.name == "*")


def _u64(v: int) -> int:
    return v & 0xFFFFFFFFFFFFFFFF


def slot_bytes(capture: str, data: bytes, flags: int = 0) -> bytes:
    """One slot: strings keep room for their NUL (4-aligned), other memory is 4-aligned."""
    info = struct.pack("<I", len(data) | flags << 16)
    if flags & (FAULT | ABSENT):
        return info
    size = (len(data) + 4) & ~3 if capture == "string" else (len(data) + 3) & ~3
    return info + data.ljust(size, b"\0")


def _slots(lay, slots: dict) -> bytes:
    out = b""
    for s in lay.slots:
        data, flags = slots.get(s.arg, (b"", ABSENT))
        out += slot_bytes(s.capture, data, flags)
    return out


def enter(name: str, tid: int, ts: int, args=(), slots: dict | None = None, *, tgid: int | None = None,
          flags: int = 0, comm: bytes = b"cat") -> bytes:
    """An enter record; `slots` maps the layout's slot names to (bytes, SLOT flags >> 16)."""
    nr = NR[name]
    lay = _layout(nr, "enter")
    raw = [_u64(a) for a in args] + [0] * (len(lay.args) - len(args))
    head = HEADER.pack(ts, tgid or tid, tid, nr, lay.kind, flags)
    return head + struct.pack(f"<16s{len(lay.args)}Q", comm, *raw) + _slots(lay, slots or {})


def exit_(name: str, tid: int, ts: int, ret: int, slots: dict | None = None, *, tgid: int | None = None) -> bytes:
    nr = NR[name]
    lay = _layout(nr, "exit")
    return HEADER.pack(ts, tgid or tid, tid, nr, lay.kind, 0) + struct.pack("<q", ret) + _slots(lay, slots or {})


def proc_exit(tid: int, ts: int, code: int, *, tgid: int | None = None) -> bytes:
    return HEADER.pack(ts, tgid or tid, tid, 0, PROC_EXIT_KIND, 0) + struct.pack("<q", code)


def fork(parent: int, ts: int, child: int) -> bytes:
    return HEADER.pack(ts, parent, parent, 0, FORK_KIND, 0) + struct.pack("<q", child)


def siginfo(signo: int, code: int, errno: int = 0, **union: tuple[int, str, int]) -> bytes:
    """A struct kernel_siginfo: si_signo, si_errno, si_code, then the union's members, each given as
    name=(offset into the struct, struct format, value), e.g. si_pid=(16, "i", 4242)."""
    data = bytearray(struct.pack("<iii", signo, errno, code).ljust(SIGINFO_SIZE, b"\0"))
    for at, fmt, value in union.values():
        struct.pack_into("<" + fmt, data, at, value)
    return bytes(data)


def signal(tid: int, ts: int, sig: int, info: bytes, *, tgid: int | None = None) -> bytes:
    """A signal delivered to a task: the signal in the header's nr, then its siginfo."""
    return HEADER.pack(ts, tgid or tid, tid, sig, SIGNAL_KIND, 0) + info


def sent(tid: int, ts: int, sig: int, info: bytes, why: int, *, tgid: int | None = None) -> bytes:
    """A signal sent to a task that, unptraced, never takes it (why: SIGSENT_IGNORED or SIGSENT_FATAL)."""
    return HEADER.pack(ts, tgid or tid, tid, sig, SIGSENT_KIND, why) + info


def sigframe(tid: int, ts: int, mask: int, rax: int, *, tgid: int | None = None) -> bytes:
    """What rt_sigreturn's signal frame restores, read at its entry: the mask, then rax."""
    return HEADER.pack(ts, tgid or tid, tid, NR["rt_sigreturn"], SIGFRAME_KIND, 0) + struct.pack("<Qq", mask, rax)


def retry(name: str, tid: int, ts: int, slots: dict[int, bytes]) -> bytes:
    """Entry copies made again at exit: enter-slot index -> the bytes copied this time."""
    nr = NR[name]
    lay = _layout(nr, "enter")
    faults = sum(1 << i for i in slots)
    body = b"".join(slot_bytes(lay.slots[i].capture, slots[i]) for i in sorted(slots))
    return HEADER.pack(ts, tid, tid, nr, RETRY_KIND, 0) + struct.pack("<I", faults) + body


def decode(raws: list[bytes]) -> list:
    out: list = []
    bad = decoder()(raws, out)
    assert bad == 0, f"{bad} synthetic records did not decode"
    return out


def items(raws: list[bytes]) -> list:
    """Raw records -> the pairer's items, as a whole trace (`tracespec decode` without watermarks)."""
    stream = EventStream(decoder(), schema())
    stream.push(raws)
    assert stream.undecodable == 0
    return stream.finish()


def text(raws: list[bytes], options: TextOptions = TextOptions(live=False), offset: int = 0) -> str:
    out = io.StringIO()
    w = TextWriter(out, options, offset)
    w.write(items(raws))
    w.finish(0)
    return out.getvalue()


class CheckedJsonWriter(JsonWriter):
    """JsonWriter that also makes each line the slow way, from the dict the exports use, and holds the
    fast one to it: every test that writes JSON checks that the two agree."""

    def line(self, ev, finished: bool) -> str:
        made = super().line(ev, finished)
        assert made == self.dumps(self.event(ev, finished)), made
        return made


def jsonl(raws: list[bytes], offset: int = 0, lost: int = 0) -> str:
    out = io.StringIO()
    w = CheckedJsonWriter(out, offset)
    w.write(items(raws))
    w.finish(lost)
    return out.getvalue()


def opened(tid: int, ts: int, path: bytes, ret: int, *, dur: int = 1000, flags: int = O_RDONLY_CLOEXEC) -> list[bytes]:
    """openat(AT_FDCWD, path, flags) returning `ret`, `dur` ns long."""
    return [enter("openat", tid, ts, (AT_FDCWD, 0x7FFD0000, flags, 0), {"filename": (path, 0)}),
            exit_("openat", tid, ts + dur, ret)]


def read_(tid: int, ts: int, fd: int, data: bytes, count: int = 4096, *, dur: int = 1000) -> list[bytes]:
    return [enter("read", tid, ts, (fd, 0x5000, count)), exit_("read", tid, ts + dur, len(data), {"buf": (data, 0)})]


def close(tid: int, ts: int, fd: int, ret: int = 0, *, dur: int = 1000) -> list[bytes]:
    return [enter("close", tid, ts, (fd,)), exit_("close", tid, ts + dur, ret)]
