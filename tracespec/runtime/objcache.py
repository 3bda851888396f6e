"""Compiled programs kept between runs: the same C on the same kernel, compiler and machine is loaded
without compiling it again (BCC's clang is most of a start-up: 0.3 s for an empty program, seconds for a
big spec).

A program is found by a SHA-256 of everything its compile depends on: the C without its comments (which
name the spec's file, lines and table rows, and change nothing the compiler makes: the same spec named by
another path, or two syscall selections that differ only in the table's rows, share one entry), the
compiler's flags, BCC's version, the running kernel (release and build, whose tracepoint formats BCC compiled against), the kernel
headers BCC used, and the number of possible CPUs (which sizes per-CPU perf buffers). Anything else changes
the C itself, so a stale entry is never found.

The directory is kernel/cachedir's (TRACESPEC_CACHE=off: no cache). The kernel runs what is stored here,
so tracespec uses the directory only if it belongs to this user and nobody else may write into it (else
it says so once, and compiles); entries are written whole (to a temporary file, then renamed), and
one whose checksum does not match is compiled again. The oldest entries beyond MAX_ENTRIES are removed.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import tempfile

from tracespec.kernel.cachedir import directory, usable as _usable
from tracespec.runtime import bpfobject
from tracespec.runtime.bcc_compile import CFLAGS

MAX_ENTRIES = 64
SUFFIX = ".bpfobj"


def _bcc_version() -> str:
    try:
        spec = importlib.util.find_spec("bcc")  # found, not imported: importing it maps libbcc and LLVM
    except (ImportError, ValueError):
        return ""
    for where in (spec.submodule_search_locations or []) if spec else []:
        try:
            with open(os.path.join(where, "version.py"), encoding="utf-8") as f:
                return f.read().strip()
        except OSError:
            pass
    return ""


def _headers() -> str:
    build = f"/lib/modules/{os.uname().release}/build"
    try:
        real = os.path.realpath(build)
        return f"{real} {os.stat(real).st_mtime_ns}"
    except OSError:
        return ""


# a string or character literal (kept), or a comment (the first alternatives win, as in the compiler's scan)
_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?(?:\*/|\Z)|//[^\n]*', re.S)


def _code(c_source: str) -> str:
    """The C with each comment replaced by a space (as the preprocessor does), string and character
    literals kept as they are: what the compiler sees."""
    return _TOKEN.sub(lambda m: " " if m.group().startswith("/") else m.group(), c_source)


@functools.lru_cache(maxsize=4)  # a start asks twice of the same C (has, then get): hashed once
def key(c_source: str) -> str:
    u = os.uname()
    try:
        with open("/sys/devices/system/cpu/possible", encoding="ascii") as f:
            cpus = f.read().strip()
    except OSError:
        cpus = str(os.cpu_count())
    parts = [_code(c_source), json.dumps(CFLAGS), _bcc_version(), u.release, u.version, u.machine, _headers(), cpus,
             bpfobject.MAGIC.decode()]
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


def get(c_source: str) -> bpfobject.BpfObject | None:
    where = directory()
    if where is None or not os.path.isdir(where) or not _usable(where, create=False):
        return None
    path = os.path.join(where, key(c_source) + SUFFIX)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    try:
        obj = bpfobject.loads(data)
    except bpfobject.ObjectError:
        return None  # compiled again, and written over
    try:
        os.utime(path)  # recently used: the last to be removed
    except OSError:
        pass
    return obj


def has(c_source: str) -> bool:
    """Whether get() would find a program for this C (without reading it): a start that can choose between
    two programs takes the one that needs no compile."""
    where = directory()
    if where is None or not os.path.isdir(where) or not _usable(where, create=False, warn=False):
        return False
    return os.path.exists(os.path.join(where, key(c_source) + SUFFIX))


def put(c_source: str, obj: bpfobject.BpfObject) -> None:
    """Keep obj; best effort (a full disk or a read-only directory only costs the next start a compile)."""
    where = directory()
    if where is None or not _usable(where, create=True):
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=SUFFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(bpfobject.dumps(obj))
        os.replace(tmp, os.path.join(where, key(c_source) + SUFFIX))
    except OSError:
        return
    _prune(where)


def _prune(where: str) -> None:
    try:
        entries = [e for e in os.scandir(where) if e.name.endswith(SUFFIX) and not e.name.startswith(".")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for e in entries[:len(entries) - MAX_ENTRIES]:
            os.unlink(e.path)
    except OSError:
        pass
