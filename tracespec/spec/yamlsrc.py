"""YAML text -> a tree of located nodes, refusing what a spec has no use for.

PyYAML composes the document; this module keeps every node's file position so later stages can point
at the exact line and column, and it refuses, with a located message: invalid UTF-8, duplicate keys,
anchors and aliases (a spec is read by reviewers, and aliases allow exponential blow-up), explicit tags,
non-string keys, several documents, and nesting deeper than any spec needs (PyYAML recurses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import yaml

from tracespec.errors import Location, SpecError

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:float", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:timestamp",
}


@dataclass(frozen=True)
class YScalar:
    value: object  # str | int | float | bool | None | other YAML scalar types
    loc: Location
    style: str | None
    raw: str  # the scalar's text in the file, quotes included
    end_line: int
    end_col: int

    def loc_at(self, line: int, col: int) -> Location:
        """File location of 1-based (line, col) inside this scalar's string value."""
        if self.style in (None, '"', "'") and self.loc.line == self.end_line:
            quote = 0 if self.style is None else 1
            return Location(self.loc.file, self.loc.line, self.loc.col + quote + col - 1, self.loc.path)
        if self.style in ("|", ">"):
            lines = self.raw.split("\n")
            body = [ln for ln in lines[1:] if ln.strip()]
            indent = min((len(ln) - len(ln.lstrip(" ")) for ln in body), default=0)
            if self.style == "|":
                return Location(self.loc.file, self.loc.line + line, indent + col, self.loc.path)
        if self.style is None and "\n" in self.raw:
            # a plain scalar folded over lines: line k of the value is line k of the source
            src_lines = self.raw.split("\n")
            if line - 1 < len(src_lines):
                text = src_lines[line - 1]
                lead = len(text) - len(text.lstrip(" ")) if line > 1 else 0
                base_col = self.loc.col if line == 1 else 1
                return Location(self.loc.file, self.loc.line + line - 1, base_col + lead + col - 1, self.loc.path)
        return self.loc


@dataclass(frozen=True)
class YList:
    items: tuple["YNode", ...]
    loc: Location


@dataclass(frozen=True)
class YMap:
    items: tuple[tuple[YScalar, "YNode"], ...]  # (key, value) in file order
    loc: Location

    def get(self, key: str) -> "YNode | None":
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def keys(self) -> list[str]:
        return [k.value for k, _ in self.items]


YNode = Union[YScalar, YList, YMap]


def decode_spec_bytes(data: bytes, filename: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError(f"spec is {len(data)} bytes; specs are limited to {MAX_BYTES} bytes",
                        Location(filename, 1, 1), hint="a spec selects and filters; it holds no data")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError(f"spec is not valid UTF-8 (byte {data[e.start]:#04x})",
                        Location(filename, line, col), hint="save the file as UTF-8") from None


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise SpecError("YAML anchors and aliases are not allowed in specs",
                            _mark_loc(self.filename, event.start_mark),
                            hint="write the value out in full: a spec should read top to bottom")
        return super().compose_node(parent, index)


def _mark_loc(filename: str, mark) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


def _check_depth(text: str, filename: str) -> None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SpecError(f"nesting deeper than {MAX_DEPTH} levels",
                                    _mark_loc(filename, event.start_mark),
                                    hint="specs are shallow: a few levels of mappings and lists")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # reported with its position by the real parse


def load_yaml(text: str, filename: str) -> YNode:
    """Parse a spec's YAML text into located nodes, or raise a located SpecError."""
    _check_depth(text, filename)
    loader = None
    try:
        loader = _Loader(text)  # checks the characters first: may raise a ReaderError
        loader.filename = filename
        if not loader.check_node():
            raise SpecError("the spec is empty", Location(filename, 1, 1),
                            hint="start from one of the specs in specs/, e.g. specs/fileio.yaml")
        node = loader.get_node()
        if loader.check_node():
            extra = loader.get_node()
            raise SpecError("a spec file holds one YAML document, this one has more",
                            _mark_loc(filename, extra.start_mark), hint="remove the '---' and what follows")
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = _mark_loc(filename, mark) if mark else Location(filename, 1, 1)
        what = e.problem or e.context or "invalid YAML"
        raise SpecError(f"invalid YAML: {what}", loc,
                        hint="check indentation, quotes and colons near this point") from None
    except yaml.YAMLError as e:  # ReaderError: characters YAML forbids
        pos = getattr(e, "position", 0) or 0
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise SpecError(f"invalid YAML: {getattr(e, 'reason', e)}", Location(filename, line, col),
                        hint="remove control characters from the file") from None
    finally:
        if loader is not None:
            loader.dispose()
    return _convert(node, text, filename, loader, "")


def _convert(node, text: str, filename: str, loader, path: str) -> YNode:
    loc = Location(filename, node.start_mark.line + 1, node.start_mark.column + 1, path or "<top>")
    if node.tag not in _STANDARD_TAGS:
        raise SpecError(f"YAML tag {node.tag!r} is not allowed in specs", loc,
                        hint="remove the '!' tag; values are plain strings, numbers and booleans")
    if isinstance(node, yaml.ScalarNode):
        try:
            value = yaml.SafeLoader.construct_object(loader, node) if node.tag != "tag:yaml.org,2002:str" \
                else node.value
        except (ValueError, OverflowError) as e:
            # PyYAML resolves by pattern, then constructs: 2001-02-30 looks like a date but is none, 0x_
            # like a number, and Python refuses to convert integers of more than 4300 digits
            what = node.tag.rsplit(":", 1)[-1]
            raise SpecError(f"{node.value[:40]!r} reads as a YAML {what} but is not a valid one ({e})"[:300], loc,
                            hint="quote it if it is meant as text") from None
        raw = text[node.start_mark.index:node.end_mark.index]
        return YScalar(value, loc, node.style, raw, node.end_mark.line + 1, node.end_mark.column + 1)
    if isinstance(node, yaml.SequenceNode):
        items = tuple(_convert(child, text, filename, loader, f"{path}[{i}]")
                      for i, child in enumerate(node.value))
        return YList(items, loc)
    seen: dict[str, Location] = {}
    items = []
    for knode, vnode in node.value:
        kloc = Location(filename, knode.start_mark.line + 1, knode.start_mark.column + 1, path or "<top>")
        if not isinstance(knode, yaml.ScalarNode) or knode.tag != "tag:yaml.org,2002:str":
            raise SpecError("mapping keys must be plain words", kloc,
                            hint="quote the key if it is meant as text")
        key = knode.value
        kpath = f"{path}.{key}" if path else key
        if key in seen:
            first = seen[key]
            raise SpecError(f"duplicate key {key!r} (first at line {first.line})", kloc.at(kpath),
                            hint="YAML keeps only the last one; merge them or delete one")
        seen[key] = kloc
        kscalar = YScalar(key, kloc.at(kpath), knode.style, text[knode.start_mark.index:knode.end_mark.index],
                          knode.end_mark.line + 1, knode.end_mark.column + 1)
        items.append((kscalar, _convert(vnode, text, filename, loader, kpath)))
    return YMap(tuple(items), loc)
