"""Filter expressions: text -> a typed, located AST (the lark grammar in tracespec/grammar.lark).

This stage only parses. Whether a name is a field, an argument or a constant, and whether the types
fit, is decided by the validator against the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from tracespec.errors import Location, SpecError

MAX_FILTER_CHARS = 4096
MAX_STRING_BYTES = 255  # a literal longer than this is compared nowhere: fields hold less
# Later stages (validation, code generation) walk the expression recursively; a filter of 4096 characters
# could nest 2000 levels ("!!!!...x"), which no condition needs and Python's stack does not hold.
MAX_FILTER_DEPTH = 32


@dataclass(frozen=True)
class Name:
    name: str
    loc: Location


@dataclass(frozen=True)
class IntLit:
    value: int
    loc: Location


@dataclass(frozen=True)
class StrLit:
    value: bytes
    loc: Location


@dataclass(frozen=True)
class DurationLit:
    ns: int
    loc: Location


@dataclass(frozen=True)
class BitAnd:
    left: "Expr"
    right: "Expr"
    loc: Location


@dataclass(frozen=True)
class Compare:
    op: str  # == != < <= > >=
    left: "Expr"
    right: "Expr"
    loc: Location


@dataclass(frozen=True)
class InList:
    item: "Expr"
    values: tuple["Expr", ...]
    negate: bool
    loc: Location


@dataclass(frozen=True)
class StrMatch:
    op: str  # startswith endswith contains
    subject: "Expr"
    pattern: StrLit
    loc: Location


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    loc: Location


@dataclass(frozen=True)
class And:
    operands: tuple["Expr", ...]
    loc: Location


@dataclass(frozen=True)
class Or:
    operands: tuple["Expr", ...]
    loc: Location


Expr = Union[Name, IntLit, StrLit, DurationLit, BitAnd, Compare, InList, StrMatch, Not, And, Or]

_DURATION_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


_SIMPLE_ESCAPES = {"\\": b"\\", '"': b'"', "'": b"'", "n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0"}


def unescape(body: str) -> bytes:
    """The bytes a string literal's body stands for; non-ASCII text becomes its UTF-8 bytes."""
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        esc = body[i + 1] if i + 1 < len(body) else ""
        if esc in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[esc]
            i += 2
        elif esc == "x" and len(body) >= i + 4 and all(c in "0123456789abcdefABCDEF" for c in body[i + 2:i + 4]):
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError(f"unknown escape \\{esc}" if esc else "backslash at the end")
    return bytes(out)


def parse_filter(text: str, locate: Callable[[int, int], Location]) -> Expr:
    """Parse filter text; `locate` maps a 1-based (line, column) in the text to a file Location."""
    if len(text) > MAX_FILTER_CHARS:
        raise SpecError(f"filter of {len(text)} characters; the limit is {MAX_FILTER_CHARS}", locate(1, 1),
                        hint="split it between the global filter and per-syscall filters")
    if not text.strip():
        raise SpecError("empty filter", locate(1, 1), hint="remove the key, or write a condition such as 'not failed'")
    # lark is imported by the first filter parsed: a spec without one does not wait for it
    from tracespec.spec.filter_tree import (ToAst, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput,
                                            UnexpectedToken, VisitError, parser)

    try:
        tree = parser().parse(text)
    except UnexpectedCharacters as e:
        raise SpecError(f"unexpected character {text[e.pos_in_stream]!r} in filter", locate(e.line, e.column),
                        hint=_expected_hint(e)) from None
    except UnexpectedEOF as e:
        raise SpecError("filter ends too early", _end_loc(text, locate),
                        hint=_expected_hint(e) or "finish the expression") from None
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            raise SpecError("filter ends too early", _end_loc(text, locate),
                            hint=_expected_hint(e) or "finish the expression") from None
        raise SpecError(f"unexpected {str(tok)!r} in filter", locate(tok.line, tok.column),
                        hint=_expected_hint(e)) from None
    except UnexpectedInput as e:  # pragma: no cover - lark's other input errors
        raise SpecError("cannot parse filter", locate(getattr(e, "line", 1), getattr(e, "column", 1))) from None
    try:
        expr = ToAst(locate).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, SpecError):
            raise e.orig_exc from None
        raise
    _check_depth(expr)
    return expr


def _children(e: Expr) -> tuple:
    if isinstance(e, (And, Or)):
        return e.operands
    if isinstance(e, Not):
        return (e.operand,)
    if isinstance(e, (BitAnd, Compare)):
        return (e.left, e.right)
    if isinstance(e, InList):
        return (e.item,) + e.values
    if isinstance(e, StrMatch):
        return (e.subject, e.pattern)
    return ()


def _check_depth(expr: Expr) -> None:
    """Refuse, at the first node too deep, an expression nested more than MAX_FILTER_DEPTH levels
    ("a or b or c" is one level: the parser flattens it)."""
    stack = [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        if depth > MAX_FILTER_DEPTH:
            raise SpecError(f"filter nested deeper than {MAX_FILTER_DEPTH} levels", e.loc,
                            hint="write it flatter: 'not not x' is x, and 'a or b or c' needs no parentheses")
        stack.extend((c, depth + 1) for c in _children(e))


_READABLE = {
    "NAME": "a field or constant name", "INT": "a number", "STRING": "a string", "DURATION": "a duration",
    "COMPARE": "a comparison", "STRMATCH": "startswith/endswith/contains", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "AMPERSAND": "'&'", "COMMA": "','", "MINUS": "'-'",
    "AND": "'and'", "OR": "'or'", "NOT": "'not'", "IN": "'in'", "BANG": "'!'",
}


def _expected_hint(e) -> str | None:
    expected = getattr(e, "expected", None) or getattr(e, "allowed", None)
    if not expected:
        return None
    names = sorted({_READABLE.get(x, x.strip('"').lower()) for x in expected if not x.startswith("__")})
    names = [n for n in names if n]
    if not names:
        return None
    return "expected " + ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


def _end_loc(text: str, locate) -> Location:
    lines = text.rstrip().split("\n")
    return locate(len(lines), len(lines[-1]) + 1)
