"""The tracers compared: how each wraps the workload, how much work one run gives it, and how to count
what it recorded.

Each tracer's SYSCALLS is the number of loop syscalls one run makes in the full mode, chosen so the
timed loop lasts long enough to be stable (a few hundred milliseconds where the tracer allows) while
the whole benchmark stays under about 15 minutes on 2 cores. ns/syscall is what is compared, so it
differs per tracer; every run records its own count.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import proc
import trace_counts
from workload import Loop
from paths import BENCH



class TracerFailed(Exception):
    """A tracer could not be started or stopped; the message is its own last word."""


@dataclass
class Recorded:
    seen: int | None  # loop syscalls found in the tracer's output; None: not countable
    self_reported_lost: int | None = None  # what the tracer itself says it lost (its own unit)


class Tracer:
    id = ""
    label = ""
    SYSCALLS = 0
    writes_trace = True  # False: nothing to count (untraced, the floor)

    def unavailable(self) -> str | None:
        """Why this tracer cannot run on this machine, or None."""
        return None

    def not_traced(self, loop: Loop) -> str | None:
        """Why the loop's syscalls are not traced by this tracer (it is still measured), or None."""
        return None

    @contextmanager
    def attached(self, workdir: str):
        """Anything that must be running around the workload (the floor's programs)."""
        yield

    def command(self, workload: list[str], loop: Loop, trace: str) -> list[str]:
        return workload

    def recorded(self, trace: str, loop: Loop, result: dict, stderr: str) -> Recorded:
        return Recorded(None)


def _which(name: str) -> str | None:
    return shutil.which(name)


class Untraced(Tracer):
    id, label = "untraced", "untraced"
    writes_trace = False
    SYSCALLS = 1_000_000  # 0.1 to 0.2 µs each: 1M is a few hundred ms


class Strace(Tracer):
    id, label = "strace", "strace -f"
    SYSCALLS = 20_000  # ptrace stops cost tens of µs on a VM: 20k is about a second

    def unavailable(self):
        return None if _which("strace") else "strace not installed (apt-get install strace)"

    def command(self, workload, loop, trace):
        return ["strace", "-f", "-o", trace, "--", *workload]

    def recorded(self, trace, loop, result, stderr):
        return Recorded(sum(trace_counts.strace_style(trace, loop.syscalls).values()))


class StraceSeccomp(Strace):
    """Only the loop's own syscalls stop the tracee: the cheapest strace can be for a syscall it traces."""
    id, label = "strace-seccomp", "strace -f --seccomp-bpf -e trace=LOOP"

    def command(self, workload, loop, trace):
        return ["strace", "-f", "--seccomp-bpf", "-e", "trace=" + ",".join(loop.syscalls), "-o", trace,
                "--", *workload]


class PerfTrace(Tracer):
    id, label = "perf-trace", "perf trace"
    SYSCALLS = 50_000  # about 10 µs each here: half a second

    def unavailable(self):
        return None if _which("perf") else "perf not installed (apt-get install linux-perf)"

    def command(self, workload, loop, trace):
        return ["perf", "trace", "-o", trace, "--", *workload]

    def recorded(self, trace, loop, result, stderr):
        counts, lost = trace_counts.perf_trace(trace, loop.syscalls)
        return Recorded(sum(counts.values()), lost)


class Bpftrace(Tracer):
    id, label = "bpftrace", "bpftrace every_syscall.bt"
    SYSCALLS = 100_000  # a few µs each (a printf per entry and exit): under a second
    SCRIPT = os.path.join(BENCH, "every_syscall.bt")

    def unavailable(self):
        return None if _which("bpftrace") else "bpftrace not installed (apt-get install bpftrace)"

    def command(self, workload, loop, trace):
        if any(any(c.isspace() for c in a) for a in workload):
            raise TracerFailed("bpftrace -c splits its command at spaces: the temp dir's path has one")
        return ["bpftrace", "-o", trace, "-c", " ".join(workload), self.SCRIPT]

    def recorded(self, trace, loop, result, stderr):
        counts, lost = trace_counts.bpftrace_records(trace, dict(zip(loop.syscalls, result["nr"])))
        return Recorded(sum(counts.values()), lost)


class Floor(Tracer):
    id, label = "floor", "floor: no-op BPF on raw sys_enter/sys_exit"
    writes_trace = False
    SYSCALLS = 1_000_000  # as cheap as untraced plus a few tens of ns
    PROBE = os.path.join(BENCH, "floor_probe.py")
    READY_TIMEOUT_S = 60

    ARGS: tuple[str, ...] = ()

    @contextmanager
    def attached(self, workdir):
        p = proc.start([sys.executable, self.PROBE, *self.ARGS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
        try:
            ready, _, _ = select.select([p.stdout], [], [], self.READY_TIMEOUT_S)
            line = p.stdout.readline() if ready else ""
            if line.strip() != "ready":
                proc.kill_group(p)
                raise TracerFailed(proc.last_line(p.stderr.read()) if p.stderr else "no answer")
            yield
        finally:
            if p.returncode is None:
                p.stdin.close()  # end of input: the probe detaches its programs and exits
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill_group(p)
            proc.reap(p)


class Tracespec(Tracer):
    """tracespec run SPEC [--format F] -o TRACE -- WORKLOAD."""

    SYSCALLS = 100_000  # well inside the 128 MiB ring buffer; tracespec decodes for seconds after the loop
    # A binary trace is written as drained, never decoded on the way: it runs at the size, 1M
    # getppid() calls (about 136 MB of records), which must all be there.
    BIN_SYSCALLS = 1_000_000

    def __init__(self, executable: str, specs_dir: str, spec: str, fmt: str | None):
        if fmt == "bin":
            self.SYSCALLS = self.BIN_SYSCALLS
        self.executable = executable
        self.spec = spec
        self.spec_path = os.path.join(specs_dir, spec)
        self.fmt = fmt
        stem = spec.rsplit(".", 1)[0]
        self.id = f"tracespec-{stem}-{fmt or 'text'}"
        self.label = f"tracespec {spec}" + (f" --format {fmt}" if fmt else "")
        self._help: str | None = None
        self._decode: bool | None = None

    def _run_help(self) -> str:
        if self._help is None:
            r = subprocess.run([self.executable, "run", "--help"], capture_output=True, text=True)
            self._help = r.stdout + r.stderr
        return self._help

    def unavailable(self):
        if not os.access(self.executable, os.X_OK):
            return f"{self.executable} not found: run ./setup"
        if not os.path.exists(self.spec_path):
            return f"no spec {self.spec_path}"
        if self.fmt == "bin" and "bin" not in self._run_help():
            return "this tracespec has no --format bin (`tracespec run --help` does not mention bin)"
        return None

    def not_traced(self, loop):
        if self.spec == "fileio.yaml" and loop.name == "getppid":
            return ("fileio.yaml does not trace getppid: this is the cost of a syscall outside a spec "
                    "that uses per-syscall tracepoints")
        return None

    def command(self, workload, loop, trace):
        fmt = ["--format", self.fmt] if self.fmt else []
        return [self.executable, "run", self.spec_path, *fmt, "-o", trace, "--", *workload]

    def recorded(self, trace, loop, result, stderr):
        reported = trace_counts.tracespec_lost(stderr)
        if self.fmt == "bin":
            if not self._can_decode():
                return Recorded(None, reported)  # only tracespec's own count
            return self._recorded_bin(trace, loop, reported)
        if self.fmt == "json":
            counts, footer = trace_counts.tracespec_json(trace, loop.syscalls)
            if footer is not None:
                reported = footer.get("lost", reported)
            return Recorded(sum(counts.values()), reported)
        return Recorded(sum(trace_counts.strace_style(trace, loop.syscalls).values()), reported)

    def _can_decode(self) -> bool:
        """Whether this tracespec has `decode` (binary trace to JSON), to count a bin trace's syscalls."""
        if self._decode is None:
            r = subprocess.run([self.executable, "--help"], capture_output=True, text=True)
            self._decode = "decode" in r.stdout
        return self._decode

    def _recorded_bin(self, trace: str, loop: Loop, reported: int | None) -> Recorded:
        """Decode the binary trace to text with `tracespec decode` (after the run, so outside the timed
        loop) and count it like a text trace."""
        decoded = trace + ".txt"
        try:
            r = subprocess.run([self.executable, "decode", "-o", decoded, trace], capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(decoded):
                return Recorded(None, reported)
            return Recorded(sum(trace_counts.strace_style(decoded, loop.syscalls).values()), reported)
        finally:
            if os.path.exists(decoded):
                os.unlink(decoded)


class FloorUnrelated(Floor):
    """What a syscall costs when another syscall's per-syscall tracepoint is enabled: the floor for the
    syscalls a spec on per-syscall tracepoints (specs/fileio.yaml) does not select."""

    id, label = "floor-unrelated", "floor: no-op BPF on an unrelated per-syscall tracepoint (sync)"
    ARGS = ("--unrelated",)


def all_tracers(tracespec: str, specs_dir: str) -> list[Tracer]:
    """In the order the report lists them."""
    return [
        Untraced(),
        Strace(),
        StraceSeccomp(),
        PerfTrace(),
        Bpftrace(),
        Floor(),
        FloorUnrelated(),
        Tracespec(tracespec, specs_dir, "all.yaml", "text"),
        Tracespec(tracespec, specs_dir, "all.yaml", "json"),
        Tracespec(tracespec, specs_dir, "all.yaml", "bin"),
        Tracespec(tracespec, specs_dir, "fileio.yaml", None),
    ]
