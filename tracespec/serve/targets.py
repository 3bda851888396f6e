"""What a recorder records: a cgroup v2 group named by its path, by a systemd unit, or by a process in it.

Every way ends in runtime.cgroup.resolve_cgroup, which takes only directories on cgroup2 and no path
leading out of its mount; nothing a client sends reaches a file name any other way.
"""

from __future__ import annotations

import os

from tracespec.errors import TracespecError
from tracespec.quote import quote
from tracespec.runtime.cgroup import cgroup2_mounts, resolve_cgroup

UNIT_SUFFIXES = (".service", ".scope", ".slice", ".socket", ".mount", ".swap", ".target", ".timer")
MAX_UNIT_DEPTH = 6  # system.slice/foo.slice/bar.service: units sit a few levels below the mount at most


def _shown(text: str) -> str:
    return quote(text.encode("utf-8", "surrogateescape"))


def group_of_path(path: str) -> tuple[str, int]:
    return resolve_cgroup(path)


def group_of_pid(text: str) -> tuple[str, int]:
    """The group of the process: the `0::` line of /proc/PID/cgroup (cgroup v2)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) <= 0:
        raise TracespecError(f"not a process id: {_shown(text)}", hint="give a positive number, e.g. pid=1234")
    try:
        with open(f"/proc/{int(text)}/cgroup", encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        raise TracespecError(f"no process {int(text)}", hint="the process may have ended") from None
    for line in lines:
        if line.startswith("0::"):
            return resolve_cgroup(line[3:] or "/")
    raise TracespecError(f"process {int(text)} is in no cgroup v2 group",
                         hint="its /proc/PID/cgroup has no 0:: line (cgroup v2 not mounted?)")


def group_of_unit(unit: str) -> tuple[str, int]:
    """The group systemd made for `unit`: a directory of that name under the cgroup v2 mount (found by
    walking the tree a few levels deep; a unit name holds no slash)."""
    if not unit or "/" in unit or unit in (".", "..") or "\0" in unit or len(unit) > 256:
        raise TracespecError(f"not a systemd unit name: {_shown(unit)}",
                             hint="give a unit such as nginx.service (no slashes)")
    if "." not in unit:
        unit += ".service"  # as systemctl takes `nginx` for nginx.service
    found = []
    for mount in cgroup2_mounts():
        found += _find_dir(mount, unit, MAX_UNIT_DEPTH)
    if not found:
        raise TracespecError(f"no cgroup for the unit {_shown(unit)}",
                             hint="is it running? systemctl status shows its CGroup:")
    if len(found) > 1:
        raise TracespecError(f"the unit name {_shown(unit)} names {len(found)} groups",
                             hint="give the group's path instead (cgrouppath=)")
    return resolve_cgroup(found[0])


def _find_dir(top: str, name: str, depth: int) -> list[str]:
    out = []
    try:
        entries = list(os.scandir(top))
    except OSError:
        return out
    for e in entries:
        if not e.is_dir(follow_symlinks=False):
            continue
        if e.name == name:
            out.append(e.path)
        elif depth > 1 and e.name.endswith(UNIT_SUFFIXES[2]):  # units live under slices
            out += _find_dir(e.path, name, depth - 1)
    return out
