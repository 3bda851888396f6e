"""Where a raw-tracepoint tracer's nanoseconds go: a ladder of BCC programs on sys_enter/sys_exit, each
rung adding one of the things tracespec's programs do per syscall, measured with the static workload's
getppid loop. Run as root from the repository: .venv/bin/python bench/cost_probe.py --help

Not part of bench/run.py. One file on purpose: the C of every rung is assembled here from the PARTS
below, so what a rung measures can be read (or printed with --show-c) in one place.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from types import SimpleNamespace

import machine
import proc
import trace_counts
import workload
from errors import BenchError, guarded
from other_load import OtherLoad
from quiesce import BpfQuiesce
from summary import BUSY_CORES  # other processes' CPU during a run from which it counts as disturbed
from paths import REPO
from tracespec.codegen.lower import BITMAP_WORDS  # noqa: E402 (tracespec's ts_traced_bits: a bit per task id)


RUN_TIMEOUT_S = 300
POLL_S = 0.1  # the reader's epoll timeout: tracespec's session polls at the same pace
# The record sizes tracespec's specs/all.yaml writes for a syscall (`tracespec emit specs/all.yaml`,
# ts_enter_generic and ts_exit_generic): header, comm and six arguments at entry; header and return
# value at exit. Each takes 8 more bytes of ring-buffer framing.
ENTER_BYTES, EXIT_BYTES = 88, 32
SYS_EXECVE = 59  # x86-64, like the pt_regs registers the programs read: the probe is x86-64 only

# ---------------------------------------------------------------------------------------------------
# The programs. Every rung is the same two functions, RAW_TRACEPOINT_PROBE(sys_enter) and (sys_exit),
# whose bodies are the selected PARTS' snippets in the order PARTS lists them (program order, which is
# not always the order rungs add them: the exit's syscall number, read by "args", goes into the header
# written by "ktime"). Snippets share a few names: id (pid_tgid), r (where the record is built), nr.
# ---------------------------------------------------------------------------------------------------

PREAMBLE = """\
#include <uapi/linux/ptrace.h>

/* tracespec's record header (ts_hdr) */
struct hdr {
    u64 ts;
    u32 tgid;
    u32 tid;
    u32 nr;
    u16 kind;
    u16 flags;
};

/* pt_regs from r10 to di: the six argument registers in one copy, as tracespec's ts_read_args */
struct argregs {
    u64 r10, r9, r8, ax, cx, dx, si, di;
};
"""

SKELETON = """\
{preamble}
{decls}
RAW_TRACEPOINT_PROBE(sys_enter)
{{
{enter}    return 0;
}}

RAW_TRACEPOINT_PROBE(sys_exit)
{{
{exit}    return 0;
}}
"""

RING_DECLS = """\
BPF_RINGBUF_OUTPUT(events, {ring_pages});
BPF_PERCPU_ARRAY(lost, u64, 1);   /* records the ring had no room for, as tracespec's ts_lost */

static __always_inline void lost_one(void)
{{
    u32 z = 0;
    u64 *n = lost.lookup(&z);
    if (n)
        (*n)++;
}}
"""


@dataclass(frozen=True)
class Part:
    name: str
    decls: str = ""  # maps and helpers, at file scope ({ring_pages} is filled in)
    enter: str = ""  # statements of the sys_enter program
    exit: str = ""  # statements of the sys_exit program


def _both(code: str) -> dict:
    return {"enter": code, "exit": code}


PARTS = (
    # Filters: is the current process traced? Every other process on the machine returns here.
    Part("bitmap",
         decls=f"BPF_ARRAY(traced_bits, u64, {BITMAP_WORDS});   /* a bit per process id, as tracespec */\n",
         **_both("""\
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32, word = tgid >> 6;
    u64 *bits = traced_bits.lookup(&word);   /* an array lookup: the verifier inlines it */
    if (!bits || !((*bits >> (tgid & 63)) & 1))
        return 0;
""")),
    Part("hash",
         decls="BPF_HASH(targets, u32, u32, 65536);   /* tracespec's ts_targets, before the bitmap */\n",
         **_both("""\
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 *state = targets.lookup(&tgid);   /* hashes the key, walks a bucket */
    if (!state || *state != 1)
        return 0;
""")),
    # Where the record is built: on the stack, or reserved in the ring buffer (tracespec's way).
    Part("stack",
         enter=f"""\
    u64 rec[{ENTER_BYTES // 8}];
    u8 *r = (u8 *)rec;
    u32 nr = ctx->args[1];
""",
         exit=f"""\
    u64 rec[{EXIT_BYTES // 8}];
    u8 *r = (u8 *)rec;
    u64 nr = 0;
"""),
    Part("reserve", decls=RING_DECLS,
         enter=f"""\
    u8 *r = events.ringbuf_reserve({ENTER_BYTES});
    if (!r) {{
        lost_one();
        return 0;
    }}
    u32 nr = ctx->args[1];
""",
         exit=f"""\
    u8 *r = events.ringbuf_reserve({EXIT_BYTES});
    if (!r) {{
        lost_one();
        return 0;
    }}
    u64 nr = 0;
"""),
    # What goes into the record.
    Part("args",
         enter="""\
    struct argregs g = {};
    bpf_probe_read_kernel(&g, sizeof(g), &((struct pt_regs *)ctx->args[0])->r10);
    u64 *ra = (u64 *)(r + 40);
    ra[0] = g.di;
    ra[1] = g.si;
    ra[2] = g.dx;
    ra[3] = g.r10;
    ra[4] = g.r8;
    ra[5] = g.r9;
""",
         exit="""\
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    bpf_probe_read_kernel(&nr, sizeof(nr), &regs->orig_ax);   /* the syscall number */
    *(s64 *)(r + 24) = ctx->args[1];   /* the return value */
"""),
    Part("ktime",
         enter="""\
    struct hdr *h = (struct hdr *)r;
    h->ts = bpf_ktime_get_ns();
    h->tgid = id >> 32;
    h->tid = id;
    h->nr = nr;
    h->kind = 0;
    h->flags = 0;
""",
         exit="""\
    struct hdr *h = (struct hdr *)r;
    h->ts = bpf_ktime_get_ns();
    h->tgid = id >> 32;
    h->tid = id;
    h->nr = nr;
    h->kind = 1;
    h->flags = 0;
"""),
    Part("comm", enter="    bpf_get_current_comm(r + 24, 16);\n"),
    # What becomes of the record.
    Part("keep", **_both(
        '    asm volatile("" : : "r"(r) : "memory");   /* the record escapes: its stores stay, unread */\n')),
    Part("submit", **_both(
        "    events.ringbuf_submit(r, 0);   /* 0: wake the reader if it has caught up */\n")),
    Part("output", decls=RING_DECLS,
         enter=f"""\
    if (events.ringbuf_output(r, {ENTER_BYTES}, 0))   /* reserve, copy the stack record, submit */
        lost_one();
""",
         exit=f"""\
    if (events.ringbuf_output(r, {EXIT_BYTES}, 0))
        lost_one();
"""),
)
# One record per syscall, made at its exit (issue 17's lever): the entry keeps its timestamp, number,
# arguments and task name in a per-thread hash, the exit takes them back (lookup, delete) and writes one
# record (header, comm, six arguments, return value, the exit's time) reserved in the ring. Replaces reserve, ktime, args,
# comm and submit; a record of an in-flight syscall would be the map's, dumped at the end (not here).
SINGLE_BYTES = ENTER_BYTES + 16  # and the return value, and the exit's time
PARTS += (
    Part("single", decls=RING_DECLS + """\
struct held {{
    u64 ts;
    u64 nr;
    u64 a[6];
    char comm[16];
}};
BPF_HASH(held_by_tid, u32, struct held, 65536);   /* the entry, until its exit */
""",
         enter="""\
    struct held e = {};
    struct argregs g = {};
    bpf_probe_read_kernel(&g, sizeof(g), &((struct pt_regs *)ctx->args[0])->r10);
    e.a[0] = g.di;
    e.a[1] = g.si;
    e.a[2] = g.dx;
    e.a[3] = g.r10;
    e.a[4] = g.r8;
    e.a[5] = g.r9;
    e.ts = bpf_ktime_get_ns();
    e.nr = ctx->args[1];
    bpf_get_current_comm(e.comm, 16);
    u32 tid = id;
    held_by_tid.update(&tid, &e);
""",
         exit=f"""\
    u32 tid = id;
    struct held *e = held_by_tid.lookup(&tid);
    if (!e)
        return 0;
    u8 *r = events.ringbuf_reserve({SINGLE_BYTES});
    if (!r) {{
        lost_one();
        held_by_tid.delete(&tid);
        return 0;
    }}
    struct hdr *h = (struct hdr *)r;
    h->ts = e->ts;
    h->tgid = id >> 32;
    h->tid = id;
    h->nr = e->nr;
    h->kind = 0;
    h->flags = 0;
    __builtin_memcpy(r + 24, e->comm, 16);
    __builtin_memcpy(r + 40, e->a, 48);
    *(s64 *)(r + 88) = ctx->args[1];   /* the return value */
    *(u64 *)(r + 96) = bpf_ktime_get_ns();   /* the exit's time: -T, -c and JSON's duration need it */
    events.ringbuf_submit(r, 0);
    held_by_tid.delete(&tid);
"""),
)
PART_NAMES = tuple(p.name for p in PARTS)
RING_PARTS = {"reserve", "output", "single"}


@dataclass(frozen=True)
class Rung:
    id: str
    adds: str  # for the table
    kind: str = "bpf"  # bpf | untraced | tracespec
    parts: frozenset = frozenset()
    over: str | None = None  # the rung its marginal cost is measured against
    records_per_syscall: int = 2  # what a ring rung's reader must count for every getppid

    @property
    def ring(self) -> bool:
        return bool(self.parts & RING_PARTS)


def _rung(id, adds, parts, over):
    unknown = set(parts) - set(PART_NAMES)
    assert not unknown, f"rung {id}: no parts {unknown}"
    return Rung(id, adds, "bpf", frozenset(parts), over)


# Cumulative: each rung is the one before plus one part, so the marginal costs add up, rung by rung, to
# the cost of a program that does what tracespec's does. ktime also brings the record the later parts
# fill, on the stack, and "keep" (an empty asm) so that the compiler keeps the stores into it: neither
# costs more than the stores themselves. ringbuf then trades stack+keep for reserve+submit. Two side
# rungs replace a part instead of adding one; their marginal is over the base of the part they replace.
_FILTERED = ("bitmap",)
_STACK = _FILTERED + ("stack", "keep")
RUNGS = (
    Rung("untraced", "nothing attached", "untraced"),
    _rung("noop", "programs that return 0: the floor", (), "untraced"),
    _rung("bitmap", "+ bpf_get_current_pid_tgid, traced? one bit in an ARRAY map", _FILTERED, "noop"),
    _rung("hash", "side: the bitmap's test as a HASH map lookup instead", ("hash",), "noop"),
    _rung("ktime", "+ bpf_ktime_get_ns, record header (on the stack)", _STACK + ("ktime",), "bitmap"),
    _rung("args", "+ 6 args from pt_regs (entry), orig_ax and ret (exit)", _STACK + ("ktime", "args"),
          "ktime"),
    _rung("comm", "+ bpf_get_current_comm (entry)", _STACK + ("ktime", "args", "comm"), "args"),
    _rung("ringbuf", "+ record in the ring: reserve, fill in place, submit; a reader drains it",
          _FILTERED + ("reserve", "ktime", "args", "comm", "submit"), "comm"),
    _rung("output", "side: ringbuf_output of the stack record instead",
          _FILTERED + ("stack", "ktime", "args", "comm", "output"), "comm"),
    Rung("single", "side: one record a syscall, at its exit; the entry held in a per-thread hash", "bpf",
         frozenset(_FILTERED + ("single",)), "ringbuf", records_per_syscall=1),
    Rung("tracespec", "tracespec run specs/all.yaml --format bin: its program, reader and file",
         "tracespec", over="ringbuf"),
)
RUNG = {r.id: r for r in RUNGS}


def program(rung: Rung, ring_pages: int) -> str:
    """The C of a rung: its parts' snippets in PARTS order."""
    chosen = [p for p in PARTS if p.name in rung.parts]
    decls = "".join(dict.fromkeys(p.decls.format(ring_pages=ring_pages) for p in chosen if p.decls))
    return SKELETON.format(preamble=PREAMBLE, decls=decls,
                           enter="".join(p.enter for p in chosen), exit="".join(p.exit for p in chosen))


# ---------------------------------------------------------------------------------------------------
# One run of one rung.
# ---------------------------------------------------------------------------------------------------

@dataclass
class Sample:
    ok: bool
    error: str = ""
    ns_per_syscall: float = 0.0
    syscalls: int = 0
    records: int | None = None  # records of the loop's syscall drained from the ring (2 per syscall)
    lost: int | None = None  # records the program found no room for (tracespec: its own count)
    foreign_bpf: int = 0  # BPF programs of someone else loaded as the run started (quiesce.py)
    other_cores: float = 0.0  # CPU other processes used during the run (other_load.py)


class RingCount:
    """Drains the ring through tracespec's RingReader mapping and counts the workload's getppid records,
    walking the ring's framing once (as RingReader.drain_raw does), without copying them out.

    Only the gated process is traced, shell and workload under one pid, and the shell makes getppid
    calls of its own (dash and bash read their $PPID): the records counted are those after the first
    execve entry record, the workload's. (Not any execve record: the exit of the shell's own execve can
    come after its pid went into the filter, Popen returning as soon as that exec is done.) One ring,
    so that order is the order in which the records were reserved."""

    _U16, _U32, _U64 = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<Q")

    def __init__(self, map_fd: int, size: int, nr: int):
        from tracespec.runtime.ringbuf import RingReader
        from tracespec.wire.ring import BUSY, DISCARD
        self.reader = RingReader(map_fd, size)
        self.busy, self.discard = BUSY, DISCARD
        self.nr = nr
        self.execed = False
        self.records = self.matching = 0

    def drain(self) -> None:
        rd = self.reader
        view, page, mask = rd.view, rd.page, rd.mask
        u16, u32 = self._U16.unpack_from, self._U32.unpack_from
        cons = self._U64.unpack_from(rd.cons, 0)[0]
        prod = self._U64.unpack_from(rd.prod, 0)[0]
        start = cons
        while cons < prod:
            base = page + (cons & mask)
            hdr = u32(view, base)[0]
            if hdr & self.busy:
                break  # still being written: the next drain takes it
            if not hdr & self.discard:
                self.records += 1
                nr = u32(view, base + 8 + 16)[0]  # struct hdr's nr, then kind (0: entry)
                if nr == self.nr and self.execed:
                    self.matching += 1
                elif nr == SYS_EXECVE and not u16(view, base + 8 + 20)[0]:
                    self.execed = True
            cons += ((hdr & ~(self.busy | self.discard)) + 8 + 7) & ~7
        if cons != start:
            self._U64.pack_into(rd.cons, 0, cons)

    def close(self) -> None:
        self.reader.close()


def _gated(binary: str, n: int) -> subprocess.Popen:
    """The workload behind a gate: a shell that execs it once a line arrives on its standard input. The
    workload's pid is known (the shell's) before it runs, so it can be put in a rung's filter first, and
    every rung, untraced included, starts the same way."""
    return proc.start(["/bin/sh", "-c", 'read -r go && exec "$0" "$@"', binary, "getppid", str(n)],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _release(p: subprocess.Popen) -> None:
    """Open the gate: the shell reads its line and execs the workload."""
    p.stdin.write("go\n")
    p.stdin.close()
    p.stdin = None  # closed: communicate() must not flush it


def _finish(p: subprocess.Popen, deadline: float, tick=None) -> tuple[int, str, str]:
    """Wait for the gated workload (calling tick() meanwhile, if given), then collect its output."""
    try:
        if tick is None:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
        else:
            while p.poll() is None:
                if time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(p.args, RUN_TIMEOUT_S)
                tick()
        out, err = p.communicate()
    except subprocess.TimeoutExpired:
        proc.kill_group(p)
        return -9, "", f"killed after {RUN_TIMEOUT_S} s"
    finally:
        proc.reap(p)
    return p.returncode, out, err


def _result(code: int, out: str, err: str) -> tuple[dict | None, str]:
    result = workload.parse_result(out)
    if code != 0 or result is None:
        return None, f"exit {code}: {proc.last_line(err)}"
    return result, ""


def _load(bcc, text: str):
    """Compile and load a rung's C with BCC (its RAW_TRACEPOINT_PROBEs are attached as they load): the
    BPF object, or the compiler's or verifier's first complaint as a BenchError."""
    from tracespec.runtime.capture import captured_stderr
    err = None
    with captured_stderr() as log:
        try:
            bpf = bcc.BPF(text=text.encode(), cflags=["-Wno-unused-variable", "-Wno-unused-function"])
        except Exception as e:  # BCC raises bare Exceptions
            err = e
    if err is not None:
        said = [ln.strip() for ln in "".join(log).splitlines() if "error" in ln.lower()]
        raise BenchError(said[0] if said else str(err).splitlines()[0])
    return bpf


def run_untraced(binary: str, n: int) -> Sample:
    p = _gated(binary, n)
    _release(p)
    result, error = _result(*_finish(p, time.monotonic() + RUN_TIMEOUT_S))
    if result is None:
        return Sample(False, error)
    return Sample(True, "", result["ns_per_syscall"], result["syscalls"])


def run_bpf(bcc, rung: Rung, binary: str, n: int, ring_pages: int, getppid_nr: int) -> Sample:
    try:
        bpf = _load(bcc, program(rung, ring_pages))
    except BenchError as e:
        return Sample(False, f"cannot load: {e}")
    p = counter = None
    try:
        attached = {k.decode() if isinstance(k, bytes) else k for k in bpf.raw_tracepoint_fds}
        if attached != {"sys_enter", "sys_exit"}:
            return Sample(False, f"attached to {sorted(attached)}, not sys_enter and sys_exit")
        p = _gated(binary, n)
        if "bitmap" in rung.parts:  # written before the workload runs: nothing else writes the map
            bpf[b"traced_bits"][ctypes.c_int(p.pid >> 6)] = ctypes.c_ulonglong(1 << (p.pid & 63))
        if "hash" in rung.parts:
            bpf[b"targets"][ctypes.c_uint(p.pid)] = ctypes.c_uint(1)
        if rung.ring:
            counter = RingCount(bpf[b"events"].map_fd, ring_pages * 4096, getppid_nr)

        def drain_while_running():  # as tracespec's session: sleep in epoll until woken, drain it all
            counter.reader.wait(POLL_S)
            counter.drain()

        _release(p)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        code, out, err = _finish(p, deadline, drain_while_running if counter else None)
        p = None
        result, error = _result(code, out, err)
        if result is None:
            return Sample(False, error)
        s = Sample(True, "", result["ns_per_syscall"], result["syscalls"])
        if counter:
            counter.drain()  # what was committed before the workload exited
            s.records = counter.matching
            s.lost = sum(int(v) for v in bpf[b"lost"][ctypes.c_int(0)])
        return s
    finally:
        if p is not None:
            proc.kill_group(p)
        if counter:
            counter.close()  # its mmaps hold the ring map: unmap before BCC closes the object
        bpf.cleanup()


def run_tracespec(executable: str, binary: str, n: int, workdir: str) -> Sample:
    trace = os.path.join(workdir, "trace.tsb")
    try:
        done = proc.run([executable, "run", os.path.join(REPO, "specs", "all.yaml"), "--format", "bin",
                         "-o", trace, "--", binary, "getppid", str(n)], timeout=RUN_TIMEOUT_S)
    finally:
        if os.path.exists(trace):
            os.unlink(trace)  # about 140 bytes a syscall: only the timing is kept
    result, error = _result(done.returncode, done.stdout, done.stderr)
    if result is None:
        return Sample(False, error)
    return Sample(True, "", result["ns_per_syscall"], result["syscalls"],
                  lost=trace_counts.tracespec_lost(done.stderr))


# ---------------------------------------------------------------------------------------------------
# The schedule, the summary, the table.
# ---------------------------------------------------------------------------------------------------

DESCRIPTION = """\
Explain, part by part, what a raw-tracepoint syscall tracer pays per syscall: the gap between the floor
(empty programs) and tracespec's overhead.

A ladder of BPF programs, loaded with BCC on the raw tracepoints sys_enter and sys_exit (where
tracespec attaches for specs/all.yaml), runs at every syscall on the machine. Each rung is built from
named C snippets (PARTS in this file; --show-c RUNG prints a rung's program) and, but for the side
rungs, adds one part to the rung before it:

  untraced   nothing attached: the syscall's own cost
  noop       both programs return 0: the floor, what the kernel charges to run any program
  bitmap     + bpf_get_current_pid_tgid() and a test of the process's bit in an ARRAY map (tracespec's
             ts_traced_bits): only the workload is traced, every other process returns here
  hash       side rung: the same test as a HASH map lookup (tracespec's older ts_targets); its
             marginal is over noop, like bitmap's
  ktime      + bpf_ktime_get_ns() and the record's header (ids, syscall number), built on the stack
  args       + the six arguments from pt_regs at entry (one 64-byte bpf_probe_read_kernel, as
             tracespec's ts_read_args), orig_ax and the return value at exit
  comm       + bpf_get_current_comm() at entry
  ringbuf    + the records in a BPF ring buffer: ringbuf_reserve, fill in place, ringbuf_submit, the
             sizes tracespec writes for specs/all.yaml (88 bytes at entry, 32 at exit), drained by a
             reader in this process (tracespec's RingReader mapping; it sleeps in epoll until the
             kernel wakes it, at most 0.1 s, as tracespec's does) that counts them. This rung is
             tracespec's program for specs/all.yaml part for part, in another statement order
  output     side rung: ringbuf_output() of the stack record instead (a copy); marginal over comm
  single     side rung: one record a syscall, made at its exit, the entry's data held in a per-thread
             hash (update at entry, lookup and delete at exit); marginal over ringbuf (two records)
  tracespec  tracespec run specs/all.yaml --format bin -o FILE -- workload: its program, its reader
             and its writing of the trace; marginal over ringbuf, whose program does the same work:
             what tracespec adds is its user space (draining, writing) and its other programs

Marginal cost is a rung's median minus the median of the rung named in the "over" column. The ladder
is cumulative, not each part alone on top of noop: the marginals then add up to the full program's
overhead, and each part is measured inside the program it would run in, not alone.

Each run starts `workload getppid N` (bench/workload.c, compiled statically) behind a gate, puts its pid
in the rung's filter, lets it run, and reads the ns per syscall it measured around its loop alone.
Repetitions are interleaved: every rung once, then again. Before each run the probe waits until the
BPF programs of the previous one are gone (bpftool; bench/quiesce.py). A ring rung is valid only when
every getppid record reached the reader and none was lost."""

EPILOG = """\
output:
  A markdown table on standard output: per rung, the median ns/syscall, its range over the
  repetitions, the overhead over untraced, the marginal cost over the rung named, and for the ring
  rungs the getppid records drained (2 per syscall) and the records the ring had no room for (for
  tracespec, its own count of records lost). Under it, the machine and the notes. With --json FILE,
  every run's numbers and each rung's C as well. Progress goes to standard error.

exit status:
  0  every rung was measured, with no record lost or missing
  1  the probe could not run (one line on standard error says why)
  2  a rung failed, or lost records: the table says which, and its numbers are not valid
     (also argparse's status for a wrong option)
  130  interrupted

examples:
  sudo .venv/bin/python bench/cost_probe.py                   5 x 1,000,000 syscalls, every rung
  sudo .venv/bin/python bench/cost_probe.py --reps 2 -n 300000
  sudo .venv/bin/python bench/cost_probe.py --rungs noop,bitmap,hash
  .venv/bin/python bench/cost_probe.py --show-c ringbuf      the C of one rung (no root needed)

Run it on an otherwise idle machine: a part costs from a few ns to tens of ns a syscall, less than the
noise another busy process makes on a 2-core machine. See bench/README.md, "Cost probe"."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/cost_probe.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--iterations", type=int, default=1_000_000, metavar="N",
                   help="getppid() calls per run (default 1,000,000)")
    p.add_argument("--reps", type=int, default=5, metavar="R", help="repetitions of every rung (default 5)")
    p.add_argument("--rungs", metavar="LIST",
                   help="comma-separated rungs to run (default: all of " + ", ".join(RUNG) + "; untraced, "
                        "the baseline, always runs)")
    p.add_argument("--ring-mib", type=int, default=256, metavar="MIB",
                   help="the ring rungs' ring buffer, a power of two (default 256 MiB: it holds every "
                        "record of a million syscalls, so the reader's pace cannot lose any)")
    p.add_argument("--tracespec", metavar="PATH", default=os.path.join(REPO, ".venv", "bin", "tracespec"),
                   help="the tracespec executable of the tracespec rung (default .venv/bin/tracespec)")
    p.add_argument("--json", metavar="FILE", help="also write every number, and each rung's C, to FILE")
    p.add_argument("--show-c", metavar="RUNG", help="print the C program of RUNG and exit")
    p.add_argument("--debug", action="store_true", help="show a traceback on an internal error")
    args = p.parse_args(argv)
    if args.iterations < 1 or args.reps < 1:
        p.error("-n and --reps must be at least 1")
    if args.ring_mib < 1 or args.ring_mib & (args.ring_mib - 1):
        p.error("--ring-mib must be a power of two")
    return args


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _selected(spec: str | None) -> list[Rung]:
    if not spec:
        return list(RUNGS)
    chosen = {s.strip() for s in spec.split(",") if s.strip()}
    unknown = chosen - set(RUNG)
    if unknown:
        raise BenchError(f"unknown rung {', '.join(sorted(unknown))}; known: {', '.join(RUNG)}")
    return [r for r in RUNGS if r.id in chosen or r.kind == "untraced"]


def _sysctl(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return "?"


def _machine(tracespec: str) -> tuple[dict, str]:
    info = machine.describe(SimpleNamespace(description="the work tree", executable=tracespec))
    info["bpf_jit_enable"] = _sysctl("/proc/sys/net/core/bpf_jit_enable")
    info["bpf_stats_enabled"] = _sysctl("/proc/sys/kernel/bpf_stats_enabled")  # 1 taxes every program
    v = info["versions"]
    line = (f"machine: {info['hostname']}, Linux {info['kernel']} {info['arch']}, {info['cpu']}, "
            f"{info['cores']} cores, {info['memory_gib']} GiB; BCC {v['bcc']}, {v['tracespec']}, "
            f"Python {v['python']}; bpf_jit_enable={info['bpf_jit_enable']}, "
            f"bpf_stats_enabled={info['bpf_stats_enabled']}; {info['time_utc']}")
    return info, line


def _row(rung: Rung, samples: list[Sample], expected_records: int) -> dict:
    ok = [s for s in samples if s.ok]
    ns = [s.ns_per_syscall for s in ok]
    lost = [s.lost for s in ok if s.lost is not None]
    records = [s.records for s in ok if s.records is not None]
    r = {"rung": rung.id, "adds": rung.adds, "over": rung.over, "parts": sorted(rung.parts),
         "status": "ok" if ok else "failed", "reason": next((s.error for s in samples if not s.ok), ""),
         "median": round(statistics.median(ns), 1) if ns else None,
         "min": round(min(ns), 1) if ns else None, "max": round(max(ns), 1) if ns else None,
         "lost_max": max(lost) if lost else None,
         "records_min": min(records) if records else None, "records_expected": None,
         "runs_with_foreign_bpf": sum(1 for s in ok if s.foreign_bpf),
         "runs_with_other_load": sum(1 for s in ok if s.other_cores >= BUSY_CORES),
         "runs": [asdict(s) for s in samples], "overhead_ns": None, "marginal_ns": None}
    if rung.ring:
        r["records_expected"] = expected_records
    missing = r["records_min"] is not None and r["records_min"] < expected_records
    if r["status"] == "ok" and (r["lost_max"] or missing):
        r["status"] = "lossy"
    return r


def _compare(rows: list[dict]) -> None:
    """Overhead and marginal cost from the medians (so that marginals add up to overheads), and in the
    JSON only, the marginal as the median of per-repetition differences: runs of the same repetition
    are seconds apart, so slow drift of the machine cancels out of those."""
    by_id = {r["rung"]: r for r in rows}
    median = {r["rung"]: r["median"] for r in rows}
    for r in rows:
        r["marginal_paired_ns"] = None
        if r["median"] is None:
            continue
        if median.get("untraced") is not None:
            r["overhead_ns"] = round(r["median"] - median["untraced"], 1)
        if r["over"] and median.get(r["over"]) is not None:
            r["marginal_ns"] = round(r["median"] - median[r["over"]], 1)
            pairs = [a["ns_per_syscall"] - b["ns_per_syscall"]
                     for a, b in zip(r["runs"], by_id[r["over"]]["runs"]) if a["ok"] and b["ok"]]
            if pairs:
                r["marginal_paired_ns"] = round(statistics.median(pairs), 1)


def _n(v, fmt="{:,.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _records(r: dict) -> str:
    if r["records_expected"] is None:
        return "—"
    return f"{_n(r['records_min'], '{:,}')} of {r['records_expected']:,}"


def markdown(results: dict) -> str:
    lines = [f"Cost probe: {results['iterations']:,} getppid() per run, {results['reps']} repetitions, "
             f"ring buffer {results['ring_mib']} MiB", "",
             "| rung | adds | ns/syscall (median) | min – max | overhead ns | marginal ns | over | "
             "getppid records drained | records lost |",
             "|---|---|--:|--:|--:|--:|---|--:|--:|"]
    for r in results["rows"]:
        mark = ("†" if r["runs_with_foreign_bpf"] else "") + ("‡" if r["runs_with_other_load"] else "")
        if r["status"] == "failed":
            lines.append(f"| {r['rung']} | {r['adds']} | failed: {r['reason']} | | | | | | |")
            continue
        flag = " ✗" if r["status"] == "lossy" else ""
        lines.append(f"| {r['rung']}{mark}{flag} | {r['adds']} | {_n(r['median'])} | {_n(r['min'])} – "
                     f"{_n(r['max'])} | {_n(r['overhead_ns'])} | {_n(r['marginal_ns'])} | "
                     f"{r['over'] or '—'} | {_records(r)} | {_n(r['lost_max'], '{:,}')} |")
    lines += ["", results["machine_line"], ""]
    lines += [f"- {note}" for note in results["notes"]]
    return "\n".join(lines) + "\n"


def probe(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise BenchError("must run as root (it loads BPF programs): "
                         "sudo .venv/bin/python bench/cost_probe.py")
    if os.uname().machine != "x86_64":
        raise BenchError(f"x86-64 only (the programs read x86 pt_regs), not {os.uname().machine}")
    rungs = _selected(args.rungs)
    try:
        import bcc
    except ImportError as e:
        raise BenchError(f"cannot import BCC ({e}): run with .venv/bin/python, or install python3-bpfcc")
    try:
        from tracespec.runtime.ringbuf import RingReader  # noqa: F401 (the ring rungs' reader)
    except ImportError as e:
        raise BenchError(f"cannot import tracespec ({e}): run from the repository with .venv/bin/python")
    if any(r.kind == "tracespec" for r in rungs) and not os.access(args.tracespec, os.X_OK):
        raise BenchError(f"{args.tracespec} not found: run ./setup, or leave the tracespec rung out "
                         "(--rungs)")
    if args.json and not os.access(os.path.dirname(os.path.abspath(args.json)), os.W_OK):
        raise BenchError(f"cannot write {args.json}: no such directory, or not writable")  # before, not after
    started = time.monotonic()
    ring_pages = args.ring_mib * 1024 * 1024 // 4096
    workdir = tempfile.mkdtemp(prefix="tracespec-cost-")
    try:
        binary = workload.build(workdir)
        quiesce = BpfQuiesce()
        info, machine_line = _machine(args.tracespec)
        progress(machine_line)
        progress("warm-up: one untraced run, not counted")
        warm = run_untraced(binary, args.iterations)
        if not warm.ok:
            raise BenchError(f"the workload does not run: {warm.error}")
        # the number the workload's loop calls, as it reports it: what the ring rungs count
        getppid_nr = workload.parse_result(subprocess.run([binary, "getppid", "1"], capture_output=True,
                                                          text=True).stdout)["nr"][0]
        samples: dict[str, list[Sample]] = {r.id: [] for r in rungs}
        total, done = args.reps * len(rungs), 0
        for rep in range(args.reps):
            for rung in rungs:
                done += 1
                foreign = quiesce.wait()
                load = OtherLoad()
                if rung.kind == "untraced":
                    s = run_untraced(binary, args.iterations)
                elif rung.kind == "tracespec":
                    s = run_tracespec(args.tracespec, binary, args.iterations, workdir)
                else:
                    s = run_bpf(bcc, rung, binary, args.iterations, ring_pages, getppid_nr)
                s.other_cores, s.foreign_bpf = load.cores(), foreign
                samples[rung.id].append(s)
                if s.ok:
                    msg = f"{s.ns_per_syscall:,.1f} ns/syscall"
                    if s.records is not None:
                        msg += f", {s.records:,} getppid records drained"
                    if s.lost is not None:
                        msg += f", {s.lost:,} lost"
                    if foreign:
                        msg += f" ({foreign} foreign BPF programs loaded)"
                    if s.other_cores >= BUSY_CORES:
                        msg += f" (other processes used {s.other_cores:.2f} cores)"
                else:
                    msg = f"FAILED: {s.error}"
                progress(f"[{done:>3}/{total}] rep {rep + 1}/{args.reps} {rung.id:<9} {msg}")
    finally:
        proc.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)

    rows = [_row(r, samples[r.id], r.records_per_syscall * args.iterations) for r in rungs]
    _compare(rows)
    notes = [
        "ns/syscall: the workload's own timing of its getppid() loop (CLOCK_MONOTONIC) / syscalls; "
        "overhead: median − untraced median; marginal: median − the median of the rung in 'over'.",
        "The ladder is cumulative (each rung = the one before + one part); hash and output are side "
        "rungs that replace a part, compared over the same base as the part they replace.",
    ]
    if any(r.ring for r in rungs):
        notes.append(f"Ring rungs: a {args.ring_mib} MiB BPF ring buffer ({ENTER_BYTES}+{EXIT_BYTES} bytes "
                     "of record a syscall, as tracespec's specs/all.yaml), drained during the run; "
                     "'drained': the workload's getppid records the reader saw (worst run); 'lost': the "
                     "records the program found no room for (worst run).")
    if any(r.kind == "tracespec" for r in rungs):
        notes.append("tracespec: records lost is its own count (its last line on stderr); its ring buffer "
                     "is its default size, its trace goes to a file in a temp dir.")
    if any(r["status"] == "lossy" for r in rows):
        notes.append("✗: some runs lost records or did not deliver all of them: the rung did less work "
                     "than it should, and its numbers are not valid. Use a larger --ring-mib.")
    if any(r["runs_with_foreign_bpf"] for r in rows):
        notes.append("†: some runs started while BPF programs this probe did not load were attached "
                     "(another tracer or test suite): those runs paid for them too.")
    if any(r["runs_with_other_load"] for r in rows):
        notes.append(f"‡: during some runs other processes kept at least {BUSY_CORES} cores busy on "
                     "average (other_load.py): the machine was shared, the numbers are noisier.")
    for note in (quiesce.note, quiesce.baseline_note()):
        if note:
            notes.append(note)
    results = {
        "command": " ".join([".venv/bin/python bench/cost_probe.py", shlex.join(sys.argv[1:])]).strip(),
        "iterations": args.iterations, "reps": args.reps, "ring_mib": args.ring_mib,
        "duration_s": round(time.monotonic() - started, 1), "machine": info, "machine_line": machine_line,
        "rows": rows, "programs": {r.id: program(r, ring_pages) for r in rungs if r.kind == "bpf"},
        "notes": notes,
    }
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(json.dumps(results, indent=1) + "\n")
        except OSError as e:
            raise BenchError(f"cannot write {args.json}: {e.strerror}")
    print(markdown(results), end="")
    return 0 if all(r["status"] == "ok" for r in rows) else 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.show_c:
        if args.show_c not in RUNG or RUNG[args.show_c].kind != "bpf":
            bpf_rungs = ", ".join(r.id for r in RUNGS if r.kind == "bpf")
            print(f"cost_probe.py: no program for {args.show_c!r}; rungs with one: {bpf_rungs}",
                  file=sys.stderr)
            return 1
        print(program(RUNG[args.show_c], args.ring_mib * 1024 * 1024 // 4096), end="")
        return 0
    return guarded("cost_probe.py", lambda: probe(args), args.debug, "nothing written")


if __name__ == "__main__":
    sys.exit(main())
