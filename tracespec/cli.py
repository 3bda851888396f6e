"""The tracespec command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import textwrap
import time
import traceback

import tracespec
from tracespec.errors import TracespecError

PROG = "tracespec"

DESCRIPTION = """\
tracespec traces system calls with eBPF, from a YAML spec you can review, check and test like code.
The spec names the syscalls to trace, how much of their strings and buffers to copy, and which events
to keep (a filter evaluated in the kernel). tracespec checks the spec against what the kernel can do,
generates a BPF program and a matching decoder, and prints what happened the way strace does."""

EPILOG = """\
commands:
  run     trace a command, running processes, a cgroup or the whole system
  record  a flight recorder: keep the latest syscalls in the kernel, write them on demand
  check   validate specs (exit 0 when valid); for CI
  emit    print the generated BPF C, or the generated decoder
  decode  print a binary trace (recorded with --format bin) as text or JSON
  list    print the syscall catalogue

examples:
  tracespec run specs/fileio.yaml -- cat /etc/hostname
  tracespec run specs/fileio.yaml --format json -o trace.jsonl -- make
  tracespec run specs/all.yaml --format bin -o trace.tsb -p 1234
  tracespec decode trace.tsb -tt -T
  tracespec run specs/fileio.yaml -c --summary-by process -- make
  tracespec record specs/all.yaml --size 32M -- ./server
  tracespec check specs/*.yaml --kernel 5.4
  tracespec emit specs/fileio.yaml | less
  tracespec list --class network

Run `tracespec COMMAND --help` for a command's options."""


def _targets_help() -> str:
    return ("Without -p, --all or --cgroup, tracespec starts CMD itself, after its probes are attached, "
            "so none of its syscalls are missed, and follows its children in the kernel. It exits with "
            "CMD's status (128+N if signal N killed it).")


def _paragraphs(*texts: str) -> str:
    width = min(shutil.get_terminal_size().columns, 100) - 2
    return "\n\n".join(textwrap.fill(t, width) for t in texts)


def _text_options(group) -> None:
    group.add_argument("-t", dest="timestamps", action="count", default=0,
                       help="prefix lines with the time of day; -tt adds microseconds, -ttt is seconds since the epoch")
    group.add_argument("-r", dest="relative", action="store_true",
                       help="prefix lines with the time since the previous one")
    group.add_argument("-T", dest="syscall_times", action="store_true", help="show the time spent in each syscall")
    group.add_argument("-y", dest="fd_paths", action="store_true",
                       help="show what file descriptors refer to, as strace -y does (also: fd_paths: true in the spec)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {tracespec.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="trace syscalls as a spec says",
                         description="Trace syscalls as SPEC says. " + _targets_help(),
                         usage="%(prog)s SPEC [options] -- CMD [ARGS...]\n"
                               "       %(prog)s SPEC [options] -p PID[,PID...]\n"
                               "       %(prog)s SPEC [options] --all | --cgroup PATH | --comm NAME",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog=_paragraphs(
                             "Output goes to standard error, as strace's does; -o - sends it to standard output. "
                             "Every run ends with a line on standard error counting the syscalls traced and the "
                             "records lost (and the JSON output's last object says the same). With -o FILE and "
                             "standard error on a terminal, a status line shows the trace's progress.",
                             "Stopping: SIGINT (Ctrl-C) or SIGTERM ends the trace. A command tracespec started "
                             "gets the signal too, as under strace, and is traced until it ends (2 s at most); "
                             "tracespec then exits with its status. With -p, --all, --cgroup or --comm, stopping "
                             "is the normal end: exit status 0. Either way the buffers are drained first, "
                             "syscalls still in flight show as unfinished, and the probes are removed.",
                             "Exit status: the command's (128+N if signal N killed it); 3 with --fail-on-loss when "
                             "records were lost; 1 for a bad spec; 2 for bad usage or when tracing cannot start "
                             "(privileges, kernel headers); 126 or 127 when the command cannot be run."))
    run.add_argument("spec", metavar="SPEC", help="the spec file (YAML)")
    tgt = run.add_argument_group("targets")
    tgt.add_argument("-p", "--pid", metavar="PID[,PID...]", action="append", default=[],
                     help="trace running processes (all their threads), without restarting them")
    tgt.add_argument("--all", action="store_true", help="trace every process on the system but tracespec")
    tgt.add_argument("--cgroup", metavar="PATH", help="trace the processes of a cgroup v2 group "
                                                      "(e.g. /system.slice/nginx.service)")
    tgt.add_argument("--comm", metavar="NAME", help="trace processes by name (first 15 bytes)")
    tgt.add_argument("--no-follow", action="store_true", help="do not trace children of the targets")
    out = run.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json", "bin"), default="text",
                     help="text: strace style (default); json: JSON Lines, one object per syscall; "
                          "bin: the records as the kernel wrote them, with the spec and their layout "
                          "(needs -o; read it with `tracespec decode`, on any machine)")
    out.add_argument("-o", "--output", metavar="FILE", help="write the trace to FILE ('-': standard output)")
    _text_options(out)
    summ = run.add_argument_group("summary (like strace -c)")
    summ.add_argument("-c", "--summary", action="store_true",
                      help="count instead of printing each syscall: calls, errors, time in the syscall (total, "
                           "average, min, max, share), errors by errno and a log2 histogram of times, counted "
                           "in the kernel in maps of constant size (also: summary: in the spec)")
    summ.add_argument("--summary-by", choices=("syscall", "process", "thread"),
                      help="one table per process or per thread (default: syscall, all processes together)")
    summ.add_argument("--interval", metavar="SECONDS", type=int,
                      help="print a summary every SECONDS seconds and start counting again from zero")
    summ.add_argument("--no-hist", action="store_true", help="leave the histograms out of the text summary")
    rt = run.add_argument_group("buffers and faults")
    rt.add_argument("--buffer-size", metavar="BYTES", help="kernel buffer size, e.g. 64M (default: a 128 MiB ring "
                                                          "buffer, at most 1/16 of the memory, which holds a "
                                                          "burst of a million syscalls; or 8 MiB per CPU of perf "
                                                          "buffer on kernels before 5.8)")
    rt.add_argument("--fail-on-loss", action="store_true", help="exit with status 3 if any record was lost")
    rt.add_argument("--kernel", metavar="X.Y", help="generate for mainline Linux X.Y's features (perf buffers, "
                                                   "classic tracepoints...) though the running kernel has more")
    rt.add_argument("--debug", action="store_true", help="show the BPF verifier's log and internal errors in full")

    rec = sub.add_parser("record", help="keep the latest syscalls in the kernel; write them out on demand",
                         description="A flight recorder: trace as SPEC says, but keep the records in kernel "
                                     "buffers that the newest overwrite, and write nothing until a dump. " +
                                     _targets_help(),
                         usage="%(prog)s SPEC [options] -- CMD [ARGS...]\n"
                               "       %(prog)s SPEC [options] -p PID[,PID...] | --all | --cgroup PATH | --comm NAME",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog=_paragraphs(
                             "A dump holds every record the buffers still have, in time order, syscalls in "
                             "flight shown unfinished (a syscall whose entry was already overwritten is left "
                             "out). It is written: on SIGUSR1 (kill -USR1 PID of tracespec); when the spec's "
                             "recorder trigger holds for a syscall that returns (e.g. trigger: 'errno == "
                             "ENOSPC'); when a traced process is killed by a signal; and when the recording "
                             "ends (the command exits, or SIGINT or SIGTERM). Dumps that arrive together are "
                             "written as one.",
                             "Text dumps start with a line '=== dump N: REASON ... ===', JSON dumps with an "
                             "object {\"dump\": N, \"reason\": ...} and end with the usual "
                             "{\"lost\": ...} object; with --format bin each dump is a trace of its own, "
                             "FILE with .N before its extension (trace.tsb: trace.1.tsb, trace.2.tsb...), "
                             "read with `tracespec decode`.",
                             "The buffer size (--size, or recorder: size: in the spec) is split between the "
                             "CPUs, each part rounded down to a power of two pages. A dump copies the "
                             "buffers while the kernel goes on writing: nothing is lost to it."))
    rec.add_argument("spec", metavar="SPEC", help="the spec file (YAML)")
    rtgt = rec.add_argument_group("targets")
    rtgt.add_argument("-p", "--pid", metavar="PID[,PID...]", action="append", default=[],
                      help="record running processes (all their threads)")
    rtgt.add_argument("--all", action="store_true", help="record every process on the system but tracespec")
    rtgt.add_argument("--cgroup", metavar="PATH", help="record the processes of a cgroup v2 group")
    rtgt.add_argument("--comm", metavar="NAME", help="record processes by name (first 15 bytes)")
    rtgt.add_argument("--no-follow", action="store_true", help="do not record children of the targets")
    rout = rec.add_argument_group("output")
    rout.add_argument("--format", choices=("text", "json", "bin"), default="text",
                      help="text: strace style (default); json: JSON Lines; bin: one binary trace per dump")
    rout.add_argument("-o", "--output", metavar="FILE", help="write dumps to FILE ('-': standard output; "
                                                             "default: standard error)")
    _text_options(rout)
    rec.add_argument("--size", metavar="BYTES", help="in-kernel buffer, all CPUs together, e.g. 16M "
                                                     "(default: the spec's recorder size, else 64M)")
    rec.add_argument("--fail-on-loss", action="store_true", help="exit with status 3 if any record was lost")
    rec.add_argument("--kernel", metavar="X.Y", help="generate for mainline Linux X.Y's features")
    rec.add_argument("--debug", action="store_true", help="show the BPF verifier's log and internal errors in full")

    check = sub.add_parser("check", help="validate specs",
                           description="Validate each SPEC against the syscall catalogue and a kernel profile. "
                                       "Exit 0 when all are valid; otherwise print each problem with its "
                                       "file:line:col and a hint, and exit 1.")
    check.add_argument("specs", metavar="SPEC", nargs="+")
    check.add_argument("--kernel", metavar="X.Y", help="check against mainline Linux X.Y instead of the running kernel")

    emit = sub.add_parser("emit", help="print the generated BPF C or decoder",
                          description="Print the BPF C that `run` would load for SPEC (or, with --decoder, the "
                                      "Python decoder that reads its records). Comments show which part of a "
                                      "filter became which C.")
    emit.add_argument("spec", metavar="SPEC")
    emit.add_argument("--decoder", action="store_true", help="print the generated decoder instead of the C")
    emit.add_argument("--kernel", metavar="X.Y", help="generate for mainline Linux X.Y instead of the running kernel")
    emit.add_argument("--target", choices=("command", "pids", "all", "cgroup"), default="command",
                      help="generate for this kind of target (default: command)")

    dec = sub.add_parser("decode", help="print a binary trace",
                         description="Print a binary trace recorded with `run --format bin` as text or JSON "
                                     "Lines, exactly as `run` would have. The trace carries its spec and record "
                                     "layout: decoding needs neither the kernel it was recorded on, nor BCC, nor "
                                     "root. A trace cut short (a full disk, a killed recorder) is decoded up to "
                                     "its last whole chunk; tracespec then says at which byte it ends and exits 1.")
    dec.add_argument("trace", metavar="TRACE", help="the binary trace (.tsb)")
    dout = dec.add_argument_group("output")
    dout.add_argument("--format", choices=("text", "json"), default="text",
                      help="text: strace style (default); json: JSON Lines, one object per syscall")
    dout.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    dout.add_argument("--header", action="store_true",
                      help="print the trace's header instead: where and when it was recorded, and its spec")
    _text_options(dout)
    dec.add_argument("--fail-on-loss", action="store_true", help="exit with status 3 if any record was lost")

    lst = sub.add_parser("list", help="print the syscall catalogue",
                         description="Print the syscall catalogue: number, name, strace classes and arguments "
                                     "with their kinds.")
    lst.add_argument("--class", dest="cls", metavar="CLASS", help="only this class (file, network, process, ...)")
    return p


def _size(text: str, option: str = "--buffer-size") -> int:
    from tracespec.spec.parse import parse_size

    size = parse_size(text)
    if not size:
        raise TracespecError(f"{option} {text!r} is not a size", hint="e.g. 64M, 512K or 1048576")
    return size


def cmd_check(args) -> int:
    from tracespec.pipeline import compile_spec, decoder_source

    failures = 0
    for path in args.specs:
        try:
            # every stage short of loading: what the planner or code generator refuses is caught too
            c = compile_spec(path, args.kernel)
            decoder_source(c.plan)
            v = c.validated
            print(f"{path}: ok ({len(v.syscalls)} syscalls, {v.profile.name})")
        except TracespecError as e:
            failures += 1
            print(e.render(), file=sys.stderr)
    return 1 if failures else 0


def _target(args):
    from tracespec.plan import Target

    kind = getattr(args, "target", None)
    if kind is None:
        if args.pid:
            kind = "pids"
        elif args.all:
            kind = "all"
        elif args.cgroup:
            kind = "cgroup"
        elif args.comm:
            kind = "comm"
        else:
            kind = "command"
    follow = not getattr(args, "no_follow", False)
    comm = getattr(args, "comm", None)
    return Target(kind=kind, follow=follow, cgroup=getattr(args, "cgroup", None),
                  comm=comm.encode()[:15] if comm else None)


def cmd_emit(args) -> int:
    from tracespec.pipeline import compile_spec, decoder_source

    c = compile_spec(args.spec, args.kernel, _target(args))
    sys.stdout.write(decoder_source(c.plan) if args.decoder else c.c_source)
    return 0


def cmd_list(args) -> int:
    from tracespec.catalogue import load_catalogue

    cat = load_catalogue()
    for sc in cat.syscalls:
        if args.cls and args.cls not in sc.classes:
            continue
        argtext = ", ".join(f"{a.name}:{a.kind}" for a in sc.args)
        classes = ",".join(sorted(sc.classes)) or "-"
        print(f"{sc.nr:4d}  {sc.name:<24} {classes:<28} {argtext}")
    return 0


def _open_output(path: str | None, default, binary: bool = False):
    """The stream a trace goes to: a file, standard output ('-') or `default`."""
    if path in (None, ""):
        return default.buffer if binary else default
    if path == "-":
        return sys.stdout.buffer if binary else sys.stdout
    try:
        if binary:
            return open(path, "wb")
        return open(path, "w", encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise TracespecError(f"cannot write {path}: {e.strerror}") from None


@contextlib.contextmanager
def _output(path: str | None, default, binary: bool = False):
    """The trace's stream for the block: closed (or flushed) at the end; a failed write (a full disk)
    becomes one error line, and the file is left as far as it got."""
    out = _open_output(path, default, binary)
    owned = out not in (sys.stdout, sys.stderr, sys.stdout.buffer, sys.stderr.buffer)
    name = path if owned else ("standard output" if out in (sys.stdout, sys.stdout.buffer) else "standard error")
    try:
        yield out
        out.close() if owned else out.flush()
    except BrokenPipeError:
        raise
    except BaseException as e:
        try:
            out.close() if owned else out.flush()
        except OSError:
            pass  # the first failure is the one to report
        if isinstance(e, OSError):
            raise TracespecError(f"cannot write {name}: {e.strerror}") from None
        raise


def _event_writer(fmt: str, out, args, clock_offset_ns: int, fd_paths: bool, live: bool):
    from tracespec.format.jsonl import JsonWriter
    from tracespec.format.text import TextOptions, TextWriter

    if fmt == "json":
        return JsonWriter(out, clock_offset_ns)
    options = TextOptions(args.timestamps, args.relative, args.syscall_times, fd_paths, live)
    return TextWriter(out, options, clock_offset_ns)


def _notice(text: str) -> None:
    print(f"tracespec: {text}", file=sys.stderr, flush=True)


def _status_line(out, binary: bool):
    """A live status line when a person watches stderr and the trace goes elsewhere."""
    from tracespec.runtime.status import StatusLine

    if not sys.stderr.isatty() or out in (sys.stderr, sys.stderr.buffer):
        return None
    if out in (sys.stdout, sys.stdout.buffer) and sys.stdout.isatty():
        return None
    return StatusLine(sys.stderr, "bytes" if binary else "syscalls")


def cmd_run(args) -> int:
    from tracespec.pipeline import compile_spec
    from tracespec.codegen.decoder import load_decoder
    from tracespec.format.binary import BinWriter
    from tracespec.kernel import find_tracefs
    from tracespec.runtime.session import Session

    cmd = list(args.cmd)
    pids = [int(x) for item in args.pid for x in item.split(",") if x.strip()] if args.pid else []
    chosen = [bool(cmd), bool(pids), args.all, bool(args.cgroup), bool(args.comm)]
    if sum(chosen) != 1:
        raise TracespecError("say what to trace: a command after --, or one of -p, --all, --cgroup, --comm",
                             hint="tracespec run SPEC -- CMD ARGS...")
    binary = args.format == "bin"
    if binary and (not args.output or (args.output == "-" and sys.stdout.isatty())):
        raise TracespecError("--format bin writes binary records: say where with -o FILE",
                             hint="tracespec run SPEC --format bin -o trace.tsb ...; then tracespec decode trace.tsb")
    target = _target(args)
    from tracespec.runtime.preflight import memory_bytes
    buffer_bytes = _size(args.buffer_size) if args.buffer_size else None
    summary, interval = _summary_choice(args)
    if summary is not None and binary:
        raise TracespecError("a summary is text or JSON; --format bin records events",
                             hint="drop --format bin, or drop --summary (and the spec's summary:)")
    # the default ring buffer takes at most a 16th of the machine's memory
    compiled = compile_spec(args.spec, args.kernel, target, buffer_bytes, ring_cap=memory_bytes() // 16,
                            summary=summary)
    decode = load_decoder(compiled.plan.schema)
    offset = time.time_ns() - time.monotonic_ns()
    fd_paths = args.fd_paths or compiled.validated.spec.fd_paths
    with _output(args.output, sys.stderr, binary) as out:
        if binary:
            spec_text = compiled.validated.spec.text
            writer = BinWriter(out, compiled.plan.schema.to_json(), args.spec, spec_text, offset, fd_paths)
        elif summary is not None:
            writer = _summary_writer(args, out, compiled.plan, offset, interval)
        else:
            writer = _event_writer(args.format, out, args, offset, fd_paths, live=True)
        session = Session(compiled.plan, compiled.c_source, decode, writer,
                          command=cmd if cmd else None, pids=pids, tracefs=find_tracefs(),
                          notice=_notice, status=None if summary else _status_line(out, binary),
                          interval=interval)
        result = session.run()
    if summary is not None:
        print(f"tracespec: {result.syscalls} syscalls counted, {result.lost} lost (not counted)", file=sys.stderr)
    elif binary:
        print(f"tracespec: {writer.bytes} bytes of records written to {args.output}, {result.lost} records lost",
              file=sys.stderr)
    else:
        print(f"tracespec: {result.syscalls} syscalls traced, {result.lost} records lost", file=sys.stderr)
    if args.fail_on_loss and result.lost:
        return 3
    return result.exit_code


def _summary_choice(args):
    """The summary asked for on the command line or in the spec (the command line wins), and its interval."""
    from tracespec.plan.model import SummaryPlan
    from tracespec.spec import load_spec

    spec_summary = load_spec(args.spec).summary
    if not args.summary and spec_summary is None:
        if args.summary_by or args.interval or args.no_hist:
            raise TracespecError("--summary-by, --interval and --no-hist go with --summary",
                                 hint="add -c (--summary), or summary: to the spec")
        return None, None
    by = args.summary_by or (spec_summary.by if spec_summary else None) or "syscall"
    interval = args.interval if args.interval is not None else (spec_summary.interval if spec_summary else None)
    if interval is not None and interval < 1:
        raise TracespecError(f"--interval {interval}: give a whole number of seconds, 1 or more")
    return SummaryPlan(by=by), interval


def _summary_writer(args, out, plan, clock_offset: int, interval):
    from tracespec.format.summary import SummaryJsonWriter, SummaryTextWriter

    if args.format == "json":
        return SummaryJsonWriter(out, plan.schema, plan.summary.by, clock_offset)
    return SummaryTextWriter(out, plan.schema, plan.summary.by, clock_offset, histograms=not args.no_hist,
                             interval=interval is not None)


def _dump_path(path: str, number: int) -> str:
    root, ext = os.path.splitext(path)
    return f"{root}.{number}{ext}"


def cmd_record(args) -> int:
    from tracespec.codegen.decoder import load_decoder
    from tracespec.format.binary import BinWriter
    from tracespec.kernel import find_tracefs
    from tracespec.pipeline import compile_spec
    from tracespec.runtime.recorder import RecorderSession
    from tracespec.spec import load_spec

    cmd = list(args.cmd)
    pids = [int(x) for item in args.pid for x in item.split(",") if x.strip()] if args.pid else []
    if sum([bool(cmd), bool(pids), args.all, bool(args.cgroup), bool(args.comm)]) != 1:
        raise TracespecError("say what to record: a command after --, or one of -p, --all, --cgroup, --comm",
                             hint="tracespec record SPEC -- CMD ARGS...")
    binary = args.format == "bin"
    if binary and (not args.output or args.output == "-"):
        raise TracespecError("--format bin writes one trace file per dump: say where with -o FILE",
                             hint="tracespec record SPEC --format bin -o dump.tsb ...")
    spec_recorder = load_spec(args.spec).recorder
    size = _size(args.size, "--size") if args.size else (spec_recorder.size if spec_recorder else None)
    compiled = compile_spec(args.spec, args.kernel, _target(args), recorder_bytes=size or 0,
                            cpus=os.cpu_count() or 1)
    plan = compiled.plan
    decode = load_decoder(plan.schema)
    offset = time.time_ns() - time.monotonic_ns()
    fd_paths = args.fd_paths or compiled.validated.spec.fd_paths
    written: list[str] = []

    with _output(None if binary else args.output, sys.stderr) as out:
        def write_dump(dump) -> None:
            if binary:
                path = _dump_path(args.output, dump.number)
                with _output(path, None, binary=True) as f:
                    w = BinWriter(f, plan.schema.to_json(), args.spec, compiled.validated.spec.text, offset, fd_paths)
                    w.write_raw(dump.records, None)  # one chunk: the decoder orders it whole
                    w.finish(dump.lost, None)
                written.append(path)
                _notice(f"dump {dump.number} ({dump.reason}): {path}")
                return
            if args.format == "json":
                out.write(json.dumps({"dump": dump.number, "reason": dump.reason}) + "\n")
            else:
                out.write(f"=== dump {dump.number}: {dump.reason} ===\n")
            writer = _event_writer(args.format, out, args, offset, fd_paths, live=True)
            writer.write(dump.events)
            writer.finish(dump.lost)
            if args.format == "text":
                out.write(f"=== end of dump {dump.number}: {writer.syscalls} syscalls, {dump.lost} records lost ===\n")
            out.flush()
            written.append(str(dump.number))

        session = RecorderSession(plan, compiled.c_source, decode, None, command=cmd if cmd else None, pids=pids,
                                  tracefs=find_tracefs(), notice=_notice, dumps=write_dump)
        if plan.target.kind in ("all", "cgroup", "comm") or pids:
            _notice(f"recording; dump with kill -USR1 {os.getpid()}")
        result = session.run()
    print(f"tracespec: {len(written)} dump{'' if len(written) == 1 else 's'} written, {result.lost} records lost", file=sys.stderr)
    if args.fail_on_loss and result.lost:
        return 3
    return result.exit_code


def cmd_decode(args) -> int:
    import json

    from tracespec.codegen.decoder import load_decoder
    from tracespec.decode.replay import replay
    from tracespec.decode.stream import EventStream
    from tracespec.format.binary import TraceFile, damage_note
    from tracespec.plan.model import Schema

    trace = TraceFile(args.trace)
    try:
        header = trace.header
        if args.header:
            shown = {k: v for k, v in header.items() if k != "schema"}
            print(json.dumps(shown, indent=2))
            return 0
        try:
            schema = Schema.from_json(header["schema"])
            clock_offset = int(header["clock_offset_ns"])
            decode = load_decoder(schema)  # refuses layouts that are not plain names and numbers
        except (KeyError, TypeError, ValueError) as e:
            raise TracespecError(f"{args.trace}: its header has no usable record layout ({e})",
                                 hint="the file is corrupt, or was written by another tracespec") from None
        stream = EventStream(decode, schema)
        with _output(args.output, sys.stdout) as out:
            writer = _event_writer(args.format, out, args, clock_offset,
                                   args.fd_paths or bool(header.get("fd_paths")), live=False)
            reported = replay(trace.chunks(), stream, writer.write)
            trailer = trace.trailer or {}
            # the recorder's own total covers what the chunks report; without it (a cut-short trace) the
            # chunks' reports are all there is
            # records in damaged bytes are as lost as those the kernel dropped
            in_damage = sum(d.records or 0 for d in trace.damaged)
            lost = int(trailer.get("lost", reported)) + stream.undecodable + in_damage
            writer.finish(lost, trailer.get("exit_code"))
    finally:
        trace.close()
    for d in trace.damaged:
        print(f"tracespec: {args.trace}: {d.describe()}", file=sys.stderr)
    print(f"tracespec: {writer.syscalls} syscalls decoded, {lost} records lost{damage_note(trace.damaged)}",
          file=sys.stderr)
    if trace.problem:
        print(f"tracespec: {args.trace}: {trace.problem}", file=sys.stderr)
    if trace.problem or trace.damaged:
        return 1
    if args.fail_on_loss and lost:
        return 3
    return 0


COMMANDS = {"run": cmd_run, "record": cmd_record, "check": cmd_check, "emit": cmd_emit, "decode": cmd_decode, "list": cmd_list}


def main(argv: list[str] | None = None) -> int:
    """The command line; argv None: run as the tracespec program (sys.argv, and the process ends here)."""
    as_program = argv is None
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd: list[str] = []
    if argv and argv[0] in ("run", "record") and "--" in argv:  # everything after -- is the command, untouched
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    args.cmd = cmd
    if not args.command:
        parser.print_help()
        return 2
    debug = getattr(args, "debug", False)
    if as_program:
        _collect_rarely()
        from tracespec.runtime import capture
        capture.allow_exit_guard()
        return capture.leave(_dispatch(args, debug))
    return _dispatch(args, debug)


def _collect_rarely() -> None:
    """Decoding makes millions of short-lived tuples and no reference cycles, yet Python's collector
    would walk the young objects every 700 allocations: a quarter of the time of `decode` (measured).
    Objects made so far (modules, the parser) are frozen out of its view, and it runs a hundred times
    less often."""
    import gc

    gc.freeze()
    gc.set_threshold(70_000, 10, 100)


def _dispatch(args, debug: bool) -> int:
    try:
        return COMMANDS[args.command](args)
    except TracespecError as e:
        if debug and getattr(e, "log", None):
            print(e.log, file=sys.stderr)
        print(e.render(), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        try:
            sys.stdout.close()
        except Exception:
            pass
        return 141
    except Exception as e:  # a bug in tracespec: one line, the traceback only on request
        if debug:
            traceback.print_exc()
            return 70
        print(f"tracespec: internal error: {type(e).__name__}: {e} (run with --debug for details; "
              "please report it)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
