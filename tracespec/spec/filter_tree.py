"""lark's side of parsing a filter: the parser made from tracespec/grammar.lark, and the transformer from
its tree to the AST of filter.py. Imported by parse_filter when a spec has a filter to parse (lark takes
~15 ms to import: a spec without a filter starts without it)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Callable

from lark import Lark, Token, v_args
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive

from tracespec.errors import Location, SpecError
from tracespec.kernel.cachedir import private_file
from tracespec.spec.filter import (_DURATION_UNITS, MAX_STRING_BYTES, And, BitAnd, Compare, DurationLit, InList,
                                   IntLit, Name, Not, Or, StrLit, StrMatch, unescape)

__all__ = ["ToAst", "UnexpectedCharacters", "UnexpectedEOF", "UnexpectedInput", "UnexpectedToken", "VisitError",
           "parser"]


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, its tables kept in the cache directory: made from the grammar they take ~40 ms, a
    tenth of a filtered spec's start; lark checks the grammar's and its options' hash before using them."""
    grammar = resources.files("tracespec").joinpath("grammar.lark").read_text("utf-8")
    cache = private_file(f"filter-parser-lark-{lark_version}.tmp")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False, cache=cache or False)


@v_args(meta=True)
class ToAst(Transformer_NonRecursive):  # lark's parse tree is as deep as the text is long: "a or b or c ..."
    def __init__(self, locate: Callable[[int, int], Location]):
        super().__init__()
        self.locate = locate

    def _loc(self, meta) -> Location:
        return self.locate(getattr(meta, "line", 1), getattr(meta, "column", 1))

    def _tok(self, tok: Token) -> Location:
        return self.locate(tok.line, tok.column)

    def or_(self, meta, items):
        left, right = items
        ops = left.operands if isinstance(left, Or) else (left,)
        return Or(ops + (right,), self._loc(meta))

    def and_(self, meta, items):
        left, right = items
        ops = left.operands if isinstance(left, And) else (left,)
        return And(ops + (right,), self._loc(meta))

    def not_(self, meta, items):
        return Not(items[0], self._loc(meta))

    def compare(self, meta, items):
        left, op, right = items
        return Compare(str(op), left, right, self._loc(meta))

    def in_(self, meta, items):
        return InList(items[0], items[1], False, self._loc(meta))

    def not_in(self, meta, items):
        return InList(items[0], items[1], True, self._loc(meta))

    def strmatch(self, meta, items):
        subject, op, tok = items
        return StrMatch(str(op), subject, self._string(tok), self._loc(meta))

    def bitand(self, meta, items):
        return BitAnd(items[0], items[1], self._loc(meta))

    def list(self, meta, items):
        return tuple(i for i in items if i is not None)

    def name(self, meta, items):
        return Name(str(items[0]), self._tok(items[0]))

    def int_(self, meta, items):
        return IntLit(self._int(items[0]), self._tok(items[0]))

    def neg_int(self, meta, items):
        return IntLit(-self._int(items[0]), self._loc(meta))

    def _int(self, tok: Token) -> int:
        """Decimal, 0x hex, 0o or C-style octal (0644, as modes are written), 0b binary."""
        text = str(tok)
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            if any(c in "89" for c in text):
                raise SpecError(f"{text} is not an octal number", self._tok(tok),
                                hint="a leading 0 means octal, as in C: drop it for a decimal number")
            return int(text, 8)
        return int(text, 0)

    def duration(self, meta, items):
        text = str(items[0])
        for unit in ("ns", "us", "ms", "s"):
            if text.endswith(unit):
                number = text[: -len(unit)]
                break
        whole, _, frac = number.partition(".")
        scale = _DURATION_UNITS[unit]
        ns = int(whole) * scale + (int(frac) * scale // (10 ** len(frac)) if frac else 0)
        return DurationLit(ns, self._tok(items[0]))

    def string(self, meta, items):
        return self._string(items[0])

    def _string(self, tok: Token) -> StrLit:
        loc = self._tok(tok)
        try:
            value = unescape(str(tok)[1:-1])
        except ValueError as e:
            raise SpecError(f"bad string literal: {e}", loc,
                            hint='escapes are \\\\, \\", \\\', \\n, \\t, \\r, \\0 and \\xNN') from None
        if len(value) > MAX_STRING_BYTES:
            raise SpecError(f"string literal of {len(value)} bytes; the limit is {MAX_STRING_BYTES}", loc,
                            hint="match on a shorter prefix or suffix")
        return StrLit(value, loc)
