"""The decoder's view of a few syscalls (their SyscallInfo, by name), from a spec that traces only them,
planned for the 6.1 profile: what the unit tests build synthetic events from, without a kernel."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from tracespec.pipeline import compile_spec


@lru_cache(maxsize=None)
def syscall_infos(syscalls: tuple[str, ...], extra: str = "") -> dict:
    """{name: SyscallInfo} of `syscalls`; extra: more spec lines (abbrev: false)."""
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "s.yaml"
        spec.write_text(f"version: 1\n{extra}syscalls: [" + ", ".join(syscalls) + "]\n")
        return {s.name: s for s in compile_spec(str(spec), kernel="6.1").plan.schema.syscalls}
