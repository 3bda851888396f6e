"""The loop finder tests/test_golden.py holds pre-5.3 programs to (tests/bpfcfg.py): a jump back to an
instruction already left behind is no loop (clang shares one `return 0` block that way); one back into
the path that leads to it is."""

from __future__ import annotations

import struct

from bpfcfg import loop_edge


def insn(code: int, off: int = 0, imm: int = 0, regs: int = 0) -> bytes:
    return struct.pack("<BBhi", code, regs, off, imm)


MOV, EXIT, JA = 0xB7, 0x95, 0x05
JEQ = 0x15  # if r == imm goto +off
CALL = 0x85


def test_straight_line_and_a_shared_exit_block_behind_are_no_loops():
    assert loop_edge(insn(MOV) + insn(CALL, imm=14) + insn(EXIT)) is None
    # 0: goto 3 / 1: r0 = 0 / 2: exit / 3: if r1 == 0 goto 1 (back, to the exit block) / 4: exit
    assert loop_edge(insn(JA, 2) + insn(MOV) + insn(EXIT) + insn(JEQ, -3) + insn(EXIT)) is None
    # a 64-bit load's second half is no instruction of its own
    assert loop_edge(insn(0x18, regs=1 << 4) + insn(0, off=-1) + insn(EXIT)) is None


def test_a_jump_back_into_its_own_path_is_a_loop():
    # 0: r0 = 0 / 1: call / 2: if r0 == 0 goto 0 / 3: exit
    assert loop_edge(insn(MOV) + insn(CALL) + insn(JEQ, -3) + insn(EXIT)) == (2, 0)
    assert loop_edge(insn(MOV) + insn(JA, -1)) == (1, 1)
