"""Run `tracespec ARGS...` in this process with a clock on its start-up steps, for startup.py.

    python startup_probe.py MARKS.json run SPEC ... -- CMD

Wraps (without changing what they do) the functions tracespec's `run` goes through on its way to the
first event, records the wall-clock time each starts and ends, runs tracespec's own main(), then writes
{"probe_start_ns", "imported_ns", "steps": {name: [start_ns, end_ns]}, "missing": [...]} to MARKS.json
and exits with tracespec's status. A step whose function is not where this expects it (tracespec was
refactored) is listed in "missing", and its time falls into startup.py's "other".
"""

from __future__ import annotations

import time

PROBE_START_NS = time.time_ns()  # before any import but the clock: Python's own start-up ends here

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

# (step name, module, attribute path): the step is the call of that function, start to return
STEPS = [
    ("spec_to_c", "tracespec.pipeline", "compile_spec"),
    ("decoder", "tracespec.decode.generated", "load_decoder"),
    ("preflight", "tracespec.runtime.preflight", "check_all"),
    ("bcc_load", "tracespec.runtime.loader", "compile_program"),  # in its own thread, beside the next steps
    ("bcc_wait", "tracespec.runtime.loader", "PendingLoad.result"),  # the main thread waiting for it
    ("attach", "tracespec.runtime.loader", "Loaded.attach"),
    ("release", "tracespec.runtime.targets", "GatedCommand.release"),
]


def _timed(name: str, fn, steps: dict):
    def wrapper(*args, **kwargs):
        start = time.time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            steps.setdefault(name, [start, time.time_ns()])  # the first call is the start-up's
    return wrapper


def _install(steps: dict) -> list[str]:
    missing = []
    for name, module, path in STEPS:
        try:
            owner = importlib.import_module(module)
            *parents, attr = path.split(".")
            for p in parents:
                owner = getattr(owner, p)
            setattr(owner, attr, _timed(name, getattr(owner, attr), steps))
        except (ImportError, AttributeError):
            missing.append(f"{module}.{path}")
    return missing


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: startup_probe.py MARKS.json TRACESPEC-ARGS...", file=sys.stderr)
        return 2
    marks_path, argv = sys.argv[1], sys.argv[2:]
    import tracespec.cli
    steps: dict[str, list[int]] = {}
    missing = _install(steps)  # imports the modules `run` would import anyway
    imported_ns = time.time_ns()
    code = tracespec.cli.main(argv)
    with open(marks_path, "w", encoding="utf-8") as f:
        json.dump({"probe_start_ns": PROBE_START_NS, "imported_ns": imported_ns, "steps": steps,
                   "missing": missing}, f)
    return code


if __name__ == "__main__":
    sys.exit(main())
