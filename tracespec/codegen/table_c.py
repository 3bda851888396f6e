"""The table-driven families' rows (plan.TablePlan) as the C reads them: 64-bit words.

A row is word 0 (record kinds, argument words, slot counts, where the exit's arguments come from), then
one word per enter slot from word 1, then one per exit slot from word 1 + slots. The bit positions are
defined here once and handed to tracespec.bpf.h as #defines (TS_TR_*, TS_TS_*), which decodes the words
with them (ts_table_slot and the template's ts_enter_table / ts_exit_table).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracespec.catalogue.kinds import RESTART_ERRNO_MAX, RESTART_ERRNO_MIN, Written
from tracespec.codegen.cliteral import c_comment
from tracespec.plan.model import SlotLen, TableEntry, TablePlan, TableSlot
from tracespec.plan.planner import TABLE_MAX_SLOTS

# word 0 of a row
ROW_ENTER_KIND = 0  # 16 bits
ROW_EXIT_KIND = 16  # 16 bits
ROW_NARGS = 32  # 3 bits
ROW_NENTER = 36  # 3 bits
ROW_NEXIT = 40  # 3 bits
ROW_INFLIGHT = 44  # the entry is kept in ts_inflight
ROW_ARGS_INFLIGHT = 45  # the exit's copies take the arguments from ts_inflight
ROW_ARGS_REGS = 46  # ... from the registers (raw tracepoints)
ROW_PRESENT = 47  # set in every row: the map's other entries (zero) are syscalls the table does not serve
# a slot's word
SLOT_STRING = 0  # a NUL-terminated string (else bytes)
SLOT_PTR = 4  # 3 bits: the argument holding the pointer
SLOT_LEN = 8  # 2 bits: plan.SlotLen
SLOT_LEN_ARG = 12  # 3 bits: the argument holding the length
SLOT_LEN_SIZE = 16  # 4 bits: bytes of its C type
SLOT_LEN_SIGNED = 20
SLOT_BITS = 21  # the length counts bits, copied in whole longs
SLOT_WRITTEN = 22  # 2 bits: at exit, when the kernel wrote the memory (WRITTEN below)
SLOT_BITS_OVER = 24  # 2 bits: an unsigned bit count this much more than the kernel reads (node masks)
SLOT_PLUS = 26  # 4 bits: bytes copied before the ones an argument's length counts (a message's mtype)
SLOT_MAX = 32  # 16 bits
SLOT_ELEM = 48  # 16 bits: bytes per element the length counts (0: it counts bytes)
WRITTEN = {Written.OK: 0, Written.POSITIVE: 1, Written.RESTART: 2, Written.ALWAYS: 3}
ROW_WORDS = 16  # the scratch keeps 16 words for a row: 1 + 2 * TABLE_MAX_SLOTS at most
assert 1 + 2 * TABLE_MAX_SLOTS <= ROW_WORDS
TABLE_NRS = 512  # the rows' map, by syscall number: the bound of the dispatchers' program arrays


def c_defines() -> dict[str, int]:
    return {"TS_TR_ENTER_KIND": ROW_ENTER_KIND, "TS_TR_EXIT_KIND": ROW_EXIT_KIND, "TS_TR_NARGS": ROW_NARGS,
            "TS_TR_NENTER": ROW_NENTER, "TS_TR_NEXIT": ROW_NEXIT, "TS_TR_INFLIGHT": ROW_INFLIGHT,
            "TS_TR_ARGS_INFLIGHT": ROW_ARGS_INFLIGHT, "TS_TR_ARGS_REGS": ROW_ARGS_REGS,
            "TS_TR_PRESENT": ROW_PRESENT, "TS_TROW_WORDS": ROW_WORDS, "TS_TABLE_NRS": TABLE_NRS,
            "TS_TS_STRING": SLOT_STRING, "TS_TS_PTR": SLOT_PTR, "TS_TS_LEN": SLOT_LEN, "TS_TS_LEN_ARG": SLOT_LEN_ARG,
            "TS_TS_LEN_SIZE": SLOT_LEN_SIZE, "TS_TS_LEN_SIGNED": SLOT_LEN_SIGNED, "TS_TS_MAX": SLOT_MAX,
            "TS_TS_BITS": SLOT_BITS, "TS_TS_WRITTEN": SLOT_WRITTEN, "TS_TS_ELEM": SLOT_ELEM,
            "TS_TS_BITS_OVER": SLOT_BITS_OVER, "TS_TS_PLUS": SLOT_PLUS,
            "TS_RESTART_ERRNO_MIN": RESTART_ERRNO_MIN, "TS_RESTART_ERRNO_MAX": RESTART_ERRNO_MAX,
            **{f"TS_TL_{k.name}": int(k) for k in SlotLen},
            **{f"TS_TW_{k.name}": v for k, v in WRITTEN.items()}}


def slot_word(s: TableSlot) -> int:
    return (int(s.string) << SLOT_STRING | s.ptr << SLOT_PTR | int(s.len_from) << SLOT_LEN
            | s.len_index << SLOT_LEN_ARG | s.len_size << SLOT_LEN_SIZE | int(s.len_signed) << SLOT_LEN_SIGNED
            | int(s.bits) << SLOT_BITS | s.bits_over << SLOT_BITS_OVER | WRITTEN[s.written] << SLOT_WRITTEN | s.max << SLOT_MAX | s.elem << SLOT_ELEM
            | s.plus << SLOT_PLUS)


def row_word(e: TableEntry) -> int:
    return (e.enter_kind << ROW_ENTER_KIND | e.exit_kind << ROW_EXIT_KIND | e.nargs << ROW_NARGS
            | len(e.enter) << ROW_NENTER | len(e.exit) << ROW_NEXIT | int(e.inflight) << ROW_INFLIGHT
            | int(e.args_from == "inflight") << ROW_ARGS_INFLIGHT | int(e.args_from == "regs") << ROW_ARGS_REGS
            | 1 << ROW_PRESENT)


def _describe(s: TableSlot) -> str:
    what = f"string a[{s.ptr}] max {s.max}" if s.string else f"bytes a[{s.ptr}] max {s.max}"
    if s.string:
        return what
    how = {0: "", 1: ", length: the return value", 2: f", length a[{s.len_index}] ({s.len_size} bytes"
           + (", signed)" if s.len_signed else ")"), 3: f", length: the int at a[{s.len_index}]"}[int(s.len_from)]
    if s.elem:
        how += f" elements of {s.elem} bytes"
    elif s.bits:
        how += f" bits (less {s.bits_over})" if s.bits_over else " bits"
    if s.plus:
        how += f", {s.plus} bytes before them"
    if s.written != Written.OK:
        how += f", when the return value is {s.written}"
    return what + how


@dataclass(frozen=True)
class RowC:
    family: str
    cases: tuple[tuple[int, str], ...]  # (syscall number, its name) of each syscall the row serves
    words: tuple[tuple[int, int, str], ...]  # (word index, value, what it says) to write
    comment: str


def exit_word(t: TablePlan) -> int:
    """The index of a row's first exit slot word: after word 0 and the enter slots' words."""
    return 1 + t.slots


def used_words(t: TablePlan) -> int:
    """The words of a row the programs read: word 0, then the enter and the exit slots' (what each event
    copies of its row, the rest of ROW_WORDS unused)."""
    return exit_word(t) + t.slots


def rows(t: TablePlan) -> list[RowC]:
    """Each row's words, with comments naming what they say: the template lists them, map_rows packs them."""
    out = []
    for e in t.entries:
        words = [(0, row_word(e), f"kinds {e.enter_kind}/{e.exit_kind}, {e.nargs} argument words"
                  + (", in flight" if e.inflight else "") + (f", exit arguments from {e.args_from}" if e.args_from
                                                             else ""))]
        words += [(1 + i, slot_word(s), "enter: " + _describe(s)) for i, s in enumerate(e.enter)]
        words += [(exit_word(t) + i, slot_word(s), "exit: " + _describe(s)) for i, s in enumerate(e.exit)]
        out.append(RowC(e.family, tuple(zip(e.nrs, (c_comment(n) for n in e.names))),
                        tuple((i, v, c_comment(what)) for i, v, what in words),
                        c_comment(f"{e.family}: " + ", ".join(e.names))))
    return out


def map_rows(t: TablePlan) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """What the loader writes into the rows' map (ts_table_rows) before attaching: for each syscall
    number a row serves, the row's ROW_WORDS words (unused ones 0). Kept out of the C, the rows cost
    clang nothing, and specs that differ only in their table families compile to the same program."""
    out = []
    for row in rows(t):
        words = [0] * ROW_WORDS
        for i, value, _ in row.words:
            words[i] = value
        for nr, _ in row.cases:
            if not 0 <= nr < TABLE_NRS:
                raise ValueError(f"syscall number {nr} is past the table's {TABLE_NRS} rows")
            out.append((nr, tuple(words)))
    return tuple(out)
