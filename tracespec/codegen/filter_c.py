"""Lower a syscall's FilterPlan to C.

Each leaf becomes one C expression (0 or 1), gathered into a bit of the word `fbits` at entry. Leaves
known at entry are computed in the enter handler. A leaf can be unknown there: an exit leaf always, a
match on copied memory when the copy faulted (its bit in `funknown`). The enter handler then drops the
event only if the filter cannot pass and emits it only if it must (Kleene logic over the unknown leaves);
otherwise the event waits for the exit handler, which has the entry bits, copies faulted memory again,
computes the exit leaves into `xbits` and decides. The words are combined without a branch (see _combine).
String matches become small helper functions that compare against numeric literals, so no spec text is
ever C code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tracespec.catalogue.kinds import Phase
from tracespec.codegen.cliteral import c_bytes, c_comment, c_int
from tracespec.plan.model import ArgField, FilterPlan, SlotLayout
from tracespec.validate.typed import TAnd, TCompare, TExpr, TIn, TNot, TOr, TStrMatch, TTruth

COMM_OFFSET = 24  # bytes into an enter record (after the header)
SIGNED_FIELDS = frozenset({"ret", "errno", "duration"})  # the fields (not arguments) C holds as s64


@dataclass(frozen=True)
class LeafC:
    bit: int
    phase: Phase  # ENTER or EXIT
    expr: str  # C expression (int)
    comment: str  # the leaf's source text and location, comment-safe
    unknown: str | None = None  # enter: C expression, true when the memory it matches could not be copied


@dataclass(frozen=True)
class RefetchC:
    """At exit, one new copy of an argument whose entry copy faulted, and its leaves computed on it."""
    mask: int  # the bits of those leaves
    call: str  # C returning xbits with those bits computed again (a helper taking a and xbits), or, for
    bit: int | None = None  # ... a contains alone on its copy: C returning that leaf (0 or 1)


@dataclass(frozen=True)
class FilterC:
    leaves: tuple[LeafC, ...]
    enter_may: str  # at entry: the filter can still pass
    enter_must: str  # at entry: the filter passes whatever the unknown leaves turn out to be
    exit_pass: str  # at exit: the full filter
    refetches: tuple[RefetchC, ...]  # at exit, for each argument a leaf matches whose copy may fault
    helpers: tuple[str, ...]  # C functions the leaves call
    defers: bool  # an event can wait for its exit to be decided
    has_exit: bool  # some leaves are known only at exit

    @property
    def enter_leaves(self) -> tuple[LeafC, ...]:
        return tuple(leaf for leaf in self.leaves if leaf.phase == "enter")

    @property
    def exit_leaves(self) -> tuple[LeafC, ...]:
        return tuple(leaf for leaf in self.leaves if leaf.phase == "exit")


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
            expr = "((0 - ret) & (0 - (s64)ts_failed(ret)))"  # -ret if it failed, else 0; no branch
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

    def signed(self, leaf, argf: ArgField | None) -> bool:
        """Whether C would compare the field's expression as a signed number."""
        f = leaf.field
        if f.mask is not None:
            return False
        return argf.signed if argf is not None else f.name in SIGNED_FIELDS

    def leaf(self, leaf, bit: int) -> str:
        # Comparisons without a branch (ts_eq, ts_lt... in the header): with one, the verifier would know
        # each leaf's outcome on each path, and (the filter's result depending on all of them) tell apart
        # every combination: 32 OR'ed `fd == N` are 2^32 paths.
        if isinstance(leaf, TTruth):
            expr, _ = self.field(leaf)
            return f"ts_nonzero({expr})"
        if isinstance(leaf, TCompare):
            expr, argf = self.field(leaf)
            value = self.value(leaf, leaf.value)
            lt = "ts_slt" if self.signed(leaf, argf) else "ts_ult"
            return {"==": f"ts_eq({expr}, {value})", "!=": f"(ts_eq({expr}, {value}) ^ 1)",
                    "<": f"{lt}({expr}, {value})", ">": f"{lt}({value}, {expr})",
                    "<=": f"({lt}({value}, {expr}) ^ 1)", ">=": f"({lt}({expr}, {value}) ^ 1)"}[leaf.op]
        if isinstance(leaf, TIn):
            expr, _ = self.field(leaf)
            alts = " | ".join(f"ts_eq({expr}, {self.value(leaf, v)})" for v in leaf.values)
            return f"(({alts}) ^ 1)" if leaf.negate else f"({alts})"
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
            return f"({call} ^ 1)" if negate else call
        raise AssertionError(leaf)

    def fault_unknown(self, leaf) -> str:
        """For a match on copied memory: C (0 or 1, no branch) saying the entry copy faulted."""
        offset, _ = self.s.slots[leaf.field.name]
        return f"((*(u32 *)&r[{offset} & TS_OFF_MASK] & TS_SLOT_FAULT) / TS_SLOT_FAULT)"

    def refetch(self, arg: str, leaves: list[tuple[int, object]], alone: int | None) -> RefetchC:
        """A helper copying arg again at exit (in per-CPU scratch, before the exit record is built there)
        and computing on that one copy every leaf that matches it: one copy, however many leaves. A
        contains (alone) has a copy of its own and a helper returning just its leaf: after one contains
        loop a second on the same path, or this helper's form around one, overflowed the verifier's
        8192 pending states on 6.18."""
        def copy(failed: str) -> str:
            return (f"    u8 *r = ts_scratch_get();\n"
                    f"    if (!r)\n        return {failed};\n"
                    f"    u32 off = 0;\n"
                    f"    {self.s.slot_calls[arg]};\n")
        if alone is not None:
            helper = f"ts_refetch_{self.s.name}_{alone}"
            self.helpers.append(
                f"/* {c_comment(leaves[0][1].text)}, its memory copied again at exit */\n"
                f"static __always_inline int {helper}(u64 *a)\n{{\n" + copy("0") +
                f"    return ts_match_{self.s.name}_{alone}(r, 0);\n}}\n")
            return RefetchC(1 << alone, f"{helper}(a)", alone)
        helper = f"ts_refetch_{self.s.name}_{arg}"
        lines = []
        mask = 0
        for bit, leaf in leaves:
            match = f"ts_match_{self.s.name}_{bit}(r, 0)"  # the helper leaf() made, on the new copy at offset 0
            if leaf.op == "!=":
                match = f"({match} ^ 1)"
            lines.append(f"    xbits |= (u32){match} << {bit};   /* {c_comment(leaf.text)} */\n"
                         f"    TS_OPAQUE(xbits);\n")
            mask |= 1 << bit
        self.helpers.append(
            f"/* {arg}: its memory copied again at exit, for the filter's matches on it */\n"
            f"static __always_inline u32 {helper}(u64 *a, u32 xbits)\n{{\n" + copy("xbits") +
            f"    xbits &= ~(u32){c_int(mask)};\n" + "".join(lines) +
            "    return xbits;\n}\n")
        return RefetchC(mask, f"{helper}(a, xbits)")


def _bytes_diff(base: str, value: bytes) -> str:
    """C that is zero exactly when the bytes at base equal value, one byte at a time ("0" for no bytes)."""
    return " | ".join(f"(r[({base} + {i}) & TS_OFF_MASK] ^ {b})" for i, b in enumerate(c_bytes(value))) or "0"


def _slot_helper_head(name: str, text: str) -> str:
    """A slot match's first lines: what it tests (as a comment), then the slot's info word and length."""
    return (f"/* {c_comment(text)} */\n"
            f"static __always_inline int {name}(u8 *r, u32 so)\n{{\n"
            f"    u32 info = *(u32 *)&r[so & TS_OFF_MASK];\n"
            f"    u32 len = info & 0xffff;\n")


# A whole-string match has no branch: the slot's state and length are folded into the difference, so the
# verifier walks one path through it however many of them a filter ORs together (with a branch each, 32
# OR'ed matches of 32 bytes on a path overflowed its budget of processed instructions on 6.18).
_WHOLE_BAD = {  # op -> C that is non-zero when the slot's state or length rules a match out
    "==": "(u64)(len ^ {n}) | (info & (TS_SLOT_TRUNCATED | TS_SLOT_FAULT | TS_SLOT_ABSENT))",
    "startswith": "(((u64)len - {n}) >> 63) | (info & (TS_SLOT_FAULT | TS_SLOT_ABSENT))",
    "endswith": "(((u64)len - {n}) >> 63) | (info & (TS_SLOT_TRUNCATED | TS_SLOT_FAULT | TS_SLOT_ABSENT))",
}


def _whole_match(op: str, n: int, diff: str) -> str:
    """The body of a branch-free ==, startswith or endswith: diff is C that is zero on equal bytes."""
    return (f"    u64 bad = {_WHOLE_BAD[op].format(n=n)};\n"
            f"    u64 diff = {diff} | bad;\n"
            f"    return ts_nonzero(diff) ^ 1;   /* diff == 0, without a branch */\n")


def _slot_helper(name: str, op: str, value: bytes, slot: SlotLayout, text: str, bounded: bool) -> str:
    n = len(value)
    head = _slot_helper_head(name, text)
    bad = "TS_SLOT_FAULT | TS_SLOT_ABSENT"
    if op in ("==", "startswith"):
        body = _whole_match(op, n, _bytes_diff("so + 4", value))
    elif op == "endswith":
        # past a string shorter than the pattern b wraps below so: masked, and ruled out by bad
        body = (f"    u32 b = so + 4 + len - {n};\n"
                + _whole_match(op, n, _bytes_diff("b", value)))
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
        start = f"so + 4 + len - {n}" if op == "endswith" else "so + 4"
        # p opaque: else clang loads the words that several patterns share once, for all of them, and
        # the values it keeps spill past the 512-byte stack
        body = (f"    u8 *p = r + (({start}) & TS_OFF_MASK);\n"
                f"    TS_OPAQUE(p);\n"
                + _whole_match(op, n, _words_diff("p", value)))
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
    if op in ("==", "startswith"):  # without a branch (see leaf()); == also needs the NUL after it
        diff = [f"(r[{base + i}] ^ {b})" for i, b in enumerate(c_bytes(value))]
        if op == "==" and n < 16:
            diff.append(f"r[{base + n}]")
        body = f"    return ts_nonzero({' | '.join(diff) or '0'}) ^ 1;\n"
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


# A filter's leaves are computed first, each 0 or 1, into the bits of a word (fbits at entry, xbits at
# exit). The filter is then evaluated on those words without a branch: leaves ORed or ANDed together test
# their bits at once (ts_any/ts_all in the header), and the rest combine with bitwise operators, not && and
# ||. So the verifier walks one path through a filter, not one per way it could short-circuit (each of
# which it checked again to the program's end: 30 OR'ed == of 30 bytes overflowed its budget on 6.18), and
# clang keeps one word, not each leaf, across the helper calls after it (32 leaves spilled past the
# 512-byte stack).
def _combine(e: TExpr, op: str, leaf_word, recurse) -> str:
    """C (0 or 1) for an AND or OR node: leaves reading the same word are tested in one mask."""
    masks: dict[str, int] = {}
    parts: list[str] = []
    for o in e.operands:
        w = leaf_word(o)
        if w is None:
            parts.append(recurse(o))
        elif w in ("0", "1"):  # a leaf not known here: the pass of the filter does not hang on it
            parts.append(w)
        else:
            word, bit = w
            masks[word] = masks.get(word, 0) | (1 << bit)
    absorbing, neutral = ("0", "1") if op == "&" else ("1", "0")
    if absorbing in parts:
        return absorbing
    test = "ts_all" if op == "&" else "ts_any"
    parts = [f"{test}({word}, {c_int(m)})" for word, m in masks.items()] + [p for p in parts if p != neutral]
    if not parts:
        return neutral
    return parts[0] if len(parts) == 1 else "(" + f" {op} ".join(parts) + ")"


def _evaluate(e: TExpr, leaf_word) -> str:
    """C (0 or 1) for e, where leaf_word(leaf, negated) names where a leaf's value is: a word and a bit, or
    a constant."""
    def walk(e: TExpr, negated: bool) -> str:
        if isinstance(e, (TAnd, TOr)):
            op = "&" if isinstance(e, TAnd) else "|"
            return _combine(e, op, lambda o: None if isinstance(o, (TAnd, TOr, TNot)) else leaf_word(o, negated),
                            lambda o: walk(o, negated))
        if isinstance(e, TNot):
            inner = walk(e.operand, not negated)
            return {"0": "1", "1": "0"}.get(inner, f"({inner} ^ 1)")
        w = leaf_word(e, negated)
        return w if w in ("0", "1") else f"(({w[0]} >> {w[1]}) & 1)"
    return walk(e, False)


def _kleene(e: TExpr, bits: dict, exit_bits: frozenset[int], want_may: bool) -> str:
    """C (0 or 1) for 'may pass' (want_may) or 'must pass' at entry. A leaf known only at exit may be
    either; a leaf whose memory faulted (its bit in funknown) is decided at exit too. So a leaf's value
    for 'may pass' is its bit in fmay (fbits | funknown), for 'must pass' in fmust (fbits & ~funknown);
    under a NOT the two swap."""
    def leaf_word(leaf, negated: bool):
        may = want_may != negated
        bit = bits[id(leaf)]
        if bit in exit_bits:
            return "1" if may else "0"
        return ("fmay" if may else "fmust", bit)
    return _evaluate(e, leaf_word)


def _exact(e: TExpr, bits: dict) -> str:
    """C (0 or 1) for the filter at exit, every leaf known, in the word xbits."""
    return _evaluate(e, lambda leaf, negated: ("xbits", bits[id(leaf)]))


def lower_filter(fp: FilterPlan, scope: HandlerScope) -> FilterC:
    low = _Lower(scope)
    bits = {id(leaf): i for i, leaf in enumerate(fp.leaves)}
    out = []
    faulting = fp.fault_leaves
    refetch_leaves: dict[str, list] = {}
    for i, leaf in enumerate(fp.leaves):
        loc = leaf.loc
        comment = c_comment(f"{loc.path or 'filter'} {loc.line}:{loc.col}  {leaf.text}")
        expr = low.leaf(leaf, i)
        unknown = None
        if i in faulting:
            unknown = low.fault_unknown(leaf)
            # matches on one argument share its new copy; a contains keeps a copy of its own (after one
            # contains loop, a second on the same path overflowed the verifier's 8192 pending states)
            key = (leaf.field.name, i if leaf.op == "contains" else None)
            refetch_leaves.setdefault(key, []).append((i, leaf))
        out.append(LeafC(i, Phase.EXIT if i in fp.exit_leaves else Phase.ENTER, expr, comment, unknown))
    refetches = tuple(low.refetch(arg, leaves, alone) for (arg, alone), leaves in refetch_leaves.items())
    # The verifier walks a contains loop once per distinct state reaching it: compute those first,
    # before other leaves have split the states.
    out.sort(key=lambda leaf: 0 if "contains" in leaf.comment else 1)
    may = _kleene(fp.expr, bits, fp.exit_leaves, True)
    must = _kleene(fp.expr, bits, fp.exit_leaves, False)
    return FilterC(tuple(out), may, must, _exact(fp.expr, bits), refetches, tuple(low.helpers), fp.defers,
                   fp.has_exit)


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
