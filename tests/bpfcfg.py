"""The control flow of a BPF program's instructions: whether it has a loop. Kernels before 5.3 refuse any
(their verifier's check_cfg reports a back-edge), so a program planned for them must have none, which this
kernel's verifier (it takes bounded loops) cannot tell."""

from __future__ import annotations

import struct

BPF_JMP, BPF_JMP32 = 5, 6
JA, CALL, EXIT = 0x0, 0x8, 0x9
LD_IMM64 = 0x18


def _successors(insns: bytes) -> list[list[int]]:
    n = len(insns) // 8
    succ: list[list[int]] = [[] for _ in range(n)]
    i = 0
    while i < n:
        code, _, off, _ = struct.unpack_from("<BBhi", insns, i * 8)
        cls, op = code & 7, code >> 4
        if code == LD_IMM64:
            succ[i] = [i + 2]
            i += 2
            continue
        if cls in (BPF_JMP, BPF_JMP32) and op == EXIT:
            succ[i] = []
        elif cls in (BPF_JMP, BPF_JMP32) and op == CALL:
            succ[i] = [i + 1]
        elif cls == BPF_JMP and op == JA:
            succ[i] = [i + 1 + off]
        elif cls in (BPF_JMP, BPF_JMP32):
            succ[i] = [i + 1, i + 1 + off]
        else:
            succ[i] = [i + 1]
        i += 1
    return succ


def loop_edge(insns: bytes) -> tuple[int, int] | None:
    """(from, to) of a jump that closes a cycle, or None: a depth-first walk from the first instruction,
    a jump to an instruction still on the walk's path being one."""
    succ = _successors(insns)
    if not succ:
        return None
    state = [0] * len(succ)  # 0 unseen, 1 on the path, 2 done
    path = [(0, iter(succ[0]))]
    state[0] = 1
    while path:
        node, rest = path[-1]
        nxt = next(rest, None)
        if nxt is None:
            state[node] = 2
            path.pop()
        elif 0 <= nxt < len(succ):
            if state[nxt] == 1:
                return node, nxt
            if state[nxt] == 0:
                state[nxt] = 1
                path.append((nxt, iter(succ[nxt])))
    return None
