"""Type-check a filter AST against the fields and arguments it may use, producing the typed IR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tracespec.catalogue import Constants, Phase
from tracespec.errors import SpecError, did_you_mean
from tracespec.spec import filter as ast
from tracespec.validate.typed import (COMM_MAX, EVENT_FIELDS, FieldRef, TAnd, TCompare, TExpr, TIn, TNot,
                                      TOr, TStrMatch, TTruth)

INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class ArgType:
    type: str  # int | str
    phase: Phase  # ENTER (exit-time captures are not filterable)


@dataclass(frozen=True)
class FilterScope:
    """What a filter may name: the arguments shared by the syscalls it applies to, and more."""

    args: Mapping[str, ArgType]
    missing_args: Mapping[str, tuple[str, ...]]  # argument -> syscalls in scope that lack it
    unfilterable: Mapping[str, str]  # argument -> why it cannot be filtered on
    syscall_names: frozenset[str]  # syscalls the spec traces
    constants: Constants
    source: str  # the spec text, for quoting
    what: str  # "the global filter" / "the filter of syscalls[3]"


class _Checker:
    def __init__(self, scope: FilterScope):
        self.s = scope

    def err(self, message: str, loc, hint: str | None = None) -> SpecError:
        return SpecError(message, loc, hint, source=self.s.source)

    # -- boolean structure ----------------------------------------------------------------------
    def boolean(self, e: ast.Expr) -> TExpr:
        if isinstance(e, ast.And):
            return TAnd(tuple(self.boolean(o) for o in e.operands), e.loc)
        if isinstance(e, ast.Or):
            return TOr(tuple(self.boolean(o) for o in e.operands), e.loc)
        if isinstance(e, ast.Not):
            return TNot(self.boolean(e.operand), e.loc)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        if isinstance(e, ast.InList):
            return self.in_list(e)
        if isinstance(e, ast.StrMatch):
            return self.strmatch(e)
        if isinstance(e, (ast.Name, ast.BitAnd)):
            f = self.field_or_masked(e)
            if f.type in ("bool", "int", "errno"):
                return TTruth(f, _text(e), e.loc)
            raise self.err(f"{f.name} is a {f.type}; it cannot stand alone as a condition", e.loc,
                           hint=f"compare it: {f.name} == ...")
        raise self.err("a constant cannot be a condition on its own", e.loc,
                       hint="compare a field with it, e.g. flags & O_CREAT")

    # -- fields ---------------------------------------------------------------------------------
    def field(self, n: ast.Name) -> FieldRef:
        name = n.name
        if name.startswith("args."):
            return self.arg_field(name[5:], n)
        if name in EVENT_FIELDS:
            ftype, phase = EVENT_FIELDS[name]
            return FieldRef(name, ftype, phase, n.loc)
        if name in self.s.args or name in self.s.missing_args or name in self.s.unfilterable:
            return self.arg_field(name, n)
        if name in self.s.constants.values:
            raise self.err(f"{name} is a constant, not a field", n.loc,
                           hint="put a field on one side: pid, comm, ret, errno, an argument ...")
        known = list(EVENT_FIELDS) + list(self.s.args)
        raise self.err(f"unknown field {name!r} in {self.s.what}", n.loc,
                       hint=did_you_mean(name, known) or "fields: " + ", ".join(sorted(known)))

    def arg_field(self, name: str, n: ast.Name) -> FieldRef:
        if name in self.s.unfilterable:
            raise self.err(f"cannot filter on argument {name!r}: {self.s.unfilterable[name]}", n.loc)
        if name in self.s.missing_args:
            lacking = self.s.missing_args[name]
            shown = ", ".join(lacking[:4]) + (f" and {len(lacking) - 4} more" if len(lacking) > 4 else "")
            raise self.err(f"{name!r} is not an argument of {shown}, which {self.s.what} applies to", n.loc,
                           hint="attach the condition to the syscalls that have it: "
                                "'- name: openat' with 'filter: ...' under it")
        if name not in self.s.args:
            raise self.err(f"no argument {name!r} in {self.s.what}", n.loc,
                           hint=did_you_mean(name, self.s.args) or
                           ("arguments: " + ", ".join(sorted(self.s.args)) if self.s.args else None))
        t = self.s.args[name]
        return FieldRef(name, t.type, t.phase, n.loc, arg=True)

    def field_or_masked(self, e: ast.Expr) -> FieldRef:
        if isinstance(e, ast.Name):
            return self.field(e)
        if isinstance(e, ast.BitAnd):
            left, right = e.left, e.right
            if not isinstance(left, ast.Name) or (left.name not in self.s.args and left.name not in EVENT_FIELDS
                                                  and not left.name.startswith("args.")):
                left, right = right, left
            if not isinstance(left, ast.Name):
                raise self.err("'&' needs a field on one side", e.loc)
            f = self.field(left)
            if f.type != "int":
                raise self.err(f"'&' works on numbers; {f.name} is a {f.type}", e.loc)
            if f.mask is not None:
                raise self.err("only one '&' per field", e.loc)
            mask = self.int_value(right, f)
            return FieldRef(f.name, f.type, f.phase, f.loc, f.arg, mask & UINT64_MAX)
        raise self.err("expected a field here", e.loc, hint="pid, comm, ret, errno, an argument ...")

    # -- values ---------------------------------------------------------------------------------
    def int_value(self, e: ast.Expr, f: FieldRef) -> int:
        if isinstance(e, ast.IntLit):
            v = e.value
        elif isinstance(e, ast.Name) and e.name in self.s.constants.values:
            v = self.s.constants.values[e.name]
        elif isinstance(e, ast.BitAnd):
            v = self.int_value(e.left, f) & self.int_value(e.right, f)
        elif isinstance(e, ast.Name):
            raise self.err(f"unknown constant {e.name!r}", e.loc,
                           hint=did_you_mean(e.name, self.s.constants.values) or
                           "constants are O_*, AT_*, errno and signal names ...")
        elif isinstance(e, ast.DurationLit):
            raise self.err(f"a duration cannot be compared with {f.name}", e.loc,
                           hint="durations go with the duration field")
        else:
            raise self.err(f"{f.name} is a number; this is not", e.loc)
        if not INT64_MIN <= v <= UINT64_MAX:
            raise self.err(f"{v} does not fit in 64 bits", e.loc,
                           hint=f"numbers go from {INT64_MIN} to {UINT64_MAX} (-2**63 to 2**64-1)")
        return v

    def value(self, e: ast.Expr, f: FieldRef):
        t = f.type
        if t == "int":
            return self.int_value(e, f)
        if t == "duration":
            if not isinstance(e, ast.DurationLit):
                raise self.err("compare duration with a duration such as 10ms or 500us", e.loc)
            if e.ns > INT64_MAX:  # the kernel side holds durations in an s64 of nanoseconds
                raise self.err("a duration this long does not fit in 64 bits of nanoseconds", e.loc,
                               hint="durations up to 292 years can be compared")
            return e.ns
        if t == "errno":
            if isinstance(e, ast.Name) and e.name in self.s.constants.errno_by_name:
                return self.s.constants.errno_by_name[e.name]
            if isinstance(e, ast.IntLit) and 0 <= e.value < 4096:
                return e.value
            name = e.name if isinstance(e, ast.Name) else None
            raise self.err("errno is compared with an errno name such as ENOENT", e.loc,
                           hint=did_you_mean(name, self.s.constants.errno_by_name) if name else None)
        if t == "syscall":
            if isinstance(e, ast.Name):
                raise self.err("write syscall names as strings", e.loc, hint=f'syscall == "{e.name}"')
            if not isinstance(e, ast.StrLit):
                raise self.err("syscall is compared with a name in quotes", e.loc, hint='syscall == "openat"')
            name = e.value.decode("utf-8", "replace")
            if name not in self.s.syscall_names:
                raise self.err(f"{name!r} is not traced by this spec, so this comparison is constant", e.loc,
                               hint=did_you_mean(name, self.s.syscall_names) or "add it under syscalls:")
            return name
        if t == "cgroup":
            if isinstance(e, ast.StrLit):
                return e.value.decode("utf-8", "surrogateescape")
            raise self.err("cgroup is compared with a cgroup v2 path in quotes", e.loc,
                           hint='cgroup == "/system.slice/nginx.service"')
        if t == "str":
            if not isinstance(e, ast.StrLit):
                raise self.err(f"{f.name} is a string; compare it with a string in quotes", e.loc)
            if f.name == "comm" and len(e.value) > COMM_MAX:
                raise self.err(f"comm holds at most {COMM_MAX} bytes; this literal has {len(e.value)}", e.loc,
                               hint="compare the first 15 bytes, or use startswith")
            return e.value
        if t == "bool":
            raise self.err(f"{f.name} is a condition; use it alone or with not", e.loc,
                           hint=f"'{f.name}' or 'not {f.name}'")
        raise AssertionError(t)

    # -- predicates -----------------------------------------------------------------------------
    def compare(self, e: ast.Compare) -> TExpr:
        left, right, op = e.left, e.right, e.op
        if not _is_fieldish(left, self.s) and _is_fieldish(right, self.s):
            left, right, op = right, left, _FLIP[op]
        f = self.field_or_masked(left)
        if _is_fieldish(right, self.s):
            raise self.err("compare a field with a constant, not with another field", right.loc)
        if f.type in ("str", "syscall", "cgroup", "bool") and op not in ("==", "!="):
            raise self.err(f"{f.name} is compared with == or != only", e.loc)
        value = self.value(right, f)
        if f.type == "str":
            return TStrMatch(op, f, value, _text(e), e.loc)
        return TCompare(op, f, value, _text(e), e.loc)

    def in_list(self, e: ast.InList) -> TExpr:
        f = self.field_or_masked(e.item)
        if not e.values:
            raise self.err("an empty list matches nothing", e.loc, hint="list at least one value")
        values = tuple(self.value(v, f) for v in e.values)
        if f.type == "str":
            parts = tuple(TStrMatch("==", f, v, _text(e), e.loc) for v in values)
            t = TOr(parts, e.loc) if len(parts) > 1 else parts[0]
            return TNot(t, e.loc) if e.negate else t
        return TIn(f, values, e.negate, _text(e), e.loc)

    def strmatch(self, e: ast.StrMatch) -> TExpr:
        f = self.field_or_masked(e.subject)
        if f.type != "str":
            raise self.err(f"{e.op} works on strings; {f.name} is a {f.type}", e.loc)
        if not e.pattern.value:
            raise self.err(f"{e.op} an empty string is always true", e.pattern.loc, hint="remove the condition")
        if f.name == "comm" and len(e.pattern.value) > COMM_MAX:
            raise self.err(f"comm holds at most {COMM_MAX} bytes; this literal has {len(e.pattern.value)}",
                           e.pattern.loc)
        return TStrMatch(e.op, f, e.pattern.value, _text(e), e.loc)


def _is_constant_name(name: str, s: FilterScope) -> bool:
    """Constants are the known names and anything spelled in capitals (an unknown constant)."""
    return name in s.constants.values or (name.upper() == name and not name.startswith("args."))


def _is_fieldish(e: ast.Expr, s: FilterScope) -> bool:
    if isinstance(e, ast.Name):
        return not _is_constant_name(e.name, s)
    if isinstance(e, ast.BitAnd):
        return _is_fieldish(e.left, s) or _is_fieldish(e.right, s)
    return False


def _text(e: ast.Expr) -> str:
    """Re-spell an expression compactly, for comments in the generated code."""
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.IntLit):
        return str(e.value)
    if isinstance(e, ast.StrLit):
        return '"' + e.value.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"'
    if isinstance(e, ast.DurationLit):
        return f"{e.ns}ns"
    if isinstance(e, ast.BitAnd):
        return f"{_text(e.left)} & {_text(e.right)}"
    if isinstance(e, ast.Compare):
        return f"{_text(e.left)} {e.op} {_text(e.right)}"
    if isinstance(e, ast.InList):
        return f"{_text(e.item)} {'not in' if e.negate else 'in'} [{', '.join(_text(v) for v in e.values)}]"
    if isinstance(e, ast.StrMatch):
        return f"{_text(e.subject)} {e.op} {_text(e.pattern)}"
    if isinstance(e, ast.Not):
        return f"not {_text(e.operand)}"
    if isinstance(e, ast.And):
        return " and ".join(_text(o) for o in e.operands)
    if isinstance(e, ast.Or):
        return " or ".join(_text(o) for o in e.operands)
    return "?"


def check_filter(expr: ast.Expr, scope: FilterScope) -> TExpr:
    return _Checker(scope).boolean(expr)
