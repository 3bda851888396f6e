"""strace's command-line flags -> a spec, written as the YAML text parse.py reads.

The flags become text, not Spec objects, so that what `run` traces and what `--save-spec` writes are
one and the same: the saved file is the very text that was parsed. Each flag keeps strace's meaning:

  -e trace=SET     syscalls: names, strace classes (%file ...), /regex, 'all', 'none'; '!' negates the set;
                   '?name' is skipped when unknown; the last -e trace= wins, as in strace
  -e status=SET    filter: successful -> 'not failed', failed -> 'failed' (-z, -Z)
  -e raw=all       raw: true
  -s N             strings and buffers: max N (paths stay whole, as strace prints them)
  -y               fd_paths: true
  -v               abbrev: false (getdents' entries are copied to be printed)
  -e signal=none   signals: false (strace prints every signal a tracee gets: signal=all, the default)
  -P PATH          a filter on each traced syscall's path arguments (== PATH); syscalls without a path
                   argument are left out. strace also shows syscalls on descriptors that refer to PATH,
                   which a filter in the kernel cannot know.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Callable

from tracespec.errors import ExitStatus, TracespecError, did_you_mean

# strace's class names (after %) -> the catalogue's
STRACE_CLASSES = {
    "file": "file", "process": "process", "network": "network", "net": "network", "signal": "signal",
    "ipc": "ipc", "desc": "desc", "memory": "memory", "creds": "creds", "clock": "clock", "pure": "pure",
    "stat": "stat", "lstat": "lstat", "fstat": "fstat", "%stat": "stat_like", "statfs": "statfs",
    "fstatfs": "fstatfs", "%statfs": "statfs_like",
}
STATUSES = ("successful", "failed", "unfinished", "unavailable", "detached")
STRING_MAX = 4096  # the longest a buffer is copied (parse.BUFFER_MAX); strings go as far

# -e qualifiers strace has and tracespec does not, with what to do instead
REFUSED_QUALIFIERS = {
    "read": "no hex dumps of reads; -s N shows up to N bytes of each buffer",
    "reads": "no hex dumps of reads; -s N shows up to N bytes of each buffer",
    "write": "no hex dumps of writes; -s N shows up to N bytes of each buffer",
    "writes": "no hex dumps of writes; -s N shows up to N bytes of each buffer",
    "fault": "tracespec never changes what the traced program does (no fault injection)",
    "inject": "tracespec never changes what the traced program does (no injection)",
    "kvm": "KVM exits are not traced",
    "quiet": "use -q to quiet tracespec's notices",
    "decode-fds": "use -y",
    "trace-fds": "use a filter in a spec, e.g. filter: fd == 3",
    "decode-pids": "not implemented",
}


@dataclass
class StraceFlags:
    """The spec-shaping strace flags of one command line, as typed."""

    expressions: list[str] = field(default_factory=list)  # each -e, in order
    strsize: int | None = None  # -s
    fd_paths: int = 0  # -y count
    paths: list[str] = field(default_factory=list)  # -P
    successful_only: bool = False  # -z
    failed_only: bool = False  # -Z
    summary: bool = False  # -c (saved as summary: true)
    summary_by: str | None = None
    no_abbrev: bool = False  # -v

    def words(self) -> list[str]:
        """The spec-shaping flags as typed, in a fixed order (the command and other options left out)."""
        out = [w for e in self.expressions for w in ("-e", e)]
        out += ["-s", str(self.strsize)] if self.strsize is not None else []
        out += ["-" + "y" * self.fd_paths] if self.fd_paths else []
        out += ["-v"] if self.no_abbrev else []
        out += [w for p in self.paths for w in ("-P", p)]
        out += ["-z"] if self.successful_only else []
        out += ["-Z"] if self.failed_only else []
        return out

    def given(self) -> bool:
        return bool(self.expressions or self.strsize is not None or self.fd_paths or self.paths
                    or self.successful_only or self.failed_only or self.no_abbrev)


def _refuse(message: str, hint: str | None = None) -> TracespecError:
    return TracespecError(message, exit_code=ExitStatus.USAGE, hint=hint)


@dataclass
class _Qualifiers:
    trace: str | None = None  # the last -e trace= value
    status: frozenset[str] | None = None
    raw: str | None = None
    signal: str | None = None  # the last -e signal= value
    text: dict = field(default_factory=dict)  # qualifier -> the -e words, for comments


def _qualifiers(flags: StraceFlags) -> _Qualifiers:
    q = _Qualifiers()
    for expr in flags.expressions:
        name, eq, value = expr.partition("=")
        if not eq:  # strace: a bare set is a trace set
            name, value = "trace", expr
        name = {"t": "trace", "x": "raw", "a": "abbrev", "v": "verbose", "s": "signal", "r": "read",
                "w": "write", "q": "quiet", "trace": "trace"}.get(name, name)
        if name == "trace":
            q.trace = value
        elif name == "status":
            q.status = _status_set(value, expr)
        elif name == "raw":
            q.raw = value
        elif name in ("signal", "signals"):
            name = "signal"
            q.signal = value
        elif name in ("abbrev", "verbose"):
            if name == "abbrev" and value == "none":
                raise _refuse(f"-e {expr} is strace's -v, which tracespec takes as -v only",
                              hint="write -v (--no-abbrev) instead")
            if value != "all":
                raise _refuse(f"-e {expr}: tracespec prints structures as strace does by default "
                              f"({name}=all), or all in full with -v, and has no other setting",
                              hint=f"drop -e {expr}")
        elif name in REFUSED_QUALIFIERS:
            raise _refuse(f"-e {expr}: strace's {name}= is not implemented", hint=REFUSED_QUALIFIERS[name])
        else:
            raise _refuse(f"-e {expr}: {name!r} is not a qualifier strace knows",
                          hint=did_you_mean(name, ("trace", "status", "raw", "signal", "abbrev", "verbose"))
                          or "tracespec takes -e trace=, -e status=, -e raw=, -e signal=")
        q.text[name] = expr
    if flags.successful_only or flags.failed_only:
        wanted = frozenset(["successful"] if flags.successful_only else []) | \
            frozenset(["failed"] if flags.failed_only else [])
        q.status = wanted if q.status is None else q.status & wanted
        q.text["status"] = " ".join(filter(None, [q.text.get("status", ""), "-z" if flags.successful_only else "",
                                                   "-Z" if flags.failed_only else ""])).strip()
    return q


def _status_set(value: str, expr: str) -> frozenset[str]:
    negate = False
    while value.startswith("!"):
        negate, value = not negate, value[1:]
    if value == "all":
        chosen = set(STATUSES)
    elif value == "none":
        chosen = set()
    else:
        chosen = set()
        for word in value.split(","):
            if word not in STATUSES:
                raise _refuse(f"-e {expr}: {word!r} is not a status",
                              hint=did_you_mean(word, STATUSES) or "statuses: " + ", ".join(STATUSES))
            chosen.add(word)
    return frozenset(set(STATUSES) - chosen if negate else chosen)


def status_filter(status: frozenset[str] | None, expr: str) -> str | None:
    """strace's status set as a filter. A syscall that never returns (exit_group) or is cut short by the
    end of its process is shown only when 'unfinished' is in the set; a filter on the result (failed)
    already leaves those out, and without one they are shown, so the sets tracespec can keep are those
    that agree with that."""
    if status is None:
        return None
    returned = status & {"successful", "failed"}
    unfinished = "unfinished" in status
    if returned == {"successful", "failed"} and unfinished:
        return None
    if returned == {"failed"} and not unfinished:
        return "failed"
    if returned == {"successful"} and not unfinished:
        return "not failed"
    raise _refuse(f"-e {expr}: tracespec can keep all syscalls, only the failed ones (status=failed, -Z) or "
                  "only the successful ones (status=successful, -z)",
                  hint="syscalls that never return are shown with all, and left out of failed and successful")


@dataclass
class _Selection:
    names: list[str]  # in the order given
    classes: list[str]  # catalogue class names
    regexes: list[tuple[str, list[str]]]  # (regex, the names it matches)
    everything: bool = False
    negated: bool = False


def _selection(value: str | None, catalogue, available: Callable) -> _Selection:
    if value is None:
        return _Selection([], [], [], everything=True)
    negated = False
    v = value
    while v.startswith("!"):
        negated, v = not negated, v[1:]
    if v in ("all", "none"):
        everything = (v == "all") != negated
        if not everything:
            raise _refuse(f"-e trace={value} traces no syscall", hint="name the syscalls to trace, e.g. -e trace=openat")
        return _Selection([], [], [], everything=True)
    sel = _Selection([], [], [], negated=negated)
    for word in v.split(","):
        optional = word.startswith("?")
        token = word[1:] if optional else word
        if not token:
            raise _refuse(f"-e trace={value}: an empty name", hint="separate names with single commas")
        if token.startswith("/"):
            try:
                rx = re.compile(token[1:])
            except re.error as e:
                raise _refuse(f"-e trace={value}: {token!r} is not a regular expression ({e})") from None
            matched = [sc.name for sc in catalogue.syscalls if rx.search(sc.name) and available(sc)]
            if not matched and not optional:
                raise _refuse(f"-e trace={value}: {token!r} matches no syscall", hint="`tracespec list` prints the names")
            sel.regexes.append((token, matched))
        elif token.startswith("%") or (catalogue.get(token) is None and token in STRACE_CLASSES):
            cls = STRACE_CLASSES.get(token[1:] if token.startswith("%") else token)
            if cls is None:
                if optional:
                    continue
                raise _refuse(f"-e trace={value}: {token!r} is not a strace class",
                              hint=did_you_mean(token[1:], STRACE_CLASSES) or
                              "classes: " + ", ".join("%" + c for c in STRACE_CLASSES))
            sel.classes.append(cls)
        else:
            sc = catalogue.get(token)
            if sc is None:
                if optional:
                    continue
                raise _refuse(f"-e trace={value}: unknown syscall {token!r}",
                              hint=did_you_mean(token, catalogue.names) or "`tracespec list` prints them all")
            if not available(sc):
                if optional:
                    continue
                raise _refuse(f"-e trace={value}: {token} is newer than the target kernel",
                              hint=f"write ?{token} to skip it where it is missing")
            sel.names.append(token)
    return sel


def _resolved(sel: _Selection, catalogue, available: Callable) -> list:
    """The syscalls a selection traces, in number order."""
    if sel.everything:
        return [sc for sc in catalogue.syscalls if available(sc)]
    chosen = set(sel.names) | {n for _, names in sel.regexes for n in names}
    chosen |= {sc.name for cls in sel.classes for sc in catalogue.in_class(cls)}
    return [sc for sc in catalogue.syscalls if available(sc) and ((sc.name in chosen) != sel.negated)]


def filter_string(text: str) -> str:
    """A filter-language string literal: every byte not printable ASCII, and the quote and backslash,
    escaped, so that any path (even one that is not UTF-8) is written and read back exactly."""
    out = []
    for b in os.fsencode(text):
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def _yaml_str(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _comment(text: str) -> str:
    """Text for a YAML comment: one line, printable."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _path_rules(syscalls: list, paths: list[str]) -> list[str]:
    lines = []
    for sc in syscalls:
        names = [a.name for a in sc.args if a.kind.name == "path"]
        if not names:
            continue
        cond = " or ".join(f"{n} == {filter_string(p)}" for n in names for p in paths)
        lines.append(f"  - name: {sc.name}\n    filter: {_yaml_str(cond)}")
    return lines


def _selection_lines(sel: _Selection, q: _Qualifiers) -> tuple[list[str], list[str]]:
    """syscalls: and exclude: entries for a selection without -P."""
    where = f"  # -e {q.text['trace']}" if "trace" in q.text else "  # every syscall, as strace traces by default"
    entries = [f"  - {n}" for n in sel.names]
    entries += [f"  - class: {c}" for c in sel.classes]
    for rx, names in sel.regexes:
        entries += [f"  - {n}  # {_comment(rx)}" for n in names]
    if sel.everything:
        return [f"  - '*'{where}"], []
    if not sel.negated:
        if entries:
            entries[0] += where
        return entries, []
    return [f"  - '*'{where}"], entries


def spec_text(flags: StraceFlags, catalogue, available: Callable, command_line: str) -> str:
    """The spec strace's flags describe, as commented YAML."""
    q = _qualifiers(flags)
    sel = _selection(q.trace, catalogue, available)
    lines = [f"# {_comment(command_line)}", "# strace's flags as a tracespec spec (tracespec run THIS -- CMD traces the same)",
             "version: 1", f"description: {_yaml_str('strace ' + _comment(' '.join(flags.words()) or '(every syscall)'))}", "syscalls:"]
    excludes: list[str] = []
    if flags.paths:
        rules = _path_rules(_resolved(sel, catalogue, available), flags.paths)
        if not rules:
            raise _refuse("-P: none of the traced syscalls takes a path", hint="add -e trace=%file, or drop -P")
        lines.append("  # -P " + _comment(" -P ".join(flags.paths)) + ": syscalls with a path argument equal to it")
        lines += rules
    else:
        entries, excludes = _selection_lines(sel, q)
        lines += entries
    if excludes:
        lines.append("exclude:")
        lines += excludes
    if q.raw is not None:
        lines += _raw_lines(q.raw, q.text["raw"])
    if flags.strsize is not None:
        n = flags.strsize
        _check_strsize(n)
        lines += [f"strings: {{max: {n}}}  # -s {n}", f"buffers: {{max: {n}}}  # -s {n}"]
    if flags.fd_paths:  # -yy's socket endpoints are the writer's to show: the spec says -y
        lines.append("fd_paths: true  # -y")
    if flags.no_abbrev:
        lines.append("abbrev: false  # -v")
    if q.signal is not None and not _signals_on(q.signal, q.text["signal"]):
        lines.append(f"signals: false  # -e {_comment(q.text['signal'])}")
    status = status_filter(q.status, q.text.get("status", ""))
    if status is not None:
        lines.append(f"filter: {_yaml_str(status)}  # {_comment(q.text['status'])}")
    if flags.summary:
        lines.append(f"summary: {{by: {flags.summary_by}}}  # -c" if flags.summary_by else "summary: true  # -c")
    return "\n".join(lines) + "\n"


def _signals_on(value: str, expr: str) -> bool:
    """-e signal=all (strace's default) or none: whether signal deliveries are printed."""
    if value in ("all", "!none"):
        return True
    if value in ("none", "!all"):
        return False
    raise _refuse(f"-e {expr}: signal= for some signals only is not implemented",
                  hint="-e signal=none prints no signal deliveries; without it every one is printed")


def _raw_lines(value: str, expr: str) -> list[str]:
    if value in ("all", "!none"):
        return [f"raw: true  # -e {_comment(expr)}"]
    if value in ("none", "!all"):
        return []
    raise _refuse(f"-e {expr}: raw= for some syscalls only is not implemented",
                  hint="-e raw=all shows every argument raw; or give a syscall raw: true in a spec")


def refined_text(text: str, flags: StraceFlags, command_line: str) -> str | None:
    """A spec's text with strace's flags applied on top (None when no flag changes it): -s sets the
    string and buffer sizes, -y fd_paths, -e raw=all raw, -e signal=none signals, and -e status=, -z
    and -Z add their condition to the filter (and). The selection is the spec's: -e trace= and -P build one of their own."""
    import yaml

    q = _qualifiers(flags)
    if q.trace is not None or flags.paths:
        what = f"-e {q.text['trace']}" if q.trace is not None else "-P"
        raise _refuse(f"{what} chooses the syscalls, and so does the spec",
                      hint="drop the spec to trace as the flags say, or change its syscalls: (and filter:)")
    changes: dict = {}
    if flags.strsize is not None:
        _check_strsize(flags.strsize)
        changes["strings"] = changes["buffers"] = flags.strsize
    if flags.fd_paths:
        changes["fd_paths"] = True
    if flags.no_abbrev:
        changes["abbrev"] = False
    if q.raw is not None and _raw_lines(q.raw, q.text["raw"]):
        changes["raw"] = True
    if q.signal is not None and not _signals_on(q.signal, q.text["signal"]):
        changes["signals"] = False
    status = status_filter(q.status, q.text.get("status", ""))
    if status is not None:
        changes["filter"] = status
    if not changes:
        return None
    data = yaml.safe_load(text)
    for key in ("strings", "buffers"):
        if key in changes:
            data[key] = {**(data.get(key) or {}), "max": changes[key]}
    for key in ("fd_paths", "raw"):
        if key in changes:
            data[key] = True
    for key in ("signals", "abbrev"):
        if key in changes:
            data[key] = False
    if "filter" in changes:
        data["filter"] = f"({data['filter']}) and {changes['filter']}" if data.get("filter") else changes["filter"]
    head = [f"# {_comment(command_line)}", "# the spec given, with the command line's strace flags applied"]
    return "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=1 << 20)


def _check_strsize(n: int) -> None:
    if not 1 <= n <= STRING_MAX:
        raise _refuse(f"-s {n}: tracespec copies 1 to {STRING_MAX} bytes of a string or buffer", hint="e.g. -s 256")
