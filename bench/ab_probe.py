#!/usr/bin/env python3
"""A/B probe: two or more tracespec variants on the same loop, interleaved, with each BPF program's
own time (kernel.bpf_stats_enabled) beside the loop's ns per syscall.

    sudo .venv/bin/python bench/ab_probe.py --spec fileio.yaml --loop openclose \\
        --variant table0:env:TRACESPEC_TABLE=0 --variant table1:env:TRACESPEC_TABLE=1
    sudo .venv/bin/python bench/ab_probe.py --spec all.yaml --loop getppid \\
        --variant main:rev:main --variant work:tree

A variant is NAME:tree (the work tree's .venv/bin/tracespec), NAME:rev:REV[,VAR=VALUE...] (tracespec as committed at
REV, unpacked as bench/run.py --rev does, with those variables) NAME:env:VAR=VALUE[,VAR=VALUE] (the work tree with those
variables) or NAME:args:ARG[,ARG] (the work tree, with those options to `tracespec run`). Each run is `tracespec run SPEC --format bin -o FILE -- sh -c 'workload LOOP N; sleep S'`;
during the sleep the probe reads `bpftool prog show` and keeps, for each of tracespec's programs,
run_time_ns and run_cnt. Programs run for every task on the machine, so the figure given per program
is its run_time_ns divided by the loop's syscalls (what one traced syscall costs in it, plus the
untraced syscalls of the rest of the machine, a few per cent on an idle one). With --no-stats the
statistics are off (they tax every program run) and only the loop's own time is measured.

Not part of run.py. Writes a markdown table to standard output and --json FILE with every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(HERE)

import subject  # noqa: E402
import workload  # noqa: E402
from quiesce import BpfQuiesce  # noqa: E402

LOOPS = {"getppid": 1, "openclose": 2, "write": 1, "read": 1}


def sysctl_stats(on: bool) -> str:
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        old = f.read().strip()
    with open(path, "w") as f:
        f.write("1" if on else "0")
    return old


def prog_stats(bpftool: str) -> dict[int, dict]:
    r = subprocess.run([bpftool, "-j", "prog", "show"], capture_output=True, text=True)
    try:
        return {p["id"]: p for p in json.loads(r.stdout or "[]")}
    except ValueError:
        return {}


def owned_programs(pid: int) -> set[int]:
    """Ids of the BPF programs the process holds a descriptor of (its fdinfo's prog_id): other
    tracers on the machine load programs of the same names."""
    ids = set()
    base = f"/proc/{pid}/fdinfo"
    try:
        fds = os.listdir(base)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(os.path.join(base, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def make_variant(spec: str, workdir: str) -> dict:
    name, kind, *rest = spec.split(":", 2)
    if kind == "tree":
        s = subject.installed(os.path.join(REPO, ".venv", "bin", "tracespec"), REPO)
        return {"name": name, "exe": s.executable, "specs": s.specs_dir, "env": {}, "desc": s.description}
    if kind == "rev":
        rev, *extra = rest[0].split(",")
        os.makedirs(os.path.join(workdir, name), exist_ok=True)
        s = subject.from_commit(rev, REPO, os.path.join(workdir, name))
        env = dict(kv.split("=", 1) for kv in extra)
        return {"name": name, "exe": s.executable, "specs": s.specs_dir, "env": {**s.env, **env},
                "desc": {**s.description, "env": env}}
    if kind == "env":
        s = subject.installed(os.path.join(REPO, ".venv", "bin", "tracespec"), REPO)
        env = dict(kv.split("=", 1) for kv in rest[0].split(","))
        return {"name": name, "exe": s.executable, "specs": s.specs_dir, "env": env,
                "desc": {**s.description, "env": env}}
    if kind == "args":
        s = subject.installed(os.path.join(REPO, ".venv", "bin", "tracespec"), REPO)
        return {"name": name, "exe": s.executable, "specs": s.specs_dir, "env": {},
                "args": rest[0].split(","), "desc": {**s.description, "args": rest[0]}}
    raise SystemExit(f"--variant {spec}: NAME:tree, NAME:rev:REV or NAME:env:VAR=VALUE")


def run_once(v: dict, spec: str, binary: str, loop: str, iterations: int, open_path: str,
             out: str, bpftool: str, stats: bool, before: set[int]) -> dict:
    cmd_inner = " ".join(workload.argv(binary, workload.LOOPS[loop], iterations, open_path))
    cmd = [v["exe"], "run", os.path.join(v["specs"], spec), "--format", "bin", "-o", out, *v.get("args", []), "--",
           "sh", "-c", f"{cmd_inner}; sleep 1.2"]
    env = {**os.environ, **v["env"]}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    last: dict[int, dict] = {}
    mine: set[int] = set()
    stdout_lines: list[str] = []
    os.set_blocking(p.stdout.fileno(), False)
    buf = ""
    while p.poll() is None:
        time.sleep(0.2)
        try:
            chunk = p.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            buf += chunk
        if stats and '"ns_per_syscall"' in buf:
            mine |= owned_programs(p.pid)
            now = {i: q for i, q in prog_stats(bpftool).items() if i in mine}
            if now:
                last = now
    rest_out, err = p.communicate()
    buf += rest_out or ""
    result = None
    for line in buf.splitlines():
        if '"ns_per_syscall"' in line:
            result = json.loads(line)
    if result is None:
        raise SystemExit(f"{v['name']}: no result line; stderr: {err[-2000:]}")
    m = re.search(r"(\d+) records lost", err)
    progs = {}
    for q in last.values():
        if "run_time_ns" in q:
            name = q.get("name", str(q["id"]))
            if name in progs:
                name += f"#{q['id']}"
            progs[name] = {"run_time_ns": q["run_time_ns"], "run_cnt": q.get("run_cnt", 0)}
    return {"variant": v["name"], "ns_per_syscall": result["ns_per_syscall"], "syscalls": result["syscalls"],
            "lost": int(m.group(1)) if m else None, "progs": progs, "stderr_tail": err.strip().splitlines()[-1:]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default="all.yaml")
    ap.add_argument("--loop", default="getppid", choices=sorted(LOOPS))
    ap.add_argument("-n", "--iterations", type=int, default=300000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--no-stats", action="store_true")
    ap.add_argument("--untraced", action="store_true", help="also run the loop untraced in each round")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    bpftool = shutil.which("bpftool")
    if not bpftool:
        raise SystemExit("needs bpftool")
    stats = not args.no_stats
    workdir = tempfile.mkdtemp(prefix="ts-ab-")
    old = sysctl_stats(stats)
    runs = []
    try:
        binary = workload.build(workdir)
        open_path = os.path.join(workdir, "open-me")
        with open(open_path, "w") as f:
            f.write("x")
        variants = [make_variant(s, workdir) for s in args.variant]
        q = BpfQuiesce()
        out = os.path.join(workdir, "trace.bin")
        for rep in range(args.reps):
            if args.untraced:
                r = subprocess.run(workload.argv(binary, workload.LOOPS[args.loop], args.iterations, open_path),
                                   capture_output=True, text=True)
                res = workload.parse_result(r.stdout) if hasattr(workload, "parse_result") else json.loads(
                    r.stdout.strip().splitlines()[-1])
                runs.append({"variant": "untraced", "ns_per_syscall": res["ns_per_syscall"],
                             "syscalls": res["syscalls"], "lost": None, "progs": {}})
                print(f"rep {rep} untraced {res['ns_per_syscall']}", file=sys.stderr)
            for v in variants:
                q.wait()
                before = set(prog_stats(bpftool))
                r = run_once(v, args.spec, binary, args.loop, args.iterations, open_path, out, bpftool,
                             stats, before)
                runs.append(r)
                per = {k: round(p["run_time_ns"] / r["syscalls"], 1) for k, p in r["progs"].items()}
                print(f"rep {rep} {v['name']} {r['ns_per_syscall']} lost={r['lost']} {per}", file=sys.stderr)
    finally:
        sysctl_stats(old == "1")
        shutil.rmtree(workdir, ignore_errors=True)
    names = (["untraced"] if args.untraced else []) + [v["name"] for v in variants]
    print(f"\n{args.spec}, loop {args.loop}, {args.iterations} iterations, {args.reps} reps, "
          f"bpf_stats {'on' if stats else 'off'}\n")
    print("| variant | ns/syscall median | min – max | lost (worst) | program ns per loop syscall (median) |")
    print("|---|--:|--:|--:|---|")
    for n in names:
        rs = [r for r in runs if r["variant"] == n]
        ns = [r["ns_per_syscall"] for r in rs]
        lost = [r["lost"] for r in rs if r["lost"] is not None]
        progs: dict[str, list[float]] = {}
        for r in rs:
            for k, p in r["progs"].items():
                progs.setdefault(k, []).append(p["run_time_ns"] / r["syscalls"])
        ptxt = ", ".join(f"{k} {statistics.median(x):.0f}" for k, x in sorted(progs.items())
                         if statistics.median(x) >= 1)
        print(f"| {n} | {statistics.median(ns):.0f} | {min(ns):.0f} – {max(ns):.0f} | "
              f"{max(lost) if lost else '—'} | {ptxt or '—'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
