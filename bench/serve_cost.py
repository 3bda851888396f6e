"""What `tracespec serve` costs a syscall: the getppid loop's ns per syscall in three cases, interleaved
in one run (each repetition runs all three, in turn, so that the machine's drift spreads over all):

  none        no daemon: the loop in a cgroup of its own, nothing loaded
  unrecorded  the daemon serving SPEC with one recorder, the loop in another cgroup: what every syscall
              of the machine pays while serve runs (the programs run, look the group up, return)
  recorded    the same daemon, the loop in the recorded cgroup: each syscall's records written into
              the recorder's overwritable buffer

    .venv/bin/python bench/serve_cost.py [--reps N] [--iterations N] [--spec PATH] [--output-dir DIR]

A repetition starts the daemon after the `none` run and stops it (SIGTERM) after the other two, whose
order alternates. Writes <output-dir>/<date>-<host>-serve.md and .json; prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import paths  # noqa: F401 - puts the repository on sys.path
import machine
import proc
import subject
import workload
from errors import BenchError, guarded
from other_load import OtherLoad
from paths import BENCH, REPO

CASES = ("none", "unrecorded", "recorded")
CASE_TEXT = {"none": "no daemon", "unrecorded": "daemon running, loop in an unrecorded cgroup",
             "recorded": "daemon running, loop in the recorded cgroup"}
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 300


def progress(text: str) -> None:
    print(f"serve_cost: {text}", file=sys.stderr, flush=True)


def make_group(tag: str) -> str:
    from tracespec.runtime.cgroup import cgroup2_mounts

    mounts = cgroup2_mounts()
    if not mounts:
        raise BenchError("no cgroup v2 mount: serve records cgroup v2 groups")
    group = os.path.join(mounts[0], f"ts-bench-{tag}-{uuid.uuid4().hex[:6]}")
    os.mkdir(group)
    return group


def run_loop(binary: str, group: str, iterations: int) -> dict:
    """The getppid loop, moved into group before it execs; its ns per syscall and the others' load."""
    argv = workload.argv(binary, workload.LOOPS["getppid"], iterations, "/dev/null")
    script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
    load = OtherLoad()
    done = proc.run(["sh", "-c", script, "sh", group, *argv], timeout=RUN_TIMEOUT_S)
    other = load.cores()
    result = workload.parse_result(done.stdout)
    if done.returncode != 0 or result is None:
        raise BenchError(f"the getppid loop failed (exit {done.returncode}): {proc.last_line(done.stderr)}")
    return {"ns_per_syscall": result["ns_per_syscall"], "syscalls": result["syscalls"], "other_cores": other}


class Served:
    """`tracespec serve SPEC` in the background, with one recorder on `recorded`."""

    def __init__(self, executable: str, spec: str, workdir: str, recorded: str):
        self.sock = os.path.join(workdir, "serve.sock")
        self.stderr = open(os.path.join(workdir, "serve.err"), "w+", encoding="utf-8")
        self.p = proc.start([executable, "serve", spec, "--socket", self.sock], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=self.stderr)
        self._wait_ready()
        t0 = time.perf_counter()
        status, body = self._request("/add", {"name": "bench", "cgrouppath": recorded})
        self.add_ms = (time.perf_counter() - t0) * 1000  # a recorder added: map updates, no compile
        if status != 200:
            self.stop()
            raise BenchError(f"serve refused /add: {body.decode(errors='replace').strip()}")

    def _request(self, endpoint: str, params: dict) -> tuple[int, bytes]:
        from tracespec.serve.client import request

        return request(self.sock, endpoint, params)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not os.path.exists(self.sock):
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.stop()
                self.stderr.seek(0)
                raise BenchError(f"tracespec serve did not start: {proc.last_line(self.stderr.read())}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill_group(self.p)
        proc.reap(self.p)
        self.stderr.close()


def repetition(rep: int, binary: str, args, tested, workdir: str, groups: dict) -> dict[str, dict]:
    out = {"none": run_loop(binary, groups["unrecorded"], args.iterations)}
    served = Served(tested.executable, args.spec, workdir, groups["recorded"])
    try:
        order = ("unrecorded", "recorded") if rep % 2 == 0 else ("recorded", "unrecorded")
        for case in order:
            out[case] = run_loop(binary, groups[case], args.iterations)
    finally:
        served.stop()
    out["add_ms"] = served.add_ms
    return out


def summarise(runs: list[dict[str, dict]]) -> dict[str, dict]:
    base = statistics.median(r["none"]["ns_per_syscall"] for r in runs)
    out = {}
    for case in CASES:
        ns = [r[case]["ns_per_syscall"] for r in runs]
        med = statistics.median(ns)
        out[case] = {"median": round(med, 1), "min": round(min(ns), 1), "max": round(max(ns), 1),
                     "over_none_ns": round(med - base, 1), "ratio": round(med / base, 2),
                     "runs": [round(x, 1) for x in ns],
                     "other_cores": [r[case]["other_cores"] for r in runs]}
    adds = [r["add_ms"] for r in runs]
    out["add_ms"] = {"median": round(statistics.median(adds), 2), "min": round(min(adds), 2),
                     "max": round(max(adds), 2)}
    return out


def markdown(summary: dict, info: dict, args, iterations: int, minutes: float) -> str:
    src = info["tracespec_source"]
    measured = f"the work tree, at commit {src.get('commit', '?')[:12]}" + (
        f", uncommitted: {', '.join(src['uncommitted_changes'])}" if src.get("uncommitted_changes") else "")
    lines = [f"# tracespec serve: what it costs a syscall: {info['date']}, {info['hostname']}", "",
             f"`.venv/bin/python bench/serve_cost.py --reps {args.reps} --iterations {iterations}` "
             f"(spec {os.path.relpath(args.spec, REPO)}, {minutes:.1f} min). See bench/README.md.", "",
             f"Machine: {info['kernel']} ({info['arch']}), {info['cpu']}, {info['cores']} cores; "
             f"{info['versions']['tracespec']}, bcc {info['versions']['bcc']}; tracespec measured: {measured}.", "",
             "| case | runs | ns/syscall (median) | min – max | over no daemon, ns | × no daemon |",
             "|---|--:|--:|--:|--:|--:|"]
    for case in CASES:
        s = summary[case]
        lines.append(f"| {CASE_TEXT[case]} | {len(s['runs'])} | {s['median']:,.1f} | {s['min']:,.1f} – "
                     f"{s['max']:,.1f} | {s['over_none_ns']:,.1f} | {s['ratio']:.2f} |")
    others = [c for case in CASES for c in summary[case]["other_cores"]]
    lines += ["", f"getppid × {iterations:,} per run. Other processes kept {min(others):.2f} to "
              f"{max(others):.2f} cores busy during the runs (of {info['cores']}).", "",
              f"Adding a recorder (`/add`, request to answer, once per daemon): median "
              f"{summary['add_ms']['median']:.1f} ms ({summary['add_ms']['min']:.1f} – "
              f"{summary['add_ms']['max']:.1f}).", ""]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/serve_cost.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=15, help="repetitions of the three cases (default 15)")
    p.add_argument("--iterations", type=int, default=500_000, help="getppid calls per run (default 500000)")
    p.add_argument("--spec", default=os.path.join(REPO, "specs", "all.yaml"), help="the spec served")
    p.add_argument("--tracespec", default=os.path.join(REPO, ".venv", "bin", "tracespec"))
    p.add_argument("--output-dir", default=os.path.join(BENCH, "results"))
    p.add_argument("--debug", action="store_true")
    return p.parse_args(argv)


def benchmark(args) -> int:
    if os.geteuid() != 0:
        raise BenchError("must run as root (serve loads BPF programs and the loop moves between cgroups)")
    if args.reps < 1 or args.iterations < 1:
        raise BenchError("--reps and --iterations take positive numbers")
    started = time.monotonic()
    tested = subject.installed(os.path.abspath(args.tracespec), REPO)
    info = machine.describe(tested)
    groups: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tracespec-serve-bench-") as workdir:
        try:
            binary = workload.build(workdir)
            for case in ("unrecorded", "recorded"):
                groups[case] = make_group(case)
            runs = []
            for rep in range(args.reps):
                runs.append(repetition(rep, binary, args, tested, workdir, groups))
                progress(f"repetition {rep + 1}/{args.reps}: " + ", ".join(
                    f"{c} {runs[-1][c]['ns_per_syscall']:.0f}" for c in CASES) + " ns/syscall")
        finally:
            for g in groups.values():
                try:
                    os.rmdir(g)
                except OSError:
                    pass
    summary = summarise(runs)
    minutes = (time.monotonic() - started) / 60
    md = markdown(summary, info, args, args.iterations, minutes)
    os.makedirs(args.output_dir, exist_ok=True)
    stem = os.path.join(args.output_dir, f"{info['date']}-{info['hostname']}-serve")
    with open(stem + ".md", "w", encoding="utf-8") as f:
        f.write(md)
    with open(stem + ".json", "w", encoding="utf-8") as f:
        json.dump({"machine": info, "spec": os.path.relpath(args.spec, REPO), "iterations": args.iterations,
                   "reps": args.reps, "minutes": round(minutes, 2), "cases": summary,
                   "runs": runs}, f, indent=1)
        f.write("\n")
    print(md)
    print(stem + ".md")
    print(stem + ".json")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return guarded("serve_cost.py", lambda: benchmark(args), args.debug, "no results written")


if __name__ == "__main__":
    sys.exit(main())
