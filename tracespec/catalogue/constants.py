"""Named constants: flag sets and enums (for decoding and for filters), errno and signal names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Mapping


@dataclass(frozen=True)
class ConstantSet:
    name: str
    kind: str  # enum | flags
    entries: tuple[tuple[str, int], ...]  # in print order
    zero: str | None = None  # how a flags value of 0 prints
    lead_enum: tuple[str, int] | None = None  # (enum set, mask) printed first
    trail_enum: tuple[str, int] | None = None  # (enum set, mask) printed last, when not zero
    unknown: str | None = None  # the comment strace gives a value no name covers (?_OK); None: derived;
    # "": none (strace's printflags with no default: unknown bits bare, a 0 no name has prints nothing)
    split: bool = False  # the lead set's bits and the rest print as two values, each its own number under -X

    @property
    def unknown_text(self) -> str:
        """strace's "PREFIX_???": the names' common prefix up to its last underscore (SO_, MCL_)."""
        if self.unknown is not None:
            return self.unknown
        names = [n.lstrip("_") for n, _ in self.entries]
        prefix = names[0] if names else ""
        for n in names[1:]:
            while not n.startswith(prefix):
                prefix = prefix[:-1]
        cut = prefix.rfind("_")
        return (prefix[:cut + 1] if cut > 0 else "") + "???"

    def lookup(self, value: int) -> str | None:
        for name, v in self.entries:
            if v == value:
                return name
        return None


NETWORK_ORDER = "htons:"  # a map's set named so: the argument holds the value in network byte order


@dataclass(frozen=True)
class ConstantMap:
    """A constant set chosen by another argument's value (socket options by level); a set name with
    the NETWORK_ORDER prefix says the value is a 16-bit one in network byte order (AF_PACKET's protocol)."""

    name: str
    entries: tuple[tuple[int, str], ...]  # (value, set name)

    def set_for(self, value: int) -> str | None:
        for v, s in self.entries:
            if v == value:
                return s
        return None


@dataclass(frozen=True)
class ErrnoInfo:
    number: int
    name: str
    message: str


@dataclass(frozen=True)
class Constants:
    sets: Mapping[str, ConstantSet]
    maps: Mapping[str, ConstantMap]
    values: Mapping[str, int]  # every named constant (O_CREAT, ENOENT, SIGKILL, AT_FDCWD ...)
    errnos: Mapping[int, ErrnoInfo]
    errno_by_name: Mapping[str, int]

    def errno_name(self, number: int) -> str:
        info = self.errnos.get(number)
        return info.name if info else f"E{number}"

    def errno_message(self, number: int) -> str:
        info = self.errnos.get(number)
        return info.message if info else f"Unknown error {number}"

    def signal_name(self, number: int) -> str | None:
        return self.sets["signals"].lookup(number)


_HEADER = re.compile(r"^\[([a-z0-9_]+)\]\s+(enum|flags|map)((?:\s+\S+)*)\s*$")


def _read(name: str) -> str:
    return resources.files("tracespec.catalogue").joinpath("data", name).read_text(encoding="utf-8")


def _parse_sets(text: str) -> tuple[dict[str, ConstantSet], dict[str, list[tuple[str, str]]]]:
    sets: dict[str, ConstantSet] = {}
    maps: dict[str, list[tuple[str, str]]] = {}
    current: dict | None = None

    def close():
        if current is not None and current["kind"] != "map":
            sets[current["name"]] = ConstantSet(entries=tuple(current.pop("entries")), **current)

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _HEADER.match(line)
        if m:
            close()
            current = {"name": m.group(1), "kind": m.group(2), "entries": []}
            if m.group(2) == "map":
                maps[m.group(1)] = current["entries"]
            for opt in m.group(3).split():
                key, _, val = opt.partition("=")
                if key == "zero":
                    current[key] = val
                elif key == "unknown":
                    current[key] = "" if val == "-" else val
                elif key == "split" and not val:
                    current[key] = True
                elif key in ("mask-enum", "trailing-enum"):
                    setname, _, mask = val.partition(":")
                    current["lead_enum" if key == "mask-enum" else "trail_enum"] = (setname, int(mask, 0))
                else:
                    raise ValueError(f"constants.txt:{lineno}: unknown option {key!r}")
            continue
        if current is None:
            raise ValueError(f"constants.txt:{lineno}: entry before any [set] header")
        name, value = line.split()
        current["entries"].append((name, value) if current["kind"] == "map" else (name, int(value, 0)))
    close()
    return sets, maps


def _parse_errno(text: str) -> dict[int, ErrnoInfo]:
    out = {}
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        num, name, message = raw.split("\t")
        out[int(num)] = ErrnoInfo(int(num), name, message)
    return out


def load_constants() -> Constants:
    sets, raw_maps = _parse_sets(_read("constants.txt"))
    errnos = _parse_errno(_read("errno.tsv"))
    values: dict[str, int] = {}
    for s in sets.values():
        for name, v in s.entries:
            if name in values and values[name] != v:
                raise ValueError(f"constant {name} has two values: {values[name]:#x} and {v:#x}")
            values[name] = v
    errno_by_name = {e.name: n for n, e in errnos.items()}
    for name, n in errno_by_name.items():
        values.setdefault(name, n)
    # aliases programs use for the same numbers
    for alias, canonical in (("EWOULDBLOCK", "EAGAIN"), ("EDEADLOCK", "EDEADLK"), ("ENOTSUP", "EOPNOTSUPP")):
        errno_by_name[alias] = errno_by_name[canonical]
        values.setdefault(alias, errno_by_name[canonical])
    maps = {}
    for name, entries in raw_maps.items():
        resolved = []
        for value_name, set_name in entries:
            if value_name not in values or set_name.removeprefix(NETWORK_ORDER) not in sets:
                raise ValueError(f"constants.txt: map {name}: unknown {value_name!r} or {set_name!r}")
            resolved.append((values[value_name], set_name))
        maps[name] = ConstantMap(name, tuple(resolved))
    return Constants(sets=sets, maps=maps, values=values, errnos=errnos, errno_by_name=errno_by_name)
