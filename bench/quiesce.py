"""Before each measurement, wait until the BPF programs earlier tracers loaded are gone, and say when
programs of someone else are loaded.

A tracer's programs can outlive it: tracespec hands its probes to a detached process that releases them
a few seconds after it exits, and the kernel frees any program only after an RCU grace period. A
raw-tracepoint program still attached runs at every syscall on the machine, so the next measurement
(untraced, say) would pay for it. bpftool lists the loaded programs; those present when the benchmark
started are the baseline, and anything beyond it should be gone before the next run starts.

Programs that are still there after TIMEOUT_S are not ours to wait for: another tracer or test suite is
running on the machine. They are remembered as foreign, not waited for again, and each run records how
many were loaded as it started, so the report can say which numbers they may have inflated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

TIMEOUT_S = 10.0


class BpfQuiesce:
    def __init__(self):
        self.bpftool = shutil.which("bpftool")
        self.baseline = self._programs() if self.bpftool else {}
        self.foreign: set[int] = set()

    def _programs(self) -> dict[int, str]:
        """id -> "type name" of every loaded program."""
        r = subprocess.run([self.bpftool, "-j", "prog", "show"], capture_output=True, text=True)
        if r.returncode != 0:
            return {}
        try:
            return {p["id"]: f"{p.get('type', '?')} {p.get('name', '')}".strip()
                    for p in json.loads(r.stdout or "[]")}
        except (ValueError, KeyError, TypeError):
            return {}

    def _extra(self) -> set[int]:
        return set(self._programs()) - set(self.baseline)

    def baseline_note(self) -> str:
        """A warning when programs that run at syscalls were loaded before the benchmark started."""
        hooked = {i: v for i, v in self.baseline.items() if "tracepoint" in v or "kprobe" in v}
        if not hooked:
            return ""
        still = len(set(hooked) & set(self._programs()))
        return (f"{len(hooked)} tracing BPF program(s) were already loaded when the benchmark started "
                f"({', '.join(sorted(hooked.values())[:6])}), {still} still at its end: the runs in "
                "between, untraced included, may have paid for them.")

    def wait(self) -> int:
        """Wait for programs loaded since the start to go (at most TIMEOUT_S for new ones); return how
        many programs not in the baseline are loaded as the next run starts."""
        if not self.bpftool:
            time.sleep(2.0)  # blind: tracespec's helper releases its probes within about this
            return 0
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            extra = self._extra()
            self.foreign &= extra  # forget foreign programs once they are gone
            if not extra - self.foreign:
                return len(extra)
            if time.monotonic() > deadline:
                self.foreign |= extra
                return len(extra)
            time.sleep(0.1)

    @property
    def note(self) -> str:
        if not self.bpftool:
            return "bpftool not found: the benchmark could not check that tracers' BPF programs were freed " \
                   "between runs, nor see other tracers on the machine."
        return ""
