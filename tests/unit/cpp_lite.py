"""The lines of generated C that the preprocessor keeps, for tests that ask what a program calls.

The static BPF files (tracespec/bpf/*.bpf.h) hold code for every configuration, chosen with #if on the
#defines the plan emits; a test that greps the program for calls must see only the chosen code. This
evaluates the few forms those files use: #if/#elif on defined(NAME), NAME, !, && and ||; #ifdef,
#ifndef, #else, #endif; and #define of a bare name or a number."""

from __future__ import annotations

import re

_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif|define|undef)\b\s*(.*)$")
_TOKEN = re.compile(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)|&&|\|\||!|\(|\)|\w+")


def _value(expr: str, defines: dict[str, str]) -> bool:
    out = []
    for m in _TOKEN.finditer(expr.split("/*")[0]):
        tok = m.group(0)
        if m.group(1) or m.group(2):
            out.append(str((m.group(1) or m.group(2)) in defines))
        elif tok == "&&":
            out.append("and")
        elif tok == "||":
            out.append("or")
        elif tok == "!":
            out.append("not")
        elif tok in "()":
            out.append(tok)
        elif tok.isdigit():
            out.append(tok)
        else:
            v = defines.get(tok, "0")
            out.append(str(int(v, 0)) if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", v) else "0")
    return bool(eval(" ".join(out) or "0", {"__builtins__": {}}))  # tokens are only names we wrote


def active(text: str) -> str:
    """text without its conditional directives and the lines they exclude (the #defines taken, from text
    itself, stay)."""
    defines: dict[str, str] = {}
    stack: list[tuple[bool, bool]] = []  # (this branch is taken, some branch of this #if was taken)
    kept = []
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        on = all(taken for taken, _ in stack)
        if not m:
            if on:
                kept.append(line)
            continue
        what, rest = m.group(1), m.group(2).strip()
        if what in ("if", "ifdef", "ifndef"):
            name = rest.split()[0] if rest else ""
            taken = _value(rest, defines) if what == "if" else (name in defines) == (what == "ifdef")
            stack.append((taken, taken))
        elif what == "elif":
            _, done = stack.pop()
            taken = not done and _value(rest, defines)
            stack.append((taken, done or taken))
        elif what == "else":
            _, done = stack.pop()
            stack.append((not done, True))
        elif what == "endif":
            stack.pop()
        elif on and what == "define":
            kept.append(line)
            parts = rest.split(None, 1)
            if parts and "(" not in parts[0]:
                defines[parts[0]] = parts[1].split("/*")[0].strip() if len(parts) > 1 else "1"
        elif on and what == "undef":
            defines.pop(rest.split()[0], None)
    return "\n".join(kept)
