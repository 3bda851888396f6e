"""Spec text -> Spec: the schema of a tracespec YAML file.

Every key is known: an unknown or duplicate key, a value of the wrong type or a number out of range is a
located SpecError with a hint. Defaults are filled in here, visibly, and nowhere else.
"""

from __future__ import annotations

import re

from tracespec.errors import Location, SpecError, TracespecError, did_you_mean
from tracespec.spec.filter import Expr, parse_filter
from tracespec.spec.model import (SPEC_VERSION, ArgOptions, FetchOptions, RecorderOptions, Rule, Selector, Spec,
                                  SummaryOptions)
from tracespec.spec.yamlsrc import YList, YMap, YNode, YScalar, decode_spec_bytes, load_yaml

PATH_MAX = 4096
INLINE_MAX = 255  # longest string an inline (fixed-slot) fetch may hold
BUFFER_MAX = 4096  # a copy is masked to 13 bits in BPF; 4 KiB shows plenty

# The defaults a spec starts from, as strace prints: paths whole, other strings and buffers like -s 32.
DEFAULT_PATHS = FetchOptions(max=PATH_MAX - 1, mode="full")  # the longest path the kernel takes
DEFAULT_STRINGS = FetchOptions(max=32, mode="full")
DEFAULT_BUFFERS = FetchOptions(max=32, mode="full")
DEFAULT_COUNT = 32  # array elements, like strace's -s 32 for argv and iovecs

TOP_KEYS = ("version", "description", "syscalls", "exclude", "paths", "strings", "buffers", "raw", "fd_paths",
            "signals", "filter", "summary", "recorder", "abbrev")
SUMMARY_BY = ("syscall", "process", "thread")
INTERVAL_MIN, INTERVAL_MAX = 1, 86400  # seconds; the --interval flag has the same limits
RECORDER_MIN, RECORDER_MAX = 64 << 10, 4 << 30
RULE_KEYS = ("name", "class", "glob", "args", "filter", "raw", "paths", "strings", "buffers")
ARG_KEYS = ("max", "mode", "at", "size", "count", "raw")
COUNT_MAX = 64  # array elements copied at most (argv strings, iovecs): loops in BPF are unrolled
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z, not $: "$" matches before a final newline
_GLOB = re.compile(r"[A-Za-z0-9_*?\[\]!-]+\Z")


class _Parser:
    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename

    def error(self, message: str, loc: Location, hint: str | None = None) -> SpecError:
        return SpecError(message, loc, hint, source=self.text)

    # -- typed accessors ----------------------------------------------------------------------
    def want_map(self, node: YNode, what: str) -> YMap:
        if not isinstance(node, YMap):
            raise self.error(f"{what} must be a mapping of keys to values", node.loc)
        return node

    def want_list(self, node: YNode, what: str) -> YList:
        if not isinstance(node, YList):
            raise self.error(f"{what} must be a list", node.loc, hint="write it as '- item' lines or [a, b]")
        return node

    def want_str(self, node: YNode, what: str) -> str:
        if not isinstance(node, YScalar) or not isinstance(node.value, str):
            got = type(node.value).__name__ if isinstance(node, YScalar) else "a list or mapping"
            raise self.error(f"{what} must be a string, not {got}", node.loc,
                             hint="quote it if YAML reads it as something else")
        if "\x00" in node.value:
            raise self.error(f"{what} contains a NUL character", node.loc, hint="remove the \\0 from the text")
        return node.value

    def want_bool(self, node: YNode, what: str) -> bool:
        if not isinstance(node, YScalar) or not isinstance(node.value, bool):
            raise self.error(f"{what} must be true or false", node.loc)
        return node.value

    def want_int(self, node: YNode, what: str, lo: int, hi: int) -> int:
        if not isinstance(node, YScalar) or isinstance(node.value, bool) or not isinstance(node.value, int):
            raise self.error(f"{what} must be a whole number", node.loc, hint=f"a number from {lo} to {hi}")
        if not lo <= node.value <= hi:
            raise self.error(f"{what} is {_shown(node.value)}, outside {lo}..{hi}", node.loc,
                             hint=f"a number from {lo} to {hi}")
        return node.value

    def want_choice(self, node: YNode, what: str, choices: tuple[str, ...]) -> str:
        value = self.want_str(node, what)
        if value not in choices:
            raise self.error(f"{what} is {value!r}; it must be one of {', '.join(choices)}", node.loc,
                             hint=did_you_mean(value, choices))
        return value

    def check_keys(self, node: YMap, allowed: tuple[str, ...], what: str) -> None:
        for key, _ in node.items:
            if key.value not in allowed:
                raise self.error(f"unknown key {key.value!r} in {what}", key.loc,
                                 hint=did_you_mean(key.value, allowed) or f"known keys: {', '.join(allowed)}")

    # -- the schema ----------------------------------------------------------------------------
    def spec(self, root: YNode) -> Spec:
        top = self.want_map(root, "a spec")
        self.check_keys(top, TOP_KEYS, "the spec")
        version_node = top.get("version")
        if version_node is None:
            raise self.error("the spec has no 'version'", top.loc, hint=f"add 'version: {SPEC_VERSION}' at the top")
        version = self.want_int(version_node, "version", 0, 1 << 31)
        if version != SPEC_VERSION:
            raise self.error(f"spec version {version} is not supported", version_node.loc,
                             hint=f"this tracespec reads version {SPEC_VERSION}")
        description = self.want_str(top.get("description"), "description") if top.get("description") else None
        syscalls_node = top.get("syscalls")
        if syscalls_node is None:
            raise self.error("the spec has no 'syscalls'", top.loc,
                             hint="list what to trace, e.g. 'syscalls: [openat, read]' or '- class: file'")
        items = self.want_list(syscalls_node, "syscalls")
        if not items.items:
            raise self.error("'syscalls' is empty", items.loc, hint="name at least one syscall, class or glob")
        rules = tuple(self.rule(item) for item in items.items)
        excludes: tuple[Selector, ...] = ()
        if top.get("exclude") is not None:
            excludes = tuple(self.selector_item(item, "exclude")
                             for item in self.want_list(top.get("exclude"), "exclude").items)
        return Spec(
            path=self.filename, text=self.text, version=version, description=description, rules=rules,
            excludes=excludes,
            paths=self.fetch(top.get("paths"), "paths", PATH_MAX, with_mode=True).over(DEFAULT_PATHS),
            strings=self.fetch(top.get("strings"), "strings", PATH_MAX, with_mode=True).over(DEFAULT_STRINGS),
            buffers=self.fetch(top.get("buffers"), "buffers", BUFFER_MAX, with_mode=False).over(DEFAULT_BUFFERS),
            raw=self.want_bool(top.get("raw"), "raw") if top.get("raw") is not None else False,
            fd_paths=self.want_bool(top.get("fd_paths"), "fd_paths") if top.get("fd_paths") is not None else False,
            # strace prints each signal a tracee gets unless told not to (-e signal=none)
            signals=self.want_bool(top.get("signals"), "signals") if top.get("signals") is not None else True,
            filter=self.filter(top.get("filter")),
            loc=top.loc,
            # strace abbreviates structures and arrays unless told not to (-v)
            abbrev=self.want_bool(top.get("abbrev"), "abbrev") if top.get("abbrev") is not None else True,
            summary=self.summary(top.get("summary")),
            recorder=self.recorder(top.get("recorder")),
        )

    def summary(self, node: YNode | None) -> SummaryOptions | None:
        if node is None:
            return None
        if isinstance(node, YScalar) and node.value is True:
            return SummaryOptions(node.loc)
        if isinstance(node, YScalar) and node.value is False:  # as raw: false and fd_paths: false mean
            return None
        if isinstance(node, YScalar):
            raise self.error("summary must be true or a mapping (by, interval), or false for none", node.loc,
                             hint="summary: {by: process, interval: 10}")
        m = self.want_map(node, "summary")
        self.check_keys(m, ("by", "interval"), "summary")
        by = self.want_choice(m.get("by"), "summary.by", SUMMARY_BY) if m.get("by") is not None else None
        interval = self.want_int(m.get("interval"), "summary.interval", INTERVAL_MIN, INTERVAL_MAX) \
            if m.get("interval") is not None else None
        return SummaryOptions(m.loc, by, interval)

    def recorder(self, node: YNode | None) -> RecorderOptions | None:
        if node is None:
            return None
        m = self.want_map(node, "recorder")
        self.check_keys(m, ("size", "trigger"), "recorder")
        size = None
        if m.get("size") is not None:
            size_node = m.get("size")
            size = parse_size(size_node.value) if isinstance(size_node, YScalar) else None
            if size is None:
                raise self.error("recorder.size must be a size", size_node.loc, hint="e.g. 16M, 512K or 1048576")
            if not RECORDER_MIN <= size <= RECORDER_MAX:
                raise self.error(f"recorder.size is {_shown(size)} bytes, outside 64K..4G", size_node.loc,
                                 hint="e.g. 16M")
        trigger = self.filter(m.get("trigger")) if m.get("trigger") is not None else None
        return RecorderOptions(m.loc, size, trigger)

    def fetch(self, node: YNode | None, what: str, hi: int, with_mode: bool) -> FetchOptions:
        if node is None:
            return FetchOptions()
        m = self.want_map(node, what)
        self.check_keys(m, ("max", "mode") if with_mode else ("max",), what)
        lo = 1 if with_mode else 0
        mx = self.want_int(m.get("max"), f"{what}.max", lo, hi) if m.get("max") is not None else None
        mode = self.want_choice(m.get("mode"), f"{what}.mode", ("full", "inline")) \
            if m.get("mode") is not None else None
        if mode == "inline" and mx is not None and mx > INLINE_MAX:
            raise self.error(f"{what}.max is {mx}, but inline fetches hold at most {INLINE_MAX} bytes",
                             m.get("max").loc, hint="use mode: full for longer strings")
        return FetchOptions(mx, mode, m.loc)

    def filter(self, node: YNode | None) -> Expr | None:
        if node is None:
            return None
        text = self.want_str(node, "filter")
        try:
            return parse_filter(text, node.loc_at)
        except SpecError as e:
            e.source = self.text
            raise

    def selector_from_text(self, text: str, loc: Location) -> Selector:
        if text.startswith("%"):
            return Selector("class", text.lstrip("%"), loc)
        if any(c in text for c in "*?["):
            if not _GLOB.match(text):
                raise self.error(f"{text!r} is not a syscall glob", loc,
                                 hint="globs use letters, digits, _ and the wildcards * ? [...]")
            return Selector("glob", text, loc)
        if not _WORD.match(text):
            raise self.error(f"{text!r} is not a syscall name", loc,
                             hint="write a name (openat), a class ('%file') or a glob ('*stat*')")
        return Selector("name", text, loc)

    def selector_item(self, node: YNode, what: str) -> Selector:
        if isinstance(node, YScalar):
            return self.selector_from_text(self.want_str(node, f"an entry of {what}"), node.loc)
        m = self.want_map(node, f"an entry of {what}")
        self.check_keys(m, ("name", "class", "glob"), f"an entry of {what}")
        return self.selector_of(m)

    def selector_of(self, m: YMap) -> Selector:
        present = [k for k in ("name", "class", "glob") if m.get(k) is not None]
        if len(present) != 1:
            raise self.error("an entry needs exactly one of 'name', 'class' or 'glob'" +
                             (f", not {' and '.join(present)}" if present else ""), m.loc,
                             hint="write one entry per selector")
        key = present[0]
        node = m.get(key)
        text = self.want_str(node, key)
        if key == "name" and not _WORD.match(text):
            raise self.error(f"{text!r} is not a syscall name", node.loc,
                             hint="use 'glob:' for patterns and 'class:' for classes")
        if key == "class":
            text = text.lstrip("%")
            if not _WORD.match(text):
                raise self.error(f"{text!r} is not a class name", node.loc,
                                 hint="a class is a word: file, network, process, ... (`tracespec list --class`)")
        if key == "glob" and not _GLOB.match(text):
            raise self.error(f"{text!r} is not a syscall glob", node.loc,
                             hint="globs use letters, digits, _ and the wildcards * ? [...]")
        return Selector(key, text, node.loc)

    def rule(self, node: YNode) -> Rule:
        if isinstance(node, YScalar):
            sel = self.selector_from_text(self.want_str(node, "an entry of syscalls"), node.loc)
            return Rule(selector=sel, loc=node.loc)
        m = self.want_map(node, "an entry of syscalls")
        self.check_keys(m, RULE_KEYS, "a syscalls entry")
        sel = self.selector_of(m)
        args: list[ArgOptions] = []
        if m.get("args") is not None:
            amap = self.want_map(m.get("args"), "args")
            for key, value in amap.items:
                if not _WORD.match(key.value):
                    raise self.error(f"{key.value!r} is not an argument name", key.loc,
                                     hint="`tracespec list` shows each syscall's arguments")
                args.append(self.arg(key.value, key.loc, value))
        return Rule(
            selector=sel, loc=m.loc, args=tuple(args), filter=self.filter(m.get("filter")),
            raw=self.want_bool(m.get("raw"), "raw") if m.get("raw") is not None else None,
            paths=self.fetch(m.get("paths"), "paths", PATH_MAX, True) if m.get("paths") is not None else None,
            strings=self.fetch(m.get("strings"), "strings", PATH_MAX, True) if m.get("strings") is not None else None,
            buffers=self.fetch(m.get("buffers"), "buffers", BUFFER_MAX, False) if m.get("buffers") is not None else None,
        )

    def arg(self, name: str, loc: Location, node: YNode) -> ArgOptions:
        m = self.want_map(node, f"args.{name}")
        self.check_keys(m, ARG_KEYS, f"args.{name}")
        g = m.get
        size = self.want_str(g("size"), f"args.{name}.size") if g("size") is not None else None
        if size is not None and not _WORD.match(size):
            raise self.error(f"args.{name}.size must name an argument or 'ret'", g("size").loc,
                             hint="e.g. size: count (another argument) or size: ret (the return value)")
        return ArgOptions(
            name=name, loc=loc,
            max=self.want_int(g("max"), f"args.{name}.max", 0, PATH_MAX) if g("max") is not None else None,
            mode=self.want_choice(g("mode"), f"args.{name}.mode", ("full", "inline")) if g("mode") is not None else None,
            at=self.want_choice(g("at"), f"args.{name}.at", ("entry", "exit")) if g("at") is not None else None,
            size=size,
            count=self.want_int(g("count"), f"args.{name}.count", 1, COUNT_MAX) if g("count") is not None else None,
            raw=self.want_bool(g("raw"), f"args.{name}.raw") if g("raw") is not None else None,
        )


def _shown(n: int) -> str:
    """A number for a message: a hostile one may have thousands of digits."""
    text = str(n)
    return text if len(text) <= 24 else f"a number of {len(text.lstrip('-'))} digits"


def parse_size(value) -> int | None:
    """'16M', '512k', '1G', 4096 -> bytes; None when it is not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = value.strip().lower()
    if t.endswith("ib"):
        t = t[:-2]
    elif t.endswith("b"):
        t = t[:-1]
    scale = 1
    if t and t[-1] in units:
        t, scale = t[:-1], units[t[-1]]
    if not t or not all(ch.isdigit() or ch == "." for ch in t) or t.count(".") > 1 or t == ".":
        return None
    if len(t) > 24:  # no size has this many digits; and hundreds of them would overflow float
        return None
    return int(float(t) * scale)


def parse_spec_text(text: str, filename: str) -> Spec:
    root = load_yaml(text, filename)
    return _Parser(text, filename).spec(root)


def load_spec(path: str) -> Spec:
    """Read and parse a spec file; every problem is a located SpecError."""
    try:
        with open(path, "rb") as f:
            data = f.read(decode_limit())
    except OSError as e:
        # not located: the file itself is the problem, not a place in it
        raise TracespecError(f"cannot read the spec {path}: {e.strerror}", exit_code=1,
                             hint="check the path; specs/ holds the shipped ones") from None
    text = decode_spec_bytes(data, path)
    try:
        return parse_spec_text(text, path)
    except SpecError as e:
        if e.source is None:
            e.source = text
        raise


def decode_limit() -> int:
    from tracespec.spec.yamlsrc import MAX_BYTES

    return MAX_BYTES + 1
