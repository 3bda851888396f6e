"""Errors a user can act on: one message, where it happened, and what to do about it.

Every failure that reaches the command line is a TracespecError; the CLI prints `render()` and exits
non-zero. Anything else escaping is a bug in tracespec, not in the user's input.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitStatus(IntEnum):
    """tracespec's own exit statuses (README.md and `run --help` document them). A traced command's
    status passes through unchanged; a signal N that killed it becomes SIGNALLED + N, as in a shell."""

    OK = 0
    ERROR = 1  # a bad spec, or a trace file that cannot be read whole
    USAGE = 2  # bad usage
    CANNOT_TRACE = 2  # the machine refuses (privileges, headers), or the trace cannot be written
    LOST = 3  # records were lost, and --fail-on-loss was given
    INTERNAL = 70  # a bug in tracespec (sysexits' EX_SOFTWARE)
    CANNOT_EXECUTE = 126  # the command exists but cannot be run (as in a shell)
    NOT_FOUND = 127  # the command does not exist (as in a shell)
    SIGNALLED = 128
    INTERRUPTED = 130  # SIGNALLED + SIGINT
    BROKEN_PIPE = 141  # SIGNALLED + SIGPIPE: the reader of the output went away


MESSAGE_MAX = 400  # characters of a message shown


@dataclass(frozen=True)
class Location:
    """A place in a spec file: 1-based line and column, and the YAML path leading there."""

    file: str
    line: int
    col: int
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def at(self, path: str) -> "Location":
        return Location(self.file, self.line, self.col, path)


class TracespecError(Exception):
    """A user-facing error. `loc` points into a spec when the spec is at fault."""

    def __init__(self, message: str, *, loc: Location | None = None, hint: str | None = None,
                 source: str | None = None, exit_code: int = ExitStatus.USAGE):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint
        self.source = source  # the spec's text, to quote the offending line
        self.exit_code = exit_code

    def render(self) -> str:
        message = self.message
        if self.loc and len(message) > MESSAGE_MAX:  # it may quote a spec's 100,000-character name
            message = message[:MESSAGE_MAX] + "..."
        head = f"{self.loc}: error: {message}" if self.loc else f"tracespec: error: {message}"
        if self.loc and self.loc.path:
            head += f" (at {self.loc.path})"
        lines = [head]
        quoted = _quote_line(self.source, self.loc) if self.loc else None
        if quoted:
            lines.extend(quoted)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class SpecError(TracespecError):
    """The spec is wrong: always located."""

    def __init__(self, message: str, loc: Location, hint: str | None = None, source: str | None = None):
        super().__init__(message, loc=loc, hint=hint, source=source, exit_code=ExitStatus.ERROR)


def _quote_line(source: str | None, loc: Location) -> list[str] | None:
    if not source or loc.line < 1:
        return None
    lines = source.splitlines()
    if loc.line > len(lines):
        return None
    text = lines[loc.line - 1].expandtabs(1)
    if len(text) > 160:  # keep one screen line; the column still points right
        start = max(0, loc.col - 80)
        text = text[start:start + 160]
        col = loc.col - start
    else:
        col = loc.col
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    gutter = f"{loc.line:5d} | "
    return [gutter + text, " " * (len(gutter) - 2) + "| " + " " * max(0, col - 1) + "^"]


def did_you_mean(word: str, candidates, limit: int = 3) -> str | None:
    """A hint naming the closest known spellings, or None when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=limit, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"
