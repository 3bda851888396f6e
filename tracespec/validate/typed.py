"""The typed filter IR: what the validator makes of a filter AST.

Every leaf compares one event field (optionally masked) with constants, so the planner can place each
leaf at syscall entry or exit and the code generator can lower it to one C comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from tracespec.catalogue import Phase
from tracespec.errors import Location

# Event fields a filter may name, beyond the syscall's own arguments: name -> (type, phase).
# phase says when the value is known: at syscall entry, or only once it returns.
EVENT_FIELDS: dict[str, tuple[str, Phase]] = {
    "pid": ("int", Phase.ENTER),
    "tid": ("int", Phase.ENTER),
    "ppid": ("int", Phase.ENTER),
    "uid": ("int", Phase.ENTER),
    "gid": ("int", Phase.ENTER),
    "comm": ("str", Phase.ENTER),
    "cgroup": ("cgroup", Phase.ENTER),
    "syscall": ("syscall", Phase.ENTER),
    "ret": ("int", Phase.EXIT),
    "errno": ("errno", Phase.EXIT),
    "failed": ("bool", Phase.EXIT),
    "duration": ("duration", Phase.EXIT),
}
COMM_MAX = 15  # TASK_COMM_LEN - 1


@dataclass(frozen=True)
class FieldRef:
    name: str  # an EVENT_FIELDS name, or the argument's name when `arg` is true
    type: str  # int | str | bool | errno | syscall | cgroup | duration
    phase: Phase  # ENTER or EXIT
    loc: Location
    arg: bool = False
    mask: int | None = None  # compare (field & mask) instead of the field

    def describe(self) -> str:
        return f"{self.name} & {self.mask:#x}" if self.mask is not None else self.name


@dataclass(frozen=True)
class TCompare:
    op: str  # == != < <= > >=
    field: FieldRef
    value: int | bytes | str  # int for numbers; bytes for strings; str for a cgroup path
    text: str  # the source spelling, for comments in generated code
    loc: Location


@dataclass(frozen=True)
class TIn:
    field: FieldRef
    values: tuple[int | bytes | str, ...]
    negate: bool
    text: str
    loc: Location


@dataclass(frozen=True)
class TStrMatch:
    op: str  # == != startswith endswith contains
    field: FieldRef
    value: bytes
    text: str
    loc: Location


@dataclass(frozen=True)
class TTruth:
    """The field (masked or not) is not zero."""

    field: FieldRef
    text: str
    loc: Location


@dataclass(frozen=True)
class TNot:
    operand: "TExpr"
    loc: Location


@dataclass(frozen=True)
class TAnd:
    operands: tuple["TExpr", ...]
    loc: Location


@dataclass(frozen=True)
class TOr:
    operands: tuple["TExpr", ...]
    loc: Location


TExpr = Union[TCompare, TIn, TStrMatch, TTruth, TNot, TAnd, TOr]
TLeaf = Union[TCompare, TIn, TStrMatch, TTruth]


def leaves(e: TExpr):
    if isinstance(e, (TAnd, TOr)):
        for o in e.operands:
            yield from leaves(o)
    elif isinstance(e, TNot):
        yield from leaves(e.operand)
    else:
        yield e
