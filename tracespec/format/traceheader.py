"""A binary trace's header checked against a strict schema before anything uses it.

The header is data from a file anyone may have written: its names reach the generated decoder's source
and the terminal, its numbers size the decoder's reads. Every field is checked for its type and range,
and every name must be a whole identifier (re.fullmatch: `$` would let a trailing newline through), so
nothing past this point needs to distrust it. A failed check names the field, its value quoted.
"""

from __future__ import annotations

import re

from tracespec.catalogue.kinds import KINDS, Capture, Phase, Written
from tracespec.catalogue.syscalls import RET_KINDS
from tracespec.quote import quote
from tracespec.wire.layout import MAX_SLOTS

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_KIND_TEXT = re.compile(r"([a-z]+)(?:\(([A-Za-z_][A-Za-z0-9_]{0,63}(?::[A-Za-z_][A-Za-z0-9_]{0,63})?)\))?")
WRITTEN = frozenset(w.value for w in Written)  # when an exit copy was made
CAPTURES = frozenset(c.value for c in Capture if c is not Capture.NONE)  # what a slot may copy
PHASES = frozenset({Phase.ENTER.value, Phase.EXIT.value})  # a record's
MAX_NR = 1 << 20
MAX_TEXT = 16 << 20


class BadHeader(ValueError):
    """What is wrong with a header, as `field: problem`."""


def _shown(value) -> str:
    if isinstance(value, str):
        return quote(value[:60].encode("utf-8", "backslashreplace"), truncated=len(value) > 60)
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return quote(repr(value)[:60].encode("utf-8", "backslashreplace"))


def _fail(where: str, value, wanted: str):
    raise BadHeader(f"{where} is {_shown(value)}, not {wanted}")


def _int(where: str, value, lo: int, hi: int) -> int:
    if type(value) is not int or not lo <= value <= hi:  # bool is an int to isinstance: not here
        _fail(where, value, f"an integer from {lo} to {hi}")
    return value


def _bool(where: str, value) -> bool:
    if type(value) is not bool:
        _fail(where, value, "true or false")
    return value


def _text(where: str, value) -> str:
    if type(value) is not str or len(value) > MAX_TEXT:
        _fail(where, value, "a string")
    return value


def _name(where: str, value) -> str:
    if type(value) is not str or not NAME.fullmatch(value):
        _fail(where, value, "a name ([A-Za-z_][A-Za-z0-9_]*, 64 characters at most)")
    return value


def _list(where: str, value, most: int) -> list:
    if type(value) is not list or len(value) > most:
        _fail(where, value, f"a list of {most} items at most")
    return value


def _object(where: str, value, required: set[str], optional: set[str] = frozenset()) -> dict:
    if type(value) is not dict:
        _fail(where, value, "a JSON object")
    missing = required - value.keys()
    if missing:
        raise BadHeader(f"{where} has no {quote(sorted(missing)[0].encode())}")
    unknown = value.keys() - required - optional
    if unknown:
        raise BadHeader(f"{where} has an unknown field {quote(sorted(unknown)[0].encode('utf-8', 'backslashreplace'))}")
    return value


def _kind(where: str, value) -> None:
    """An argument kind: a known kind, with the parameter it takes naming a known set, struct or map."""
    from tracespec.format.values import constants, structs

    m = _KIND_TEXT.fullmatch(value) if type(value) is str else None
    info = KINDS.get(m.group(1)) if m else None
    if info is None or (info.param is None) != (m.group(2) is None):
        _fail(where, value, "an argument kind")
    param = m.group(2)
    known = {"set": lambda: param in constants().sets, "struct": lambda: param in structs(),
             "map": lambda: ":" in param and param.split(":")[1] in constants().maps,
             "arg": lambda: ":" not in param,
             "array": lambda: ":" in param and param.split(":")[1] in structs()}
    if param is not None and not known[info.param]():
        _fail(where, value, f"an argument kind (no such {info.param})")


def _arg(where: str, a) -> None:
    _object(where, a, {"name", "index", "kind", "size", "signed"})
    _name(f"{where}.name", a["name"])
    _int(f"{where}.index", a["index"], 0, 5)
    _kind(f"{where}.kind", a["kind"])
    if type(a["size"]) is not int or a["size"] not in (1, 2, 4, 8):
        _fail(f"{where}.size", a["size"], "1, 2, 4 or 8")
    _bool(f"{where}.signed", a["signed"])


def _slot(where: str, s) -> None:
    _object(where, s, {"arg", "index", "capture", "max", "inline"},
            {"size_index", "size_from_ret", "struct", "count", "size_deref", "elem", "bits", "bits_over", "written",
             "part", "via", "via_len", "via_len_size", "entry", "plus"})
    _name(f"{where}.arg", s["arg"])
    _int(f"{where}.index", s["index"], 0, 5)
    if type(s["capture"]) is not str or s["capture"] not in CAPTURES:
        _fail(f"{where}.capture", s["capture"], "a capture (" + ", ".join(sorted(CAPTURES)) + ")")
    _int(f"{where}.max", s["max"], 0, 8192)
    _bool(f"{where}.inline", s["inline"])
    if s.get("size_index") is not None:
        _int(f"{where}.size_index", s["size_index"], 0, 5)
    if s.get("struct") is not None:
        _name(f"{where}.struct", s["struct"])
    _int(f"{where}.count", s.get("count", 0), 0, 1024)
    _bool(f"{where}.size_from_ret", s.get("size_from_ret", False))
    _bool(f"{where}.size_deref", s.get("size_deref", False))
    _int(f"{where}.elem", s.get("elem", 0), 0, 8192)
    _bool(f"{where}.bits", s.get("bits", False))
    _int(f"{where}.bits_over", s.get("bits_over", 0), 0, 64)
    _int(f"{where}.plus", s.get("plus", 0), 0, 64)
    if s.get("part"):
        _name(f"{where}.part", s["part"])
    _int(f"{where}.via", s.get("via", -1), -1, 4096)
    _int(f"{where}.via_len", s.get("via_len", 0), 0, 4096)
    _int(f"{where}.entry", s.get("entry", -1), -1, 1023)
    if s.get("via_len_size", 8) not in (0, 4, 8):
        _fail(f"{where}.via_len_size", s.get("via_len_size"), "0, 4 or 8")
    if s.get("written", "ok") not in WRITTEN:
        _fail(f"{where}.written", s.get("written"), "one of " + ", ".join(sorted(WRITTEN)))


def _layout(where: str, lay, kinds: set[int]) -> None:
    from tracespec.wire.layout import FIRST_SPECIAL_KIND

    _object(where, lay, {"kind", "phase", "nrs", "name", "args", "slots"})
    kind = _int(f"{where}.kind", lay["kind"], 0, FIRST_SPECIAL_KIND - 1)
    if kind in kinds:
        raise BadHeader(f"{where}.kind: a second layout of kind {kind}")
    kinds.add(kind)
    if type(lay["phase"]) is not str or lay["phase"] not in PHASES:
        _fail(f"{where}.phase", lay["phase"], '"enter" or "exit"')
    for i, nr in enumerate(_list(f"{where}.nrs", lay["nrs"], MAX_NR)):
        _int(f"{where}.nrs[{i}]", nr, 0, MAX_NR - 1)
    if lay["name"] != "*":
        _name(f"{where}.name", lay["name"])
    for i, a in enumerate(_list(f"{where}.args", lay["args"], 6)):
        _arg(f"{where}.args[{i}]", a)
    for i, s in enumerate(_list(f"{where}.slots", lay["slots"], MAX_SLOTS)):
        _slot(f"{where}.slots[{i}]", s)


def _syscall(where: str, s) -> None:
    _object(where, s, {"nr", "name", "ret", "args"}, {"raw", "limit", "bookkeeping"})
    _int(f"{where}.nr", s["nr"], 0, MAX_NR - 1)
    _name(f"{where}.name", s["name"])
    if type(s["ret"]) is not str or s["ret"] not in RET_KINDS:
        _fail(f"{where}.ret", s["ret"], "a return kind (" + ", ".join(sorted(RET_KINDS)) + ")")
    for i, a in enumerate(_list(f"{where}.args", s["args"], 6)):
        _arg(f"{where}.args[{i}]", a)
    _bool(f"{where}.raw", s.get("raw", False))
    _bool(f"{where}.bookkeeping", s.get("bookkeeping", False))
    _int(f"{where}.limit", s.get("limit", 0), 0, 1 << 20)


def check_schema(schema) -> None:
    _object("schema", schema, {"layouts", "syscalls", "spec_path"})
    _text("schema.spec_path", schema["spec_path"])
    kinds: set[int] = set()
    for i, lay in enumerate(_list("schema.layouts", schema["layouts"], 4096)):
        _layout(f"schema.layouts[{i}]", lay, kinds)
    for i, s in enumerate(_list("schema.syscalls", schema["syscalls"], MAX_NR)):
        _syscall(f"schema.syscalls[{i}]", s)


def check_header(header) -> None:
    """Raises BadHeader naming the first field that is not what a tracespec writer writes."""
    _object("the header", header, {"schema", "clock_offset_ns"},
            {"tracespec", "created_ns", "host", "kernel", "spec_path", "spec_text", "fd_paths",
             "initial_fds", "initial_cwds", "system_wide"})
    _int("clock_offset_ns", header["clock_offset_ns"], -(1 << 63), (1 << 63) - 1)
    if "created_ns" in header:
        _int("created_ns", header["created_ns"], 0, (1 << 64) - 1)
    for key in ("tracespec", "host", "kernel", "spec_path", "spec_text"):
        if key in header:
            _text(key, header[key])
    for key in ("fd_paths", "system_wide"):
        if key in header:
            _bool(key, header[key])
    if "initial_fds" in header:
        _initial_fds(header["initial_fds"])
    if "initial_cwds" in header:
        _initial_cwds(header["initial_cwds"])
    check_schema(header["schema"])


def _by_process(name: str, value) -> list[tuple[str, object]]:
    """{process id or "command": ...}: what the -y writer records of the traced processes at the start."""
    _object(name, value, set(), set(value) if type(value) is dict else set())
    if len(value) > 4096:
        _fail(name, value, "at most 4096 processes")
    for key in value:
        if key != "command" and not key.isdigit():
            _fail(name, key, 'a process id or "command"')
    return list(value.items())


def _initial_cwds(value) -> None:
    """{process id or "command": the working directory when tracing began}."""
    for key, path in _by_process("initial_cwds", value):
        _text(f"initial_cwds.{key}", path)


def _initial_fds(value) -> None:
    """{process id or "command": {descriptor number: what /proc showed}}."""
    for key, fds in _by_process("initial_fds", value):
        _object(f"initial_fds.{key}", fds, set(), set(fds) if type(fds) is dict else set())
        for fd, target in fds.items():
            if not fd.isdigit() or len(fd) > 10:
                _fail(f"initial_fds.{key}", fd, "a descriptor number")
            _text(f"initial_fds.{key}.{fd}", target)


def check_trailer(trailer) -> dict:
    """The END chunk's object: what the recorder counted as lost, the traced command's exit status."""
    _object("the final record", trailer, {"lost"}, {"exit_code", "bytes"})
    _int("lost", trailer["lost"], 0, (1 << 64) - 1)
    if trailer.get("exit_code") is not None:
        _int("exit_code", trailer["exit_code"], -(1 << 31), (1 << 31) - 1)
    if "bytes" in trailer:
        _int("bytes", trailer["bytes"], 0, (1 << 64) - 1)
    return trailer
