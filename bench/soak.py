"""Soak: tracespec tracing the whole system for a long time under load, its memory watched.

    .venv/bin/python bench/soak.py                  # 10 minutes, as root, from the repository
    .venv/bin/python bench/soak.py --minutes 1      # a quick look
    .venv/bin/python bench/soak.py --help

It runs `tracespec run specs/all.yaml --all -o /dev/null` (every syscall of every process, decoded and
formatted as text, then thrown away: the user-space path a long trace takes, without a disk filling up;
`--format json|bin` for the others). Beside it, a load generator: WORKERS processes that, in a loop, start
the benchmark's static workload for a burst of getppid() and one of openat()+close() on a file, then
pause. New processes all the time, so whatever tracespec keeps per process or per thread is exercised
too. Every INTERVAL seconds it samples:

  rss_kib     tracespec's resident memory (VmRSS of /proc/PID/status), and anon_kib, its anonymous part
              (the Python heap; most of the rest is the ring buffer, mapped twice)
  map_kib     the memory the kernel charges for tracespec's BPF maps: the `memlock` of every map
              tracespec holds open (/proc/PID/fdinfo; other tracers' maps on the machine are not counted)
  entries     how many entries tracespec's hash maps hold (`bpftool map dump id N`): syscalls in flight,
              which must not pile up as processes come and go

At the end it stops tracespec with SIGINT, takes its `records lost` from the last line, and judges
memory flat when, after WARMUP_S, the median RSS of the last quarter is at most the median of the first
quarter plus max(TOLERANCE_PCT %, TOLERANCE_KIB), the maps' memory never changed, and the hash maps'
entries stayed under their bound. Lost records are reported, not judged: system-wide text tracing of
every syscall on 2 cores is expected to lose some.

It writes bench/results/<date>-<host>-soak.md and .json (every sample) and exits 0 when flat, 1 when
not. It is not run by the tests (it takes ten minutes); its last result is committed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench's own modules, when run by path

import workload  # noqa: E402  (bench/workload.py: builds the static workload)
from paths import BENCH, REPO  # noqa: E402

WARMUP_S = 60
TOLERANCE_PCT = 5.0
TOLERANCE_KIB = 4096
WORKERS = 3
BURST = {"getppid": 2_000, "openclose": 500}
PAUSE_S = 0.5  # between bursts: load, not a saturated machine (tracespec keeps up, mostly)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="how long to trace (default 10)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default 5)")
    p.add_argument("--workers", type=int, default=WORKERS, help=f"load processes (default {WORKERS})")
    p.add_argument("--format", choices=("text", "json", "bin"), default="text", help="tracespec's output format")
    p.add_argument("--spec", default=os.path.join(REPO, "specs", "all.yaml"))
    p.add_argument("--tracespec", default=os.path.join(REPO, ".venv", "bin", "tracespec"))
    p.add_argument("--out", default=os.path.join(BENCH, "results"), help="directory for the result files")
    return p.parse_args(argv)


# -- what is sampled --------------------------------------------------------------------------------

def memory_kib(pid: int) -> dict[str, int] | None:
    """VmRSS and its anonymous part (the Python heap; the rest is mostly the mapped ring buffer)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(("VmRSS:", "RssAnon:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        return None
    return out if "VmRSS" in out else None


def bpf_maps(pid: int) -> dict[int, dict]:
    """The BPF maps a process holds open: map id -> its fdinfo fields (map_type, max_entries, memlock)."""
    maps = {}
    for path in glob.glob(f"/proc/{pid}/fdinfo/*"):
        try:
            with open(path, encoding="ascii") as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except (OSError, ValueError):
            continue
        if "map_id" in fields:
            maps[int(fields["map_id"])] = fields
    return maps


def hash_entries(map_id: int) -> int | None:
    r = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    try:
        return len(json.loads(r.stdout or "[]"))
    except ValueError:
        return None


def sample(pid: int, t0: float) -> dict | None:
    mem = memory_kib(pid)
    if mem is None:
        return None
    maps = bpf_maps(pid)
    hashes = {mid: f for mid, f in maps.items() if f.get("map_type") in ("1", "5", "9")}  # hash, percpu hash, lru
    return {
        "t": round(time.monotonic() - t0, 1),
        "rss_kib": mem["VmRSS"],
        "anon_kib": mem.get("RssAnon"),
        "map_kib": sum(int(f.get("memlock", 0)) for f in maps.values()) // 1024,
        "maps": len(maps),
        "entries": {str(mid): hash_entries(mid) for mid in sorted(hashes)},
        "max_entries": {str(mid): int(f.get("max_entries", 0)) for mid, f in sorted(hashes.items())},
    }


# -- the load ---------------------------------------------------------------------------------------

def start_load(binary: str, workers: int, scratch: str) -> list[subprocess.Popen]:
    """Shell loops, each starting the workload again and again: new processes all the time."""
    procs = []
    for i in range(workers):
        path = os.path.join(scratch, f"file{i}")
        open(path, "w").close()
        script = (f"while :; do {binary} getppid {BURST['getppid']} >/dev/null; "
                  f"{binary} openclose {BURST['openclose']} {path} >/dev/null; sleep {PAUSE_S}; done")
        procs.append(subprocess.Popen(["sh", "-c", script], start_new_session=True))
    return procs


def stop_load(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


# -- the verdict ------------------------------------------------------------------------------------

def judge(samples: list[dict]) -> dict:
    steady = [s for s in samples if s["t"] >= WARMUP_S] or samples
    q = max(len(steady) // 4, 1)
    first = statistics.median(s["rss_kib"] for s in steady[:q])
    last = statistics.median(s["rss_kib"] for s in steady[-q:])
    allowed = max(first * TOLERANCE_PCT / 100, TOLERANCE_KIB)
    map_kib = sorted({s["map_kib"] for s in samples})
    over = [(mid, n) for s in samples for mid, n in s["entries"].items()
            if n is not None and n > s["max_entries"][mid]]
    rss_flat = last - first <= allowed
    return {
        "rss_first_quarter_median_kib": first, "rss_last_quarter_median_kib": last,
        "rss_growth_kib": last - first, "rss_allowed_growth_kib": round(allowed),
        "rss_min_kib": min(s["rss_kib"] for s in samples), "rss_max_kib": max(s["rss_kib"] for s in samples),
        "map_kib_seen": map_kib, "hash_entries_max": max((n for s in samples for n in s["entries"].values()
                                                          if n is not None), default=0),
        "rss_flat": rss_flat, "maps_constant": len(map_kib) == 1, "entries_bounded": not over,
        "flat": rss_flat and len(map_kib) == 1 and not over,
    }


def report_md(meta: dict, verdict: dict, samples: list[dict]) -> str:
    v = verdict
    lines = [
        f"# Soak: {meta['minutes']:g} minutes of system-wide tracing under load",
        "",
        f"{meta['time_utc']} on {meta['hostname']} ({meta['kernel']}, {meta['cores']} cores), "
        f"{meta['tracespec']}, commit {meta['commit']}.",
        "",
        f"Command: `{meta['command']}`, with {meta['workers']} load processes (bursts of "
        f"{BURST['getppid']:,} getppid() and {BURST['openclose']:,} openat()+close(), a new process for each).",
        "",
        "| | |",
        "|---|---|",
        f"| verdict | **{'flat' if v['flat'] else 'NOT FLAT'}** |",
        f"| RSS, median of the first quarter after {WARMUP_S} s warm-up | {v['rss_first_quarter_median_kib']:,.0f} KiB |",
        f"| RSS, median of the last quarter | {v['rss_last_quarter_median_kib']:,.0f} KiB |",
        f"| growth (allowed) | {v['rss_growth_kib']:+,.0f} KiB ({v['rss_allowed_growth_kib']:,} KiB) |",
        f"| RSS min – max over the run | {v['rss_min_kib']:,} – {v['rss_max_kib']:,} KiB |",
        f"| BPF maps' memory (memlock), every sample | {', '.join(f'{k:,}' for k in v['map_kib_seen'])} KiB |",
        f"| hash map entries, most seen | {v['hash_entries_max']:,} |",
        f"| syscalls traced | {meta['syscalls']} |",
        f"| records lost | {meta['lost']} |",
        f"| tracespec's exit status | {meta['exit_code']} |",
        "",
        "RSS every minute (KiB):",
        "",
        "| minute | RSS | of which anonymous | maps' memory | hash entries |",
        "|---|---|---|---|---|",
    ]
    minute = -1
    for s in samples:
        if int(s["t"] // 60) != minute:
            minute = int(s["t"] // 60)
            lines.append(f"| {s['t'] / 60:.1f} | {s['rss_kib']:,} | {s['anon_kib'] or 0:,} | {s['map_kib']:,} | "
                         f"{sum(n or 0 for n in s['entries'].values()):,} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("soak: run it as root (it loads BPF programs)", file=sys.stderr)
        return 2
    scratch = tempfile.mkdtemp(prefix="tracespec-soak-")
    binary = workload.build(scratch)
    out = "/dev/null"
    cmd = [args.tracespec, "run", args.spec, "--all", "--format", args.format, "-o", out]
    err_path = os.path.join(scratch, "stderr")
    with open(err_path, "w") as err:
        tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO)
    deadline = time.monotonic() + 120
    while "tracing started" not in open(err_path).read():
        if tracer.poll() is not None or time.monotonic() > deadline:
            print("soak: tracespec did not start:\n" + open(err_path).read(), file=sys.stderr)
            tracer.kill()
            return 2
        time.sleep(0.2)
    load = start_load(binary, args.workers, scratch)
    t0 = time.monotonic()
    samples: list[dict] = []
    try:
        while time.monotonic() - t0 < args.minutes * 60 and tracer.poll() is None:
            s = sample(tracer.pid, t0)
            if s:
                samples.append(s)
                print(f"soak: {s['t']:7.1f}s rss {s['rss_kib']:,} KiB (anon {s['anon_kib']:,}), maps {s['map_kib']:,} KiB, "
                      f"entries {sum(n or 0 for n in s['entries'].values())}", file=sys.stderr)
            time.sleep(args.interval)
    finally:
        stop_load(load)
        if tracer.poll() is None:
            tracer.send_signal(signal.SIGINT)
        try:
            code = tracer.wait(timeout=120)
        except subprocess.TimeoutExpired:
            tracer.kill()
            code = tracer.wait()
    text = open(err_path).read()
    m = re.findall(r"tracespec: (\d+) syscalls traced, (\d+) records lost", text)
    syscalls, lost = (int(m[-1][0]), int(m[-1][1])) if m else (None, None)
    if not samples:
        print("soak: no samples:\n" + text[-2000:], file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc)
    meta = {
        "time_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "hostname": socket.gethostname(),
        "kernel": os.uname().release, "cores": os.cpu_count(), "minutes": args.minutes,
        "workers": args.workers, "command": " ".join(["tracespec"] + cmd[1:]).replace(REPO + "/", ""),
        "tracespec": subprocess.run([args.tracespec, "--version"], capture_output=True, text=True).stdout.strip(),
        "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
        "syscalls": syscalls, "lost": lost, "exit_code": code, "stderr_tail": text[-500:],
    }
    verdict = judge(samples)
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, f"{now.strftime('%Y-%m-%d')}-{socket.gethostname()}-soak")
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "verdict": verdict, "samples": samples}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(report_md(meta, verdict, samples))
    print(f"soak: {'flat' if verdict['flat'] else 'NOT FLAT'}; wrote {base}.md and .json", file=sys.stderr)
    return 0 if verdict["flat"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
