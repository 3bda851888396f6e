"""From the repetitions of each (loop, tracer) to one row: medians, spread, overhead and ratios."""

from __future__ import annotations

import statistics

from measure import Sample


BUSY_CORES = 0.25  # other processes' CPU during a run, in cores, from which the run counts as disturbed


def _spread(values: list[float], digits: int = 1) -> dict | None:
    if not values:
        return None
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": [round(v, digits) for v in values]}


def row(loop: str, tracer, samples: list[Sample], not_traced: str | None) -> dict:
    ok = [s for s in samples if s.ok]
    failures = [s.error for s in samples if not s.ok]
    r = {
        "loop": loop,
        "tracer": tracer.id,
        "label": tracer.label,
        "status": "ok" if ok else "failed",
        "reason": failures[0] if failures and not ok else "",
        "failed_runs": failures,
        "traced": not_traced is None,
        "note": not_traced or "",
        "iterations": ok[0].iterations if ok else (samples[0].iterations if samples else 0),
        "syscalls": ok[0].syscalls if ok else None,
        "ns_per_syscall": _spread([s.ns_per_syscall for s in ok]),
        "wall_s": _spread([s.wall_s for s in ok], 3),
        "seen": [s.seen for s in ok],
        "lost": [s.lost for s in ok],
        "self_reported_lost": [s.self_reported_lost for s in ok],
        "runs_with_foreign_bpf": sum(1 for s in ok if s.foreign_bpf),
        "other_cores": [s.other_cores for s in ok],
        "runs_with_other_load": sum(1 for s in ok if s.other_cores >= BUSY_CORES),
        "overhead_ns": None,
        "ratio_untraced": None,
        "ratio_strace": None,
    }
    counted = [x for x in r["lost"] if x is not None]
    r["lost_max"] = max(counted) if counted else None
    reported = [x for x in r["self_reported_lost"] if x is not None]
    r["self_reported_lost_max"] = max(reported) if reported else None
    return r


def skipped(loop: str, tracer, reason: str) -> dict:
    return {"loop": loop, "tracer": tracer.id, "label": tracer.label, "status": "skipped",
            "reason": reason}


def add_comparisons(rows: list[dict]) -> None:
    """Overhead over untraced and ratios to untraced and to strace -f, per loop, from the medians."""
    def median_of(loop, tracer_id):
        for r in rows:
            if r["loop"] == loop and r["tracer"] == tracer_id and r["status"] == "ok":
                return r["ns_per_syscall"]["median"]
        return None

    for r in rows:
        if r["status"] != "ok":
            continue
        m = r["ns_per_syscall"]["median"]
        base = median_of(r["loop"], "untraced")
        strace = median_of(r["loop"], "strace")
        if base:
            r["overhead_ns"] = round(m - base, 1)
            r["ratio_untraced"] = round(m / base, 2)
        if strace:
            r["ratio_strace"] = round(m / strace, 4)
