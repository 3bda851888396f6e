"""The syscall catalogue: every x86_64 syscall, its number, classes, arguments and what they are.

The table lives in data/syscalls_x86_64.tsv. Argument names and C types there were read from a
kernel's tracepoint format files; `Catalogue.with_formats` replaces them with the running kernel's own
(a newer kernel may rename or add arguments) while keeping the kinds, which only the table knows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from typing import Mapping

from tracespec.catalogue.constants import Constants, load_constants
from tracespec.catalogue.kinds import ArgKind, Phase, parse_kind
from tracespec.catalogue.structs import StructLayout, load_structs

CLASSES = frozenset({
    "desc", "file", "network", "process", "signal", "ipc", "memory", "creds", "clock",
    "stat", "lstat", "fstat", "stat_like", "statfs", "fstatfs", "statfs_like", "pure",
})

# ready: how many descriptors are ready (poll, select): 0 is a timeout, more is explained by what the
# kernel wrote back (the entry-printed arguments read again at exit: revents, fd sets, the time left)
# persona, ioprio, time, sig: the value in hex (a personality) or decimal (an I/O priority, seconds since the
# epoch, a signal number), its meaning after it; clockstate: adjtimex's clock state, its name after it
RET_KINDS = frozenset({"int", "fd", "hex", "mode", "none", "timeout", "ready", "policy", "persona", "ioprio",
                       "time", "sig", "clockstate"})


@dataclass(frozen=True)
class CType:
    spelling: str
    size: int  # bytes that hold the value (the tracepoint slot is always 8)
    signed: bool


@dataclass(frozen=True)
class Arg:
    index: int
    name: str
    ctype: CType
    kind: ArgKind


@dataclass(frozen=True)
class Syscall:
    nr: int
    name: str
    event: str | None  # syscalls:sys_enter_<event>; None when no kernel has a per-syscall tracepoint
    classes: frozenset[str]
    since: tuple[int, int] | None  # None: older than every profile
    ret: str
    args: tuple[Arg, ...]

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True)
class Catalogue:
    arch: str
    syscalls: tuple[Syscall, ...]  # by number
    constants: Constants
    structs: Mapping[str, StructLayout]
    ctypes: Mapping[str, tuple[int, bool]]

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {s.name: s for s in self.syscalls})
        object.__setattr__(self, "_by_nr", {s.nr: s for s in self.syscalls})

    def get(self, name: str) -> Syscall | None:
        return self._by_name.get(name)

    def by_nr(self, nr: int) -> Syscall | None:
        return self._by_nr.get(nr)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.syscalls]

    def in_class(self, cls: str) -> list[Syscall]:
        return [s for s in self.syscalls if cls in s.classes]

    def with_formats(self, formats: Mapping[str, tuple[tuple[str, str], ...]]) -> "Catalogue":
        """The catalogue as the running kernel describes it.

        `formats` maps tracepoint event names to their (argument name, C type) fields. Syscalls the
        kernel has no tracepoint for keep the table's arguments; their `event` becomes None.
        """
        updated = []
        for sc in self.syscalls:
            event = sc.event
            fields = formats.get(event) if event else None
            if fields is None:
                updated.append(replace(sc, event=None))
                continue
            args = []
            for i, (name, spelling) in enumerate(fields):
                kind = sc.args[i].kind if i < len(sc.args) else ArgKind("hex")
                args.append(Arg(i, name, self.ctype(spelling), _fit_kind(kind, fields)))
            updated.append(replace(sc, args=tuple(args)))
        return replace(self, syscalls=tuple(updated))

    def ctype(self, spelling: str) -> CType:
        if "*" in spelling:
            return CType(spelling, 8, False)
        base = " ".join(w for w in spelling.split() if w != "const")
        size, signed = self.ctypes.get(base, (8, False))
        return CType(spelling, size, signed)


def _fit_kind(kind: ArgKind, fields) -> ArgKind:
    """A kind whose parameter names an argument the running kernel no longer has degrades to hex."""
    if kind.info.param == "arg" and kind.param not in {n for n, _ in fields}:
        return ArgKind("ptr")
    return kind


def _parse_version(text: str) -> tuple[int, int] | None:
    if text == "-":
        return None
    major, minor = text.split(".")
    return int(major), int(minor)


def _read(name: str) -> str:
    return resources.files("tracespec.catalogue").joinpath("data", name).read_text(encoding="utf-8")


def _load_ctypes() -> dict[str, tuple[int, bool]]:
    out = {}
    for raw in _read("ctypes.tsv").splitlines():
        if raw.startswith("#") or not raw.strip():
            continue
        name, size, sign = raw.split("\t")
        out[name] = (int(size), sign == "signed")
    return out


def load_catalogue(arch: str = "x86_64") -> Catalogue:
    """The catalogue as shipped (independent of the machine it runs on)."""
    if arch != "x86_64":
        raise ValueError(f"no syscall catalogue for {arch}")
    ctypes = _load_ctypes()
    constants = load_constants()
    structs = load_structs()
    proto = Catalogue(arch, (), constants, structs, ctypes)
    syscalls = []
    for lineno, raw in enumerate(_read(f"syscalls_{arch}.tsv").splitlines(), 1):
        if raw.startswith("#") or not raw.strip():
            continue
        try:
            nr, name, event, classes, since, ret, argtext = raw.split("\t")
            args = []
            if argtext != "-":
                for i, part in enumerate(argtext.split("; ")):
                    kind, argname, spelling = part.split(" ", 2)
                    args.append(Arg(i, argname, proto.ctype(spelling), parse_kind(kind)))
            cls = frozenset() if classes == "-" else frozenset(classes.split(","))
            if not cls <= CLASSES:
                raise ValueError(f"unknown classes {sorted(cls - CLASSES)}")
            if ret not in RET_KINDS:
                raise ValueError(f"unknown return kind {ret!r}")
            syscalls.append(Syscall(
                nr=int(nr), name=name,
                event=None if event == "!" else (name if event == "-" else event),
                classes=cls, since=_parse_version(since), ret=ret, args=tuple(args)))
        except ValueError as e:
            raise ValueError(f"syscalls_{arch}.tsv:{lineno}: {e}") from None
    _check_params(syscalls, constants, structs)
    return Catalogue(arch, tuple(sorted(syscalls, key=lambda s: s.nr)), constants, structs, ctypes)


def _check_params(syscalls, constants: Constants, structs) -> None:
    for sc in syscalls:
        names = {a.name for a in sc.args}
        for a in sc.args:
            p, want = a.kind.param, a.kind.info.param
            if want == "arg" and p not in names:
                raise ValueError(f"{sc.name}.{a.name}: kind {a.kind} names no argument of {sc.name}")
            if want == "set" and p not in constants.sets:
                raise ValueError(f"{sc.name}.{a.name}: no constant set {p!r}")
            if want == "struct" and p not in structs:
                raise ValueError(f"{sc.name}.{a.name}: no struct layout {p!r}")
            if want == "array":
                count, _, elem = p.partition(":")
                if (count != "ret" and count not in names) or elem not in structs:
                    raise ValueError(f"{sc.name}.{a.name}: {p!r} names no argument (or ret) and struct layout")
                if count == "ret" and a.kind.info.at != Phase.EXIT:
                    raise ValueError(f"{sc.name}.{a.name}: a count from the return value is known only at exit")
            if want == "map":
                other, _, map_name = p.partition(":")
                if other not in names or map_name not in constants.maps:
                    raise ValueError(f"{sc.name}.{a.name}: {p!r} names no argument and constant map")
