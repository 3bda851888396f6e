"""One measurement: one loop, run once under one tracer."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import proc
import workload
from other_load import OtherLoad
from tracers import Tracer, TracerFailed
from workload import Loop

RUN_TIMEOUT_S = 300


@dataclass
class Sample:
    ok: bool
    error: str = ""
    iterations: int = 0
    syscalls: int = 0  # loop syscalls made, as the workload counted them
    ns_per_syscall: float = 0.0  # the workload's loop time / syscalls
    seen: int | None = None  # loop syscalls in the tracer's output
    lost: int | None = None  # syscalls - seen
    self_reported_lost: int | None = None  # what the tracer says it lost
    wall_s: float = 0.0  # from starting the tracer (or the workload) to its exit
    foreign_bpf: int = 0  # BPF programs of someone else loaded as the run started (see quiesce.py)
    other_cores: float = 0.0  # CPU other processes used during the run, in cores (see other_load.py)



def _status(code: int) -> str:
    """How the tracer ended, as a shell would say it: a negative code is the signal that killed it."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def measure_once(tracer: Tracer, loop: Loop, iterations: int, binary: str, workdir: str,
                 open_path: str) -> Sample:
    trace = os.path.join(workdir, f"trace-{tracer.id}-{loop.name}")
    try:
        load = OtherLoad()
        with tracer.attached(workdir):
            argv = tracer.command(workload.argv(binary, loop, iterations, open_path), loop, trace)
            done = proc.run(argv, timeout=RUN_TIMEOUT_S)
        other = load.cores()
        result = workload.parse_result(done.stdout)
        if done.returncode != 0 or result is None:
            return Sample(False, f"{_status(done.returncode)}: {proc.last_line(done.stderr)}", iterations)
        sample = Sample(True, "", result["iterations"], result["syscalls"], result["ns_per_syscall"],
                        wall_s=round(done.wall_s, 3), other_cores=other)
        if tracer.writes_trace:
            if not os.path.exists(trace):
                return Sample(False, f"wrote no trace to {trace}", iterations)
            rec = tracer.recorded(trace, loop, result, done.stderr)
            sample.seen = rec.seen
            sample.self_reported_lost = rec.self_reported_lost
            if rec.seen is not None and tracer.not_traced(loop) is None:
                sample.lost = sample.syscalls - rec.seen
        return sample
    except TracerFailed as e:
        return Sample(False, str(e), iterations)
    finally:
        if os.path.exists(trace):
            os.unlink(trace)  # traces reach hundreds of MB; only their counts are kept
