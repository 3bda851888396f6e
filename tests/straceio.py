"""Reading strace's and tracespec's text output into comparable per-process line lists."""

from __future__ import annotations

import re

_PID = re.compile(r"^(\d+)\s+(.*)$")
_PAD = re.compile(r"\)\s+= ")  # strace aligns " = " to a column
_ADDR = re.compile(r"0x[0-9a-f]{5,}")  # addresses differ between runs
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")


def per_process(text: str, skip_signals: bool = True) -> list[list[str]]:
    """Lines of each process, in order of first appearance; unfinished/resumed pairs joined, strace's
    padding removed, addresses masked. Signal lines (--- SIG... ---) are dropped when asked."""
    by_pid: dict[str, list[str]] = {}
    order: list[str] = []
    open_line: dict[str, int] = {}
    for raw in text.splitlines():
        m = _PID.match(raw)
        if not m:
            continue
        pid, body = m.group(1), m.group(2)
        if skip_signals and body.startswith("--- "):
            continue
        if pid not in by_pid:
            by_pid[pid] = []
            order.append(pid)
        lines = by_pid[pid]
        r = _RESUMED.match(body)
        if r and pid in open_line:
            i = open_line.pop(pid)
            lines[i] = lines[i] + r.group(2)
            continue
        if body.endswith(_UNFINISHED):
            open_line[pid] = len(lines)
            body = body[: -len(_UNFINISHED)]
        lines.append(body)
    out = []
    for pid in order:
        out.append([_ADDR.sub("0xADDR", _PAD.sub(") = ", line)) for line in by_pid[pid]])
    return out


STRING = re.compile(r'"(?:[^"\\]|\\.)*"(?:\.\.\.)?')
_PORT = re.compile(r"htons\((\d+)\)")
_VARS = re.compile(r"/\* \d+ vars \*/")


def normalized(text: str, skip_signals: bool = True) -> list[list[str]]:
    """per_process(), with what legitimately differs between two runs of a program made equal:
    process ids (each becomes P1, P2, ... in order of appearance, in return values and arguments too),
    ephemeral ports, and the environment's size."""
    pids: list[str] = []
    for raw in text.splitlines():
        m = _PID.match(raw)
        if m and m.group(1) not in pids:
            pids.append(m.group(1))
    procs = per_process(text, skip_signals)
    names = {pid: f"P{i + 1}" for i, pid in enumerate(pids)}
    names.update({hex(int(pid)): label for pid, label in list(names.items())})  # raw mode prints them in hex
    pid_re = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b") if pids else None

    def fix(line: str) -> str:
        if pid_re is not None:
            line = pid_re.sub(lambda m: names[m.group(1)], line)
        line = _PORT.sub(lambda m: "htons(PORT)" if int(m.group(1)) >= 1024 else m.group(0), line)
        return _VARS.sub("/* N vars */", line)

    return [[fix(line) for line in p] for p in procs]


def strings_in(line: str) -> list[str]:
    return STRING.findall(line)


_INODE = re.compile(r"(?<=[\[>])\d{3,}(?=[\]-])|(?<=->)\d{3,}(?=\])")  # socket:[N], pipe:[N], UNIX-STREAM:[N->M]
_LOOPBACK_PORT = re.compile(r"(?<=127\.0\.0\.1:)\d+|(?<=0\.0\.0\.0:)\d+")  # -yy's TCP:[127.0.0.1:P->127.0.0.1:Q]


def numbered_inodes(procs: list[list[str]]) -> list[list[str]]:
    """-y's inodes and -yy's loopback (and wildcard) ports, which differ between two runs, each named N1, N2, ... in
    order of first appearance (the same inode twice stays the same name)."""
    names: dict[str, str] = {}

    def name(m):
        return names.setdefault(m.group(0), f"N{len(names) + 1}")
    return [[_LOOPBACK_PORT.sub(name, _INODE.sub(name, line)) for line in p] for p in procs]
