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
from tracespec.errors import ExitStatus, TracespecError

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


def _target_options(parser, verb: str) -> None:
    """What to trace: run's and record's alike. verb: 'trace' or 'record'."""
    group = parser.add_argument_group("targets")
    group.add_argument("-p", "--pid", metavar="PID[,PID...]", action="append", default=[],
                       help=f"{verb} running processes (all their threads), without restarting them")
    group.add_argument("--all", action="store_true", help=f"{verb} every process on the system but tracespec")
    group.add_argument("--cgroup", metavar="PATH", help=f"{verb} the processes of a cgroup v2 group "
                                                        "(e.g. /system.slice/nginx.service)")
    group.add_argument("--comm", metavar="NAME", help=f"{verb} processes by name (first 15 bytes)")
    group.add_argument("--no-follow", action="store_true", help=f"do not {verb} children of the targets")


def _output_options(parser, format_help: str, output_help: str):
    group = parser.add_argument_group("output")
    group.add_argument("--format", choices=("text", "json", "bin"), default="text", help=format_help)
    group.add_argument("-o", "--output", metavar="FILE", help=output_help)
    return group


def _build_options(group) -> None:
    """How the program is built and how its end is judged: run's and record's alike."""
    group.add_argument("--fail-on-loss", action="store_true",
                       help=f"exit with status {ExitStatus.LOST:d} if any record was lost")
    group.add_argument("--kernel", metavar="X.Y", help="generate for mainline Linux X.Y's features (perf buffers, "
                                                       "classic tracepoints...) though the running kernel has more")
    group.add_argument("--debug", action="store_true",
                       help="show the BPF verifier's log and internal errors in full")


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
    _target_options(run, "trace")
    out = _output_options(run, "text: strace style (default); json: JSON Lines, one object per syscall; "
                               "bin: the records as the kernel wrote them, with the spec and their layout "
                               "(needs -o; read it with `tracespec decode`, on any machine)",
                          "write the trace to FILE ('-': standard output)")
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
    _build_options(rt)

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
    _target_options(rec, "record")
    rout = _output_options(rec, "text: strace style (default); json: JSON Lines; bin: one binary trace per dump",
                           "write dumps to FILE ('-': standard output; default: standard error)")
    _text_options(rout)
    rec.add_argument("--size", metavar="BYTES", help="in-kernel buffer, all CPUs together, e.g. 16M "
                                                     "(default: the spec's recorder size, else 64M)")
    _build_options(rec)

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
    _serve_parser(sub)
    _ctl_parser(sub)
    return p


def _serve_parser(sub) -> None:
    srv = sub.add_parser("serve", help="a daemon of flight recorders, one per cgroup, over HTTP on a Unix socket",
                         description="Load each SPEC's program once, then add and remove flight recorders while "
                                     "running: each one a cgroup v2 group (a path, a systemd unit, or a process's "
                                     "group) with its own overwritable buffer. Adding one needs no compile. The "
                                     "HTTP API on the socket speaks traceloop's endpoints (/add?name=N&cgrouppath=P, "
                                     "/list, /dump?id=K, /dump-by-name, /dump-by-cgroup, /close, /close-by-name), "
                                     "tracespec's JSON ones under /v1/ and /metrics (Prometheus); see README.md.",
                         epilog="Dumps are written on request; on the spec's recorder trigger and when a process "
                                "of a recorded group is killed by a signal, into --dump-dir. SIGTERM or SIGINT "
                                "closes every recorder and detaches the probes.")
    srv.add_argument("specs", metavar="SPEC", nargs="+", help="spec files (YAML); recorders use the first "
                                                             "unless /add says spec=NAME (the file's base name)")
    srv.add_argument("--socket", metavar="PATH", default="/run/tracespec.sock",
                     help="the Unix socket to listen on (default: /run/tracespec.sock; mode 0600)")
    srv.add_argument("--socket-group", metavar="GROUP", help="let this group use the socket too (mode 0660)")
    srv.add_argument("--dump-dir", metavar="DIR", help="where dumps on a trigger or a death by a signal go")
    srv.add_argument("--keep", metavar="N", type=int, default=10, help="dumps kept per recorder in --dump-dir "
                                                                       "(default 10; older ones are removed)")
    srv.add_argument("--dump-format", choices=("text", "json", "bin"), default="text",
                     help="the format of dumps written to --dump-dir (default: text)")
    srv.add_argument("--size", metavar="BYTES", default="1M",
                     help="each recorder's buffer, all CPUs together, unless /add says size= (default 1M)")
    srv.add_argument("--max-recorders", metavar="N", type=int, default=64,
                     help="recorders at once, per spec (default 64)")
    srv.add_argument("--kernel", metavar="X.Y", help=argparse.SUPPRESS)
    srv.add_argument("--debug", action="store_true", help="show internal errors in full")


def _ctl_parser(sub) -> None:
    ctl = sub.add_parser("ctl", help="talk to tracespec serve: add, list, dump, close recorders",
                         description="A client of `tracespec serve` over its Unix socket.")
    ctl.add_argument("--socket", metavar="PATH", default="/run/tracespec.sock",
                     help="the daemon's socket (default: /run/tracespec.sock)")
    act = ctl.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = act.add_parser("add", help="record a cgroup: --cgroup PATH, --unit NAME or --pid PID")
    which = add.add_mutually_exclusive_group(required=True)
    which.add_argument("--cgroup", metavar="PATH", help="a cgroup v2 group, absolute or relative to the mount")
    which.add_argument("--unit", metavar="NAME", help="a systemd unit's group, e.g. nginx.service")
    which.add_argument("--pid", metavar="PID", type=int, help="the group of this process")
    add.add_argument("--name", metavar="NAME", default="", help="a name to dump or close it by")
    add.add_argument("--size", metavar="BYTES", help="its buffer, all CPUs together (default: serve's --size)")
    add.add_argument("--spec", metavar="NAME", help="which served spec (default: the first)")
    lst = act.add_parser("list", help="the recorders")
    lst.add_argument("--json", action="store_true", help="with their status, as JSON")
    st = act.add_parser("status", help="one recorder's status (JSON)")
    st.add_argument("id", metavar="ID")
    dump = act.add_parser("dump", help="dump a recorder (by id or name)")
    dump.add_argument("target", metavar="ID|NAME")
    dump.add_argument("--format", choices=("text", "json", "bin"), default="text")
    close = act.add_parser("close", help="close a recorder (by id or name)")
    close.add_argument("target", metavar="ID|NAME")
    act.add_parser("metrics", help="the Prometheus metrics")


def cmd_serve(args) -> int:
    from tracespec.serve.main import serve

    if args.keep < 1:
        raise TracespecError("--keep takes a number of dumps, 1 or more")
    if not 1 <= args.max_recorders <= 4096:
        raise TracespecError("--max-recorders takes 1 to 4096")
    return serve(args.specs, args.socket, args.socket_group, args.dump_dir, args.keep, args.dump_format,
                 args.max_recorders, _recorder_size(args.size), args.kernel)


def cmd_ctl(args) -> int:
    from tracespec.serve.client import ctl

    return ctl(args)


def _size(text: str, option: str = "--buffer-size") -> int:
    from tracespec.spec.parse import parse_size

    size = parse_size(text)
    if not size:
        raise TracespecError(f"{option} {text!r} is not a size", hint="e.g. 64M, 512K or 1048576")
    return size


def _shown_size(n: int) -> str:
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


# What the kernel accepts. A BPF ring buffer's size is its map's max_entries, a u32 and a power of two
# pages: 2 GiB at most. A perf buffer is one per CPU, a power of two pages too; the kernel keeps its page
# list in one allocation, which bounds it at 2 GiB as well (4 KiB pages), and the planner asks for 8 pages
# at least. Sizes in between are rounded down to a power of two pages by the planner.
PAGE = 4096
BUFFER_LIMITS = {"ringbuf": (PAGE, 2 << 30, "a BPF ring buffer"),
                 "perfbuf": (8 * PAGE, 2 << 30, "a perf buffer, per CPU,")}


def _check_buffer_size(size: int | None, output: str, text: str | None) -> None:
    if size is None:
        return
    low, high, what = BUFFER_LIMITS[output]
    if not low <= size <= high:
        raise TracespecError(f"--buffer-size {text}: {what} takes {_shown_size(low)} to {_shown_size(high)}",
                             hint="e.g. --buffer-size 64M (rounded down to a power of two pages)")


def _recorder_size(text: str) -> int:
    """record's --size, within the limits the spec's recorder: size: has."""
    from tracespec.spec.parse import RECORDER_MAX, RECORDER_MIN

    size = _size(text, "--size")
    if not RECORDER_MIN <= size <= RECORDER_MAX:
        raise TracespecError(f"--size {text}: the recorder takes {_shown_size(RECORDER_MIN)} to "
                             f"{_shown_size(RECORDER_MAX)}, all CPUs together", hint="e.g. --size 16M")
    return size


def _pids(args) -> list[int]:
    """-p's process ids (each -p may list several, comma-separated)."""
    pids = []
    for item in args.pid:
        for word in item.split(","):
            word = word.strip()
            if not word:
                continue
            if not word.isdigit() or int(word) == 0:
                raise TracespecError(f"-p {item!r}: {word!r} is not a process id",
                                     hint="give process ids as numbers, e.g. -p 1234 or -p 1234,5678")
            pids.append(int(word))
    return pids


def _load_spec(path: str):
    """The spec, read once for the whole command. A regular file, or a pipe (a process substitution,
    /dev/stdin from a pipe) read to its end; anything else (a directory, a device, a FIFO, which no one
    may ever open for writing) is refused before it is opened, so that reading never blocks or runs on."""
    import stat

    from tracespec.spec import load_spec

    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # load_spec says why it cannot be read
    if mode is not None and not stat.S_ISREG(mode) and not _is_pipe(path, mode):
        raise TracespecError(f"the spec {path} is {_file_kind(mode)}, not a file",
                             exit_code=ExitStatus.ERROR, hint="give the path of a YAML spec file")
    return load_spec(path)


def _is_pipe(path: str, mode: int) -> bool:
    """An anonymous pipe reached through /dev/fd or /proc (bash's <(...), /dev/stdin from a pipe): a
    process holds its writing end already, and reading it ends when that process is done."""
    import stat

    if not stat.S_ISFIFO(mode):
        return False
    for _ in range(40):  # /dev/stdin -> /proc/self/fd/0 -> 'pipe:[N]', a link to no path
        try:
            target = os.readlink(path)
        except OSError:
            return False  # a named FIFO: no one may ever open it for writing
        if target.startswith("pipe:"):
            return True
        path = os.path.join(os.path.dirname(path), target)
    return False


def _file_kind(mode: int) -> str:
    import stat

    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def cmd_check(args) -> int:
    from tracespec.pipeline import compile_spec, decoder_source

    failures = 0
    for path in args.specs:
        try:
            # every stage short of loading: what the planner or code generator refuses is caught too
            c = compile_spec(_load_spec(path), args.kernel)
            decoder_source(c.plan)
            v = c.validated
            print(f"{path}: ok ({len(v.syscalls)} syscalls, {v.profile.name})")
        except TracespecError as e:
            failures += 1
            print(e.render(), file=sys.stderr)
    return ExitStatus.ERROR if failures else ExitStatus.OK


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

    c = compile_spec(_load_spec(args.spec), args.kernel, _target(args))
    sys.stdout.write(decoder_source(c.plan) if args.decoder else c.c_source)
    return ExitStatus.OK


def cmd_list(args) -> int:
    from tracespec.catalogue import load_catalogue

    cat = load_catalogue()
    for sc in cat.syscalls:
        if args.cls and args.cls not in sc.classes:
            continue
        argtext = ", ".join(f"{a.name}:{a.kind}" for a in sc.args)
        classes = ",".join(sorted(sc.classes)) or "-"
        print(f"{sc.nr:4d}  {sc.name:<24} {classes:<28} {argtext}")
    return ExitStatus.OK


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
        raise TracespecError(f"cannot write {path}: {e.strerror}", exit_code=ExitStatus.CANNOT_TRACE) from None


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
            raise TracespecError(f"cannot write {name}: {e.strerror}", exit_code=ExitStatus.CANNOT_TRACE) from None
        raise


def _event_writer(fmt: str, out, args, clock_offset_ns: int, fd_paths: bool, live: bool):
    from tracespec.format.jsonl import JsonWriter
    from tracespec.format.text import TextOptions, TextWriter

    if fmt == "json":
        return JsonWriter(out, clock_offset_ns)
    options = TextOptions(args.timestamps, args.relative, args.syscall_times, fd_paths, live)
    return TextWriter(out, options, clock_offset_ns)


def _notice(text: str) -> None:
    _say(f"tracespec: {text}")


def _say(text: str) -> None:
    """A line for the user on standard error. Best effort: a standard error that cannot be written (a
    full disk, /dev/full) must not stop the trace that goes elsewhere, nor turn an error into a crash."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


# The standard streams (by name) that were closed when tracespec started; they hold /dev/null since.
_closed_at_start: set[str] = set()
STANDARD_FDS = {0: "stdin", 1: "stdout", 2: "stderr"}


def _reserve_standard_fds() -> None:
    """Put /dev/null on each standard descriptor that is closed, so that the files tracespec opens (the
    trace, the spec, BPF maps and programs) never take number 1 or 2 and receive what is meant for a
    terminal, nor have a capture of fd 2 replace them; and give Python a stream for each."""
    for fd, name in STANDARD_FDS.items():
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        _closed_at_start.add(name)
        if getattr(sys, name) is None:
            mode = "r" if fd == 0 else "w"
            setattr(sys, name, open(fd, mode, buffering=1 if fd else -1, closefd=False,
                                    errors="backslashreplace" if fd == 2 else "strict"))


def _check_writable(path: str | None, default: str, binary: bool) -> None:
    """Refuse, before tracing starts, to write the trace to a standard stream that was closed."""
    name = default if path in (None, "") else "stdout" if path == "-" else None
    if name in _closed_at_start:
        shown = "standard output" if name == "stdout" else "standard error"
        raise TracespecError(f"cannot write the trace to {shown}: it was closed when tracespec started",
                             exit_code=ExitStatus.CANNOT_TRACE, hint="say where with -o FILE")


def _flush_standard_streams(code: int) -> int:
    """Flush what is left for standard output and error before leaving; output that cannot be written
    makes a command that had succeeded fail."""
    try:
        if not sys.stdout.closed:  # closed: after a broken pipe
            sys.stdout.flush()
    except BrokenPipeError:
        return ExitStatus.BROKEN_PIPE
    except (OSError, ValueError) as e:
        _say(f"tracespec: error: cannot write standard output: {getattr(e, 'strerror', None) or e}")
        if code == ExitStatus.OK:
            code = ExitStatus.CANNOT_TRACE
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # what was said there is lost; the trace, if it went there, has already failed
    return code


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
    from tracespec.decode.generated import load_decoder
    from tracespec.format.binary import BinWriter
    from tracespec.kernel import find_tracefs
    from tracespec.session.run import Session

    cmd = list(args.cmd)
    pids = _pids(args)
    chosen = [bool(cmd), bool(pids), args.all, bool(args.cgroup), bool(args.comm)]
    if sum(chosen) != 1:
        raise TracespecError("say what to trace: a command after --, or one of -p, --all, --cgroup, --comm",
                             hint="tracespec run SPEC -- CMD ARGS...")
    binary = args.format == "bin"
    if binary and (not args.output or (args.output == "-" and sys.stdout.isatty())):
        raise TracespecError("--format bin writes binary records: say where with -o FILE",
                             hint="tracespec run SPEC --format bin -o trace.tsb ...; then tracespec decode trace.tsb")
    _check_writable(args.output, "stderr", binary)
    target = _target(args)
    from tracespec.runtime.preflight import memory_bytes
    buffer_bytes = _size(args.buffer_size) if args.buffer_size else None
    spec = _load_spec(args.spec)
    summary, interval = _summary_choice(args, spec.summary)
    if summary is not None and binary:
        raise TracespecError("a summary is text or JSON; --format bin records events",
                             hint="drop --format bin, or drop --summary (and the spec's summary:)")
    # the default ring buffer takes at most a 16th of the machine's memory
    compiled = compile_spec(spec, args.kernel, target, buffer_bytes, ring_cap=memory_bytes() // 16,
                            summary=summary)
    if summary is None:  # a summary's buffer carries only forks and exits: its size is the planner's
        _check_buffer_size(buffer_bytes, compiled.plan.output, args.buffer_size)
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
        _notice(f"{result.syscalls} syscalls counted, {result.lost} lost (not counted)")
    elif binary:
        _notice(f"{writer.bytes} bytes of records written to {args.output}, {result.lost} records lost")
    else:
        _notice(f"{result.syscalls} syscalls traced, {result.lost} records lost")
    if args.fail_on_loss and result.lost:
        return ExitStatus.LOST
    return result.exit_code


def _summary_choice(args, spec_summary):
    """The summary asked for on the command line or in the spec (the command line wins), and its interval."""
    from tracespec.plan.model import SummaryPlan
    from tracespec.spec.parse import INTERVAL_MAX, INTERVAL_MIN

    if not args.summary and spec_summary is None:
        if args.summary_by or args.interval or args.no_hist:
            raise TracespecError("--summary-by, --interval and --no-hist go with --summary",
                                 hint="add -c (--summary), or summary: to the spec")
        return None, None
    by = args.summary_by or (spec_summary.by if spec_summary else None) or "syscall"
    interval = args.interval if args.interval is not None else (spec_summary.interval if spec_summary else None)
    if interval is not None and not INTERVAL_MIN <= interval <= INTERVAL_MAX:
        raise TracespecError(f"--interval {interval}: give a whole number of seconds, {INTERVAL_MIN} to "
                             f"{INTERVAL_MAX}", hint="e.g. --interval 10")
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
    from tracespec.decode.generated import load_decoder
    from tracespec.format.binary import BinWriter
    from tracespec.kernel import find_tracefs
    from tracespec.pipeline import compile_spec
    from tracespec.session.record import RecorderSession

    cmd = list(args.cmd)
    pids = _pids(args)
    if sum([bool(cmd), bool(pids), args.all, bool(args.cgroup), bool(args.comm)]) != 1:
        raise TracespecError("say what to record: a command after --, or one of -p, --all, --cgroup, --comm",
                             hint="tracespec record SPEC -- CMD ARGS...")
    binary = args.format == "bin"
    if binary and (not args.output or args.output == "-"):
        raise TracespecError("--format bin writes one trace file per dump: say where with -o FILE",
                             hint="tracespec record SPEC --format bin -o dump.tsb ...")
    if not binary:
        _check_writable(args.output, "stderr", binary)
    spec = _load_spec(args.spec)
    size = _recorder_size(args.size) if args.size else (spec.recorder.size if spec.recorder else None)
    compiled = compile_spec(spec, args.kernel, _target(args), recorder_bytes=size or 0,
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
    _notice(f"{len(written)} dump{'' if len(written) == 1 else 's'} written, {result.lost} records lost")
    if args.fail_on_loss and result.lost:
        return ExitStatus.LOST
    return result.exit_code


def cmd_decode(args) -> int:
    import json

    from tracespec.decode.generated import load_decoder
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
            return ExitStatus.OK
        try:
            schema = Schema.from_json(header["schema"])
            clock_offset = int(header["clock_offset_ns"])
            decode = load_decoder(schema)  # refuses layouts that are not plain names and numbers
        except (KeyError, TypeError, ValueError) as e:
            raise TracespecError(f"{args.trace}: its header has no usable record layout ({e})",
                                 hint="the file is corrupt, or was written by another tracespec") from None
        stream = EventStream(decode, schema)
        _check_writable(args.output, "stdout", False)
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
        _notice(f"{args.trace}: {d.describe()}")
    _notice(f"{writer.syscalls} syscalls decoded, {lost} records lost{damage_note(trace.damaged)}")
    if trace.problem:
        _notice(f"{args.trace}: {trace.problem}")
    if trace.problem or trace.damaged:
        return ExitStatus.ERROR
    if args.fail_on_loss and lost:
        return ExitStatus.LOST
    return ExitStatus.OK


COMMANDS = {"run": cmd_run, "record": cmd_record, "check": cmd_check, "emit": cmd_emit, "decode": cmd_decode, "list": cmd_list,
            "serve": cmd_serve, "ctl": cmd_ctl}


def main(argv: list[str] | None = None) -> int:
    """The command line; argv None: run as the tracespec program (sys.argv, and the process ends here)."""
    as_program = argv is None
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd: list[str] = []
    if argv and argv[0] in ("run", "record") and "--" in argv:  # everything after -- is the command, untouched
        i = argv.index("--")
        argv, cmd = argv[:i], argv[i + 1:]
    if as_program:
        _reserve_standard_fds()
    args = parser.parse_args(argv)
    args.cmd = cmd
    if not args.command:
        parser.print_help()
        return ExitStatus.USAGE
    debug = getattr(args, "debug", False)
    if as_program:
        _collect_rarely()
        from tracespec.runtime import capture
        capture.allow_exit_guard()
        # always through leave(): the C library's exit handlers must not run BCC's exit hook after
        # the interpreter is gone (a segfault), and Python's own last flush of a standard stream that
        # cannot be written would turn the status into 120
        code = ExitStatus.INTERNAL
        try:
            code = _dispatch(args, debug)
        finally:
            capture.leave(_flush_standard_streams(code))
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
    """Run the command; whatever happens, a status comes back (nothing escapes, not even a failure to
    say what went wrong)."""
    try:
        return COMMANDS[args.command](args)
    except TracespecError as e:
        if debug and getattr(e, "log", None):
            _say(e.log)
        _say(e.render())
        return e.exit_code
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        try:
            sys.stdout.close()
        except Exception:
            pass
        return ExitStatus.BROKEN_PIPE
    except Exception as e:  # a bug in tracespec: one line, the traceback only on request
        if debug:
            _say(traceback.format_exc().rstrip("\n"))
        else:
            _say(f"tracespec: internal error: {type(e).__name__}: {e} (run with --debug for details; "
                 "please report it)")
        return ExitStatus.INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
