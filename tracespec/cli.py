"""The tracespec command line."""

from __future__ import annotations

import argparse
import contextlib
import functools
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


def _no_comm_option(group, when: str) -> None:
    group.add_argument("--no-comm", action="store_true",
                       help=f"{when}, lines name their process: 4711 [curl] connect(...); --no-comm leaves the "
                            "name out")


def _text_options(group) -> None:
    group.add_argument("-t", dest="timestamps", action="count", default=0,
                       help="prefix lines with the time of day; -tt adds microseconds, -ttt is seconds since the epoch")
    group.add_argument("-r", dest="relative", action="store_true",
                       help="prefix lines with the time since the previous one")
    group.add_argument("-T", dest="syscall_times", action="store_true", help="show the time spent in each syscall")
    group.add_argument("-y", dest="fd_paths", action="count", default=0,
                       help="show what file descriptors refer to, as strace -y does (also: fd_paths: true in the spec); "
                            "-yy adds sockets' addresses")


def _abbrev_options(group) -> None:
    """strace's abbreviation options: how constants and strings print."""
    group.add_argument("-x", dest="hex_strings", action="count", default=0,
                       help="strings with non-printable bytes in hex; -xx: every string in hex")
    group.add_argument("-X", "--const-print-style", dest="xlat", choices=("abbrev", "raw", "verbose"), default="abbrev",
                       help="constants as names (abbrev), numbers (raw), or numbers with their names (verbose)")
    _no_abbrev_option(group)


def _no_abbrev_option(group) -> None:
    group.add_argument("-v", "--no-abbrev", dest="no_abbrev", action="store_true",
                       help="print structs with every field (strace abbreviates them: {st_mode=..., ...}) and "
                            "getdents' entries (for run and record: abbrev: false in the spec, which copies them)")


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


# Formats written through another library's writer (format/perfetto.py...): files, never a terminal.
EXPORT_FORMATS = ("perfetto", "ctf")


def _output_options(parser, format_help: str, output_help: str):
    group = parser.add_argument_group("output")
    group.add_argument("--format", choices=("text", "json", "bin") + EXPORT_FORMATS, default="text",
                       help=format_help)
    group.add_argument("-o", "--output", metavar="FILE", help=output_help)
    return group


def _otlp_option(group) -> None:
    group.add_argument("--otlp", metavar="URL", nargs="?", const="",
                       help="also send each syscall as an OpenTelemetry log record (and a summary as metrics) "
                            "over OTLP/HTTP to the collector at URL (e.g. http://127.0.0.1:4318); without URL, "
                            "where OTEL_EXPORTER_OTLP_ENDPOINT (or _LOGS_/_METRICS_ENDPOINT) says")


def _build_options(group) -> None:
    """How the program is built and how its end is judged: run's and record's alike."""
    group.add_argument("--fail-on-loss", action="store_true",
                       help=f"exit with status {ExitStatus.LOST:d} if any record was lost")
    group.add_argument("--kernel", metavar="X.Y", help="generate for mainline Linux X.Y's features (perf buffers, "
                                                       "classic tracepoints...) though the running kernel has more")
    group.add_argument("--debug", action="store_true",
                       help="show the BPF verifier's log and internal errors in full")


SPEC_HELP = ("the spec: a YAML file, - (standard input), a process substitution <(...), or the name of a "
             "shipped spec (`tracespec list --specs`); without one, strace's flags make the spec")

# strace's flags tracespec does not have, and what to use instead
REFUSED_STRACE_FLAGS = {
    ("-k", "--stack-trace", "--stack-traces"): (0, "stack traces of syscalls are not available from BPF here"),
    ("-i", "--instruction-pointer"): (0, "the instruction pointer is not recorded"),
    ("-n", "--syscall-number"): (0, "--format json gives each syscall's number (\"nr\")"),
    ("-b", "--detach-on"): (1, "tracing does not stop at execve; run the trace with -p on the new program"),
    ("-D", "--daemonize"): (0, "tracespec never stops or ptraces the command: it is not its parent's concern"),
    ("-E", "--env"): (1, "set the environment with env: tracespec run -- env VAR=VALUE CMD"),
    ("-u", "--user"): (1, "run the command as the user with runuser: tracespec run -- runuser -u USER -- CMD"),
    ("-I", "--interruptible"): (1, "Ctrl-C or SIGTERM always ends the trace, and the command gets the signal"),
    ("--seccomp-bpf",): (0, "tracespec filters in the kernel already: the spec's filter, -e status=, -P"),
    ("--strings-in-hex",): (0, "use -x (non-printable bytes in hex) or -xx (every byte)"),
    ("-a", "--columns"): (1, "return values are not aligned; lines read the same without it"),
    ("-A",): (0, "-o truncates; append with the shell: tracespec run ... -o - >> FILE"),
    ("-d", "--debug-strace"): (0, "use --debug"),
    ("-O", "--summary-overhead"): (1, "summaries time syscalls from entry to exit in the kernel, no overhead to subtract"),
    ("-U", "--summary-columns"): (1, "the summary's columns are fixed"),
    ("--tips",): (0, "see README.md, 'coming from strace'"),
    ("--kill-on-exit",): (0, "a command tracespec started is signalled when tracing stops already"),
}


class _RefusedFlag(argparse.Action):
    """A strace flag tracespec does not have: one line naming it and what to do instead, with the usage of
    the command it was given to."""

    def __init__(self, option_strings, dest, instead: str = "", **kw):
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kw)
        self.instead = instead

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"strace's {option_string} is not implemented: {self.instead}")


def _strace_options(parser, shaping_only: bool = False) -> None:
    """strace's flags, with strace's meaning: those that shape the spec, then (for run) the others."""
    g = parser.add_argument_group("strace's flags (without SPEC they make the spec; with one they refine it)")
    g.add_argument("-e", dest="expressions", metavar="EXPR", action="append", default=[],
                   help="trace=SET (names, %%class, /regex, !negation), status=SET (successful, failed), "
                        "raw=all, as strace takes them")
    g.add_argument("-s", "--string-limit", dest="strsize", metavar="N", type=int,
                   help="copy N bytes of strings and buffers (paths are whole)")
    g.add_argument("-P", "--trace-path", dest="paths", metavar="PATH", action="append", default=[],
                   help="only syscalls whose path argument is PATH (checked in the kernel)")
    g.add_argument("-z", "--successful-only", dest="successful_only", action="store_true",
                   help="only syscalls that succeed (-e status=successful)")
    g.add_argument("-Z", "--failed-only", dest="failed_only", action="store_true",
                   help="only syscalls that fail (-e status=failed)")
    if shaping_only:
        return
    g.add_argument("-f", "-F", "--follow-forks", dest="follow", action="count", default=0,
                   help="accepted: children are followed by default; -ff with -o FILE: each thread's lines "
                        "in FILE.TID, as strace -ff writes them")
    g.add_argument("-q", "--quiet", dest="quiet", action="count", default=0,
                   help="leave out the attach and start notices")
    g.add_argument("-w", dest="wall", action="store_true",
                   help="accepted: summary times are always from entry to exit (strace -c -w)")
    g.add_argument("-S", dest="sort_by", metavar="SORTBY", choices=("time",),
                   help="accepted: the summary is sorted by time, as strace's default")
    g.add_argument("--save-spec", metavar="FILE", help="also write the spec the command line built to FILE")
    for flags, (nargs, instead) in REFUSED_STRACE_FLAGS.items():
        parser.add_argument(*flags, action=_RefusedFlag, nargs=nargs or 0, instead=instead,
                            dest="refused_" + flags[0].lstrip("-").replace("-", "_"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {tracespec.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="trace syscalls as a spec says",
                         description="Trace syscalls as SPEC says. " + _targets_help(),
                         usage="%(prog)s [SPEC] [options] -- CMD [ARGS...]\n"
                               "       %(prog)s [strace flags] CMD [ARGS...]\n"
                               "       %(prog)s [SPEC] [options] -p PID[,PID...]\n"
                               "       %(prog)s [SPEC] [options] --all | --cgroup PATH | --comm NAME",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog=_paragraphs(
                             "SPEC or CMD: without --, the first word that is not an option is SPEC if it is "
                             "-, ends in .yaml or .yml, is a /dev/fd/N path or names a shipped spec; "
                             "otherwise it starts the command, as with strace. Without SPEC, strace's "
                             "flags make the spec (every syscall when there is no -e trace=).",
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
    run.add_argument("spec", metavar="SPEC", nargs="?", help=SPEC_HELP)
    _target_options(run, "trace")
    out = _output_options(run, "text: strace style (default); json: JSON Lines, one object per syscall; "
                               "bin: the records as the kernel wrote them, with the spec and their layout "
                               "(needs -o; read it with `tracespec decode`, on any machine); perfetto: a "
                               "Perfetto trace for ui.perfetto.dev (needs -o); ctf: a CTF trace directory for "
                               "babeltrace2 and LTTng's tools (needs -o DIR)",
                          "write the trace to FILE ('-': standard output)")
    _text_options(out)
    _abbrev_options(out)
    _otlp_option(out)
    _no_comm_option(out, "with --all, --cgroup or --comm")
    summ = run.add_argument_group("summary (like strace -c)")
    summ.add_argument("-c", "--summary", action="store_true",
                      help="count instead of printing each syscall: calls, errors, time in the syscall (total, "
                           "average, min, max, share), errors by errno and a log2 histogram of times, counted "
                           "in the kernel in maps of constant size (also: summary: in the spec)")
    summ.add_argument("-C", "--summary-with-trace", dest="summary_with_trace", action="store_true",
                      help="the trace, then the summary's table for the syscalls it shows, as strace -C (text)")
    summ.add_argument("--summary-by", choices=("syscall", "process", "thread"),
                      help="one table per process or per thread (default: syscall, all processes together)")
    summ.add_argument("--interval", metavar="SECONDS", type=int,
                      help="print a summary every SECONDS seconds and start counting again from zero")
    summ.add_argument("--hist", metavar="N|all", type=_hist_count, default=HIST_UNSET,
                      help="histograms of the N syscalls with the most time, or of all (default: 5)")
    summ.add_argument("--no-hist", action="store_true", help="leave the histograms out of the text summary")
    rt = run.add_argument_group("buffers and faults")
    rt.add_argument("--buffer-size", metavar="BYTES", help="kernel buffer size, e.g. 64M (default: a 128 MiB ring "
                                                          "buffer, at most 1/16 of the memory, which holds a "
                                                          "burst of a million syscalls; or 8 MiB per CPU of perf "
                                                          "buffer on kernels before 5.8)")
    _build_options(rt)
    _strace_options(run)

    spec = sub.add_parser("spec", help="print the spec strace's flags make, without tracing",
                          description="Print, as commented YAML, the spec that `run` builds from strace's "
                                      "flags (-e trace=, -e status=, -s, -y, -P, -z, -Z, ...) and SPEC. "
                                      "The output passes `tracespec check` and traces the same when run.",
                          usage="%(prog)s [strace flags] [SPEC]")
    spec.add_argument("spec", metavar="SPEC", nargs="?", help=SPEC_HELP)
    spec.add_argument("--kernel", metavar="X.Y", help="for mainline Linux X.Y instead of the running kernel")
    spec.add_argument("-y", dest="fd_paths", action="count", default=0, help="fd_paths: true")
    spec.add_argument("-c", "--summary", action="store_true", help="summary: true")
    _no_abbrev_option(spec)
    spec.add_argument("--summary-by", choices=("syscall", "process", "thread"), help="summary: {by: ...}")
    _strace_options(spec, shaping_only=True)

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
    rec.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _target_options(rec, "record")
    rout = _output_options(rec, "text: strace style (default); json: JSON Lines; bin: one binary trace per dump; "
                                "perfetto: one Perfetto trace per dump; ctf: one CTF directory per dump",
                           "write dumps to FILE ('-': standard output; default: standard error)")
    _text_options(rout)
    _abbrev_options(rout)
    _no_comm_option(rout, "with --all, --cgroup or --comm")
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
    emit.add_argument("--wide", action="store_true",
                      help="the wide program a run may load instead when the spec's own is not in the program "
                           "cache: planned for every syscall with the spec's options, the spec's selection "
                           "written as data (see README, Wide programs)")
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
    dout.add_argument("--format", choices=("text", "json") + EXPORT_FORMATS, default="text",
                      help="text: strace style (default); json: JSON Lines, one object per syscall; "
                           "perfetto: a Perfetto trace (needs -o); ctf: a CTF directory (needs -o DIR)")
    dout.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    dout.add_argument("--header", action="store_true",
                      help="print the trace's header instead: where and when it was recorded, and its spec")
    _text_options(dout)
    _abbrev_options(dout)
    _no_comm_option(dout, "for a trace recorded with --all, --cgroup or --comm")
    _otlp_option(dout)
    dec.add_argument("--fail-on-loss", action="store_true", help="exit with status 3 if any record was lost")

    lst = sub.add_parser("list", help="print the syscall catalogue",
                         description="Print the syscall catalogue: number, name, strace classes and arguments "
                                     "with their kinds.")
    lst.add_argument("--class", dest="cls", metavar="CLASS", help="only this class (file, network, process, ...)")
    lst.add_argument("--specs", action="store_true", help="list the shipped specs instead, with what each shows")
    _serve_parser(sub)
    _ctl_parser(sub)
    p.subparsers = {"run": run, "record": rec, "spec": spec}
    return p


def _hist_count(text: str) -> int | None:
    """--hist's value: a count of syscalls, or all (None)."""
    if text == "all":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number of syscalls nor 'all'")
    return int(text)


HIST_UNSET = -1  # --hist not given (its None means all)


def _hist_given(args) -> bool:
    return args.hist != HIST_UNSET


def _histograms(args) -> int | None:
    """How many syscalls get a histogram in a text summary: --hist, none with --no-hist, else 5."""
    from tracespec.format.summary import HIST_DEFAULT

    if args.no_hist and _hist_given(args):
        raise TracespecError("--hist and --no-hist disagree", hint="give one of them")
    return 0 if args.no_hist else args.hist if _hist_given(args) else HIST_DEFAULT


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


def _check_buffer_size(size: int | None, output, text: str | None) -> None:
    from tracespec.plan import Output

    if size is None:
        return
    limits = {Output.RINGBUF: (PAGE, 2 << 30, "a BPF ring buffer"),
              Output.PERFBUF: (8 * PAGE, 2 << 30, "a perf buffer, per CPU,")}
    low, high, what = limits[output]
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
        for word in item.replace(",", " ").split():  # strace takes "1 2", "1,2" and -p 1 -p 2
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


SHIPPED_SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")
SPEC_SUFFIXES = (".yaml", ".yml")


def shipped_specs() -> dict[str, str]:
    """The specs installed with tracespec: name -> path."""
    try:
        names = sorted(os.listdir(SHIPPED_SPECS))
    except OSError:
        return {}
    return {n[:-5]: os.path.join(SHIPPED_SPECS, n) for n in names if n.endswith(".yaml")}


def _is_spec_word(word: str) -> bool:
    """Whether a word where run expects SPEC or CMD is the spec: '-', a name ending in .yaml or .yml, a
    descriptor path (a process substitution, /dev/stdin), or the name of a shipped spec. Anything else
    starts the command, as the first word that is not an option does for strace."""
    return (word == "-" or word.endswith(SPEC_SUFFIXES) or word.startswith(("/dev/fd/", "/proc/self/fd/"))
            or word == "/dev/stdin" or word in shipped_specs())


def _spec_path(word: str) -> str:
    """Where SPEC is read from: '-' is standard input; a shipped spec's name (failed, or failed.yaml
    when no such file is here) is its installed file."""
    if word == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise TracespecError("SPEC - reads the spec from standard input, which is a terminal",
                                 hint="pipe it in (cat spec.yaml | tracespec run - -- CMD), or give its path")
        return "/dev/stdin"
    shipped = shipped_specs()
    if "/" not in word and not os.path.exists(word):
        name = word[:-5] if word.endswith(".yaml") else word
        if name in shipped:
            return shipped[name]
    return word


def _strace_flags(args):
    from tracespec.spec.from_flags import StraceFlags

    return StraceFlags(expressions=list(getattr(args, "expressions", [])), strsize=getattr(args, "strsize", None),
                       fd_paths=getattr(args, "fd_paths", 0), paths=list(getattr(args, "paths", [])),
                       successful_only=getattr(args, "successful_only", False),
                       failed_only=getattr(args, "failed_only", False),
                       summary=bool(getattr(args, "summary", False)), summary_by=getattr(args, "summary_by", None),
                       no_abbrev=getattr(args, "no_abbrev", False))


def _command_line_text(args) -> str:
    import shlex

    return "tracespec " + shlex.join(getattr(args, "argv", []))


def _built_spec(args):
    """The spec the command line describes: SPEC, refined by strace's flags, or the flags alone."""
    from tracespec.catalogue import load_catalogue
    from tracespec.pipeline import profile
    from tracespec.spec.from_flags import refined_text, spec_text
    from tracespec.spec.parse import parse_spec_text

    flags = _strace_flags(args)
    version = profile(args.kernel).version
    available = lambda sc: sc.since is None or sc.since <= version  # noqa: E731 (as the validator judges)
    if args.spec is None:
        text = spec_text(flags, load_catalogue(), available, _command_line_text(args))
        return parse_spec_text(text, "<command line>")
    path = _spec_path(args.spec)
    spec = _load_spec(path)
    text = refined_text(spec.text, flags, _command_line_text(args))
    if text is None:
        return spec
    return parse_spec_text(text, f"<{path} with the command line's flags>")


def _save_spec(path: str | None, spec) -> None:
    if not path:
        return
    try:
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(spec.text)
    except OSError as e:
        raise TracespecError(f"cannot write {path}: {e.strerror}", exit_code=ExitStatus.CANNOT_TRACE) from None


def cmd_spec(args) -> int:
    spec = _built_spec(args)
    from tracespec.pipeline import check

    check(spec, args.kernel)  # what run would refuse is refused here, with the same message
    sys.stdout.write(spec.text)
    return ExitStatus.OK


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


def _prints_to_stdout(command):
    """For a command whose result is what it prints: a standard output that cannot take it (a full disk,
    /dev/full) is one error line and CANNOT_TRACE, not an internal error. The output is flushed before
    the command returns, so that the error is seen here rather than at exit."""
    @functools.wraps(command)
    def printing(args) -> int:
        try:
            status = command(args)
            sys.stdout.flush()
            return status
        except BrokenPipeError:
            raise  # the reader went away: _dispatch's own status for it
        except OSError as e:
            raise TracespecError(f"cannot write standard output: {e.strerror or e}",
                                 exit_code=ExitStatus.CANNOT_TRACE) from None
    return printing


@_prints_to_stdout
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
    from tracespec.plan import Target, TargetKind

    kind = getattr(args, "target", None)  # emit --target: one of TargetKind's words (argparse checked it)
    if kind is None:
        if args.pid:
            kind = TargetKind.PIDS
        elif args.all:
            kind = TargetKind.ALL
        elif args.cgroup:
            kind = TargetKind.CGROUP
        elif args.comm:
            kind = TargetKind.COMM
        else:
            kind = TargetKind.COMMAND
    follow = not getattr(args, "no_follow", False)
    comm = getattr(args, "comm", None)
    return Target(kind=TargetKind(kind), follow=follow, cgroup=getattr(args, "cgroup", None),
                  comm=comm.encode()[:15] if comm else None)


@_prints_to_stdout
def cmd_emit(args) -> int:
    from tracespec.pipeline import compile_spec, compile_wide, decoder_source

    c = compile_spec(_load_spec(args.spec), args.kernel, _target(args))
    plan, c_source = compile_wide(c, _target(args)) if args.wide else (c.plan, c.c_source)
    if args.wide and not args.decoder:
        c_source = ("/* The wide program of this spec's options: a run that loads it records only the spec's "
                    "syscalls,\n * written as data (table rows, ts_generic_nrs, tail calls, tracepoints). */\n"
                    + c_source)
    sys.stdout.write(decoder_source(plan) if args.decoder else c_source)
    return ExitStatus.OK


@_prints_to_stdout
def cmd_list(args) -> int:
    from tracespec.catalogue import load_catalogue

    if args.specs:
        for name, path in shipped_specs().items():
            print(f"{name:<10} {_first_comment(path)}")
        return ExitStatus.OK
    cat = load_catalogue()
    for sc in cat.syscalls:
        if args.cls and args.cls not in sc.classes:
            continue
        argtext = ", ".join(f"{a.name}:{a.kind}" for a in sc.args)
        classes = ",".join(sorted(sc.classes)) or "-"
        print(f"{sc.nr:4d}  {sc.name:<24} {classes:<28} {argtext}")
    return ExitStatus.OK


def _first_comment(path: str) -> str:
    """A shipped spec's first comment line, less its leading '# NAME: '."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                text = line.lstrip("#").strip()
                name, sep, rest = text.partition(": ")
                return rest if sep and " " not in name else text
    return ""


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


def _check_export_output(args, per_dump: bool = False) -> None:
    """An export format's file is for a viewer or a library, never for a terminal."""
    if args.format not in EXPORT_FORMATS:
        return
    if not args.output or (args.output == "-" and (per_dump or sys.stdout.isatty())):
        where = {"perfetto": "FILE", "ctf": "DIR"}[args.format]
        raise TracespecError(f"--format {args.format} writes a {'directory' if where == 'DIR' else 'file'}: "
                             f"say where with -o {where}",
                             hint=f"e.g. -o {'trace.pftrace' if where == 'FILE' else 'trace-ctf'}")
    if args.format == "ctf" and args.output == "-":
        raise TracespecError("--format ctf writes a directory, not a stream: say where with -o DIR",
                             hint="e.g. -o trace-ctf")


def _event_writer(fmt: str, out, args, clock_offset_ns: int, fd_paths: bool, live: bool, initial_fds=None,
                  initial_cwds=None, initial_complete: bool = True):
    from tracespec.format.jsonl import JsonWriter
    from tracespec.format.text import TextOptions, TextWriter

    if fmt == "json":
        return JsonWriter(out, clock_offset_ns)
    if fmt == "perfetto":
        from tracespec.format.perfetto import PerfettoWriter
        return PerfettoWriter(out, clock_offset_ns)
    if fmt == "ctf":  # a directory babeltrace2 writes: `out` is not used
        from tracespec.format.ctf import CtfWriter
        return CtfWriter(args.output, clock_offset_ns)
    options = TextOptions(args.timestamps, args.relative, args.syscall_times, bool(fd_paths), live, initial_fds,
                          endpoints=args.fd_paths >= 2, initial_cwds=initial_cwds, initial_complete=initial_complete,
                          xlat=getattr(args, "xlat", "abbrev"),
                          hex_strings=getattr(args, "hex_strings", 0), verbose=getattr(args, "no_abbrev", False),
                          dirents=getattr(args, "dirent_entries", False),
                          **_line_options(args))
    return TextWriter(out, options, clock_offset_ns)


def _with_otlp(writer, args, clock_offset_ns: int, schema, host: str | None = None):
    """The writer, and beside it the collector --otlp names (when it does)."""
    if args.otlp is None:
        return writer
    from tracespec.format.otlp import OtlpTee
    return OtlpTee(writer, args.otlp or None, clock_offset_ns, host=host, cgroup=getattr(args, "cgroup", None),
                   schema=schema, notice=_notice)


def _line_options(args) -> dict:
    """Who a text line is from: the process's name after the pid when the targets are system-wide (as
    traceloop shows them), and -ff's one file per thread."""
    return {"comm": _system_wide(args) and not getattr(args, "no_comm", False), "per_thread": _per_thread(args)}


def _system_wide(args) -> bool:
    """Targets chosen by --all, --cgroup or --comm (decode: the trace's header says they were)."""
    return bool(getattr(args, "all", False) or getattr(args, "cgroup", None) or getattr(args, "comm", None)
                or getattr(args, "recorded_system_wide", False))


def _per_thread(args) -> bool:
    """strace -ff -o FILE: a file per thread. Without -o, -ff is -f, as for strace."""
    return getattr(args, "follow", 0) > 1 and bool(getattr(args, "output", None))


@contextlib.contextmanager
def _per_thread_output(path: str):
    """-ff's files, PATH.TID, for the block: closed at the end; a failed write is one error line."""
    from tracespec.format.text import PerThreadFiles

    files = PerThreadFiles(path)
    try:
        yield files
        files.close()
    except OSError as e:
        try:
            files.close()
        except OSError:
            pass
        raise TracespecError(f"cannot write {e.filename or path + '.TID'}: {e.strerror}",
                             exit_code=ExitStatus.CANNOT_TRACE) from None
    except BaseException:
        files.close()
        raise


def _check_per_thread(args, summary) -> None:
    """-ff -o FILE writes text, a file per thread, in a directory that takes them."""
    from tracespec.format.text import writable_directory

    if args.output == "-":
        raise TracespecError("-ff writes a file per thread: -o - is one stream", hint="-ff -o FILE, or -f -o -")
    if args.format != "text":
        raise TracespecError(f"-ff writes text, a file per thread; --format {args.format} is one stream",
                             hint="drop one f: every process's records go to one file")
    if summary is not None or args.summary_with_trace:
        raise TracespecError("-ff and a summary (-c, -C, the spec's summary:) are mutually exclusive, as in strace",
                             hint="drop one f, or the summary")
    if not writable_directory(args.output):
        raise TracespecError(f"-ff -o {args.output}: its directory cannot take the files {args.output}.TID",
                             exit_code=ExitStatus.CANNOT_TRACE, hint="give -o a path in a writable directory")


def _notice(text: str) -> None:
    _say(f"tracespec: {text}")


def _quiet_notice(text: str) -> None:
    """-q: as strace -q, no word of attaching or of the trace starting; everything else is said."""
    if text.endswith(" attached") or text.startswith("tracing started"):
        return
    _notice(text)


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


def _status_line(out, binary: bool, stderr_tty: bool):
    """A live status line when a person watches stderr and the trace goes elsewhere."""
    from tracespec.runtime.status import StatusLine

    if not stderr_tty or out in (sys.stderr, sys.stderr.buffer):
        return None
    if out in (sys.stdout, sys.stdout.buffer) and sys.stdout.isatty():
        return None
    return StatusLine(sys.stderr, "bytes" if binary else "syscalls")


def cmd_run(args) -> int:
    from tracespec.kernel import find_tracefs
    from tracespec.pipeline import compile_for_run
    from tracespec.runtime.targets import descriptors_at_start, directories_at_start
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
    _check_export_output(args)
    if binary and args.otlp is not None:
        raise TracespecError("--otlp sends decoded syscalls; --format bin keeps the records to decode later",
                             hint="tracespec decode TRACE --otlp URL sends a binary trace's syscalls")
    target = _target(args)
    from tracespec.runtime.preflight import memory_bytes
    buffer_bytes = _size(args.buffer_size) if args.buffer_size else None
    spec = _built_spec(args)
    _save_spec(args.save_spec, spec)
    if args.summary_with_trace:  # counted from the events the trace shows, not in the kernel
        _check_summary_with_trace(args)
        summary, interval = None, None
    else:
        summary, interval = _summary_choice(args, spec.summary)
    per_thread = _per_thread(args)
    if per_thread:
        _check_per_thread(args, summary)
    if summary is not None and binary:
        raise TracespecError("a summary is text or JSON; --format bin records events",
                             hint="drop --format bin, or drop --summary (and the spec's summary:)")
    # the default ring buffer takes at most a 16th of the machine's memory
    compiled = compile_for_run(spec, args.kernel, target, buffer_bytes, ring_cap=memory_bytes() // 16,
                               summary=summary)
    if summary is None:  # a summary's buffer carries only forks and exits: its size is the planner's
        _check_buffer_size(buffer_bytes, compiled.plan.output, args.buffer_size)
    offset = time.time_ns() - time.monotonic_ns()
    fd_paths = bool(args.fd_paths or compiled.validated.spec.fd_paths)
    args.no_abbrev = args.no_abbrev or not compiled.validated.spec.abbrev  # the spec's abbrev: false is -v
    args.dirent_entries = not compiled.validated.spec.abbrev
    initial_fds = descriptors_at_start(bool(cmd), pids, args.cgroup) if fd_paths else None
    initial_cwds = directories_at_start(initial_fds) if fd_paths and binary else None
    # Read before the compile starts: meanwhile descriptor 2 is BCC's capture, not the terminal.
    stderr_tty = sys.stderr.isatty()
    session = Session(compiled.plan, compiled.c_source, None, None, command=cmd if cmd else None, pids=pids,
                      tracefs=find_tracefs(), notice=_quiet_notice if args.quiet else _notice, interval=interval)
    outputs = (_per_thread_output(args.output) if per_thread
               else _output(None if args.format == "ctf" else args.output, sys.stderr, binary))
    with outputs as out:
        session.start()  # BCC compiles in the background from here; session.run() waits for it
        try:
            session.decode, session.writer = _run_writer(args, out, compiled, summary, interval, binary, offset,
                                                         fd_paths, initial_fds, initial_cwds)
            writer = session.writer
            session.status = None if summary else _status_line(out, binary, stderr_tty)
            result = session.run()
        except KeyboardInterrupt:  # nothing to say: tracespec ends now, and the compile with it
            session.abandon()
            raise
        except BaseException:  # an error to say, once descriptor 2 is the terminal's again
            session.cancel()
            raise
    if summary is not None:
        _notice(f"{result.syscalls} syscalls counted, {result.lost} lost (not counted)")
    elif binary:
        _notice(f"{writer.bytes} bytes of records written to {args.output}, {result.lost} records lost")
    else:
        _notice(f"{result.syscalls} syscalls traced, {result.lost} records lost" +
                (_files_note(out.written, args.output) if per_thread else ""))
    if args.fail_on_loss and result.lost:
        return ExitStatus.LOST
    return result.exit_code


def _run_writer(args, out, compiled, summary, interval, binary: bool, offset: int, fd_paths: bool, initial_fds,
                initial_cwds):
    """What run does while BCC compiles: (the decoder, the writer of the trace), the modules of both
    imported here, beside the compile."""
    from tracespec.decode.generated import load_decoder
    from tracespec.format.binary import BinWriter

    decode = load_decoder(compiled.plan.schema)
    if binary:
        spec = compiled.validated.spec
        writer = BinWriter(out, compiled.plan.schema.to_json(), spec.path, spec.text, offset, fd_paths,
                           initial_fds, system_wide=_system_wide(args), initial_cwds=initial_cwds)
    elif summary is not None:
        writer = _summary_writer(args, out, compiled.plan, offset, interval)
    else:
        writer = _event_writer(args.format, out, args, offset, fd_paths, live=True, initial_fds=initial_fds)
        if args.summary_with_trace:
            writer = _trace_then_summary(writer, args, out, compiled.plan, offset)
    if not binary:
        writer = _with_otlp(writer, args, offset, compiled.plan.schema)
    return decode, writer


def _files_note(written: list[str], path: str) -> str:
    return f", {len(written)} file{'' if len(written) == 1 else 's'} written ({path}.TID)"


def _check_summary_with_trace(args) -> None:
    if args.summary:
        raise TracespecError("-c and -C are mutually exclusive, as in strace",
                             hint="-c: the summary instead of the trace; -C: the trace, then the summary")
    if args.format != "text":
        raise TracespecError(f"-C prints the trace, then a table: text; --format {args.format} has no place for it",
                             hint="drop -C, or --format; -c --format json gives the summary as JSON")
    if args.summary_by or args.interval:
        raise TracespecError("-C's table counts all processes together, once at the end",
                             hint="drop --summary-by and --interval, or use -c")


def _trace_then_summary(trace, args, out, plan, clock_offset: int):
    from tracespec.format.summary import SummaryTextWriter, TraceThenSummary

    return TraceThenSummary(trace, SummaryTextWriter(out, plan.schema, "syscall", clock_offset,
                                                     histograms=_histograms(args)))


def _summary_choice(args, spec_summary):
    """The summary asked for on the command line or in the spec (the command line wins), and its interval."""
    from tracespec.plan.model import SummaryPlan
    from tracespec.spec.parse import INTERVAL_MAX, INTERVAL_MIN

    if not args.summary and spec_summary is None:
        if args.summary_by or args.interval or args.no_hist or _hist_given(args):
            raise TracespecError("--summary-by, --interval, --hist and --no-hist go with --summary",
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
    if args.format == "perfetto":
        from tracespec.format.perfetto import PerfettoWriter
        return PerfettoWriter(out, clock_offset, plan.schema)
    if args.format == "ctf":
        raise TracespecError("a summary is text, JSON or Perfetto counters; --format ctf records events",
                             hint="drop --format ctf, or drop --summary (and the spec's summary:)")
    return SummaryTextWriter(out, plan.schema, plan.summary.by, clock_offset, histograms=_histograms(args),
                             interval=interval is not None)


def _dump_path(path: str, number: int) -> str:
    root, ext = os.path.splitext(path)
    return f"{root}.{number}{ext}"


def cmd_record(args) -> int:
    from tracespec.decode.generated import load_decoder
    from tracespec.format.binary import BinWriter
    from tracespec.kernel import find_tracefs
    from tracespec.pipeline import compile_spec
    from tracespec.plan import TargetKind
    from tracespec.runtime.targets import descriptors_at_start, directories_at_start
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
    _check_export_output(args, per_dump=True)
    spec = _load_spec(_spec_path(args.spec))
    if args.no_abbrev and spec.abbrev:  # -v: getdents' entries are copied to be printed, as run -v has them
        from tracespec.spec.from_flags import StraceFlags, refined_text
        from tracespec.spec.parse import parse_spec_text
        spec = parse_spec_text(refined_text(spec.text, StraceFlags(no_abbrev=True), _command_line_text(args)),
                               f"<{spec.path} with -v>")
    args.no_abbrev = args.dirent_entries = not spec.abbrev
    size = _recorder_size(args.size) if args.size else (spec.recorder.size if spec.recorder else None)
    compiled = compile_spec(spec, args.kernel, _target(args), recorder_bytes=size or 0,
                            cpus=os.cpu_count() or 1)
    plan = compiled.plan
    decode = load_decoder(plan.schema)
    offset = time.time_ns() - time.monotonic_ns()
    fd_paths = bool(args.fd_paths or compiled.validated.spec.fd_paths)  # -y counts: -yy is 2
    # -y: what was open (and where) before recording began, as run takes it: inherited descriptors are
    # named in every dump, however late it is written (the processes may be gone by then). A dump's
    # events begin where the buffers' reach does, so for the rest /proc is asked while they run.
    initial_fds = descriptors_at_start(bool(cmd), pids, args.cgroup) if fd_paths else None
    initial_cwds = directories_at_start(initial_fds) if fd_paths else None
    written: list[str] = []

    with _output(None if binary or args.format in EXPORT_FORMATS else args.output, sys.stderr) as out:
        def write_dump(dump) -> None:
            if args.format in EXPORT_FORMATS:
                path = _dump_path(args.output, dump.number)
                if args.format == "ctf":
                    from tracespec.format.ctf import CtfWriter
                    w = CtfWriter(path, offset)
                    w.write(dump.events)
                    w.finish(dump.lost)
                else:
                    with _output(path, None, binary=True) as f:
                        w = _event_writer(args.format, f, args, offset, fd_paths, live=False, initial_fds=initial_fds,
                                          initial_cwds=initial_cwds, initial_complete=False)
                        w.write(dump.events)
                        w.finish(dump.lost)
                written.append(path)
                _notice(f"dump {dump.number} ({dump.reason}): {path}, {w.syscalls} syscalls")
                return
            if binary:
                path = _dump_path(args.output, dump.number)
                with _output(path, None, binary=True) as f:
                    w = BinWriter(f, plan.schema.to_json(), spec.path, spec.text, offset, fd_paths, initial_fds,
                                  system_wide=_system_wide(args), initial_cwds=initial_cwds)
                    w.write_raw(dump.records, None)  # one chunk: the decoder orders it whole
                    w.finish(dump.lost, None)
                written.append(path)
                _notice(f"dump {dump.number} ({dump.reason}): {path}")
                return
            if args.format == "json":
                out.write(json.dumps({"dump": dump.number, "reason": dump.reason}) + "\n")
            else:
                out.write(f"=== dump {dump.number}: {dump.reason} ===\n")
            writer = _event_writer(args.format, out, args, offset, fd_paths, live=True, initial_fds=initial_fds,
                                   initial_cwds=initial_cwds, initial_complete=False)
            writer.write(dump.events)
            writer.finish(dump.lost)
            if args.format == "text":
                out.write(f"=== end of dump {dump.number}: {writer.syscalls} syscalls, {dump.lost} records lost ===\n")
            out.flush()
            written.append(str(dump.number))

        session = RecorderSession(plan, compiled.c_source, decode, None, command=cmd if cmd else None, pids=pids,
                                  tracefs=find_tracefs(), notice=_notice, dumps=write_dump)
        if plan.target.kind in (TargetKind.ALL, TargetKind.CGROUP, TargetKind.COMM) or pids:
            _notice(f"recording; dump with kill -USR1 {os.getpid()}")
        result = session.run()
    _notice(f"{len(written)} dump{'' if len(written) == 1 else 's'} written, {result.lost} records lost")
    if args.fail_on_loss and result.lost:
        return ExitStatus.LOST
    return result.exit_code


def _unabbreviated(spec_text) -> bool:
    """Whether a trace's spec says abbrev: false (run -v made it): its lines are then printed as with -v."""
    from tracespec.spec.parse import parse_spec_text

    if not isinstance(spec_text, str):
        return False
    try:
        return not parse_spec_text(spec_text, "<the trace's spec>").abbrev
    except TracespecError:
        return False


@_prints_to_stdout
def cmd_decode(args) -> int:
    import json

    from tracespec.decode.generated import load_decoder
    from tracespec.decode.replay import replay
    from tracespec.decode.stream import EventStream
    from tracespec.format.binary import TraceFile, damage_note
    from tracespec.plan.model import Schema

    _check_export_output(args)
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
        args.recorded_system_wide = bool(header.get("system_wide"))
        args.dirent_entries = _unabbreviated(header.get("spec_text"))
        args.no_abbrev = args.no_abbrev or args.dirent_entries
        _check_writable(args.output, "stdout", False)
        with _output(None if args.format == "ctf" else args.output, sys.stdout) as out:
            writer = _event_writer(args.format, out, args, clock_offset,
                                   args.fd_paths or bool(header.get("fd_paths")), live=False,
                                   initial_fds=header.get("initial_fds"), initial_cwds=header.get("initial_cwds"))
            writer = _with_otlp(writer, args, clock_offset, schema, host=header.get("host"))
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


COMMANDS = {"spec": cmd_spec, "run": cmd_run, "record": cmd_record, "check": cmd_check, "emit": cmd_emit,
            "decode": cmd_decode, "list": cmd_list, "serve": cmd_serve, "ctl": cmd_ctl}


def main(argv: list[str] | None = None) -> int:
    """The command line; argv None: run as the tracespec program (sys.argv, and the process ends here)."""
    as_program = argv is None
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["run"] + argv  # strace's habit: tracespec -f -e trace=openat ls
    typed = argv[1:]
    cmd: list[str] = []
    if argv and argv[0] in ("run", "record"):
        try:
            argv, cmd = _split_command(argv, parser.subparsers[argv[0]])
        except TracespecError as e:
            _say(e.render())
            return e.exit_code
    if as_program:
        _reserve_standard_fds()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said with the usage of the command they were given to, not the top-level one
        sub = parser.subparsers.get(args.command) if args.command else None
        (sub or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    args.cmd = cmd
    args.argv = typed
    if not args.command:
        parser.print_help()
        return ExitStatus.USAGE
    debug = getattr(args, "debug", False)
    if as_program:
        _collect_rarely()
        from tracespec.runtime import capture
        # always through leave(): Python's own last flush of a standard stream that cannot be written
        # would turn the status into 120
        code = ExitStatus.INTERNAL
        try:
            code = _dispatch(args, debug)
        finally:
            capture.leave(_flush_standard_streams(code))
    return _dispatch(args, debug)


def _takes_value(parser) -> set[str]:
    return {o for a in parser._actions if a.option_strings and a.nargs != 0 for o in a.option_strings}


def _split_command(argv: list[str], sub) -> tuple[list[str], list[str]]:
    """run's (or record's) words -> (options and SPEC, the command). The command is what follows --, or,
    without --, starts at the first word that is neither an option (nor an option's value) nor a SPEC
    (see _is_spec_word): `tracespec run -f ls -l` runs `ls -l`, `tracespec run failed make` traces make
    with the shipped spec `failed`. A command right after `run`, with neither flag nor spec before it,
    is refused with the hint that a command follows -- (`tracespec run ls` was long taken for a spec)."""
    if "--" in argv:  # everything after -- is the command, untouched
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    valued = _takes_value(sub)
    seen_spec = False
    i = 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            if "=" not in word and word in valued:
                i += 1
        elif word.startswith("-") and word != "-":
            for j in range(1, len(word)):
                if "-" + word[j] in valued:
                    if j == len(word) - 1:
                        i += 1  # the value is the next word
                    break
        elif not seen_spec and _is_spec_word(word):
            seen_spec = True
        else:
            _check_command_word(word)
            if i == 1:  # `tracespec run ls`: no flag or spec says how to trace it
                raise TracespecError(f"a command to trace follows --: tracespec {argv[0]} -- {word} ...",
                                     hint=f"or give strace's flags first, as with strace: tracespec {argv[0]} -f "
                                          f"{word} ...; or a spec: tracespec {argv[0]} SPEC -- {word} ...")
            return argv[:i], argv[i:]
        i += 1
    return argv, []


def _check_command_word(word: str) -> None:
    """A word taken for the command that is a file one cannot run was most likely meant as the spec."""
    if os.path.isfile(word) and not os.access(word, os.X_OK):
        raise TracespecError(f"{word} is taken for the command to trace (a SPEC's name ends in .yaml or .yml, "
                             "or is -, or a shipped spec's), but it is not executable",
                             hint=f"give the spec before --: tracespec run {word} -- CMD ARGS...")


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
