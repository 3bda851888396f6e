"""Schema -> the Python decoder matching the generated C (templates/decoder.py.j2).

The decoder is rendered from the record layouts alone, so a binary trace can carry its layouts as data
and be decoded anywhere by rendering the same decoder again; nothing in a trace file is ever executed.
"""

from __future__ import annotations

import re

import tracespec
from tracespec.catalogue.kinds import Capture, Phase
from tracespec.codegen.templates import env
from tracespec.plan.model import RecordLayout, Schema
from tracespec.wire.layout import (ARG_FORMAT, COMM_SIZE, EXEC_ARGS_KIND, FIRST_SPECIAL_KIND, FORK_KIND,
                                   HEADER_FORMAT, HEADER_SIZE, PROC_EXIT_KIND, RET_FORMAT, RETRY_KIND, SLOT_ABSENT,
                                   SIGFRAME_KIND, SIGINFO_SIZE, SIGNAL_KIND, SIGSENT_KIND, SLOT_FAULT,
                                   IOVEC_BASE_SIZE, IOVEC_ELEMENT_HEAD, MAX_SLOTS, element_bytes)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # whole names only: fullmatch
_READERS = {Capture.STRING: "_str_slot", Capture.BUFFER: "_buf_slot", Capture.STRUCT: "_buf_slot",
            Capture.SOCKADDR: "_buf_slot", Capture.STRV: "_strv_slot", Capture.PTRCOUNT: "_ptrcount_slot",
            Capture.IOVEC: "_iov_slot", Capture.FDINODE: "_buf_slot",
            Capture.SOCKENDS: "_buf_slot", Capture.DIRENTS: "_buf_slot"}  # what the kernel holds (catalogue/descriptors.py), as bytes


def _check(lay: RecordLayout) -> None:
    """Layouts may come from a trace file: refuse anything that is not plain names and numbers."""
    if not isinstance(lay.kind, int) or not 0 <= lay.kind < FIRST_SPECIAL_KIND:
        raise ValueError(f"bad record kind {lay.kind!r}")
    if lay.phase not in (Phase.ENTER, Phase.EXIT):
        raise ValueError(f"bad record phase {lay.phase!r}")
    if not all(isinstance(nr, int) and 0 <= nr < 1 << 20 for nr in lay.nrs):
        raise ValueError(f"bad syscall numbers {lay.nrs!r}")
    if not (lay.name == "*" or _IDENT.fullmatch(lay.name)):
        raise ValueError(f"bad syscall name {lay.name!r}")
    if len(lay.args) > 6 or len(lay.slots) > MAX_SLOTS:
        raise ValueError("too many arguments or slots")
    for s in lay.slots:
        # max and count become numbers in the decoder's code (a slot's size), inline decides its shape
        if s.capture not in _READERS or not isinstance(s.max, int) or not 0 <= s.max <= 8192 or \
                not isinstance(s.count, int) or not 0 <= s.count <= 1024 or not isinstance(s.inline, bool):
            raise ValueError(f"bad slot {s!r}")
        if not _IDENT.fullmatch(s.arg):
            raise ValueError(f"bad argument name {s.arg!r}")


def _view(lay: RecordLayout) -> dict:
    _check(lay)
    head = ["ts", "tgid", "tid", "nr", "kind", "flags"]
    fmt = HEADER_FORMAT
    if lay.phase == Phase.ENTER:
        fmt += f"{COMM_SIZE}s" + ARG_FORMAT * len(lay.args)
        names = head + ["comm"] + [f"a{i}" for i in range(len(lay.args))]
    else:
        fmt += RET_FORMAT
        names = head + ["ret"]
    slots = []
    for s in lay.slots:
        sub = element_bytes(s.capture, s.max)
        reader = _READERS[s.capture]
        slots.append({"reader": reader, "inline": s.inline, "bytes": s.bytes,
                      "extra": f", {sub}" if sub else "",
                      "retry_reader": f"lambda mv, pos: {reader}(mv, pos, {sub})" if sub else reader})

    def tup(items):
        return ", ".join(items) + ("," if len(items) == 1 else "")

    return {
        "kind": lay.kind, "nrs": lay.nrs, "name": lay.name, "phase": lay.phase, "fmt": fmt,
        "unpack_names": ", ".join(names), "fixed_size": lay.fixed_size,
        "arg_names": tup([f"a{i}" for i in range(len(lay.args))]),
        "slot_names": tup([f"s{i}" for i in range(len(lay.slots))]),
        "slots": slots, "slot_args": [s.arg for s in lay.slots],
    }


def render_decoder(schema: Schema) -> str:
    views = [_view(lay) for lay in schema.layouts]
    return env().get_template("decoder.py.j2").render(
        version=tracespec.__version__, spec_path=repr(schema.spec_path)[1:-1].replace('"""', "'''"),
        layouts=views, proc_exit_kind=PROC_EXIT_KIND, retry_kind=RETRY_KIND, exec_args_kind=EXEC_ARGS_KIND,
        fork_kind=FORK_KIND, signal_kind=SIGNAL_KIND, sigsent_kind=SIGSENT_KIND, siginfo_size=SIGINFO_SIZE,
        sigframe_kind=SIGFRAME_KIND, skip_flags=hex(SLOT_FAULT | SLOT_ABSENT), header_format=HEADER_FORMAT,
        header_size=HEADER_SIZE, ret_format=RET_FORMAT,
        iov_base_at=IOVEC_ELEMENT_HEAD, iov_base_room=IOVEC_ELEMENT_HEAD + IOVEC_BASE_SIZE)
