"""strace's decoding of the memory an argument points to, by operation (fcntl's locks and owners,
ioctl's terminal structs, futex's timeouts, prctl's names, signal masks), on the printers of
format/special.py given synthetic copies: what a faulted, missing or short copy prints, a failed call,
the styles; the layouts checked against the headers."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from tracespec.decode.events import SyscallEvent
from tracespec.format.special import special
from tracespec.format.values import Style, constants, structs
from tracespec.wire.records import EnterRecord, ExitRecord, Slot
from tracespec.wire.layout import SLOT_FAULT
from tracespec.pipeline import compile_spec

C = constants().values
VERBOSE, RAW = Style(xlat="verbose"), Style(xlat="raw")
FAULT = Slot(b"", SLOT_FAULT >> 16)
SYSCALLS = ["fcntl"]


@lru_cache(maxsize=1)
def infos() -> dict:
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "memory.yaml"
        spec.write_text("version: 1\nsyscalls: [" + ", ".join(SYSCALLS) + "]\n")
        return {s.name: s for s in compile_spec(str(spec), kernel="6.1").plan.schema.syscalls}


def call(name: str, args: tuple, ret: int | None, entry: dict | None = None, exit_: dict | None = None) -> SyscallEvent:
    """An event of `name` with the copies made at entry and (over them) at exit; ret None: unfinished."""
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    enter = EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", full, ())
    done = None if ret is None else ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ())
    entry = entry or {}
    return SyscallEvent(info, info.nr, 1, 1, "t", enter, done, full, {**entry, **(exit_ or {})}, entry)


def flock(l_type: int, whence: int, start: int, length: int, pid: int = 0) -> Slot:
    return Slot(struct.pack("<hh4xqqi4x", l_type, whence, start, length, pid), 0)


def test_fcntl_setlk_shows_the_lock_read_at_entry_even_when_it_fails():
    ev = call("fcntl", (3, C["F_SETLK"], 0x7000), -9, {"arg": flock(0, 0, 0, 0)})
    assert special(ev)[0] == "3, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=0}"
    ev = call("fcntl", (3, C["F_OFD_SETLKW"], 0x7000), 0, {"arg": flock(1, 2, -5, 100)})
    assert special(ev, VERBOSE)[0] == ("3, 0x26 /* F_OFD_SETLKW */, {l_type=0x1 /* F_WRLCK */, "
                                       "l_whence=0x2 /* SEEK_END */, l_start=-5, l_len=100}")
    ev = call("fcntl", (3, C["F_SETLK"], 0x7000), 0, {"arg": flock(9, 7, 0, 0)})
    assert special(ev)[0] == "3, F_SETLK, {l_type=0x9 /* F_??? */, l_whence=0x7 /* SEEK_??? */, l_start=0, l_len=0}"


def test_fcntl_lock_that_could_not_be_read_is_its_address():
    assert special(call("fcntl", (3, C["F_SETLKW"], 0x8), -14, {"arg": FAULT}))[0] == "3, F_SETLKW, 0x8"
    assert special(call("fcntl", (3, C["F_SETLK"], 0), -14, {"arg": FAULT}))[0] == "3, F_SETLK, NULL"
    short = Slot(b"\0" * 8, 0)
    assert special(call("fcntl", (3, C["F_SETLK"], 0x7000), 0, {"arg": short}))[0] == "3, F_SETLK, 0x7000"


def test_fcntl_getlk_shows_the_lock_written_back_with_its_pid_when_it_returns():
    ev = call("fcntl", (3, C["F_GETLK"], 0x7000), 0, {"arg": flock(1, 1, 10, 100)}, {"arg": flock(2, 1, 10, 100, 77)})
    assert special(ev) == ("3, F_GETLK", ", {l_type=F_UNLCK, l_whence=SEEK_CUR, l_start=10, l_len=100, l_pid=77}",
                           None)
    failed = call("fcntl", (3, C["F_OFD_GETLK"], 0x7000), -22, {"arg": flock(1, 1, 10, 100)})
    assert special(failed)[1] == ", 0x7000", "a failed call wrote nothing: strace shows the address"
    unfinished = call("fcntl", (3, C["F_GETLK"], 0x7000), None, {"arg": flock(1, 1, 10, 100)})
    assert special(unfinished)[:2] == ("3, F_GETLK", "")


def test_fcntl_owner_ex():
    owner = Slot(struct.pack("<ii", 0, 4242) + b"\0" * 24, 0)
    assert special(call("fcntl", (3, C["F_SETOWN_EX"], 0x7000), 0, {"arg": owner}))[0] == \
        "3, F_SETOWN_EX, {type=F_OWNER_TID, pid=4242}"
    got = call("fcntl", (3, C["F_GETOWN_EX"], 0x7000), 0, {"arg": Slot(b"\0" * 32, 0)},
               {"arg": Slot(struct.pack("<ii", 2, 99) + b"\0" * 24, 0)})
    assert special(got)[1] == ", {type=F_OWNER_PGRP, pid=99}"
    assert special(call("fcntl", (3, C["F_SETOWN_EX"], 0x7000), 0, {"arg": Slot(struct.pack("<ii", 77, 1), 0)}),
                   RAW)[0] == "3, 0xf, {type=0x4d, pid=1}"


def test_fcntl_number_arguments_ignore_the_copy_made_in_case():
    assert special(call("fcntl", (3, C["F_SETFD"], 1), 0, {"arg": FAULT}))[0] == "3, F_SETFD, FD_CLOEXEC"
    assert special(call("fcntl", (3, C["F_SETLEASE"], 4), 0, {"arg": FAULT}))[0] == "3, F_SETLEASE, F_EXLCK"


HEADERS = {"flock": ("fcntl.h", "struct flock"), "f_owner_ex": ("fcntl.h", "struct f_owner_ex")}
WIDTHS = {"u8": 1, "u16": 2, "s16": 2, "u32": 4, "s32": 4, "u64": 8, "s64": 8}


def test_layouts_match_the_headers(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (./setup installs gcc)"
    for header in sorted({h for h, _ in HEADERS.values()}):
        names = [n for n, (h, _) in HEADERS.items() if h == header]
        prog = f"#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n#include <{header}>\nint main(void) {{\n"
        for name in names:
            ctype = HEADERS[name][1]
            prog += f'printf("{name} %zu\\n", sizeof({ctype}));\n'
            for f in structs()[name].fields:
                prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof({ctype}, {f.name}), '
                         f'sizeof((({ctype} *)0)->{f.name}));\n')
        prog += "return 0;\n}\n"
        src = tmp_path / "p.c"
        src.write_text(prog)
        subprocess.run([cc, "-o", str(tmp_path / "p"), str(src)], check=True, capture_output=True)
        out = dict(line.split(" ", 1) for line in subprocess.run([str(tmp_path / "p")], check=True, text=True,
                                                                  capture_output=True).stdout.splitlines())
        for name in names:
            layout = structs()[name]
            assert int(out[name]) == layout.size, name
            for f in layout.fields:
                width = int(f.type[1:]) if f.type.startswith("c") else WIDTHS[f.type]
                assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, width), f"{name}.{f.name}"
