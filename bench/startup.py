"""Time from starting `tracespec run` to its first event, and where that time goes, per spec.

Total: the wall clock is read just before `tracespec run specs/SPEC --format json -o F -- /bin/true`
starts; the first JSON object's ts_ns (wall-clock time of that syscall's entry: /bin/true's execve, the
first syscall tracespec lets through its gate) minus that reading is the time to the first event.

Parts: the same command run through startup_probe.py, which times tracespec's own steps inside one real
run, so the parts add up to that run's total:
  python      launch to the first line of Python code (interpreter start-up)
  imports     importing tracespec's CLI and the modules `run` uses
  spec_to_c   compile_spec: reading the catalogue, validating, planning, generating the BPF C
  decoder     load_decoder: generating and loading the Python decoder
  preflight   preflight.check_all: privileges, headers, tracefs, BCC present
  bcc_load    loader.compile_program: BCC compiling the C with clang (in a child process), or the
              program cache giving it back, then the kernel loading it (maps, the verifier). It
              runs in a thread of its own while the main thread goes on (decoder, output, writer);
              only the part the main thread waits for counts in the total:
  bcc_wait    PendingLoad.result: the main thread waiting for the compile (and setting the parameters)
  attach      Loaded.attach: attaching the programs
  exec        from opening the gate (GatedCommand.release) to the first event: /bin/true's execve
  other       whatever lies between those steps (argument parsing, opening the output, forking)

Floors, measured in the same run so that load on the machine touches them as it touches tracespec:
  python      `python3 -c pass`, launch to exit: an interpreter that does nothing
  bcc         startup_floor.py, launch to BCC having compiled and loaded a program that returns 0 on
              one tracepoint: what any Python BCC tracer pays before its first event can exist
A spec's "above floor" is its total minus the BCC floor's: tracespec's own cost (imports, pipeline,
decoder, preflight, the size of its C, attaching, fork and exec).

Each spec is measured twice (--cache both, the default): *compiled*, with the program cache off
(TRACESPEC_CACHE=off: BCC compiles the C at every start, as at a spec's first run on a machine), and
*cached*, from a cache the run fills once, untimed, before its timed runs (every later start of the
same spec on the same kernel).

Standalone (run.py calls measure() for all.yaml alone):
    .venv/bin/python bench/startup.py --specs all,fileio --reps 5 [--cache both|compiled|cached]
                                      [--output-dir DIR --stem NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import machine
import proc
import subject as subjects
from errors import BenchError
from paths import BENCH, REPO
from quiesce import BpfQuiesce

TIMEOUT_S = 120
PART_ORDER = ["python", "imports", "spec_to_c", "decoder", "preflight", "bcc_load", "bcc_wait", "attach", "exec",
              "other"]
# Steps that overlap the main thread's and so are not summed to find "other" (when bcc_wait is measured:
# a tracespec from before the background compile has none, and its compile is on the main thread)
BESIDE = ("bcc_load",)


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
    for name in ("spec_to_c", "decoder", "preflight", "bcc_load", "bcc_wait", "attach"):
        if name in steps:
            parts[name] = s(*steps[name])
    if "release" in steps:
        parts["exec"] = s(steps["release"][0], first_ns)
    beside = BESIDE if "bcc_wait" in parts else ()
    parts["other"] = s(launch_ns, first_ns) - sum(v for k, v in parts.items() if k not in beside)
    return parts


def _spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4), "runs": [round(v, 4) for v in values]}


def measure(subject, workdir: str, reps: int, quiesce, progress, spec_name: str = "all.yaml",
            cache: str = "compiled", selection: str | None = None) -> dict:
    """Returns {"status": "ok", "total_s", "parts_s", ...} or {"status": "failed", "reason"}. cache:
    "compiled" (TRACESPEC_CACHE=off) or "cached" (a cache of the workdir's, filled by one untimed run).
    selection: instead of a spec, strace's `-e trace=SELECTION`; its untimed run fills the cache with the
    wide program alone (TRACESPEC_WIDE=1, as ./setup does), so that the timed runs start as the selection's
    first run after ./setup does."""
    spec = os.path.join(subject.specs_dir, spec_name)
    env = dict(subject.env)
    env["TRACESPEC_CACHE"] = "off" if cache == "compiled" else os.path.join(workdir, "cache")
    out = os.path.join(workdir, "startup.jsonl")
    marks_path = os.path.join(workdir, "startup-marks.json")
    what = ["-e", "trace=" + selection] if selection is not None else [spec]
    run_args = ["run", *what, "--format", "json", "-o", out, "--", "/bin/true"]
    totals, walls, probed_totals = [], [], []
    parts: dict[str, list[float]] = {}
    missing: list[str] = []
    tainted = 0  # runs that started with someone else's BPF programs attached
    try:
        if cache == "cached":
            progress(f"startup {spec_name}: filling the cache")
            quiesce.wait()
            fill = dict(env, TRACESPEC_WIDE="1") if selection is not None else env
            _time_to_first_event([subject.executable, *run_args], out, fill)
        for i in range(reps):
            progress(f"startup {spec_name}: time to first event, run {i + 1}/{reps}")
            tainted += bool(quiesce.wait())
            total, wall = _time_to_first_event([subject.executable, *run_args], out, env)
            totals.append(total)
            walls.append(wall)

            progress(f"startup {spec_name}: its parts, run {i + 1}/{reps}")
            tainted += bool(quiesce.wait())
            launch_ns = time.time_ns()
            probe = [sys.executable, os.path.join(BENCH, "startup_probe.py"), marks_path, *run_args]
            done = proc.run(probe, timeout=TIMEOUT_S, env=env)
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
    shown = f"-e trace={selection}" if selection is not None else f"specs/{spec_name}"
    return {"status": "ok", "command": f"tracespec run {shown} --format json -o F -- /bin/true",
            "cache": cache,
            "reps": reps, "total_s": _spread(totals), "run_wall_s": _spread(walls),
            "probed_total_s": _spread(probed_totals),
            "parts_s": {k: _spread(parts[k]) for k in PART_ORDER if k in parts},
            "steps_not_found": missing, "runs_with_foreign_bpf": tainted}


def _python_floor_once() -> float:
    done = proc.run([sys.executable, "-c", "pass"], timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise BenchError(f"python3 -c pass: exit {done.returncode}: {proc.last_line(done.stderr)}")
    return done.wall_s


def _bcc_floor_once() -> dict[str, float]:
    launch_ns = time.time_ns()
    done = proc.run([sys.executable, os.path.join(BENCH, "startup_floor.py")], timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise BenchError(f"startup_floor.py: exit {done.returncode}: {proc.last_line(done.stderr)}")
    try:
        m = json.loads(done.stdout)
    except ValueError:
        raise BenchError(f"startup_floor.py printed no marks: {proc.last_line(done.stdout)}") from None
    return {"total": (m["loaded_ns"] - launch_ns) / 1e9, "python": (m["start_ns"] - launch_ns) / 1e9,
            "import_bcc": (m["imported_ns"] - m["start_ns"]) / 1e9,
            "compile_load": (m["loaded_ns"] - m["imported_ns"]) / 1e9}


def measure_floors(reps: int, quiesce, progress) -> dict:
    """{"status": "ok", "python_s", "bcc_s": {"total", "python", "import_bcc", "compile_load"}} or failed."""
    python, bcc = [], {}
    try:
        for i in range(reps):
            progress(f"startup floors: run {i + 1}/{reps}")
            quiesce.wait()
            python.append(_python_floor_once())
            for k, v in _bcc_floor_once().items():
                bcc.setdefault(k, []).append(v)
    except BenchError as e:
        return {"status": "failed", "reason": str(e)}
    return {"status": "ok", "reps": reps, "python_s": _spread(python),
            "bcc_s": {k: _spread(v) for k, v in bcc.items()}}


PART_LABELS = {"python": "python", "imports": "imports", "spec_to_c": "spec→C", "decoder": "decoder",
               "preflight": "preflight", "bcc_load": "BCC", "bcc_wait": "BCC waited", "attach": "attach",
               "exec": "exec",
               "other": "other"}


def _range(s: dict) -> str:
    return f"{s['min']:.3f} – {s['max']:.3f}"


def markdown_table(specs: dict, floors: dict) -> list[str]:
    """One row per spec (and the floors), in seconds: median, range, parts' medians, above the floor."""
    head = ["spec", "median s", "min – max s"] + list(PART_LABELS.values()) + ["above BCC floor s",
                                                                              "BCC above floor s"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "--:|" * (len(head) - 1)]
    ok = floors.get("status") == "ok"
    floor_total = floors["bcc_s"]["total"]["median"] if ok else None
    floor_bcc = floors["bcc_s"]["compile_load"]["median"] if ok else None
    for name, s in specs.items():
        if s.get("status") != "ok":
            out.append(f"| {name} | failed: {s.get('reason')} |" + " |" * (len(head) - 2))
            continue
        parts = [f"{s['parts_s'][k]['median']:.3f}" if k in s["parts_s"] else "—" for k in PART_LABELS]
        t = s["total_s"]
        above = f"{t['median'] - floor_total:+.3f}" if ok else "—"
        bcc_above = (f"{s['parts_s']['bcc_load']['median'] - floor_bcc:+.3f}"
                     if ok and "bcc_load" in s["parts_s"] else "—")
        out.append(f"| {name} | **{t['median']:.3f}** | {_range(t)} | " + " | ".join(parts)
                   + f" | {above} | {bcc_above} |")
    if ok:
        p, b = floors["python_s"], floors["bcc_s"]
        blank = " | ".join(["—"] * len(PART_LABELS))
        out.append(f"| floor: `python3 -c pass` (to exit) | {p['median']:.3f} | {_range(p)} | {blank} | | |")
        out.append(f"| floor: BCC, empty TRACEPOINT_PROBE (to loaded) | {b['total']['median']:.3f} | "
                   f"{_range(b['total'])} | {b['python']['median']:.3f} | {b['import_bcc']['median']:.3f} "
                   f"(import bcc) | — | — | — | {b['compile_load']['median']:.3f} | — | — | — | — | | |")
    else:
        out.append(f"| floors | failed: {floors.get('reason')} |" + " |" * (len(head) - 2))
    return out


def markdown(res: dict) -> str:
    m = res["machine"]
    src = m["tracespec_source"]
    lines = [f"# tracespec start-up per spec: {m['date']}, {m['hostname']}", "",
             f"`{res['argv']}` ({res['reps']} runs per spec, {res['minutes']:.1f} min). "
             f"Load average (1, 5, 15 min) at the start: {res['loadavg_start']}, at the end: "
             f"{res['loadavg_end']} (2 cores shared with other work: the numbers are noisy).", "",
             "## Machine", "", "| | |", "|---|---|",
             f"| kernel | {m['kernel']} ({m['arch']}) |", f"| CPU | {m['cpu']}, {m['cores']} cores |",
             f"| bcc | {m['versions']['bcc']} |", f"| python | {m['versions']['python']} |",
             f"| tracespec | {m['versions']['tracespec']} ({src.get('source')}, commit "
             f"{src.get('commit', '?')[:12]}, uncommitted: {', '.join(src.get('uncommitted_changes') or []) or 'none'}) |",
             "", "## Launch to first event", "",
             "Each spec: `tracespec run specs/SPEC --format json -o F -- /bin/true`, launch to the first "
             "event's ts_ns. Parts (medians) come from separate runs through bench/startup_probe.py "
             "(see bench/startup.py for each). *above BCC floor*: the spec's median minus the BCC "
             "floor's; *BCC above floor*: its BCC compile+load part minus the floor's compile+load. "
             "*BCC* runs in a thread beside the main thread's steps; the parts that add up to the total "
             "count only *BCC waited*, the time the main thread waited for it (a tracespec that compiles "
             "on its main thread shows no *BCC waited*, and its *BCC* is in the sum).", ""]
    lines += markdown_table(res["specs"], res["floors"])
    lines += ["", "Floors: `python3 -c pass` is the interpreter alone; the BCC floor is bench/startup_floor.py "
              "(Python start, `import bcc`, BCC compiling and loading `TRACEPOINT_PROBE(syscalls, "
              "sys_enter_sync) { return 0; }`), what any Python BCC tracer pays before it can see an event."]
    tainted = sum(s.get("runs_with_foreign_bpf", 0) for s in res["specs"].values())
    if tainted:
        lines += ["", f"{tainted} run(s) started with another tracer's BPF programs loaded."]
    return "\n".join(lines) + "\n"


def _loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/startup.py", description=__doc__.split("\n")[0],
                                epilog="Writes DIR/STEM.md and DIR/STEM.json and prints the table.")
    p.add_argument("--specs", default="all,fileio,network,process,failed,slow,config",
                   help="comma-separated names of specs/NAME.yaml (default: every shipped spec)")
    p.add_argument("--selections", default="",
                   help="also strace-style runs without a spec, `-e trace=SET`, for each SET of this "
                        "semicolon-separated list (e.g. 'execve;%%file;%%network,%%process'); cached, from "
                        "the wide program alone, as after ./setup")
    p.add_argument("--reps", type=int, default=5, help="runs per spec and per floor (default 5)")
    p.add_argument("--cache", choices=("both", "compiled", "cached"), default="both",
                   help="with the program cache off (compiled at every start), from a filled cache, or both "
                        "(default)")
    p.add_argument("--tracespec", default=os.path.join(REPO, ".venv", "bin", "tracespec"),
                   help="the tracespec executable (default: the work tree's .venv)")
    p.add_argument("--rev", help="also measure this commit's tracespec (unpacked from git), each spec's runs "
                                 "beside the tested one's, in one run (its rows say the commit); run from outside "
                                 "the repository, so that its compiles cannot import the work tree's modules")
    p.add_argument("--output-dir", default=os.path.join(BENCH, "results"))
    p.add_argument("--stem", help="file name without extension (default DATE-HOST-startup-specs)")
    args = p.parse_args(argv)
    if args.reps < 1:
        p.error("--reps must be at least 1")
    return args


def main(argv: list[str]) -> int:
    import report  # the atomic writer; imported here so that run.py's import of this stays light
    args = parse_args(argv)
    if not os.access(args.tracespec, os.X_OK):
        print(f"bench/startup.py: {args.tracespec} is not an executable (run ./setup first?)", file=sys.stderr)
        return 1
    tested = subjects.installed(args.tracespec, REPO)
    names = [n.strip() for n in args.specs.split(",") if n.strip()]
    selections = [x.strip() for x in (args.selections or "").split(";") if x.strip()]
    missing = [n for n in names if not os.path.isfile(os.path.join(tested.specs_dir, n + ".yaml"))]
    if missing:
        print(f"bench/startup.py: no such spec in {tested.specs_dir}: {', '.join(missing)}", file=sys.stderr)
        return 1
    progress = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    quiesce = BpfQuiesce()
    started, load_start = time.monotonic(), _loadavg()
    import tempfile
    with tempfile.TemporaryDirectory(prefix="ts-startup-") as workdir:
        try:
            floors = measure_floors(args.reps, quiesce, progress)
            kinds = ("compiled", "cached") if args.cache == "both" else (args.cache,)
            compared = [("", tested)]
            if args.rev:
                try:
                    old = subjects.from_commit(args.rev, REPO, workdir)
                except BenchError as e:
                    print(f"bench/startup.py: {e}", file=sys.stderr)
                    return 1
                compared.insert(0, (f" ({old.description['commit'][:7]})", old))
            specs = {f"{n}, {k}{label}": measure(subj, workdir, args.reps, quiesce, progress, n + ".yaml", k)
                     for n in names for k in kinds for label, subj in compared}
            for sel in selections:
                for k in kinds:
                    for label, subj in compared:
                        specs[f"-e trace={sel}, {'wide cached' if k == 'cached' else k}{label}"] = measure(
                            subj, workdir, args.reps, quiesce, progress, sel, k, selection=sel)
        finally:
            proc.kill_all()
    res = {"argv": "bench/startup.py " + " ".join(argv), "reps": args.reps,
           "minutes": (time.monotonic() - started) / 60, "loadavg_start": load_start,
           "loadavg_end": _loadavg(), "machine": machine.describe(tested), "floors": floors, "specs": specs}
    stem = args.stem or f"{res['machine']['date']}-{res['machine']['hostname']}-startup-specs"
    os.makedirs(args.output_dir, exist_ok=True)
    md = markdown(res)
    report._write_atomically(os.path.join(args.output_dir, stem + ".json"), json.dumps(res, indent=1) + "\n")
    report._write_atomically(os.path.join(args.output_dir, stem + ".md"), md)
    print("\n".join(markdown_table(specs, floors)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
