"""execve under -v (abbrev: false): strace prints argv whole, and the environment's strings instead of
their count; the plan copies both as string vectors of COUNT_MAX strings (argv: or the spec's count)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tracespec.catalogue import Capture
from tracespec.decode.events import SyscallEvent
from tracespec.format.args import render
from tracespec.format.values import Style
from tracespec.pipeline import compile_spec
from tracespec.spec.parse import COUNT_MAX, DEFAULT_COUNT
from tracespec.validate.validator import ENVP_STRINGS_UNROLLED
from tracespec.wire.layout import SLOT_FAULT, SLOT_TRUNCATED
from tracespec.wire.records import EnterRecord, ExitRecord, Slot

ADDR = 0x7FFC0000


def _compiled(text: str, kernel: str = "6.1"):
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "exec.yaml"
        spec.write_text("version: 1\n" + text)
        return compile_spec(str(spec), kernel=kernel).plan


def _slots(text: str, kernel: str = "6.1") -> dict[str, tuple]:
    plan = _compiled(text, kernel)
    fam = next(f for f in plan.families if any(m.name == "execve" for m in f.members))
    return {s.arg: (s.capture, s.count) for s in fam.enter.slots}


def test_v_copies_argv_and_envp_whole():
    assert _slots("syscalls: [execve]\n")["argv"] == (Capture.STRV, DEFAULT_COUNT)
    assert _slots("syscalls: [execve]\n")["envp"][0] == Capture.PTRCOUNT
    verbose = _slots("abbrev: false\nsyscalls: [execve]\n")
    assert verbose["argv"] == (Capture.STRV, COUNT_MAX)
    assert verbose["envp"] == (Capture.STRV, COUNT_MAX)
    own = _slots("abbrev: false\nsyscalls:\n  - name: execve\n    args: {argv: {count: 5}}\n")
    assert own["argv"] == (Capture.STRV, 5) and own["envp"] == (Capture.STRV, COUNT_MAX)
    old = _slots("abbrev: false\nsyscalls: [execve]\n", "4.19")  # unrolled loops: what fits 4,096 instructions
    assert old == {"filename": old["filename"], "argv": (Capture.STRV, DEFAULT_COUNT),
                   "envp": (Capture.STRV, ENVP_STRINGS_UNROLLED)}


def _envp_text(slot: Slot) -> str:
    plan = _compiled("abbrev: false\nsyscalls: [execve]\n")
    info = next(s for s in plan.schema.syscalls if s.name == "execve")
    args = (0x1000, 0x2000, ADDR)
    ev = SyscallEvent(info, info.nr, 1, 1, "t", EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", args, ()),
                      ExitRecord(1, 1, 1, info.nr, 0, 0, 0, ()), args, {"envp": slot}, {})
    return render(info.args[2], ADDR, ev, None, Style(verbose=True))


def test_a_copied_environment_prints_as_strace_v_prints_it():
    strings = (Slot(b"A=1", 0), Slot(b"LONG=0123456789", SLOT_TRUNCATED >> 16))
    assert _envp_text(Slot(strings, 0)) == '["A=1", "LONG=0123456789"...]'
    assert _envp_text(Slot(strings, SLOT_TRUNCATED >> 16)) == '["A=1", "LONG=0123456789"..., ...]'
    assert _envp_text(Slot((), 0)) == "[]"
    assert _envp_text(Slot((), SLOT_FAULT >> 16)) == f"{ADDR:#x}"  # unreadable: the address
    assert _envp_text(Slot((Slot(b"A=1", 0),), SLOT_FAULT >> 16)) == '["A=1", ...]'  # read in part
