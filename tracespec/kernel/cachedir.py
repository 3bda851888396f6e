"""Where tracespec keeps what it learnt about this machine's kernel between runs: struct offsets from its
BTF (kernel/btf.py), compiled programs (runtime/objcache.py) and the filter parser's tables
(spec/filter_tree.py).

$TRACESPEC_CACHE, or /var/cache/tracespec for root and $XDG_CACHE_HOME/tracespec (else
~/.cache/tracespec) for others; TRACESPEC_CACHE=off (or 0, no, false) keeps nothing."""

from __future__ import annotations

import os
import stat
import sys

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


_warned = False


def usable(path: str, create: bool, warn: bool = True) -> bool:
    """Whether path is a directory of this user's that nobody else may write into (made so if create):
    what is read back from it is run (programs by the kernel, the parser's pickled tables by Python).
    warn: say once why not (a mere look, objcache.has, leaves that to the run's own use of it)."""
    global _warned
    try:
        if create:
            os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022:
        return True
    if warn and not _warned:
        _warned = True
        print(f"tracespec: warning: not using the program cache {path}: it must be a directory of this user's "
              "that no one else may write to (chmod go-w, or set TRACESPEC_CACHE)", file=sys.stderr)
    return False


def private_file(name: str) -> str | None:
    """The path of name in the cache directory, made if need be; None when there is none to use."""
    where = directory()
    if where is None or not usable(where, create=True):
        return None
    return os.path.join(where, name)
