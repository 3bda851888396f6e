"""Measure tracespec's overhead beside strace, perf trace, bpftrace and an empty BPF program: one command,
results in bench/results/. Run as root from the repository: .venv/bin/python bench/run.py --help"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time

import machine
import proc
import report
import startup
import subject
import summary
import sustained
import workload
from errors import BenchError, guarded
from measure import measure_once
from quiesce import BpfQuiesce
from tracers import all_tracers
from paths import BENCH, REPO

QUICK_SCALE, QUICK_REPS, FULL_REPS = 0.1, 2, 5
# The sustained-rate section (bench/sustained.py), text only: each rate held SUSTAINED_SECONDS, the ladder
# stopped after two lossy rates. About 1.5 to 3 minutes at tracespec's speed of today.
SUSTAINED_SECONDS, QUICK_SUSTAINED_SECONDS = 8, 3
SUSTAINED_RATES = sustained.DEFAULT_RATES
QUICK_SUSTAINED_RATES = [50_000, 200_000, 500_000]

DESCRIPTION = """\
Measure what tracing costs a traced program, per syscall, under tracespec and its peers.

A small C program (bench/workload.c, compiled into a temporary directory) runs four syscall loops:
getppid, openat+close of one path, 64-byte writes to /dev/null and 64-byte reads from /dev/zero. It
times each loop alone with CLOCK_MONOTONIC, so start-up and a tracer's draining after the loop are not
counted, and prints ns per syscall. Each loop runs untraced and under each tracer:

  untraced         the baseline
  strace           strace -f -o FILE
  strace-seccomp   strace -f --seccomp-bpf -e trace=<the loop's syscalls> -o FILE
  perf-trace       perf trace -o FILE
  bpftrace         bpftrace -c running bench/every_syscall.bt (every entry and exit of the tree)
  floor            no-op BPF programs on the raw tracepoints sys_enter and sys_exit, the attach
                   points tracespec uses for specs/all.yaml: the least any such tracer can cost
  floor-unrelated  no-op BPF programs on the per-syscall tracepoints of sync, which no loop makes:
                   what a syscall a per-syscall-tracepoint spec does not select must cost at least
  tracespec-all-text, tracespec-all-json, tracespec-all-bin
                   tracespec run specs/all.yaml --format text|json|bin -o FILE (bin when this
                   tracespec has it, skipped otherwise)
  tracespec-fileio-text
                   tracespec run specs/fileio.yaml -o FILE (strings and buffers; getppid is outside
                   this spec and is measured as such)

Repetitions are interleaved (every loop under every tracer, then again), so drift on a noisy machine
spreads over all of them; each cell reports the median and the range. Between runs the benchmark waits
until the BPF programs a tracer loaded are gone (bpftool), since a leftover raw-tracepoint program
would tax the next run. It also times tracespec's start-up: from launching `tracespec run` to the
first event it records, with its parts.

Last, the sustained rate (bench/sustained.py): the highest steady rate of getppid() calls that
`tracespec run specs/all.yaml --format text -o FILE` writes with no loss, from a ladder of rates
(25k to 1M syscalls/s), each held for 8 s (3 s with --quick), stopping after two lossy rates."""

EPILOG = """\
output:
  bench/results/DATE-HOST.md     the tables (DATE-HOST-quick.md in --quick mode)
  bench/results/DATE-HOST.json   every number: per run, medians, ranges, ratios, machine, versions
  A tracer that is missing or fails is reported as skipped or failed with its reason, never estimated.
  Progress goes to standard error; the paths of the two files to standard output.

exit status:
  0 the results were written (even if some tracers were skipped or failed); 1 the benchmark could
  not run (one line says why); 130 interrupted.

examples:
  .venv/bin/python bench/run.py                       full run: 5 repetitions, about 10 minutes, plus
                                                      1.5 to 3 for the sustained rate
  .venv/bin/python bench/run.py --quick               2 repetitions of a tenth of the work
  .venv/bin/python bench/run.py --loops getppid --tracers untraced,floor,tracespec-all-text

See bench/README.md for what each column means."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK_REPS} repetitions of {QUICK_SCALE:g} of the full syscall counts: a "
                        "smoke test in a couple of minutes, numbers noisier")
    p.add_argument("--reps", type=int, metavar="N",
                   help=f"repetitions of each measurement (default {FULL_REPS}, {QUICK_REPS} with --quick)")
    p.add_argument("--scale", type=float, metavar="X",
                   help="multiply every tracer's syscalls per run by X (default 1, or "
                        f"{QUICK_SCALE:g} with --quick)")
    p.add_argument("--loops", metavar="LIST", help="comma-separated loops to run (default: all of "
                   + ",".join(workload.LOOPS) + ")")
    p.add_argument("--tracers", metavar="LIST",
                   help="comma-separated tracer ids to run, from the list above (default: all; "
                        "untraced, the baseline, is always run)")
    p.add_argument("--no-startup", action="store_true", help="skip the time-to-first-event measurement")
    p.add_argument("--no-sustained", action="store_true",
                   help="skip the sustained-rate ladder (its share of the run: about 1.5 to 3 minutes)")
    p.add_argument("--tracespec", metavar="PATH", default=os.path.join(REPO, ".venv", "bin", "tracespec"),
                   help="the tracespec executable to measure (default: the repository's .venv/bin/tracespec)")
    p.add_argument("--rev", metavar="REV",
                   help="measure tracespec as committed at REV (a commit, branch or tag), unpacked "
                        "with git archive into the temp dir, with that commit's specs; the work tree "
                        "and its uncommitted edits are then not used. Overrides --tracespec")
    p.add_argument("--output-dir", metavar="DIR", default=os.path.join(BENCH, "results"),
                   help="where to write the results (default: bench/results)")
    p.add_argument("--debug", action="store_true", help="show a traceback on an internal error")
    args = p.parse_args(argv)
    if args.reps is None:
        args.reps = QUICK_REPS if args.quick else FULL_REPS
    if args.scale is None:
        args.scale = QUICK_SCALE if args.quick else 1.0
    if args.reps < 1 or args.scale <= 0:
        p.error("--reps must be at least 1 and --scale above 0")
    return args


def _selected(spec: str | None, known: list[str], what: str) -> list[str]:
    if not spec:
        return known
    chosen = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise BenchError(f"unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return [k for k in known if k in chosen]


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def benchmark(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise BenchError("must run as root (tracers load BPF programs and ptrace): "
                         "sudo .venv/bin/python bench/run.py")
    started = time.monotonic()
    loops = [workload.LOOPS[n] for n in _selected(args.loops, list(workload.LOOPS), "loop")]
    workdir = tempfile.mkdtemp(prefix="tracespec-bench-")
    try:
        if args.rev:
            tested = subject.from_commit(args.rev, REPO, workdir)
        else:
            tested = subject.installed(os.path.abspath(args.tracespec), REPO)
        tracers = all_tracers(tested.executable, tested.specs_dir)
        wanted = _selected(args.tracers, [t.id for t in tracers], "tracer")
        tracers = [t for t in tracers if t.id in wanted or t.id == "untraced"]
        unavailable = {t.id: t.unavailable() for t in tracers}
        runnable = [t for t in tracers if not unavailable[t.id]]
        for t in tracers:
            if unavailable[t.id]:
                progress(f"skipping {t.label}: {unavailable[t.id]}")

        binary = workload.build(workdir)
        open_path = os.path.join(workdir, "open-target")  # the openclose loop's file
        with open(open_path, "w", encoding="ascii") as f:
            f.write("tracespec benchmark\n")
        quiesce = BpfQuiesce()
        info = machine.describe(tested)
        all_attach = subject.attach_line(tested, "all.yaml")

        samples: dict[tuple[str, str], list] = {}
        broken: set[tuple[str, str]] = set()  # failed at their first run: not tried again
        total = args.reps * len(loops) * len(runnable)
        done = 0
        for rep in range(args.reps):
            for loop in loops:
                for t in runnable:
                    done += 1
                    key = (loop.name, t.id)
                    if key in broken:
                        continue
                    n = max(1, round(t.SYSCALLS * args.scale / loop.per_iteration))
                    foreign = quiesce.wait()
                    s = measure_once(t, loop, n, binary, workdir, open_path)
                    s.foreign_bpf = foreign
                    samples.setdefault(key, []).append(s)
                    if s.ok:
                        lost = "" if s.lost is None else f", lost {s.lost:,}"
                        msg = f"{s.ns_per_syscall:,.1f} ns/syscall{lost}, {s.wall_s:.1f} s"
                        if foreign:
                            msg += f" ({foreign} foreign BPF programs loaded)"
                        if s.other_cores >= summary.BUSY_CORES:
                            msg += f" (other processes used {s.other_cores:.2f} cores)"
                    else:
                        msg = f"FAILED: {s.error}"
                        if len(samples[key]) == 1:
                            broken.add(key)
                    progress(f"[{done:>3}/{total}] rep {rep + 1}/{args.reps} {loop.name:<9} {t.label}: {msg}")

        rows = []
        for loop in loops:
            for t in tracers:
                if unavailable[t.id]:
                    rows.append(summary.skipped(loop.name, t, unavailable[t.id]))
                else:
                    rows.append(summary.row(loop.name, t, samples[(loop.name, t.id)], t.not_traced(loop)))
        summary.add_comparisons(rows)

        ts = next((t for t in tracers if t.id.startswith("tracespec")), None)
        if args.no_startup:
            start = {"status": "skipped", "reason": "--no-startup"}
        elif ts is None or unavailable[ts.id]:
            start = {"status": "skipped", "reason": "tracespec not selected or not available"}
        else:
            start = startup.measure(tested, workdir, args.reps, quiesce, progress)

        if args.no_sustained:
            steady = {"status": "skipped", "reason": "--no-sustained"}
        elif ts is None or unavailable[ts.id]:
            steady = {"status": "skipped", "reason": "tracespec not selected or not available"}
        else:
            steady = sustained.measure(
                tested, binary, workdir, quiesce, progress,
                QUICK_SUSTAINED_RATES if args.quick else SUSTAINED_RATES,
                QUICK_SUSTAINED_SECONDS if args.quick else SUSTAINED_SECONDS, ["text"])
    finally:
        proc.kill_all()  # before removing the directory their files are in
        shutil.rmtree(workdir, ignore_errors=True)

    notes = [
        "ns/syscall: the workload's own timing of its loop (CLOCK_MONOTONIC), divided by the syscalls "
        "it made; tracer start-up and draining after the loop are outside it ('run wall s' includes them).",
        "floor: empty BPF programs (return 0) on the raw tracepoints sys_enter and sys_exit, the attach "
        "points tracespec uses for specs/all.yaml, loaded with BCC by bench/floor_probe.py; its overhead "
        "is what the kernel charges for running any program at each syscall's entry and exit.",
        "floor-unrelated: the same on syscalls:sys_enter_sync/sys_exit_sync, which the loops never call; "
        "any enabled per-syscall tracepoint sends every syscall through the kernel's tracing path, and its "
        "overhead is what that costs a syscall nobody traces: compare fileio.yaml's getppid row with it.",
        "syscalls/run differs per tracer (slow tracers get fewer); each is what the workload reported.",
        "lost: loop syscalls made minus those found in the tracer's output, worst of the runs; the "
        "tracer's own count is in its own unit (tracespec: records, two per syscall; bpftrace and perf: "
        "events, an entry or an exit each). A tracer that drops events also skips the work of writing "
        "them, so its ns/syscall in a lossy run is not comparable with a lossless one.",
    ]
    notes.append(f"tracespec's program for specs/all.yaml attaches to: {all_attach}.")
    if "raw tracepoint" not in all_attach:
        notes.append("That is not the raw tracepoints sys_enter/sys_exit: the floor no longer measures "
                     "the same attach points as tracespec's specs/all.yaml.")
    for note in (quiesce.note, quiesce.baseline_note()):
        if note:
            notes.append(note)
    runs = sum(len(ss) for ss in samples.values())
    busy = sum(1 for ss in samples.values() for s in ss if s.ok and s.other_cores >= summary.BUSY_CORES)
    if busy:
        notes.append(f"{busy} of {runs} runs shared the machine: other processes kept at least "
                     f"{summary.BUSY_CORES} of its {info['cores']} cores busy on average during them (per-run "
                     "figures in the JSON, other_cores): rows marked ‡ include such runs.")
    tainted = sum(1 for ss in samples.values() for s in ss if s.foreign_bpf)
    if tainted:
        notes.append(f"{tainted} of {runs} runs started while BPF "
                     "programs the benchmark did not load were attached (another tracer or test suite on "
                     "the machine): rows marked † include such runs, and may be inflated by them.")
    command = ".venv/bin/python bench/run.py" + ("" if len(sys.argv) < 2 else " " + shlex.join(sys.argv[1:]))
    results = {
        "command": command,
        "mode": "quick" if args.quick else "full",
        "reps": args.reps,
        "scale": args.scale,
        "duration_s": round(time.monotonic() - started, 1),
        "machine": info,
        "loops": [lp.name for lp in loops],
        "tracers": [{"id": t.id, "label": t.label, "syscalls_per_run": round(t.SYSCALLS * args.scale),
                     "skipped": unavailable[t.id] or ""} for t in tracers],
        "results": rows,
        "startup": start,
        "sustained": steady,
        "notes": notes,
    }
    stem = f"{info['date']}-{info['hostname']}" + ("-quick" if args.quick else "")
    md, js = report.write(results, args.output_dir, stem)
    print(md)
    print(js)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return guarded("run.py", lambda: benchmark(args), args.debug, "no results written")


if __name__ == "__main__":
    sys.exit(main())
