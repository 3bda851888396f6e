"""The workload's loops, how to build it, and how to read its one-line JSON result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass

from errors import BenchError

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workload.c")


@dataclass(frozen=True)
class Loop:
    name: str  # the workload's argv[1]
    syscalls: tuple[str, ...]  # the syscalls one iteration makes, in order
    what: str  # for the report

    @property
    def per_iteration(self) -> int:
        return len(self.syscalls)


LOOPS = {
    "getppid": Loop("getppid", ("getppid",), "getppid(): no arguments, nothing to copy"),
    "openclose": Loop("openclose", ("openat", "close"), "openat() of one path, then close()"),
    "write": Loop("write", ("write",), "write() of 64 bytes to /dev/null"),
    "read": Loop("read", ("read",), "read() of 64 bytes from /dev/zero"),
}

# Not in LOOPS (run.py's cost tables): the steady-rate loop of bench/sustained.py. Its argv is
# paced_argv's, not argv's; its result line has "rate_target", "rate_achieved", "seconds", "late_ticks"
# and "end_ns" (CLOCK_MONOTONIC, as Python's time.monotonic_ns(), at the loop's end) besides the rest.
PACED = Loop("paced", ("getppid",), "getppid() at a steady rate, in 1 ms ticks")


def build(workdir: str) -> str:
    """Compile workload.c statically into workdir and return the binary's path.

    Static, so the dynamic loader's openat/read/close calls do not mix with the loops' own: counting a
    tracer's events by syscall name then counts exactly the loop's syscalls."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise BenchError("no C compiler: install gcc (apt-get install gcc libc6-dev)")
    binary = os.path.join(workdir, "workload")
    r = subprocess.run([cc, "-O2", "-static", "-Wall", "-o", binary, SOURCE],
                       capture_output=True, text=True)
    if r.returncode != 0:
        first = next((ln for ln in r.stderr.splitlines() if "error" in ln.lower()), r.stderr.strip())
        raise BenchError(f"cannot build the workload statically ({first}): install libc6-dev")
    return binary


def argv(binary: str, loop: Loop, iterations: int, open_path: str) -> list[str]:
    return [binary, loop.name, str(iterations), open_path]


def paced_argv(binary: str, rate: int, seconds: int) -> list[str]:
    """getppid() at rate calls per second for seconds (rate * seconds calls, however long they take)."""
    return [binary, PACED.name, str(rate), str(seconds)]


def parse_result(stdout: str) -> dict | None:
    """The workload's JSON line, or None if it printed none (it failed, or a tracer swallowed it)."""
    for line in stdout.splitlines():
        if line.startswith('{"loop"'):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None
