"""Time from starting `tracespec run` to its first event, and where that time goes.

Total: the wall clock is read just before `tracespec run specs/all.yaml --format json -o F -- /bin/true`
starts; the first JSON object's ts_ns (wall-clock time of that syscall's entry: /bin/true's execve, the
first syscall tracespec lets through its gate) minus that reading is the time to the first event.

Parts: the same command run through startup_probe.py, which times tracespec's own steps inside one real
run, so the parts add up to that run's total:
  python      launch to the first line of Python code (interpreter start-up)
  imports     importing tracespec's CLI and the modules `run` uses
  spec_to_c   compile_spec: reading the catalogue, validating, planning, generating the BPF C
  decoder     load_decoder: generating and loading the Python decoder
  preflight   preflight.check_all: privileges, headers, tracefs, importing BCC
  bcc_load    loader.load: BCC compiling the C with clang and loading it into the kernel
  attach      Loaded.attach: attaching the programs
  exec        from opening the gate (GatedCommand.release) to the first event: /bin/true's execve
  other       whatever lies between those steps (argument parsing, opening the output, forking)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import proc
from errors import BenchError
from paths import BENCH

TIMEOUT_S = 120
PART_ORDER = ["python", "imports", "spec_to_c", "decoder", "preflight", "bcc_load", "attach", "exec", "other"]


def _first_ts_ns(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                obj = json.loads(line)
                if "ts_ns" in obj:
                    return obj["ts_ns"]
    except (OSError, ValueError):
        pass
    return None


def _time_to_first_event(argv: list[str], out: str, env: dict) -> tuple[float, float]:
    """(seconds from launch to the first event, seconds from launch to exit)."""
    launch_ns = time.time_ns()
    done = proc.run(argv, timeout=TIMEOUT_S, env=env)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[:3])}: exit {done.returncode}: {proc.last_line(done.stderr)}")
    first = _first_ts_ns(out)
    if first is None:
        raise BenchError(f"tracespec wrote no event to {out}")
    return (first - launch_ns) / 1e9, done.wall_s


def _parts(marks: dict, launch_ns: int, first_ns: int) -> dict[str, float]:
    steps = marks["steps"]
    s = lambda a, b: (b - a) / 1e9  # noqa: E731
    parts = {"python": s(launch_ns, marks["probe_start_ns"]),
             "imports": s(marks["probe_start_ns"], marks["imported_ns"])}
    for name in ("spec_to_c", "decoder", "preflight", "bcc_load", "attach"):
        if name in steps:
            parts[name] = s(*steps[name])
    if "release" in steps:
        parts["exec"] = s(steps["release"][0], first_ns)
    parts["other"] = s(launch_ns, first_ns) - sum(parts.values())
    return parts


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4), "runs": [round(v, 4) for v in values]}


def measure(subject, workdir: str, reps: int, quiesce, progress) -> dict:
    """Returns {"status": "ok", "total_s", "parts_s", ...} or {"status": "failed", "reason"}."""
    spec = os.path.join(subject.specs_dir, "all.yaml")
    out = os.path.join(workdir, "startup.jsonl")
    marks_path = os.path.join(workdir, "startup-marks.json")
    run_args = ["run", spec, "--format", "json", "-o", out, "--", "/bin/true"]
    totals, walls, probed_totals = [], [], []
    parts: dict[str, list[float]] = {}
    missing: list[str] = []
    tainted = 0  # runs that started with someone else's BPF programs attached
    try:
        for i in range(reps):
            progress(f"startup: time to first event, run {i + 1}/{reps}")
            tainted += bool(quiesce.wait())
            total, wall = _time_to_first_event([subject.executable, *run_args], out, subject.env)
            totals.append(total)
            walls.append(wall)

            progress(f"startup: its parts, run {i + 1}/{reps}")
            tainted += bool(quiesce.wait())
            launch_ns = time.time_ns()
            probe = [sys.executable, os.path.join(BENCH, "startup_probe.py"), marks_path, *run_args]
            done = proc.run(probe, timeout=TIMEOUT_S, env=subject.env)
            if done.returncode != 0:
                raise BenchError(f"startup_probe.py: exit {done.returncode}: {proc.last_line(done.stderr)}")
            first = _first_ts_ns(out)
            if first is None:
                raise BenchError(f"tracespec (under startup_probe.py) wrote no event to {out}")
            with open(marks_path, encoding="utf-8") as f:
                marks = json.load(f)
            missing = marks["missing"]
            probed_totals.append((first - launch_ns) / 1e9)
            for name, seconds in _parts(marks, launch_ns, first).items():
                parts.setdefault(name, []).append(seconds)
    except BenchError as e:
        return {"status": "failed", "reason": str(e)}
    finally:
        for p in (out, marks_path):
            if os.path.exists(p):
                os.unlink(p)
    return {"status": "ok", "command": "tracespec run specs/all.yaml --format json -o F -- /bin/true",
            "reps": reps, "total_s": _spread(totals), "run_wall_s": _spread(walls),
            "probed_total_s": _spread(probed_totals),
            "parts_s": {k: _spread(parts[k]) for k in PART_ORDER if k in parts},
            "steps_not_found": missing, "runs_with_foreign_bpf": tainted}
