"""getdents and getdents64 under -v (format/dirents.py): the entries of synthetic copies as strace's
decode_dents prints them, a copy shorter than what the call returned (the tail printed as strace prints
memory it cannot read), the styles, and the lines render() makes of events; the e2e comparison with
strace is tests/test_e2e_dirents.py."""

from __future__ import annotations

import io
import json
import struct
import tempfile
from pathlib import Path

from synthetic import CheckedJsonWriter
from schemas import syscall_infos
from tracespec.catalogue.dirents import DIRENTS_SLOT
from tracespec.decode.events import Finished, SyscallEvent
from tracespec.format.args import render
from tracespec.format.dirents import entries_text
from tracespec.format.values import Style
from tracespec.pipeline import compile_spec
from tracespec.wire.layout import SLOT_FAULT, SLOT_TRUNCATED
from tracespec.wire.records import EnterRecord, ExitRecord, Slot

V = Style(verbose=True)
ADDR = 0x1000
DT_DIR, DT_REG = 4, 8


def ent64(ino: int, off: int, dtype: int, name: bytes, reclen: int | None = None) -> bytes:
    """A struct linux_dirent64 as the kernel writes it: 19 bytes of header, the name, NUL, 8-aligned."""
    size = reclen or (19 + len(name) + 1 + 7) // 8 * 8
    return struct.pack("<QqHB", ino, off, size, dtype) + name.ljust(size - 19, b"\0")


def ent(ino: int, off: int, dtype: int, name: bytes) -> bytes:
    """A struct linux_dirent: 18 bytes of header, the name, NUL, padding, d_type in the last byte."""
    size = (18 + len(name) + 2 + 7) // 8 * 8
    return struct.pack("<QQH", ino, off, size) + name.ljust(size - 19, b"\0") + bytes([dtype])


DOT = "{d_ino=2, d_off=10, d_reclen=24, d_type=DT_DIR, d_name=\".\"}"
DOTDOT = "{d_ino=1, d_off=20, d_reclen=24, d_type=DT_DIR, d_name=\"..\"}"
THREE = ent64(2, 10, DT_DIR, b".") + ent64(1, 20, DT_DIR, b"..") + ent64(77, 30, DT_REG, b"file.txt")
FILE = "{d_ino=77, d_off=30, d_reclen=32, d_type=DT_REG, d_name=\"file.txt\"}"


def test_getdents64_entries_in_strace_field_order():
    assert len(THREE) == 80
    assert entries_text("getdents64", ADDR, THREE, 80, V) == f"[{DOT}, {DOTDOT}, {FILE}]"


def test_getdents_puts_d_type_after_the_name():
    data = ent(5, 1, DT_DIR, b".") + ent(6, 2, DT_REG, b"abcdefghij")
    assert entries_text("getdents", ADDR, data, len(data), V) == (
        "[{d_ino=5, d_off=1, d_reclen=24, d_name=\".\", d_type=DT_DIR}, "
        "{d_ino=6, d_off=2, d_reclen=32, d_name=\"abcdefghij\", d_type=DT_REG}]")


def test_names_are_escaped_and_follow_x_but_not_s():
    data = ent64(3, 4, DT_REG, b'q"uote\n') + ent64(5, 6, DT_REG, b"\xff\x01") + ent64(7, 8, DT_REG, b"x" * 60)
    text = entries_text("getdents64", ADDR, data, len(data), V)
    assert 'd_name="q\\"uote\\n"' in text and 'd_name="\\377\\1"' in text and 'd_name="' + "x" * 60 + '"}' in text
    hexed = entries_text("getdents64", ADDR, data, len(data), Style(hex_strings=1, verbose=True))
    assert 'd_name="\\xff\\x01"' in hexed and 'd_name="q\\"uote\\n"' in hexed
    assert 'd_name="\\x71\\x22' in entries_text("getdents64", ADDR, data, len(data), Style(hex_strings=2, verbose=True))


def test_d_type_follows_x_style_and_names_unknown_types():
    data = ent64(2, 10, DT_DIR, b".") + ent64(3, 11, 3, b"odd")
    assert "d_type=0x4 /* DT_DIR */" in entries_text("getdents64", ADDR, data, 48, Style(xlat="verbose", verbose=True))
    assert "d_type=0x4," in entries_text("getdents64", ADDR, data, 48, Style(xlat="raw", verbose=True))
    assert "d_type=0x3 /* DT_??? */" in entries_text("getdents64", ADDR, data, 48, V)
    assert "d_type=DT_UNKNOWN" in entries_text("getdents64", ADDR, ent64(2, 1, 0, b"u"), 24, V)


def test_nothing_written_is_an_empty_array():
    assert entries_text("getdents64", ADDR, b"", 0, V) == "[]"


def test_a_copy_ending_before_a_header_ends_the_array_with_the_address_of_the_rest():
    # strace, when it cannot read an entry's header: "..." and where that entry is
    assert entries_text("getdents64", ADDR, THREE[:60], 80, V) == f"[{DOT}, {DOTDOT}, ... /* {ADDR + 48:#x} */]"
    assert entries_text("getdents64", ADDR, THREE[:48], 80, V) == f"[{DOT}, {DOTDOT}, ... /* {ADDR + 48:#x} */]"
    assert entries_text("getdents64", ADDR, THREE[:10], 80, V) == f"{ADDR:#x}"  # not even the first: no array


def test_a_copy_ending_inside_a_name_prints_its_address_and_stops():
    # the header of the third entry is copied, its name's NUL is not: strace prints the name's address
    # and, when entries follow, "..."
    cut = 48 + 19 + 3
    assert entries_text("getdents64", ADDR, THREE[:cut], 80, V) == (
        f"[{DOT}, {DOTDOT}, {{d_ino=77, d_off=30, d_reclen=32, d_type=DT_REG, d_name={ADDR + 67:#x}}}]")
    more = THREE + ent64(9, 40, DT_REG, b"z")
    assert entries_text("getdents64", ADDR, more[:cut], len(more), V) == (
        f"[{DOT}, {DOTDOT}, {{d_ino=77, d_off=30, d_reclen=32, d_type=DT_REG, d_name={ADDR + 67:#x}}}, ...]")
    # the NUL copied, the padding after it not: the name is whole
    assert entries_text("getdents64", ADDR, THREE[:48 + 19 + 9], 80, V) == f"[{DOT}, {DOTDOT}, {FILE}]"


def test_getdents_whose_d_type_is_past_the_copy():
    data = ent(5, 1, DT_DIR, b".") + ent(6, 2, DT_REG, b"abcdefghij") + ent(7, 3, DT_REG, b"k")
    cut = 24 + 30  # the second's name and NUL copied, its d_type (its last byte, at 24 + 31) not
    assert entries_text("getdents", ADDR, data[:cut], len(data), V) == (
        "[{d_ino=5, d_off=1, d_reclen=24, d_name=\".\", d_type=DT_DIR}, "
        f"{{d_ino=6, d_off=2, d_reclen=32, d_name=\"abcdefghij\", d_type={ADDR + 55:#x}}}, ...]")


def test_bytes_that_make_no_entry_and_lengths_the_kernel_never_writes():
    assert entries_text("getdents64", ADDR, ent64(2, 10, DT_DIR, b".") + b"\x01\x02", 26, V) == (
        f"[{DOT}, \"\\x01\\x02\"]")
    assert entries_text("getdents64", ADDR, b"\x01\x02\x03", 3, V) == "\"\\x01\\x02\\x03\""
    over = ent64(2, 10, DT_DIR, b".", reclen=40)[:24]
    assert entries_text("getdents64", ADDR, over, 24, V) == (
        "[{d_ino=2, d_off=10, d_reclen=40 /* 16 bytes overflow */, d_type=DT_DIR, d_name=\".\"}]")
    under = struct.pack("<QqHB", 2, 10, 8, DT_DIR) + b"ab\0\0\0"
    assert entries_text("getdents64", ADDR, under, 24, V) == (
        "[{d_ino=2, d_off=10, d_reclen=8 /* 11 bytes underflow */, d_type=DT_DIR}]")


def infos() -> dict:
    return syscall_infos(("getdents", "getdents64"), "abbrev: false\n")


def event(name: str, ret: int, slot: Slot | None, count: int = 32768, counted: Slot | None = None) -> SyscallEvent:
    info = infos()[name]
    args = (3, ADDR, count)
    slots = {"dirent": slot} if slot is not None else {}
    if counted is not None:
        slots[DIRENTS_SLOT] = counted
    return SyscallEvent(info, info.nr, 1, 1, "t", EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", args, ()),
                        ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ()), args, slots, {})


def line(name: str, ret: int, slot: Slot | None, count: int = 32768, style: Style = Style(verbose=True, dirents=True)) -> str:
    return render(infos()[name].args[1], ADDR, event(name, ret, slot, count), None, style)


def test_rendered_arguments():
    assert line("getdents64", 80, Slot(THREE, 0)) == f"[{DOT}, {DOTDOT}, {FILE}]"
    assert line("getdents64", 80, Slot(THREE[:40], SLOT_TRUNCATED >> 16)) == f"[{DOT}, ... /* {ADDR + 24:#x} */]"
    assert line("getdents64", -9, None) == f"{ADDR:#x}"  # failed: the address
    assert line("getdents64", 80, Slot(b"", SLOT_FAULT >> 16)) == f"{ADDR:#x}"  # unreadable
    assert line("getdents64", 80, Slot(THREE, 0), count=64) == f"{ADDR:#x}"  # more than count: strace's bananas
    assert line("getdents64", 0, Slot(b"", 0)) == "[]"
    # without -v: the count, as before
    assert line("getdents64", 80, Slot(THREE, 0), style=Style()) == f"{ADDR:#x} /* 3 entries */"


def test_v_on_a_trace_that_did_not_copy_the_entries_keeps_the_count():
    # decode -v of a trace recorded without -v: its copy (the buffer's first bytes) would print an entry
    # or two and then claim the rest unreadable (... /* ADDR */), which it never was
    cut = Slot(THREE[:32], SLOT_TRUNCATED >> 16)
    assert line("getdents64", 80, cut, style=Style(verbose=True)) == line("getdents64", 80, cut, style=Style())
    assert "entries */" in line("getdents64", 80, Slot(THREE, 0), style=Style(verbose=True))


def _copy_sizes(text: str, kernel: str = "6.1") -> dict[str, int]:
    """The max of each syscall's copy of the buffer getdents fills, as the spec text's plan has it."""
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "d.yaml"
        spec.write_text("version: 1\n" + text)
        plan = compile_spec(str(spec), kernel=kernel).plan
    return {m.name: sl.max for fam in plan.families for m in fam.members for sl in fam.exit.slots
            if sl.capture.name == "BUFFER"}


def test_abbrev_false_copies_the_entries_whatever_s_says_and_the_arguments_max_bounds_the_copy():
    both = "syscalls: [getdents, getdents64]\n"
    assert _copy_sizes(both) == {"getdents": 32, "getdents64": 32}  # the default: -s's 32 bytes
    assert _copy_sizes("abbrev: false\n" + both) == {"getdents": 4096, "getdents64": 4096}
    assert _copy_sizes("abbrev: false\nbuffers: {max: 4}\n" + both) == {"getdents": 4096, "getdents64": 4096}
    assert _copy_sizes("abbrev: false\nbuffers: {max: 4}\n" + both, "4.19") == {"getdents": 4096,
                                                                               "getdents64": 4096}
    own = "abbrev: false\nsyscalls:\n  - name: getdents64\n    args: {dirent: {max: 1000}}\n  - getdents\n"
    assert _copy_sizes(own) == {"getdents": 4096, "getdents64": 1000}


# JSON: the entries the copy holds as a list of objects, written by JsonWriter's line() and checked against
# event() (synthetic.CheckedJsonWriter)

def dirent_json(name: str, ret: int, slot: Slot | None, counted: Slot | None = None) -> tuple:
    out = io.StringIO()
    w = CheckedJsonWriter(out)
    w.write([Finished(event(name, ret, slot, counted=counted))])
    w.flush()
    obj = json.loads(out.getvalue())
    return obj["args"]["dirent"], obj.get("truncated", {}).get("dirent")


def entry(ino, off, reclen, dtype, names, name):
    return {"d_ino": ino, "d_off": off, "d_reclen": reclen, "d_type": dtype, "d_type_names": names, "d_name": name}


DOT_J, DOTDOT_J = entry(2, 10, 24, DT_DIR, ["DT_DIR"], "."), entry(1, 20, 24, DT_DIR, ["DT_DIR"], "..")
FILE_J = entry(77, 30, 32, DT_REG, ["DT_REG"], "file.txt")


def test_json_gives_each_entry_with_d_type_and_its_name():
    assert dirent_json("getdents64", 80, Slot(THREE, 0)) == ([DOT_J, DOTDOT_J, FILE_J], None)
    data = ent(5, 1, DT_DIR, b".") + ent(6, 2, 3, b"abcdefghij")  # getdents: d_type after the name; 3 has no name
    assert dirent_json("getdents", len(data), Slot(data, 0)) == (
        [entry(5, 1, 24, DT_DIR, ["DT_DIR"], "."), entry(6, 2, 32, 3, [], "abcdefghij")], None)


def test_json_numbers_are_their_c_types_and_names_not_utf8_round_trip():
    data = ent64(2 ** 64 - 1, -1, DT_REG, b"\xff\x01")
    [got], _ = dirent_json("getdents64", len(data), Slot(data, 0))
    assert (got["d_ino"], got["d_off"]) == (2 ** 64 - 1, -1)  # d_off: getdents64's is signed (loff_t)
    assert got["d_name"].encode("utf-8", "surrogateescape") == b"\xff\x01"
    old = ent(3, 2 ** 64 - 1, DT_REG, b"x")  # getdents' d_off is an unsigned long
    assert dirent_json("getdents", len(old), Slot(old, 0))[0][0]["d_off"] == 2 ** 64 - 1


def test_json_of_a_copy_shorter_than_the_entries_lists_the_whole_ones_and_the_count():
    counted = Slot((3).to_bytes(4, "little") + bytes(4), 0)
    assert dirent_json("getdents64", 80, Slot(THREE[:40], SLOT_TRUNCATED >> 16), counted) == ([DOT_J], 3)
    # the copy ends inside a name: that entry is not listed; no count from the walk: True
    assert dirent_json("getdents64", 80, Slot(THREE[:48 + 19 + 2], SLOT_TRUNCATED >> 16)) == ([DOT_J, DOTDOT_J], True)
    old = ent(5, 1, DT_DIR, b".") + ent(6, 2, DT_REG, b"abcdefghij")
    assert dirent_json("getdents", len(old), Slot(old[:-1], SLOT_TRUNCATED >> 16)) == (
        [entry(5, 1, 24, DT_DIR, ["DT_DIR"], ".")], True)  # its d_type, the last byte, is past the copy


def test_json_of_nothing_written_failures_and_unreadable_memory():
    assert dirent_json("getdents64", 0, Slot(b"", 0)) == ([], None)
    assert dirent_json("getdents64", -9, None) == (ADDR, None)  # failed: the pointer
    assert dirent_json("getdents64", 80, Slot(b"", SLOT_FAULT >> 16)) == (ADDR, None)


def test_json_stops_at_a_length_the_kernel_never_writes_and_skips_left_over_bytes():
    over = struct.pack("<QqHB", 2, 10, 40, DT_DIR) + b".\0\0\0\0"
    assert dirent_json("getdents64", 24, Slot(over, 0)) == ([entry(2, 10, 40, DT_DIR, ["DT_DIR"], ".")], None)
    assert dirent_json("getdents64", 24 + 5, Slot(THREE[:24] + b"abcde", 0)) == ([DOT_J], None)
