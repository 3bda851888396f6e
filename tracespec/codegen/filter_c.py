"""Lower a syscall's FilterPlan to C.

Each leaf becomes one C expression stored in `l<i>`. Leaves known at entry are computed in the enter
handler. A leaf can be unknown there: an exit leaf always, a match on copied memory when the copy
faulted (`u<i>` says so). The enter handler then drops the event only if the filter cannot pass and
emits it only if it must (Kleene logic over the unknown leaves); otherwise the event waits for the exit
handler, which has the entry bits, copies faulted memory again and decides.
String matches become small helper functions that compare byte by byte against numeric literals, so no
spec text is ever C code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tracespec.catalogue.kinds import Phase
from tracespec.codegen.cliteral import c_bytes, c_comment, c_int
from tracespec.plan.model import ArgField, FilterPlan, SlotLayout
from tracespec.validate.typed import TAnd, TCompare, TExpr, TIn, TNot, TOr, TStrMatch, TTruth

COMM_OFFSET = 24  # bytes into an enter record (after the header)


@dataclass(frozen=True)
class LeafC:
    bit: int
    phase: Phase  # ENTER or EXIT
    expr: str  # C expression (int)
    comment: str  # the leaf's source text and location, comment-safe
    unknown: str | None = None  # enter: C expression, true when the memory it matches could not be copied
    refetch: str | None = None  # exit: C expression computing the leaf again from a fresh copy


@dataclass(frozen=True)
class FilterC:
    leaves: tuple[LeafC, ...]
    enter_may: str  # at entry: the filter can still pass
    enter_must: str  # at entry: the filter passes whatever the unknown leaves turn out to be
    exit_pass: str  # at exit: the full filter
    helpers: tuple[str, ...]  # C functions the leaves call
    defers: bool  # an event can wait for its exit to be decided
    has_exit: bool  # some leaves are known only at exit


@dataclass(frozen=True)
class HandlerScope:
    """What a handler offers to filter expressions."""

    name: str  # a C-identifier prefix unique to the handler (for helper names)
    args: Mapping[str, ArgField]
    slots: Mapping[str, tuple[str, SlotLayout]]  # argument -> (C expression of its slot offset, layout)
    slot_calls: Mapping[str, str]  # argument -> the C call copying it into record r at offset off
    syscall_nrs: Mapping[str, int]
    params: Mapping[str, int]  # cgroup path -> ts_params index
    bounded_loops: bool
    in_scratch: bool = False  # the enter record is in per-CPU scratch (so it may be read 8 bytes at a time)


def _cast(f: ArgField) -> str:
    bits = f.size * 8
    if f.size >= 8:
        return f"(s64)a[{f.index}]" if f.signed else f"(u64)a[{f.index}]"
    return f"(s64)(s{bits})a[{f.index}]" if f.signed else f"(u64)(u{bits})a[{f.index}]"


def _wrap(value: int, f: ArgField | None) -> int:
    """A negative literal compared with an unsigned field means that field's all-ones pattern."""
    if f is not None and not f.signed and value < 0:
        return value & ((1 << (8 * min(f.size, 8))) - 1)
    return value


class _Lower:
    def __init__(self, scope: HandlerScope):
        self.s = scope
        self.helpers: list[str] = []

    def field(self, leaf) -> tuple[str, ArgField | None]:
        f = leaf.field
        name = f.name
        argf = None
        if f.arg:
            argf = self.s.args[name]
            expr = _cast(argf)
        elif name == "pid":
            expr = "(u64)(u32)(id >> 32)"
        elif name == "tid":
            expr = "(u64)(u32)id"
        elif name == "ppid":
            expr = "ts_ppid()"
        elif name == "uid":
            expr = "(u64)(u32)bpf_get_current_uid_gid()"
        elif name == "gid":
            expr = "(u64)(u32)(bpf_get_current_uid_gid() >> 32)"
        elif name == "ret":
            expr = "ret"
        elif name == "errno":
            expr = "(ts_failed(ret) ? -ret : 0)"
        elif name == "failed":
            expr = "ts_failed(ret)"
        elif name == "duration":
            expr = "(s64)(now - inf->ts)"
        elif name == "syscall":
            expr = "nr"
        elif name == "cgroup":
            expr = "bpf_get_current_cgroup_id()"
        else:
            raise AssertionError(name)
        if f.mask is not None:
            expr = f"((u64)({expr}) & {c_int(f.mask)})"
        return expr, argf

    def value(self, leaf, v) -> str:
        f = leaf.field
        if f.type == "syscall":
            return c_int(self.s.syscall_nrs[v])
        if f.type == "cgroup":
            return f"ts_param({self.s.params[v]})"
        _, argf = self.field(leaf) if f.arg else (None, None)
        return c_int(_wrap(v, argf if f.mask is None else None))

    def leaf(self, leaf, bit: int) -> str:
        if isinstance(leaf, TTruth):
            expr, _ = self.field(leaf)
            return f"({expr} != 0)"
        if isinstance(leaf, TCompare):
            expr, _ = self.field(leaf)
            return f"({expr} {leaf.op} {self.value(leaf, leaf.value)})"
        if isinstance(leaf, TIn):
            expr, _ = self.field(leaf)
            alts = " || ".join(f"{expr} == {self.value(leaf, v)}" for v in leaf.values)
            return f"!({alts})" if leaf.negate else f"({alts})"
        if isinstance(leaf, TStrMatch):
            helper = f"ts_match_{self.s.name}_{bit}"
            negate = leaf.op == "!="
            op = "==" if negate else leaf.op
            if leaf.field.name == "comm" and not leaf.field.arg:
                self.helpers.append(_comm_helper(helper, op, leaf.value, leaf.text))
                call = f"{helper}(r)"
            else:
                offset, slot = self.s.slots[leaf.field.name]
                make = _slot_helper_words if self.s.in_scratch else _slot_helper
                self.helpers.append(make(helper, op, leaf.value, slot, leaf.text, self.s.bounded_loops))
                call = f"{helper}(r, {offset})"
            return f"!{call}" if negate else call
        raise AssertionError(leaf)

    def fault_parts(self, leaf, bit: int) -> tuple[str, str]:
        """For a match on copied memory: C saying the entry copy faulted, and C computing the leaf at
        exit from a new copy (in per-CPU scratch, before the exit record is built there)."""
        offset, _ = self.s.slots[leaf.field.name]
        unknown = f"((*(u32 *)&r[{offset} & TS_OFF_MASK] & TS_SLOT_FAULT) != 0)"
        helper = f"ts_refetch_{self.s.name}_{bit}"
        match = f"ts_match_{self.s.name}_{bit}(r, 0)"  # the helper leaf() made, on the new copy at offset 0
        if leaf.op == "!=":
            match = "!" + match
        self.helpers.append(
            f"/* {c_comment(leaf.text)}, its memory copied again at exit */\n"
            f"static __always_inline int {helper}(u64 *a)\n{{\n"
            f"    u8 *r = ts_scratch_get();\n"
            f"    if (!r)\n        return 0;\n"
            f"    u32 off = 0;\n"
            f"    {self.s.slot_calls[leaf.field.name]};\n"
            f"    return {match};\n}}\n")
        return unknown, f"{helper}(a)"


def _bytes_eq(base: str, value: bytes) -> str:
    """C comparing the bytes at base with value, one numeric literal at a time ("1" for no bytes)."""
    return " && ".join(f"r[({base} + {i}) & TS_OFF_MASK] == {b}" for i, b in enumerate(c_bytes(value))) or "1"


def _slot_helper_head(name: str, text: str) -> str:
    """A slot match's first lines: what it tests (as a comment), then the slot's info word and length."""
    return (f"/* {c_comment(text)} */\n"
            f"static __always_inline int {name}(u8 *r, u32 so)\n{{\n"
            f"    u32 info = *(u32 *)&r[so & TS_OFF_MASK];\n"
            f"    u32 len = info & 0xffff;\n")


def _slot_helper(name: str, op: str, value: bytes, slot: SlotLayout, text: str, bounded: bool) -> str:
    n = len(value)
    head = _slot_helper_head(name, text)
    bad = "TS_SLOT_FAULT | TS_SLOT_ABSENT"
    if op == "==":
        body = (f"    if (len != {n} || (info & (TS_SLOT_TRUNCATED | {bad})))\n        return 0;\n"
                f"    return {_bytes_eq('so + 4', value)};\n")
    elif op == "startswith":
        body = (f"    if (len < {n} || (info & ({bad})))\n        return 0;\n"
                f"    return {_bytes_eq('so + 4', value)};\n")
    elif op == "endswith":
        body = (f"    if (len < {n} || (info & (TS_SLOT_TRUNCATED | {bad})))\n        return 0;\n"
                f"    u32 b = so + 4 + len - {n};\n"
                f"    return {_bytes_eq('b', value)};\n")
    else:  # contains
        # Branch-free: at every position, a match is computed arithmetically and masked off past the
        # string's end, so the verifier walks one path per iteration (a loop with branches leaves one
        # pending state per iteration, and a long path overflows the verifier's limit of 8192).
        span = max(slot.max - n + 1, 0)
        diff = " | ".join(f"(r[(b + {i}) & TS_OFF_MASK] ^ {byte})" for i, byte in enumerate(c_bytes(value)))
        pragma = "#pragma clang loop unroll(disable)\n" if bounded else "#pragma unroll\n"
        body = (f"    if (len < {n} || (info & ({bad})))\n        return 0;\n"
                f"    s64 last = len - {n};\n"
                f"    u64 found = 0;\n"
                f"{pragma}    for (u32 i = 0; i < {span}; i++) {{\n"
                f"        u32 b = so + 4 + i;\n"
                f"        u64 diff = {diff};\n"
                f"        s64 room = last - (s64)i;\n"
                f"        /* opaque: clang would turn this arithmetic back into branches, and (unrolled) keep\n"
                f"         * every step's term for one final OR, spilling them past the 512-byte stack */\n"
                f"        asm volatile(\"\" : \"+r\"(diff), \"+r\"(room), \"+r\"(found));\n"
                f"        found |= ((diff - 1) >> 63) & (((u64)room >> 63) ^ 1);\n"
                f"    }}\n    return (found | (0 - found)) >> 63;   /* found != 0, without a branch */\n")
    return head + body + "}\n"


def _word(value: bytes, start: int) -> int:
    """The 8 bytes of value from start as a little-endian number (past its end: zero)."""
    return int.from_bytes(value[start:start + 8].ljust(8, b"\0"), "little")


def _words_diff(p: str, value: bytes) -> str:
    """C that is zero exactly when the len(value) bytes at pointer p equal value, read 8 bytes at a time.
    A value not a multiple of 8 long ends with a word overlapping the one before it; one shorter than 8
    is read as one word with the bytes past it masked off. Branch-free: one verifier path whatever the
    bytes, and about 4 instructions per 8 bytes (the filter cost model in plan/planner.py counts on it)."""
    n = len(value)
    if n == 0:
        return "0"
    if n < 8:
        mask = (1 << (8 * n)) - 1
        return f"((*(u64 *)({p}) & {c_int(mask)}) ^ {c_int(_word(value, 0))})"
    starts = list(range(0, n - 7, 8))
    if n % 8:
        starts.append(n - 8)
    return " | ".join(f"(*(u64 *)({p} + {s}) ^ {c_int(_word(value, s))})" for s in starts)


def _slot_helper_words(name: str, op: str, value: bytes, slot: SlotLayout, text: str, bounded: bool) -> str:
    """A match on a slot in per-CPU scratch. Reads may run past the string (up to 8 bytes past the
    16 KiB record mask, inside the 32 KiB scratch): those bytes are masked off or out of range."""
    n = len(value)
    head = _slot_helper_head(name, text)
    bad = "TS_SLOT_FAULT | TS_SLOT_ABSENT"
    if op in ("==", "startswith", "endswith"):
        cond = {"==": f"len != {n} || (info & (TS_SLOT_TRUNCATED | {bad}))",
                "startswith": f"len < {n} || (info & ({bad}))",
                "endswith": f"len < {n} || (info & (TS_SLOT_TRUNCATED | {bad}))"}[op]
        start = f"so + 4 + len - {n}" if op == "endswith" else "so + 4"
        body = (f"    if ({cond})\n        return 0;\n"
                f"    u8 *p = r + (({start}) & TS_OFF_MASK);\n"
                f"    u64 diff = {_words_diff('p', value)};\n"
                f"    return diff == 0;\n")
        return head + body + "}\n"
    # contains: see _slot_helper for why the loop has no branch but its own
    span = max(slot.max - n + 1, 0)
    pragma = "#pragma clang loop unroll(disable)\n" if bounded else "#pragma unroll\n"
    body = (f"    if (len < {n} || (info & ({bad})))\n        return 0;\n"
            f"    s64 last = len - {n};\n"
            f"    u64 found = 0;\n"
            f"{pragma}    for (u32 i = 0; i < {span}; i++) {{\n"
            f"        u8 *p = r + ((so + 4 + i) & TS_OFF_MASK);\n"
            f"        u64 diff = {_words_diff('p', value)};\n"
            f"        s64 room = last - (s64)i;\n"
            f"        asm volatile(\"\" : \"+r\"(diff), \"+r\"(room), \"+r\"(found));   /* keep it branch-free */\n"
            f"        found |= (((diff | (0 - diff)) >> 63) ^ 1) & (((u64)room >> 63) ^ 1);\n"
            f"    }}\n    return (found | (0 - found)) >> 63;   /* found != 0, without a branch */\n")
    return head + body + "}\n"


def _comm_helper(name: str, op: str, value: bytes, text: str) -> str:
    n = len(value)
    base = COMM_OFFSET
    eq = lambda start: " && ".join(f"r[{start} + {i}] == {b}" for i, b in enumerate(c_bytes(value))) or "1"  # noqa: E731
    head = f"/* {c_comment(text)} */\nstatic __always_inline int {name}(u8 *r)\n{{\n"
    if op == "==":
        tail = f" && r[{base + n}] == 0" if n < 16 else ""
        body = f"    return {eq(base)}{tail};\n"
    elif op == "startswith":
        body = f"    return {eq(base)};\n"
    else:
        # comm is at most 15 bytes and NUL-terminated: find its length, then look at every position.
        positions = []
        starts = range(0, 16 - n) if op == "contains" else []
        for start in starts:
            positions.append(f"({start} + {n} <= len && {eq(base + start)})")
        length = "".join(f"    if (len == 16 && r[{base + i}] == 0)\n        len = {i};\n" for i in range(16))
        if op == "endswith":
            cases = " || ".join(f"(len == {end} && {eq(base + end - n)})" for end in range(n, 16))
            body = f"    u32 len = 16;\n{length}    return {cases or '0'};\n"
        else:
            body = f"    u32 len = 16;\n{length}    return {' || '.join(positions) or '0'};\n"
    return head + body + "}\n"


def _kleene(e: TExpr, bits: dict, exit_bits: frozenset[int], fault_bits: frozenset[int], want_may: bool) -> str:
    """C for 'may pass' (want_may) or 'must pass': exit leaves are unknown, fault leaves are when u<i>."""
    if isinstance(e, TAnd):
        return "(" + " && ".join(_kleene(o, bits, exit_bits, fault_bits, want_may) for o in e.operands) + ")"
    if isinstance(e, TOr):
        return "(" + " || ".join(_kleene(o, bits, exit_bits, fault_bits, want_may) for o in e.operands) + ")"
    if isinstance(e, TNot):
        return "!" + _kleene(e.operand, bits, exit_bits, fault_bits, not want_may)
    bit = bits[id(e)]
    if bit in exit_bits:
        return "1" if want_may else "0"
    if bit in fault_bits:
        return f"(l{bit} || u{bit})" if want_may else f"(l{bit} && !u{bit})"
    return f"l{bit}"


def _exact(e: TExpr, bits: dict) -> str:
    if isinstance(e, TAnd):
        return "(" + " && ".join(_exact(o, bits) for o in e.operands) + ")"
    if isinstance(e, TOr):
        return "(" + " || ".join(_exact(o, bits) for o in e.operands) + ")"
    if isinstance(e, TNot):
        return "!" + _exact(e.operand, bits)
    return f"l{bits[id(e)]}"


def lower_filter(fp: FilterPlan, scope: HandlerScope) -> FilterC:
    low = _Lower(scope)
    bits = {id(leaf): i for i, leaf in enumerate(fp.leaves)}
    out = []
    faulting = fp.fault_leaves
    for i, leaf in enumerate(fp.leaves):
        loc = leaf.loc
        comment = c_comment(f"{loc.path or 'filter'} {loc.line}:{loc.col}  {leaf.text}")
        expr = low.leaf(leaf, i)
        unknown = refetch = None
        if i in faulting:
            unknown, refetch = low.fault_parts(leaf, i)
        out.append(LeafC(i, Phase.EXIT if i in fp.exit_leaves else Phase.ENTER, expr, comment, unknown, refetch))
    # The verifier walks a contains loop once per distinct state reaching it: compute those first,
    # before other leaves have split the states.
    out.sort(key=lambda leaf: 0 if "contains" in leaf.comment else 1)
    may = _kleene(fp.expr, bits, fp.exit_leaves, faulting, True)
    must = _kleene(fp.expr, bits, fp.exit_leaves, faulting, False)
    return FilterC(tuple(out), may, must, _exact(fp.expr, bits), tuple(low.helpers), fp.defers, fp.has_exit)


@dataclass(frozen=True)
class TriggerC:
    expr: str  # C condition over nr, ret and id, as an exit handler has them
    comment: str


def lower_trigger(expr: TExpr, scope: HandlerScope) -> TriggerC:
    """The recorder's trigger as one C condition, evaluated where an exit record is emitted. The validator
    let through only fields an exit handler has at hand, so no leaf needs a helper function."""
    low = _Lower(scope)

    def walk(e: TExpr) -> str:
        if isinstance(e, TAnd):
            return "(" + " && ".join(walk(o) for o in e.operands) + ")"
        if isinstance(e, TOr):
            return "(" + " || ".join(walk(o) for o in e.operands) + ")"
        if isinstance(e, TNot):
            return "!" + walk(e.operand)
        return low.leaf(e, 0)

    c = walk(expr)
    assert not low.helpers, "trigger leaves need no helpers"
    loc = expr.loc
    return TriggerC(c, c_comment(f"trigger, {loc.path or 'spec'} {loc.line}:{loc.col}"))
