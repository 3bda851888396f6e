"""Which families the table-driven programs record, and what their rows say (plan.TablePlan and
codegen/table_c.py): the decisions by name, the rows' contents, and their words as the C reads them."""

from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT
from tracespec.codegen import table_c
from tracespec.pipeline import compile_spec
from tracespec.plan.model import SlotLen, TableSlot
from tracespec.plan.planner import TABLE_COMMON_SLOTS, TABLE_MIN_FAMILIES
from tracespec.runtime.objcache import key


def _compile(spec: str, kernel: str, **options):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_spec(spec if os.path.isabs(spec) else f"specs/{spec}", kernel, **options)
    finally:
        os.chdir(cwd)


# (spec, profile) -> table-driven families (None: no table), the first syscall of each family that keeps
# programs of its own
TABLE_DECISIONS = {
    # arrays (readv's iovec, execve's argv and envp) keep their own programs: a copier's loop inside the
    # table's loop over slots is more than the verifier walks
    # and so do structs copied with what their pointer members point to (sendmsg's and recvmsg's msghdr,
    # sendmmsg's and recvmmsg's arrays of mmsghdr, clone3's clone_args with the ints behind pidfd and
    # parent_tid);
    # arrays of elements (poll's pollfds, select's fd_sets, the gids, epoll's events) and copies made at
    # return values of their own (nanosleep's remainder when interrupted) are rows
    # (pselect6's sigmask is such a pointer member); node masks (mbind, set_mempolicy, get_mempolicy,
    # migrate_pages: maxnode - 1 bits) are rows too
    # and getdents with getdents64, whose entries are counted where they lie, in a loop of its own (clone,
    # whose parent_tid is an int the kernel writes, is a row); process_vm_readv and process_vm_writev
    # copy iovecs, as readv and writev do
    ("failed.yaml", "6.1"): (136, ["clone3", "execve", "execveat", "getdents", "process_vm_readv", "process_vm_writev",
                             "pselect6", "readv", "recvmmsg", "recvmsg",
                                  "sendmmsg", "sendmsg", "writev"]),
    ("slow.yaml", "6.1"): (136, ["clone3", "execve", "execveat", "getdents", "process_vm_readv", "process_vm_writev",
                           "pselect6", "readv", "recvmmsg", "recvmsg",
                                "sendmmsg", "sendmsg", "writev"]),
    ("fileio.yaml", "6.1"): (10, []),
    ("network.yaml", "6.1"): (8, ["recvmmsg", "recvmsg", "sendmmsg", "sendmsg"]),
    ("process.yaml", "6.1"): (5, ["clone3", "execve", "execveat"]),
    # a filter naming an argument (the path) is each syscall's own: no shared filter, no table
    ("config.yaml", "6.1"): (None, ["access", "faccessat", "faccessat2", "lstat", "newfstatat", "open", "openat",
                                    "openat2", "stat", "statx"]),
    ("all.yaml", "6.1"): (None, []),
    # no bounded loops before 5.3: a family keeps its own unrolled programs
    ("fileio.yaml", "4.19"): (None, ["fstat", "newfstatat", "open", "openat", "read", "rename", "renameat", "stat",
                                     "statx", "write"]),
}


@pytest.mark.parametrize("spec,kernel", sorted(TABLE_DECISIONS))
def test_which_families_are_table_driven(spec, kernel):
    p = _compile(spec, kernel).plan
    entries, own = TABLE_DECISIONS[spec, kernel]
    assert (None if p.table is None else len(p.table.entries)) == entries
    assert sorted(f.members[0].name for f in p.families if not f.table) == own
    if p.table is not None:  # every table family has a row, and the row its syscalls
        assert sorted(e.family for e in p.table.entries) == sorted(f.name for f in p.families if f.table)
        assert sorted(p.table.nrs) == sorted(nr for f in p.families if f.table for nr in f.nrs)


def _row(p, name: str):
    return next(e for e in p.table.entries if name in e.names)


def test_fileio_rows_say_what_each_family_copies():
    p = _compile("fileio.yaml", "6.1").plan
    assert p.attach == "syscall_tp" and p.table.filter is None and not p.table.stash
    read = _row(p, "read")
    assert read.names == ("read", "pread64") and read.nargs == 4 and read.enter == ()
    assert read.exit == (TableSlot(False, 1, 32, SlotLen.RET),)  # the bytes read: as many as returned
    assert (read.inflight, read.args_from) == (True, "inflight")  # tracepoints at exit have no registers
    write = _row(p, "write")
    assert write.enter == (TableSlot(False, 1, 32, SlotLen.ARG, 2, 8, False),) and write.exit == ()
    assert (write.inflight, write.args_from) == (False, None)
    openat = _row(p, "openat")
    assert openat.enter == (TableSlot(True, 1, 4095),) and openat.exit == ()
    stat = _row(p, "stat")
    assert stat.enter == (TableSlot(True, 0, 4095),)
    assert stat.exit == (TableSlot(False, 1, 144),)  # struct stat: its size
    rename = _row(p, "rename")
    assert rename.enter == (TableSlot(True, 0, 4095), TableSlot(True, 1, 4095))
    assert p.table.slots == TABLE_COMMON_SLOTS  # no family has more than 2: the bound every such spec shares
    fam = next(f for f in p.families if "read" in (m.name for m in f.members))
    assert (read.enter_kind, read.exit_kind) == (fam.enter.kind, fam.exit.kind)  # the decoder's layouts


def test_failed_rows_share_the_deferring_filter_and_take_exit_arguments_from_registers():
    p = _compile("failed.yaml", "6.1").plan
    assert p.attach == "raw_tp" and p.table.stash and p.table.filter is p.families[0].filter
    read = _row(p, "read")
    assert (read.inflight, read.args_from) == (True, "regs")
    assert all(e.inflight for e in p.table.entries)  # the filter keeps every entry until its exit
    # the raw tracepoints reach the table's programs by tail call, for its syscalls only
    tails = {(t.table, t.index): t.program for t in p.tail_calls}
    for nr in p.table.nrs:
        assert (tails["ts_enter_progs", nr], tails["ts_exit_progs", nr]) == ("ts_enter_table", "ts_exit_table")
    readv = next(f for f in p.families if f.members[0].name == "readv")
    assert tails["ts_enter_progs", readv.nrs[0]] == f"ts_enter_{readv.name}"


def test_emitted_program_names_each_rows_syscalls():
    c = _compile("fileio.yaml", "6.1").c_source
    assert "table:   10 families (20 syscalls) recorded by one table-driven pair of programs" in c
    rows = c[c.index("in the map ts_table_rows"):]
    rows = rows[:rows.index("*/")]  # the rows are data the loader writes: the C lists them in a comment
    assert re.search(r"syscalls 0 \(read\), 17 \(pread64\)", rows) and re.search(r"257 \(openat\)", rows)
    assert ": exit: bytes a[1] max 32, length: the return value" in rows
    assert "ts_trow_set" not in c  # no row is written by the C
    assert len(re.findall(r"^int ts_(enter|exit)_", c, re.M)) == 2  # ts_enter_table and ts_exit_table only


def test_the_switch_and_the_threshold(tmp_path):
    one = tmp_path / "one.yaml"
    one.write_text("version: 1\nsyscalls:\n  - openat\n")
    assert TABLE_MIN_FAMILIES == 1
    table = _compile(str(one), "6.1").plan.table  # one family: the table all such selections share
    assert table is not None and [e.names for e in table.entries] == [("openat",)]
    assert _compile(str(one), "6.1", table=False).plan.table is None
    assert _compile("fileio.yaml", "6.1", table=False).plan.table is None
    assert not any(f.table for f in _compile("fileio.yaml", "6.1", table=False).plan.families)


def _selection(tmp_path, *names: str) -> str:
    spec = tmp_path / ("_".join(names) + ".yaml")
    spec.write_text("version: 1\nsyscalls:\n" + "".join(f"  - {n}\n" for n in names))
    return str(spec)


@pytest.mark.parametrize("kernel", ["6.1", "5.8"])
def test_selections_of_table_families_are_one_program(tmp_path, kernel):
    """What -e trace= selects differs only in data (the rows, the generic handler's numbers), so the program
    cache (keyed on the C without its comments) keeps one program for them all, which ./setup compiles.
    (Kernels before 5.3 have no bounded loops, so no table: each family has programs of its own there.)"""
    def program(*names):
        return key(_compile(_selection(tmp_path, *names), kernel).c_source)

    tables = {program("openat", "read"), program("stat"), program("connect"), program("write", "openat", "rename"),
              program("openat")}
    assert len(tables) == 1
    with_raw = {program("openat", "close"), program("openat", "dup", "getpid"), program("read", "mmap", "close")}
    assert len(with_raw) == 1 and with_raw != tables
    # what is C is still told apart: a family of its own (readv's iovecs), or a filter
    assert program("openat", "readv") not in tables
    filtered = tmp_path / "filtered.yaml"
    filtered.write_text("version: 1\nsyscalls:\n  - openat\nfilter: failed\n")
    assert key(_compile(str(filtered), kernel).c_source) not in tables


def test_table_choice_leaves_the_record_layouts_alone():
    """The decoder is generated from the layouts: the same whichever programs write the records."""
    for spec in ("failed.yaml", "fileio.yaml", "network.yaml"):
        with_table = _compile(spec, "6.1", table=True).plan.schema
        without = _compile(spec, "6.1", table=False).plan.schema
        assert with_table == without, spec


def _fields(word: int, layout: dict[str, tuple[int, int]]) -> dict[str, int]:
    return {name: (word >> shift) & ((1 << bits) - 1) for name, (shift, bits) in layout.items()}


def test_words_read_back_as_the_c_reads_them():
    d = table_c.c_defines()
    slot = TableSlot(False, 3, 4096, SlotLen.ARG, 5, 4, True)
    got = _fields(table_c.slot_word(slot), {"kind": (d["TS_TS_STRING"], 1), "ptr": (d["TS_TS_PTR"], 3),
                                            "len": (d["TS_TS_LEN"], 2), "len_arg": (d["TS_TS_LEN_ARG"], 3),
                                            "size": (d["TS_TS_LEN_SIZE"], 4), "signed": (d["TS_TS_LEN_SIGNED"], 1),
                                            "max": (d["TS_TS_MAX"], 16)})
    assert got == {"kind": 0, "ptr": 3, "len": d["TS_TL_ARG"], "len_arg": 5, "size": 4, "signed": 1, "max": 4096}
    p = _compile("failed.yaml", "6.1").plan
    for e in p.table.entries:
        got = _fields(table_c.row_word(e), {"enter": (d["TS_TR_ENTER_KIND"], 16), "exit": (d["TS_TR_EXIT_KIND"], 16),
                                            "nargs": (d["TS_TR_NARGS"], 3), "nenter": (d["TS_TR_NENTER"], 3),
                                            "nexit": (d["TS_TR_NEXIT"], 3), "inflight": (d["TS_TR_INFLIGHT"], 1),
                                            "regs": (d["TS_TR_ARGS_REGS"], 1)})
        assert got == {"enter": e.enter_kind, "exit": e.exit_kind, "nargs": e.nargs, "nenter": len(e.enter),
                       "nexit": len(e.exit), "inflight": int(e.inflight), "regs": int(e.args_from == "regs")}
