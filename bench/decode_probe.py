"""Where tracespec's user-space nanoseconds go: each stage of turning records into text, timed apart.

    .venv/bin/python bench/decode_probe.py            # as root, from the repository
    .venv/bin/python bench/decode_probe.py --help

Records a binary trace of the static workload's loops with `tracespec run --format bin` (getppid
under specs/all.yaml; openat+close under specs/fileio.yaml, a path and flags to render), then runs the
stages a live `tracespec run` runs on every drain, one after the other over the whole trace, in this
process, with a clock around each:

    split    a drained stretch of the ring buffer cut into records (wire/ring.split_stretch)
    decode   records -> tuples, by the generated decoder (decode_all)
    reorder  into time order (decode/order.Reorder)
    pair     enter and exit records -> syscall events (decode/events.Pairer)
    text     events -> strace-style lines (format/text.TextWriter), into memory
    json     events -> JSON Lines (format/jsonl.JsonWriter), into memory, for comparison

The collector is set as the tracespec command sets it. The result is ns per record and per syscall for
each stage, and the records per second the text path can sustain on one core: what limits
`tracespec run --format text` when a program makes syscalls faster than that (bench/sustained.py
measures the same limit from outside). Not part of bench/run.py; one line on stderr and exit 1 on error.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import workload
from errors import BenchError
from paths import REPO

sys.path.insert(0, REPO)  # the work tree's tracespec, as the .venv's editable install has it

# (loop, spec, what the line shows)
CASES = (("getppid", "specs/all.yaml", "no arguments; raw return value"),
         ("openclose", "specs/fileio.yaml", "a path, flags and a descriptor"))


def record(tracespec: str, binary: str, loop: str, spec: str, iterations: int, path: str) -> None:
    argv = [tracespec, "run", os.path.join(REPO, spec), "--format", "bin", "-o", path, "--",
            *workload.argv(binary, workload.LOOPS[loop], iterations, "/etc/hostname")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {done.returncode}: {last}")
    if " 0 records lost" not in last:
        raise BenchError(f"recording {loop} lost records ({last}): run on an idle machine")


def stages(path: str) -> dict:
    """Every stage over the whole trace, timed; returns ns totals and counts."""
    from tracespec.decode.generated import load_decoder
    from tracespec.decode.events import Finished, Pairer, Unfinished
    from tracespec.decode.order import Reorder
    from tracespec.format.binary import TraceFile
    from tracespec.format.jsonl import JsonWriter
    from tracespec.format.text import TextOptions, TextWriter
    from tracespec.plan.model import Schema
    from tracespec.wire.ring import split_stretch

    trace = TraceFile(path)
    try:
        schema = Schema.from_json(trace.header["schema"])
        raw = [r for kind, value in trace.chunks() if kind == "records" for r in value]
    finally:
        trace.close()
    stretches = _framed(raw)
    decoder = load_decoder(schema)
    clock = time.perf_counter_ns
    t = dict.fromkeys(("split", "decode", "reorder", "pair", "text", "json"), 0)
    order, pairer = Reorder(), Pairer(schema)
    text = TextWriter(io.StringIO(), TextOptions(live=False))
    js = JsonWriter(io.StringIO())
    records = bad = syscalls = 0
    # One stretch at a time through every stage, as a live run handles each drain: what one stage
    # makes is garbage once the next has used it, and the collector sees what it would see live.
    for i, data in enumerate(stretches):
        t0 = clock()
        raw, _ = split_stretch(data)
        t1 = clock()
        recs: list = []
        bad += decoder(raw, recs)
        t2 = clock()
        order.push(recs)
        ready = order.release_all()
        t3 = clock()
        items = pairer.feed(ready) + (pairer.finish() if i == len(stretches) - 1 else [])
        t4 = clock()
        text.write(items)
        t5 = clock()
        js.write(items)
        t6 = clock()
        for stage, a, b in (("split", t0, t1), ("decode", t1, t2), ("reorder", t2, t3), ("pair", t3, t4),
                            ("text", t4, t5), ("json", t5, t6)):
            t[stage] += b - a
        records += len(raw)
        syscalls += sum(1 for item in items if type(item) in (Finished, Unfinished))
        text.out.seek(0)  # what was written is not kept: memory stays that of one drain
        text.out.truncate()
        js.out.seek(0)
        js.out.truncate()
    return {"ns": t, "records": records, "undecodable": bad, "syscalls": syscalls}


def _framed(records: list[bytes], stretch_bytes: int = 1 << 20) -> list[bytes]:
    """The records as a live drain copies them out of the ring buffer: each behind its 8-byte header,
    padded to 8 bytes, in stretches of about `stretch_bytes`."""
    out, parts, size = [], [], 0
    for r in records:
        parts.append(struct.pack("<II", len(r), 0) + r + bytes(-len(r) % 8))
        size += 8 + len(r) + (-len(r) % 8)
        if size >= stretch_bytes:
            out.append(b"".join(parts))
            parts, size = [], 0
    if parts:
        out.append(b"".join(parts))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="decode_probe.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="\n\n".join(p for i, p in enumerate(__doc__.split("\n\n")) if i != 1))
    ap.add_argument("-n", "--iterations", type=int, default=200_000,
                    help="loop iterations recorded per case (default 200,000)")
    ap.add_argument("--tracespec", default=os.path.join(REPO, ".venv", "bin", "tracespec"),
                    help="the tracespec that records (default: the repository's .venv)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON to FILE")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise BenchError("run me as root: recording the traces loads BPF programs")
    gc.freeze()
    gc.set_threshold(70_000, 10, 100)  # as tracespec's command line sets it
    results = {}
    with tempfile.TemporaryDirectory(prefix="tracespec-decode-probe-") as tmp:
        binary = workload.build(tmp)
        for loop, spec, what in CASES:
            path = os.path.join(tmp, f"{loop}.tsb")
            record(args.tracespec, binary, loop, spec, args.iterations, path)
            results[loop] = dict(stages(path), spec=spec, what=what)
    print(f"Decode probe, {time.strftime('%Y-%m-%d %H:%M')}, {os.uname().nodename}: {args.iterations:,} "
          f"iterations per case, Python {sys.version.split()[0]}, one process, collector as tracespec sets it\n")
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def report(results: dict) -> str:
    lines = ["| loop (spec) | stage | ns/record | ns/syscall |", "|---|---|--:|--:|"]
    for loop, r in results.items():
        n, s = r["records"], r["syscalls"]
        for stage, ns in r["ns"].items():
            lines.append(f"| {loop} ({r['spec']}) | {stage} | {ns / n:,.0f} | {ns / s:,.0f} |")
        text_ns = sum(r["ns"][k] for k in ("split", "decode", "reorder", "pair", "text"))
        lines.append(f"| {loop} ({r['spec']}) | **text path: split+decode+reorder+pair+text** | "
                     f"**{text_ns / n:,.0f}** | **{text_ns / s:,.0f}** |")
        lines.append(f"| {loop} ({r['spec']}) | one core sustains | {n * 1e9 / text_ns:,.0f} records/s | "
                     f"{s * 1e9 / text_ns:,.0f} syscalls/s |")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"decode_probe.py: {e}", file=sys.stderr)
        sys.exit(1)
