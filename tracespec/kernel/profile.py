"""Kernel profiles: what a target kernel lets a tracespec plan use.

A profile is either the running kernel (the default: version from uname, tracepoint formats read from
tracefs) or a mainline version named with `--kernel X.Y`, which needs no such kernel at hand. Features
come from data/features.tsv; the planner asks `has(feature)` and error messages quote `since(feature)`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping

from tracespec.errors import TracespecError

MIN_VERSION = (4, 14)  # bpf_probe_read_str (4.11) and BPF on per-syscall tracepoints (4.14)
TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")




def parse_version(text: str) -> tuple[int, int]:
    m = re.match(r"^(\d+)\.(\d+)", text.strip())
    if not m:
        raise ValueError(text)
    return int(m.group(1)), int(m.group(2))


def _load_table() -> dict[str, tuple[tuple[int, int], str]]:
    text = resources.files("tracespec.kernel").joinpath("data", "features.tsv").read_text("utf-8")
    table = {}
    for raw in text.splitlines():
        if raw.startswith("#") or not raw.strip():
            continue
        name, since, doc = raw.split("\t")
        table[name] = (parse_version(since), doc)
    return table


FEATURES = _load_table()


def fmt_version(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


@dataclass(frozen=True)
class KernelProfile:
    name: str
    version: tuple[int, int]
    features: frozenset[str]
    running: bool = False
    # (arg name, C type) per syscall tracepoint event, read from tracefs; None for --kernel profiles
    syscall_formats: Mapping[str, tuple[tuple[str, str], ...]] | None = field(default=None, compare=False)
    tracefs: str | None = None

    def has(self, feature: str) -> bool:
        return feature in self.features

    @staticmethod
    def since(feature: str) -> str:
        return fmt_version(FEATURES[feature][0])

    def describe(self) -> str:
        return self.name


def _features_for(version: tuple[int, int]) -> frozenset[str]:
    return frozenset(name for name, (since, _) in FEATURES.items() if version >= since)


def profile_for_version(text: str) -> KernelProfile:
    """The profile of a mainline kernel, for `--kernel X.Y`."""
    try:
        version = parse_version(text)
    except ValueError:
        raise TracespecError(f"--kernel {text!r} is not a kernel version",
                             hint="give a mainline version such as 4.19, 5.4 or 6.1") from None
    if version < MIN_VERSION:
        raise TracespecError(
            f"tracespec needs Linux {fmt_version(MIN_VERSION)} or later, not {fmt_version(version)}",
            hint="bpf_probe_read_str arrived in 4.11 and BPF on per-syscall tracepoints in 4.14")
    return KernelProfile(name=f"Linux {fmt_version(version)}", version=version,
                         features=_features_for(version))


def find_tracefs() -> str | None:
    for root in TRACEFS_ROOTS:
        if os.path.isdir(os.path.join(root, "events", "syscalls")):
            return root
    return None


_FIELD = re.compile(r"field:(?P<decl>[^;]+);\s*offset:(?P<off>\d+);\s*size:(?P<size>\d+);")


def parse_format(text: str) -> tuple[tuple[str, str], ...]:
    """(name, C type) of the syscall arguments in a sys_enter_* format file."""
    fields = []
    for m in _FIELD.finditer(text):
        decl = m.group("decl").strip()
        if int(m.group("off")) < 16:  # common fields and __syscall_nr
            continue
        ctype, _, name = decl.rpartition(" ")
        while name.startswith("*"):
            ctype, name = ctype + " *", name[1:]
        fields.append((name, ctype.strip()))
    return tuple(fields)


def read_syscall_formats(tracefs: str) -> dict[str, tuple[tuple[str, str], ...]]:
    base = os.path.join(tracefs, "events", "syscalls")
    formats = {}
    for entry in os.listdir(base):
        if not entry.startswith("sys_enter_"):
            continue
        try:
            with open(os.path.join(base, entry, "format"), encoding="utf-8") as f:
                formats[entry[len("sys_enter_"):]] = parse_format(f.read())
        except OSError:
            continue
    return formats


def running_profile() -> KernelProfile:
    """The profile of the kernel this process runs on."""
    release = os.uname().release
    try:
        version = parse_version(release)
    except ValueError:
        raise TracespecError(f"cannot read a version from the kernel release {release!r}",
                             hint="name one with --kernel X.Y") from None
    tracefs = find_tracefs()
    formats = read_syscall_formats(tracefs) if tracefs else None
    return KernelProfile(name=f"running kernel {release}", version=version,
                         features=_features_for(version), running=True,
                         syscall_formats=formats, tracefs=tracefs)
