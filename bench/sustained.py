"""The highest steady rate of syscalls tracespec writes out with no loss: a ladder of rates, each held for
SECONDS. Run as root from the repository: .venv/bin/python bench/sustained.py --help

Also a section of bench/run.py (measure() below; --no-sustained there leaves it out).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import machine
import proc
import subject
import trace_counts
import workload
from errors import BenchError, guarded
from other_load import OtherLoad
from quiesce import BpfQuiesce
from summary import BUSY_CORES
from paths import REPO
from tracespec.plan.planner import RING_BYTES  # noqa: E402 (importable through paths)
from tracespec.wire.layout import COMM_SIZE, HEADER_SIZE  # noqa: E402


DEFAULT_RATES = [25_000, 50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000, 750_000, 1_000_000]
DEFAULT_SECONDS = 10
FORMATS = ("text", "json", "bin")
LOSSY_STREAK = 2  # consecutive lossy rates after which a format's ladder stops
KEPT_UP_FRACTION = 0.10  # drain lag allowed, as a fraction of the loop's duration, for "kept up"
ACHIEVED_FRACTION = 0.99  # below this share of its target, a rate was not held by the workload
RECORDS_PER_SYSCALL = 2  # an entry record and an exit record
# specs/all.yaml's records of a syscall: the entry (header, comm, six arguments) and the exit (header,
# return value), each with the ring buffer's 8-byte framing
RECORD_BYTES = (HEADER_SIZE + COMM_SIZE + 6 * 8 + 8) + (HEADER_SIZE + 8 + 8)
DEFAULT_RING_BYTES = RING_BYTES  # tracespec's default ring buffer
TIMEOUT_MARGIN_S = 300  # beyond the loop itself: start-up, draining a full ring, teardown
DECODE_TIMEOUT_S = 900

DESCRIPTION = """\
Find the highest rate of syscalls per second tracespec traces for good, formatted and written to a
file, without losing any.

tracespec's BPF programs write two records per syscall (entry and exit) into a ring buffer, 128 MiB
by default; its user space drains them, decodes and pairs them and writes the trace. When a program
makes syscalls faster than that, the ring fills and records are lost. A burst shorter than the ring
(about 990,000 syscalls of specs/all.yaml) is absorbed whatever tracespec's speed, so the question is
answered with a steady rate held long enough to fill the ring several times over.

For each rate of the ladder, lowest first, it runs

  tracespec run specs/all.yaml --format FORMAT -o FILE -- workload paced RATE SECONDS

where workload (bench/workload.c, compiled statically into a temporary directory) makes getppid() at
RATE calls per second for SECONDS: in 1 ms ticks of RATE/1000 calls, sleeping to each tick's absolute
deadline with clock_nanosleep, going on without sleeping when it falls behind. It reports the rate it
achieved and the CLOCK_MONOTONIC time its loop ended. For each run it records:

  syscalls     getppid() calls the workload made (RATE x SECONDS)
  in file      getppid lines in the trace: lines matching ` getppid(` in text, objects with
               "syscall": "getppid" in JSON; a binary trace is counted after the run through
               `tracespec decode --format json`
  missing      syscalls - in file
  lost records tracespec's own count, from the line it ends every run with on stderr (and the JSON
               footer): records, two per syscall
  drain lag    from the end of the workload's loop to tracespec's exit: the backlog it still had to
               write, plus its teardown
  written/s    in file / (loop time + drain lag): when tracespec fell behind it was busy all that
               time, and this is the rate it can write at
  achieved     the workload's rate (syscalls / loop time), and records/s, 2 per syscall

A rate is lossless when nothing is missing and tracespec lost nothing. A lossless rate is kept up when
the drain lag is at most 10 % of the loop's duration: tracespec then wrote nearly as fast as the
workload made syscalls, rather than the ring holding a backlog that happened to fit. Before each run
it waits for the previous tracespec's BPF programs to be freed (bpftool). A format's ladder stops after
two lossy rates in a row.

Result per format: sustained, the highest lossless rate, in syscalls/s and records/s; and the highest
rate kept up. A lossless rate counts at the rate the workload achieved if that fell short of its
target by more than 1 %."""

EPILOG = """\
output:
  A markdown table on standard output, one row per run, and per format the sustained rate. With
  --json FILE, every number as JSON as well. Progress goes to standard error. Trace files are deleted
  after they are counted (at 1,000,000 syscalls/s for 10 s, text is about 250 MB and JSON 1.5 GB;
  they are written to the temporary directory, --tmpdir to choose it).

exit status:
  0  every run of the ladder ran (lossy or not)
  1  it could not run (one line on standard error says why)
  2  some run failed (tracespec or the workload exited with an error): the table says which
     (also argparse's status for a wrong option)
  130  interrupted

examples:
  sudo .venv/bin/python bench/sustained.py                            the default ladder, text
  sudo .venv/bin/python bench/sustained.py --rates 50000,200000 --seconds 3
  sudo .venv/bin/python bench/sustained.py --formats text,json,bin --json sustained.json

A 2-core machine is shared by the workload and tracespec: another busy process lowers the rates
tracespec keeps up with. Rows marked ‡ ran while other processes kept at least a quarter of a core
busy, † when someone else's BPF programs were loaded. See bench/README.md, "Sustained rate"."""


def _short(rate: int) -> str:
    return f"{rate / 1e6:g}M" if rate >= 1_000_000 else f"{rate / 1000:g}k"


def _rate_list(text: str) -> list[int]:
    rates = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        mult = 1
        if part[-1] in "km":
            mult = 1000 if part[-1] == "k" else 1_000_000
            part = part[:-1]
        try:
            value = round(float(part) * mult)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a rate: {part!r}") from None
        if value < 1000:
            raise argparse.ArgumentTypeError(f"rate {value} below 1000 syscalls/s (one a tick)")
        rates.append(value)
    if not rates:
        raise argparse.ArgumentTypeError("no rates")
    return sorted(set(rates))


def _format_list(text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or '(none)'}; "
                                         f"known: {', '.join(FORMATS)}")
    return [f for f in FORMATS if f in chosen]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/sustained.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", type=_rate_list, metavar="LIST",
                   default=DEFAULT_RATES,
                   help="comma-separated syscalls per second, climbed from the lowest (250k and 1M are "
                        "understood; default " + ",".join(_short(r) for r in DEFAULT_RATES) + ")")
    p.add_argument("--seconds", type=int, default=DEFAULT_SECONDS, metavar="S",
                   help=f"how long each rate is held (default {DEFAULT_SECONDS})")
    p.add_argument("--formats", type=_format_list, default=["text"], metavar="LIST",
                   help="comma-separated output formats of tracespec to climb the ladder with: "
                        "text, json, bin (default: text)")
    p.add_argument("--buffer-size", metavar="BYTES",
                   help="passed to tracespec run --buffer-size (default: tracespec's own, 128 MiB). A "
                        "smaller ring absorbs a shorter burst, so loss shows sooner")
    p.add_argument("--tracespec", metavar="PATH", default=os.path.join(REPO, ".venv", "bin", "tracespec"),
                   help="the tracespec executable (default: the repository's .venv/bin/tracespec)")
    p.add_argument("--rev", metavar="REV",
                   help="measure tracespec as committed at REV instead, unpacked with git archive "
                        "into the temp dir with that commit's specs (as bench/run.py --rev)")
    p.add_argument("--tmpdir", metavar="DIR", help="where the workload and the traces go (default: $TMPDIR "
                                                   "or /tmp)")
    p.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    p.add_argument("--debug", action="store_true", help="show a traceback on an internal error")
    args = p.parse_args(argv)
    if args.seconds < 1:
        p.error("--seconds must be at least 1")
    return args


# -- counting ---------------------------------------------------------------------------------------

def count_bytes(path: str, needles: tuple[bytes, ...]) -> int:
    """Occurrences of any of needles in the file, read in large chunks (a trace of 10 million lines is
    counted in a second or two; a regex on every line would take ten times that)."""
    total = 0
    keep = max(len(n) for n in needles) - 1
    tail = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(16 << 20)
            if not chunk:
                break
            buf = tail + chunk
            total += sum(buf.count(n) for n in needles)
            # An occurrence that straddles the boundary is counted in the next buffer; the kept tail is
            # one byte too short to hold a whole one, so none is counted twice.
            tail = buf[-keep:]
    return total


# Text: "PID getppid() = PPID" (the PID is absent only if tracespec ever prints lines without one, hence
# the second needle). An unfinished call prints "PID getppid( <unfinished ...>" and then
# "<... getppid resumed>": only the first matches. Specs/all.yaml prints raw hex arguments, so no other
# line can contain the name followed by "(".
TEXT_NEEDLES = (b" getppid(", b"\ngetppid(")
JSON_NEEDLES = (b'"syscall": "getppid"',)


def _json_footer(path: str) -> dict | None:
    """The last object of tracespec's JSON Lines, {"lost", "syscalls", "unfinished"}, if it is there."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 4096))
        for line in reversed(f.read().splitlines()):
            if line.startswith(b'{"lost"'):
                try:
                    return json.loads(line)
                except ValueError:
                    return None
    return None


def count_trace(executable: str, fmt: str, trace: str, env: dict) -> tuple[int, dict | None]:
    """(getppid calls in the trace, the JSON footer if any)."""
    if fmt == "text":
        n = count_bytes(trace, TEXT_NEEDLES)
        with open(trace, "rb") as f:
            if f.read(8) == b"getppid(":
                n += 1  # the file's first line, with no newline before it
        return n, None
    if fmt == "json":
        return count_bytes(trace, JSON_NEEDLES), _json_footer(trace)
    decoded = trace + ".jsonl"
    try:
        done = proc.run([executable, "decode", "--format", "json", "-o", decoded, trace],
                        timeout=DECODE_TIMEOUT_S, env=env)
        if done.returncode != 0 or not os.path.exists(decoded):
            raise BenchError(f"tracespec decode: exit {done.returncode}: {proc.last_line(done.stderr)}")
        return count_bytes(decoded, JSON_NEEDLES), _json_footer(decoded)
    finally:
        if os.path.exists(decoded):
            os.unlink(decoded)


_TRACED = re.compile(r"^tracespec: (\d+) syscalls traced", re.MULTILINE)


# -- one run ----------------------------------------------------------------------------------------

def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def run_once(tested, binary: str, workdir: str, fmt: str, rate: int, seconds: int,
             buffer_size: str | None) -> dict:
    """One rate under one format: returns the row (see DESCRIPTION for the fields)."""
    trace = os.path.join(workdir, f"sustained-{fmt}-{rate}")
    out_path, err_path = trace + ".stdout", trace + ".stderr"
    argv = [tested.executable, "run", os.path.join(tested.specs_dir, "all.yaml"), "--format", fmt,
            "-o", trace]
    if buffer_size:
        argv += ["--buffer-size", buffer_size]
    argv += ["--", *workload.paced_argv(binary, rate, seconds)]
    row = {"format": fmt, "rate_target": rate, "seconds": seconds, "status": "failed", "error": ""}
    try:
        load = OtherLoad()
        # Output to files and wait() rather than pipes: tracespec leaves a detached process holding
        # its standard streams for a moment while it releases the probes, and the exit is what counts.
        with open(out_path, "w") as out, open(err_path, "w") as err:
            t_start = time.monotonic_ns()
            p = proc.start(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                           env={**os.environ, **tested.env} if tested.env else None)
            try:
                code = p.wait(timeout=seconds * 3 + TIMEOUT_MARGIN_S)
                t_exit = time.monotonic_ns()
            except subprocess.TimeoutExpired:
                proc.kill_group(p)
                row["error"] = f"killed after {seconds * 3 + TIMEOUT_MARGIN_S} s timeout"
                return row
            finally:
                proc.reap(p)
        row["other_cores"] = load.cores()
        with open(out_path, encoding="utf-8", errors="replace") as f:
            result = workload.parse_result(f.read())
        with open(err_path, encoding="utf-8", errors="replace") as f:
            stderr = f.read()
        row["wall_s"] = round((t_exit - t_start) / 1e9, 3)
        if code != 0 or result is None:
            row["error"] = f"{_status(code)}: {proc.last_line(stderr)}"
            return row
        if not os.path.exists(trace):
            row["error"] = f"tracespec wrote no trace to {trace}"
            return row
        made = result["syscalls"]
        loop_s = result["loop_ns"] / 1e9
        seen, footer = count_trace(tested.executable, fmt, trace, tested.env)
        lost = trace_counts.tracespec_lost(stderr)
        if footer is not None and fmt == "json":
            lost = footer.get("lost", lost)
        traced = _TRACED.findall(stderr)
        row.update({
            "status": "ok",
            "rate_achieved": round(result["rate_achieved"]),
            "loop_s": round(loop_s, 3),
            "late_ticks": result.get("late_ticks"),
            "syscalls": made,
            "seen": seen,
            "missing": made - seen,
            "lost_records": lost,
            "traced_syscalls": int(traced[-1]) if traced else (footer or {}).get("syscalls"),
            "records_per_s": RECORDS_PER_SYSCALL * round(result["rate_achieved"]),
            "drain_lag_s": round((t_exit - result["end_ns"]) / 1e9, 3),
            "trace_bytes": os.path.getsize(trace),
        })
        # tracespec's pace: what it wrote, over the loop and its drain lag (it starts with the loop). When
        # it fell behind, it was busy all that time, and this is its throughput; when it kept up, it is
        # about the rate.
        row["written_per_s"] = round(seen / (loop_s + max(row["drain_lag_s"], 0.0)))
        row["lossless"] = row["missing"] == 0 and lost == 0
        row["kept_up"] = row["lossless"] and row["drain_lag_s"] <= KEPT_UP_FRACTION * loop_s
        row["held"] = result["rate_achieved"] >= ACHIEVED_FRACTION * rate
        return row
    except BenchError as e:
        row["error"] = str(e)
        return row
    finally:
        for path in (trace, out_path, err_path):
            if os.path.exists(path):
                os.unlink(path)


# -- the ladder -------------------------------------------------------------------------------------

def _best(rows: list[dict], key: str) -> dict | None:
    """The highest rate with rows[key] true: at its target, or at what the workload achieved when that
    fell short of the target."""
    good = [r for r in rows if r["status"] == "ok" and r[key]]
    if not good:
        return None
    r = max(good, key=lambda r: r["rate_target"])
    rate = r["rate_target"] if r["held"] else r["rate_achieved"]
    return {"rate_target": r["rate_target"], "syscalls_per_s": rate,
            "records_per_s": RECORDS_PER_SYSCALL * rate, "drain_lag_s": r["drain_lag_s"]}


def measure(tested, binary: str, workdir: str, quiesce, progress, rates: list[int], seconds: int,
            formats: list[str], buffer_size: str | None = None) -> dict:
    """Climb the ladder for each format. Returns {"status": "ok", "formats": {fmt: {...}}, ...}."""
    ring = DEFAULT_RING_BYTES if not buffer_size else None
    results: dict[str, dict] = {}
    for fmt in formats:
        rows: list[dict] = []
        streak = 0
        stopped = ""
        for i, rate in enumerate(rates):
            foreign = quiesce.wait()
            progress(f"sustained: {fmt} at {rate:,} syscalls/s for {seconds} s ({i + 1}/{len(rates)})")
            row = run_once(tested, binary, workdir, fmt, rate, seconds, buffer_size)
            row["foreign_bpf"] = foreign
            rows.append(row)
            if row["status"] != "ok":
                progress(f"sustained: {fmt} at {rate:,}/s: FAILED: {row['error']}")
                stopped = f"failed at {rate:,}/s: {row['error']}"
                break
            verdict = "kept up" if row["kept_up"] else "lossless" if row["lossless"] else "LOSSY"
            progress(f"sustained: {fmt} at {rate:,}/s: {verdict}; achieved {row['rate_achieved']:,}/s, "
                     f"{row['missing']:,} missing, {row['lost_records']} records lost (tracespec), drain lag "
                     f"{row['drain_lag_s']:.1f} s")
            streak = 0 if row["lossless"] else streak + 1
            if streak >= LOSSY_STREAK and i + 1 < len(rates):
                stopped = f"stopped after {LOSSY_STREAK} lossy rates in a row"
                break
        results[fmt] = {"rows": rows, "sustained": _best(rows, "lossless"), "kept_up": _best(rows, "kept_up"),
                        "stopped": stopped}
    return {
        "status": "ok",
        "command": "tracespec run specs/all.yaml --format FORMAT -o FILE"
                   + (f" --buffer-size {buffer_size}" if buffer_size else "")
                   + " -- workload paced RATE SECONDS",
        "seconds": seconds,
        "rates": rates,
        "formats": results,
        "buffer_size": buffer_size or "tracespec's default (128 MiB)",
        "ring_syscalls": ring // RECORD_BYTES if ring else None,
        "kept_up_fraction": KEPT_UP_FRACTION,
    }


# -- the report -------------------------------------------------------------------------------------

def _mark(r: dict) -> str:
    busy = r.get("other_cores", 0) >= BUSY_CORES
    return (" †" if r.get("foreign_bpf") else "") + (" ‡" if busy else "")


def _verdict(r: dict) -> str:
    if r["kept_up"]:
        return "lossless, kept up"
    if r["lossless"]:
        return "lossless, behind"
    return "**lossy**"


def _rate(best: dict | None) -> str:
    if best is None:
        return "none"
    return f"**{best['syscalls_per_s']:,}** syscalls/s ({best['records_per_s']:,} records/s)"


def markdown_lines(s: dict) -> list[str]:
    """The section's body: the command, a table per format and its result, the notes."""
    if s.get("status") != "ok":
        return [f"Not measured: {s.get('reason', 'skipped')}"]
    ring = s.get("ring_syscalls")
    out = [f"`{s['command']}`, each rate held {s['seconds']} s, climbed from the lowest; a format stops "
           f"after {LOSSY_STREAK} lossy rates in a row. Ring buffer: {s['buffer_size']}"
           + (f", which holds about {ring:,} syscalls" if ring else "") + ".", ""]
    for fmt, res in s["formats"].items():
        out += [f"### --format {fmt}", "",
                "| rate target /s | achieved /s | records/s | syscalls | in file | missing | "
                "lost records (tracespec) | drain lag s | written /s | verdict |",
                "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
        for r in res["rows"]:
            if r["status"] != "ok":
                out.append(f"| {r['rate_target']:,}{_mark(r)} | | | | | | | | | failed: {r['error']} |")
                continue
            lost = "—" if r["lost_records"] is None else f"{r['lost_records']:,}"
            out.append(f"| {r['rate_target']:,}{_mark(r)} | {r['rate_achieved']:,} | "
                       f"{r['records_per_s']:,} | "
                       f"{r['syscalls']:,} | {r['seen']:,} | {r['missing']:,} | {lost} | "
                       f"{r['drain_lag_s']:.2f} | {r['written_per_s']:,} | {_verdict(r)} |")
        out += ["", f"Sustained (highest lossless rate): {_rate(res['sustained'])}. "
                    f"Kept up (lossless, drain lag at most {s['kept_up_fraction']:.0%} of the loop): "
                    f"{_rate(res['kept_up'])}."]
        if res["stopped"]:
            out.append(f"The ladder {res['stopped']}.")
        out.append("")
    notes = [
        "records/s: 2 per syscall (entry and exit) at the achieved rate; the workload's ~1,000 "
        "clock_nanosleep calls a second are traced too and not counted.",
        "drain lag: from the end of the workload's loop to tracespec's exit (its backlog, then its "
        "teardown). A lossless rate with a long drain lag was not kept up: the ring held the difference.",
        "written /s: getppid lines in the file / (loop time + drain lag). Where tracespec fell behind "
        "(a long drain lag, or loss) it was busy throughout, and this is how fast it writes.",
    ]
    if ring:
        notes.append(f"A rate below {ring // s['seconds']:,}/s makes fewer syscalls in {s['seconds']} s "
                     "than the ring holds: it cannot lose records however slow tracespec is, and only "
                     "its drain lag tells whether tracespec kept up (tracespec copies 1 MiB of records "
                     "out at a time, so its backlog stays in the ring).")
    rows = [r for res in s["formats"].values() for r in res["rows"]]
    if any(r.get("other_cores", 0) >= BUSY_CORES for r in rows):
        notes.append(f"‡: other processes kept at least {BUSY_CORES} of a core busy during the run "
                     "(other_cores in the JSON).")
    if any(r.get("foreign_bpf") for r in rows):
        notes.append("†: the run started while BPF programs this benchmark did not load were attached.")
    if any(r["status"] == "ok" and not r["held"] for r in rows):
        notes.append("Where achieved is more than 1 % under the target, the workload itself fell behind "
                     "(the CPU was taken by tracespec or others); a lossless such rate counts at what "
                     "was achieved.")
    return out + [f"- {n}" for n in notes]


def markdown(s: dict, info: dict) -> str:
    head = [f"# tracespec sustained rate: {info['date']}, {info['hostname']}", "",
            f"{info['kernel']}, {info['cpu']}, {info['cores']} cores; {info['versions']['tracespec']}. "
            "See bench/README.md, \"Sustained rate\".", ""]
    return "\n".join(head + markdown_lines(s)) + "\n"


# -- standalone -------------------------------------------------------------------------------------

def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sustained(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise BenchError("must run as root (tracespec loads BPF programs): "
                         "sudo .venv/bin/python bench/sustained.py")
    if args.json and not os.access(os.path.dirname(os.path.abspath(args.json)), os.W_OK):
        raise BenchError(f"cannot write {args.json}: no such directory, or not writable")
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="tracespec-sustained-", dir=args.tmpdir)
    try:
        if args.rev:
            tested = subject.from_commit(args.rev, REPO, workdir)
        else:
            tested = subject.installed(os.path.abspath(args.tracespec), REPO)
        if not os.access(tested.executable, os.X_OK):
            raise BenchError(f"{tested.executable} not found: run ./setup")
        binary = workload.build(workdir)
        quiesce = BpfQuiesce()
        info = machine.describe(tested)
        res = measure(tested, binary, workdir, quiesce, progress, args.rates, args.seconds, args.formats,
                      args.buffer_size)
    finally:
        proc.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    notes = [n for n in (quiesce.note, quiesce.baseline_note()) if n]
    res["notes"] = notes
    if args.json:
        results = {"command": ".venv/bin/python bench/sustained.py" + (" " + shlex.join(sys.argv[1:])
                                                                      if len(sys.argv) > 1 else ""),
                   "duration_s": round(time.monotonic() - started, 1), "machine": info, "sustained": res}
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(json.dumps(results, indent=1) + "\n")
        except OSError as e:
            raise BenchError(f"cannot write {args.json}: {e.strerror}")
    text = markdown(res, info)
    if notes:
        text += "".join(f"- {n}\n" for n in notes)
    print(text, end="")
    failed = any(r["status"] != "ok" for f in res["formats"].values() for r in f["rows"])
    return 2 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return guarded("sustained.py", lambda: sustained(args), args.debug, "nothing written")


if __name__ == "__main__":
    sys.exit(main())
