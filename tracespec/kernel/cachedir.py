"""Where tracespec keeps what it learnt about this machine's kernel between runs: struct offsets from its
BTF (kernel/btf.py) and compiled programs (runtime/objcache.py).

$TRACESPEC_CACHE, or /var/cache/tracespec for root and $XDG_CACHE_HOME/tracespec (else
~/.cache/tracespec) for others; TRACESPEC_CACHE=off (or 0, no, false) keeps nothing."""

from __future__ import annotations

import os

OFF = ("off", "0", "no", "false")


def directory() -> str | None:
    chosen = os.environ.get("TRACESPEC_CACHE", "")
    if chosen.lower() in OFF:
        return None
    if chosen:
        return chosen
    if os.geteuid() == 0:
        return "/var/cache/tracespec"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracespec")
