"""How much CPU processes other than the benchmark's used during a run: on 2 cores, another job (a
test suite, a build) competes with the workload and its tracer, and its numbers then mean less.

Machine-wide busy time from /proc/stat, minus the CPU time of this process and of the children it has
reaped (the tracer, the workload, the floor's helper). What remains is someone else's, give or take the
short-lived detached process tracespec leaves to release its probes. /proc/stat counts in clock ticks
(10 ms) per CPU, so a window of a few ticks says little: a run shorter than MIN_WINDOW_S is followed by
an idle wait until the window is that long.
"""

from __future__ import annotations

import os
import resource
import time

MIN_WINDOW_S = 0.5  # ±1 tick per CPU is then ±0.04 cores


def _machine_busy_s() -> float:
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)
    return busy / os.sysconf("SC_CLK_TCK")


def _ours_s() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class OtherLoad:
    """Start it before a run, call cores() after the run's children are reaped."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.busy0 = _machine_busy_s()
        self.ours0 = _ours_s()

    def cores(self) -> float:
        """Average number of cores other processes kept busy since start."""
        short = MIN_WINDOW_S - (time.monotonic() - self.t0)
        if short > 0:
            time.sleep(short)
        wall = time.monotonic() - self.t0
        other = (_machine_busy_s() - self.busy0) - (_ours_s() - self.ours0)
        return round(min(max(other / wall, 0.0), os.cpu_count() or 1), 2)
