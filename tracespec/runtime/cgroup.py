"""Which cgroup v2 group a path names, and its id (what bpf_get_current_cgroup_id returns for its tasks).

A group's id is the inode number of its directory on a cgroup2 file system. Any other directory has an
inode number too, which no task's cgroup id ever equals (or, worse, equals the root group's): so only a
directory that statfs says is on cgroup2 is taken. A path is either absolute, or as /proc/PID/cgroup
shows it: relative to the cgroup v2 mount (with or without a leading slash), and then never leading
out of it.
"""

from __future__ import annotations

import ctypes
import os

from tracespec.errors import TracespecError
from tracespec.quote import quote

CGROUP2_SUPER_MAGIC = 0x63677270
MOUNTINFO = "/proc/self/mountinfo"
_STATFS_SIZE = 256  # struct statfs is 120 bytes on 64-bit Linux; f_type is its first field, a long

_libc = ctypes.CDLL(None, use_errno=True)


def resolve_cgroup(path: str) -> tuple[str, int]:
    """The absolute path of the cgroup v2 group `path` names, and its id; a TracespecError if none."""
    mounts = cgroup2_mounts()
    if not mounts:
        raise TracespecError("cgroup v2 is not mounted: no cgroup can be traced",
                             hint="mount it, e.g. mount -t cgroup2 none /sys/fs/cgroup")
    if not path:
        raise TracespecError("not a cgroup v2 group: an empty path",
                             hint="give a directory under the cgroup v2 mount, e.g. system.slice/nginx.service")
    reasons = []
    for candidate, inside in _candidates(path, mounts):
        found, reason = _check_group(candidate, inside)
        if found is not None:
            return found, os.stat(found).st_ino
        reasons.append(reason)
    shown = " or ".join(quote(m.encode("utf-8", "surrogateescape")) for m in mounts)
    raise TracespecError(f"not a cgroup v2 group: {_shown(path)} ({reasons[0]})",
                         hint=f"give a directory under the cgroup v2 mount {shown}, absolute or relative "
                              "to it, e.g. system.slice/nginx.service (see /proc/PID/cgroup)")


def _candidates(path: str, mounts: list[str]) -> list[tuple[str, str | None]]:
    """Where `path` may be, each with the mount it must stay inside (None: anywhere on cgroup2). An
    absolute path is first taken as it is, then (as /proc/PID/cgroup shows groups) under each mount."""
    out: list[tuple[str, str | None]] = [(path, None)] if os.path.isabs(path) else []
    return out + [(os.path.join(m, path.lstrip("/")), m) for m in mounts]


def _check_group(candidate: str, inside: str | None) -> tuple[str | None, str]:
    """(the group's absolute path, "") if candidate is a cgroup v2 directory, else (None, why not)."""
    real = os.path.realpath(candidate)
    if inside is not None and not _inside(real, inside):
        return None, "it leads out of the cgroup v2 mount"
    if not os.path.exists(real):
        return None, "no such directory"
    if not os.path.isdir(real):
        return None, "not a directory"
    if _fs_type(real) != CGROUP2_SUPER_MAGIC:
        return None, "not on the cgroup v2 file system"
    return real, ""


def _inside(real: str, mount: str) -> bool:
    return os.path.commonpath([real, mount]) == mount


def _fs_type(path: str) -> int | None:
    buf = ctypes.create_string_buffer(_STATFS_SIZE)
    if _libc.statfs(os.fsencode(path), buf) != 0:
        return None
    return ctypes.c_long.from_buffer(buf).value


def cgroup2_mounts() -> list[str]:
    """Mount points of cgroup2 file systems, as this process sees them (/sys/fs/cgroup or, beside v1
    hierarchies, /sys/fs/cgroup/unified)."""
    out = []
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                before, sep, after = line.partition(" - ")
                fields = before.split()
                if sep and len(fields) > 4 and after.split()[:1] == ["cgroup2"]:
                    mount = _unescape(fields[4])
                    if mount not in out:
                        out.append(mount)
    except OSError:
        pass
    return out


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040...)."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _shown(path: str) -> str:
    return quote(path.encode("utf-8", "surrogateescape"))
