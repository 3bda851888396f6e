"""ValidatedSpec (+ target and buffer choices) -> Plan.

The decisions, each driven by the kernel profile or the spec:
  attach   raw tracepoints when many syscalls are traced (one program sees every syscall, cheaply), per-
           syscall tracepoints when few are (syscalls nobody asked for then cost almost nothing), classic
           raw_syscalls tracepoints on kernels before raw tracepoints (4.17)
  output   the BPF ring buffer (5.8+, one ordered buffer) or per-CPU perf buffers
  layouts  one enter and one exit record per syscall that fetches memory or has its own filter; one
           shared raw layout for the rest
  filters  each syscall's effective filter (global AND its own) split into leaves known at entry and at
           exit; an exit leaf means the enter record waits in a stash map until the syscall returns. A
           leaf matching copied memory is known at entry unless the copy faults (the page is not in
           yet): the event then waits the same way, and the exit handler copies the memory again
"""

from __future__ import annotations

from dataclasses import replace

from tracespec.catalogue.dirents import DIRENT_HEADERS, DIRENTS_SIZE, DIRENTS_SLOT
from tracespec.catalogue.descriptors import (ENDPOINT_SYSCALLS, FD_INODE_MEMBERS, FD_INODE_SLOT, INODE_DESCRIPTORS,
                                             SOCK_ENDS_MEMBERS, SOCK_ENDS_SIZE, SOCK_ENDS_SLOT)
from tracespec.catalogue.kinds import NAMED_CAPTURES, Capture, Phase, Written
from tracespec.catalogue.structs import (MMSG_IOV_BYTES, MMSG_IOV_COUNT, MMSG_IOV_COUNT_UNROLLED, MMSG_KINDS,
                                        POINTER_MEMBERS, mmsg_members)
from tracespec.errors import SpecError
from tracespec.plan.model import (FIXED_PARAMS, SIGNAL_PROGRAM, SIGNAL_SENT_PROGRAM, ArgField, Attach, Attachment, FamilyPlan,
                                  FilterPlan, Output, Param, ParamIndex, Placement, Plan, ServePlan,
                                  RecorderPlan, RecordLayout, Schema, SlotLayout, SlotLen, SummaryPlan, SyscallInfo,
                                  TableEntry, TablePlan, TableSlot, TailCall, Target, TargetKind,
                                  target_task_members)
from tracespec.validate import SelectedSyscall, ValidatedSpec
from tracespec.kernel.profile import FEATURES
from tracespec.validate.typed import TAnd, TExpr, TStrMatch, leaves

SIGRETURN = "rt_sigreturn"
MANY_SYSCALLS = 48  # above this many, one raw tracepoint beats one tracepoint per syscall
SCRATCH_SIZE = 32768  # per-CPU record building space (the largest per-CPU map value)
MAX_RECORD = 16383  # records are built at offsets masked to 14 bits
# Default ring buffer: a one-second burst of a million syscalls from one process fits even if the reader
# took none of it (a syscall without copies is two records of 40 to 88 bytes). `run` lowers it on small
# machines (runtime.preflight.default_buffer_bytes).
RING_BYTES = 128 << 20
# wake the reader every 1/64 of the ring per CPU, at most every MiB, at least every page: 64 CPUs that
# each wrote just short of it leave the ring full at most; the reader's own poll bounds the latency
WAKE_RING_FRACTION = 64
WAKE_BYTES_MAX = 1 << 20
PERF_PAGES = 2048  # default perf buffer: 8 MiB per CPU
SUMMARY_RING_BYTES = 1 << 20  # a summary's ring buffer carries only forks and exits of the targets
RECORDER_BYTES = 64 << 20  # a flight recorder's default buffer, all CPUs together
PAGE = 4096
UNROLLED_CONTAINS_MAX = 64  # without bounded loops a `contains` is unrolled over every position
# The cost model of a `contains` on a copied string (codegen/filter_c.py _slot_helper_words): one loop step
# per position the pattern could start at (the argument's max - len + 1, whatever the string's real
# length: the loop has no branch, so the verifier checks it as one path), each step about 12 instructions
# plus 5 per 8 bytes of pattern. The verifier checks the loop once for each distinct state that reaches
# it: measured 2 to 3.3 times on 6.18 for a filter's first contains (one of 64 bytes on a 4095-byte path:
# 694k processed instructions), and each further contains about doubles it (its loop is checked once per
# outcome of the loops before), so the model counts 4 walks for the first, 8 for the second ... The budget is the verifier's 1M processed instructions per
# program, less room for the rest of the program; the limits it gives were checked against real loads
# (tests/test_check_agrees_with_run.py). Without bounded loops (before 5.3) the loop is unrolled and
# counted once against BCC's 4096 instructions per program.
VERIFIER_BUDGET = 900_000
UNROLLED_BUDGET = 3_000
CONTAINS_WALKS = 4  # for a filter's first contains; doubled for each one after it
EXECVE_NRS = (59, 322)  # execve, execveat: where a started command begins to be traced
# The x86_64 syscall argument registers, in order, and their offsets in struct pt_regs.
# A raw tracepoint copies r10..di (64 bytes from offset 56) once and picks the arguments out of it.


RAW_ARGS = tuple(ArgField(f"arg{i}", i, "hex", 8, False) for i in range(6))


GENERIC_KINDS = (0, 1)  # the generic layout's enter and exit record kinds


def _raw_args(infos) -> tuple[ArgField, ...]:
    """The argument words a family's layout records: as many as its syscalls with the most take (a
    getppid costs no argument words)."""
    return RAW_ARGS[:max((len(i.args) for i in infos), default=6)]


def _slot_shape(sl: SlotLayout, sel: SelectedSyscall) -> tuple:
    """What decides a slot's C code: everything but the argument's name (and the length's C type)."""
    size_type = None
    if sl.size_index is not None:
        a = sel.syscall.args[sl.size_index]
        size_type = (a.ctype.size, a.ctype.signed)
    return (sl.capture, sl.index, sl.max, sl.inline, sl.size_index, sl.size_from_ret, sl.struct, sl.count,
            sl.size_deref, size_type, sl.elem, sl.bits, sl.bits_over, sl.written, sl.part, sl.via, sl.via_len,
            sl.via_len_size, sl.entry, sl.plus)


def _info(sel: SelectedSyscall) -> SyscallInfo:
    sc = sel.syscall
    args = tuple(ArgField(ap.arg.name, ap.arg.index, str(ap.kind), ap.arg.ctype.size, ap.arg.ctype.signed)
                 for ap in sel.args)
    limit = max((ap.fetch.parts_max for ap in sel.args
                 if ap.fetch is not None and ((ap.fetch.struct or "") in POINTER_MEMBERS
                                              or ap.kind.name in MMSG_KINDS)), default=0)
    return SyscallInfo(sc.nr, sc.name, "hex" if sel.raw and sc.ret != "none" else sc.ret, args, sel.raw, limit)


ENVP_COUNT_LOOP = 1024  # execve's environment variables counted at most, with bounded loops (5.3+)
ENVP_COUNT_UNROLLED = 64  # ... and when the loop must be unrolled (128 made execve 4,447 instructions, over 4.19's 4,096)


def _slot(sel: SelectedSyscall, ap, bounded_loops: bool, phase: Phase = Phase.ENTER) -> SlotLayout:
    f = ap.fetch
    size_index = None
    from_ret = False
    if f.size_from == "ret":
        from_ret = True
    elif f.size_from is not None:
        size_index = sel.syscall.arg(f.size_from).index
    if f.capture == Capture.IOVEC and f.at == Phase.EXIT:
        from_ret = True  # readv fills its buffers up to what it returns
    if ap.kind.name in MMSG_KINDS and phase == Phase.EXIT:
        from_ret, size_index = True, None  # the entries the kernel sent or filled: as many as it returns
    count = f.count
    if f.capture == Capture.PTRCOUNT:
        count = ENVP_COUNT_LOOP if bounded_loops else ENVP_COUNT_UNROLLED
    return SlotLayout(arg=ap.arg.name, index=ap.arg.index, capture=f.capture, max=f.max,
                      inline=f.mode == "inline" and f.capture == Capture.STRING, size_index=size_index,
                      size_from_ret=from_ret, struct=f.struct, count=count, size_deref=f.deref, elem=f.elem,
                      bits=f.bits, bits_over=f.bits_over, written=f.written if phase == Phase.EXIT else Written.OK,
                      plus=f.plus)


MEMBER_IOV_BYTES = 8192  # the iovecs of a struct's pointer member (msghdr's msg_iov) take at most this much


def _dirent_slots(sel: SelectedSyscall, exit_slots: tuple[SlotLayout, ...], bounded: bool) -> tuple[SlotLayout, ...]:
    """getdents' entry count (catalogue/dirents.py), beside the copy of the buffer it wrote: walking the
    entries takes a bounded loop (kernels since 5.3). getdents and getdents64 share the slot's shape, and so
    one family: the C takes each one's header size by its number."""
    if sel.syscall.name not in DIRENT_HEADERS or not bounded:
        return ()
    copied = [sl for sl in exit_slots if sl.capture == Capture.BUFFER and sel.syscall.args[sl.index].kind.name == "obuf"]
    if not copied:
        return ()
    return (SlotLayout(arg=DIRENTS_SLOT, index=copied[0].index, capture=Capture.DIRENTS, max=DIRENTS_SIZE,
                       inline=True),)


def _part_slots(sel: SelectedSyscall, ap, phase: Phase, bounded: bool) -> tuple[SlotLayout, ...]:
    """The slots of a struct's pointer members (msghdr's name, iovecs and control data): copied when the
    memory is final, at entry for a struct the kernel reads, when the call returns for one it fills."""
    f = ap.fetch
    if ap.kind.name in MMSG_KINDS:
        return _mmsg_part_slots(sel, ap, phase, bounded)
    members = POINTER_MEMBERS.get(f.struct or "") if f.capture == Capture.STRUCT else None
    final = Phase.ENTER if f.at == Phase.ENTER else Phase.EXIT
    # what the kernel writes through a member's pointer (clone3's pidfd) is final when the call returns
    members = tuple(m for m in members or () if phase == (Phase.EXIT if m.at_exit else final))
    if not members:
        return ()
    # a struct's iovecs share MEMBER_IOV_BYTES: a long -s shortens each buffer rather than refusing the record
    iov_max = max(1, min(f.parts_max, MEMBER_IOV_BYTES // max(f.count, 1) - 12))
    return tuple(SlotLayout(arg=ap.arg.name, index=ap.arg.index, capture=Capture.IOVEC if m.iovec else Capture.BUFFER,
                            max=m.max or iov_max, inline=False, size_from_ret=m.iovec and phase == Phase.EXIT,
                            count=f.count if m.iovec else 0, part=m.part, via=m.ptr, via_len=m.length,
                            via_len_size=m.length_size)
                 for m in members)


def _mmsg_part_slots(sel: SelectedSyscall, ap, phase: Phase, bounded: bool) -> tuple[SlotLayout, ...]:
    """The pointer members of each mmsghdr entry copied (catalogue/structs.py MMSG_*): sendmmsg's when
    it is called (the kernel reads them), recvmmsg's when it returns (it filled them). An entry past the
    array's count copies nothing."""
    f = ap.fetch
    sending = ap.kind.name == "immsgvec"
    if phase != (Phase.ENTER if sending else Phase.EXIT):
        return ()
    count = MMSG_IOV_COUNT if bounded else MMSG_IOV_COUNT_UNROLLED
    iov_max = max(1, min(f.parts_max, MMSG_IOV_BYTES // (count * f.count) - 12))
    size_index = sel.syscall.arg(f.size_from).index if phase == Phase.ENTER else None
    return tuple(SlotLayout(arg=ap.arg.name, index=ap.arg.index, capture=Capture.IOVEC if m.iovec else Capture.BUFFER,
                            max=m.max or iov_max, inline=False, size_index=size_index,
                            size_from_ret=phase == Phase.EXIT, count=count if m.iovec else 0, part=m.part,
                            via=m.ptr, via_len=m.length, via_len_size=m.length_size, entry=i)
                 for i in range(f.count) for m in mmsg_members(i))


def _filter_plan(expr: TExpr | None) -> FilterPlan | None:
    if expr is None:
        return None
    seen: list = []
    for leaf in leaves(expr):
        if not any(leaf is s for s in seen):
            seen.append(leaf)
    exit_bits = frozenset(i for i, leaf in enumerate(seen) if leaf.field.phase == Phase.EXIT)
    return FilterPlan(expr, tuple(seen), exit_bits)


def contains_cost(n: int, max_len: int, bounded: bool, nth: int = 0) -> int:
    """Verifier instructions a filter's nth contains (from 0), of an n-byte pattern on a string of at
    most max_len bytes, costs."""
    positions = max(max_len - n + 1, 0)
    words = (n + 7) // 8
    return positions * (12 + 5 * words) * ((CONTAINS_WALKS << nth) if bounded else 1)


def _combine(a: TExpr | None, b: TExpr | None) -> TExpr | None:
    if a is None:
        return b
    if b is None:
        return a
    return TAnd((a, b), a.loc)


def _matched_args(expr: TExpr | None) -> set[str]:
    """The arguments whose copied memory a filter matches."""
    return {leaf.field.name for leaf in (leaves(expr) if expr is not None else ())
            if isinstance(leaf, TStrMatch) and leaf.field.arg}


def _uses_args(expr: TExpr | None) -> bool:
    return expr is not None and any(leaf.field.arg for leaf in leaves(expr))


class _Planner:
    def __init__(self, v: ValidatedSpec, target: Target, buffer_bytes: int | None, wakeup_batch: int | None,
                 ring_cap: int = 0, summary: SummaryPlan | None = None, recorder_bytes: int | None = None,
                 cpus: int = 1, serve: ServePlan | None = None, table: bool | None = None,
                 wide_attach: Attach | None = None):
        self.table_choice = table
        self.wide_attach = wide_attach
        self.shared_filter: FilterPlan | None = None
        self.serve = serve
        self.ring_cap = ring_cap
        self.summary = summary
        self.recording = recorder_bytes is not None
        self.recorder_bytes = recorder_bytes
        self.cpus = max(1, cpus)
        self.v = v
        self.profile = v.profile
        self.target = target
        self.buffer_bytes = buffer_bytes
        self.wakeup_batch = wakeup_batch
        self.next_kind = len(GENERIC_KINDS)  # kept for the generic layout, which has them when it is there
        self.kept_nrs: frozenset[int] = frozenset()  # fd_paths' bookkeeping syscalls (bookkeeping())

    def _wakeup_batch(self, output: Output, recorder, pages: int) -> int:
        """Bytes a CPU writes to the ring buffer between two wakeups of the reader (0: none of that)."""
        if output != Output.RINGBUF or recorder is not None or self.serve is not None:
            return 0
        if self.wakeup_batch is not None:
            return self.wakeup_batch
        return max(PAGE, min(WAKE_BYTES_MAX, pages * PAGE // WAKE_RING_FRACTION))

    def kind(self) -> int:
        k = self.next_kind
        self.next_kind += 1
        return k

    def err(self, message: str, sel: SelectedSyscall | None, hint: str | None = None) -> SpecError:
        loc = sel.rules[0] if sel and sel.rules else self.v.spec.loc  # (a widened spec's others: no rule)
        return SpecError(message, loc, hint, source=self.v.spec.text)

    def run(self) -> Plan:
        v, p = self.v, self.profile
        global_filter = v.filter
        generic_ok = not _uses_args(global_filter)
        specific: list[SelectedSyscall] = []
        generic: list[SelectedSyscall] = []
        for sel in v.syscalls:
            fetches = any(ap.fetch is not None for ap in sel.args) or bool(self.descriptor_slots(sel))
            if fetches or sel.filter is not None or not generic_ok:
                specific.append(sel)
            else:
                generic.append(sel)
        # fd_paths' bookkeeping: families of their own, outside the filters (and so never generic: the
        # generic handler has the global filter), the table-driven programs and the counts
        kept = self.bookkeeping()
        self.kept_nrs = frozenset(sel.syscall.nr for sel in kept)
        specific += kept

        attach = self.choose_attach(list(v.syscalls) + kept)
        # a recorder's buffers must be overwritable: only perf buffers are
        output = Output.RINGBUF if p.has("ringbuf") and not self.recording else Output.PERFBUF

        self.check_features([sel.filter for sel in specific] + [global_filter], v)
        for sel in specific:
            if sel.syscall.nr not in self.kept_nrs:
                self.check_filter_cost(sel, _combine(global_filter, sel.filter), v)
        plans = self.families(specific, global_filter, attach)
        plans, table = self.table(plans, attach)
        generic_infos = tuple(_info(s) for s in generic)
        generic_enter = generic_exit = None
        generic_filter = None
        if generic:
            # All six words, and the first two kinds whatever the rest of the spec: which syscalls come
            # through it is data (ts_generic_nrs), so its C is the same for any selection (forty bytes
            # more on a close's record than its one word, within the benchmark's noise).
            generic_enter = RecordLayout(GENERIC_KINDS[0], Phase.ENTER, (), "*", RAW_ARGS, ())
            generic_exit = RecordLayout(GENERIC_KINDS[1], Phase.EXIT, (), "*", (), ())
            generic_filter = _filter_plan(global_filter)

        layouts = []
        for sp in plans:
            layouts += [sp.enter, sp.exit]
        if generic_enter:
            layouts += [generic_enter, generic_exit]
        schema = Schema(tuple(layouts), tuple(sorted([m for sp in plans for m in sp.members] + list(generic_infos),
                                                     key=lambda i: i.nr)), v.spec.path)
        max_record = max(lay.max_size for lay in layouts)
        for sp in plans:
            if sp.enter.max_size > MAX_RECORD or sp.exit.max_size > MAX_RECORD:
                sel = next(s for s in specific if s.syscall.nr == sp.members[0].nr)
                size = max(sp.enter.max_size, sp.exit.max_size)
                raise self.err(f"a {sp.members[0].name} record could reach {size} bytes; records are limited "
                               f"to {MAX_RECORD}", sel, hint="lower paths.max, strings.max or buffers.max for it")
        # a summary emits no records: nothing to copy again for them
        # (the table's programs have the retry whatever their rows, and skip it for a row without entry
        # copies: the same C for any rows)
        retry = (any(sp.enter.slots for sp in plans) or table is not None) and self.summary is None
        variable = retry or any(lay.variable for lay in layouts) or table is not None
        stash_size = max((sp.enter.max_size for sp in plans if sp.stash), default=0)
        if generic_filter is not None and generic_filter.has_exit:
            stash_size = max(stash_size, generic_enter.max_size)
        if stash_size:  # a power of two: the exit handler bounds the stashed length with stash_size - 1
            stash_size = 1 << (stash_size - 1).bit_length()
        # a summary times every call; the table's programs keep a row's entry when its bit says (so that
        # tables of any rows are the same C)
        inflight = (any(sp.filter is not None or sp.exit_args for sp in plans) or table is not None
                    or generic_filter is not None or self.summary is not None)

        attachments, tail_calls, arm_events = self.attachments(attach, plans, generic, generic_infos)
        signals, signals_note = self.signals()
        if signals:
            attachments.append(Attachment(SIGNAL_PROGRAM, "auto", "signal_deliver"))
        signals_sent = signals  # every target's tasks can be recognised from the sender's side
        if signals_sent:
            attachments.append(Attachment(SIGNAL_SENT_PROGRAM, "auto", "signal_generate"))
        params = [Param(i, name, (self.target.cgroup or "") if i == ParamIndex.TARGET_CGROUP_ID else "")
                  for i, name in FIXED_PARAMS.items()]
        filters = [sp.filter for sp in plans] + [generic_filter]
        for fp in filters:
            for leaf in (fp.leaves if fp else ()):
                if leaf.field.name == "cgroup":
                    for path in (leaf.values if hasattr(leaf, "values") else (leaf.value,)):
                        if not any(p.value == path and p.name == "cgroup_id" for p in params):
                            params.append(Param(len(params), "cgroup_id", path))

        fd_inode_param = sock_ends_param = None
        captures = {sl.capture for sp in plans for sl in sp.exit.slots}
        if captures & {Capture.FDINODE, Capture.SOCKENDS}:  # a socket's endpoints are found from its file too
            fd_inode_param = len(params)
            params += [Param(len(params) + i, f"btf:{member}") for i, member in enumerate(FD_INODE_MEMBERS)]
        if Capture.SOCKENDS in captures:
            sock_ends_param = len(params)
            params += [Param(len(params) + i, f"btf:{member}") for i, member in enumerate(SOCK_ENDS_MEMBERS)]
        target_task_param = None
        members = target_task_members(self.target.kind, self.serve is not None) if signals_sent else ()
        if members:  # the receiver's group, or name, from its task_struct: it is not the current task there
            target_task_param = len(params)
            params += [Param(len(params) + i, f"btf:{member}") for i, member in enumerate(members)]
        summary = None
        if self.summary is not None:
            summary = replace(self.summary, epoch_param=len(params))
            params.append(Param(len(params), "summary_epoch"))
        recorder = None
        if self.recording:
            per_cpu = max(16, (self.recorder_bytes or RECORDER_BYTES) // self.cpus // PAGE)
            recorder = RecorderPlan(1 << (per_cpu.bit_length() - 1), v.trigger)

        if self.summary is not None and output == Output.RINGBUF:
            pages = SUMMARY_RING_BYTES // PAGE
        elif recorder is not None:
            pages = recorder.pages_per_cpu
        elif output == Output.RINGBUF:
            size = self.buffer_bytes or (min(RING_BYTES, max(self.ring_cap, 1 << 20)) if self.ring_cap else RING_BYTES)
            pages = max(1, size // PAGE)
            pages = 1 << (pages.bit_length() - 1)  # a power of two, as the ring buffer requires
        else:
            pages = max(8, (self.buffer_bytes or PERF_PAGES * PAGE) // PAGE)
            pages = 1 << (pages.bit_length() - 1)

        summarised = self.summary is not None
        plans = [replace(sp, enter_buffer=record_buffer(sp.enter, output, sp.filter is not None, summarised, sp.stash),
                         exit_buffer=record_buffer(sp.exit, output, sp.filter is not None, summarised, False))
                 if not sp.table else replace(sp, enter_buffer=Placement.SCRATCH, exit_buffer=Placement.SCRATCH)
                 for sp in plans]  # the table-driven programs build every record in scratch
        generic_stash = generic_filter is not None and generic_filter.defers and not summarised
        helpers = needed_helpers(plans, generic_filter, self.summary is not None,
                                 v.trigger if recorder is not None else None,
                                 self.target.kind != TargetKind.ALL or self.serve is not None or signals_sent)
        return Plan(
            spec_path=v.spec.path, profile=p.name, attach=attach, output=output,
            # tracespec.bpf.h's own names for the user-memory helpers (why: a comment there)
            read_user="ts_probe_read_user" if p.has("probe_read_user") else "bpf_probe_read",
            read_user_str="ts_probe_read_user_str" if p.has("probe_read_user") else "bpf_probe_read_str",
            read_kernel="bpf_probe_read_kernel" if p.has("probe_read_user") else "bpf_probe_read",
            bounded_loops=p.has("bounded_loops"), target=self.target, families=tuple(plans),
            generic=generic_infos, generic_enter=generic_enter, generic_exit=generic_exit,
            generic_filter=generic_filter, tail_calls=tail_calls,
            generic_events=tuple((s.syscall.nr, s.syscall.event) for s in generic),
            # (a wide program's generic handler serves the syscalls a run writes into ts_generic_nrs)
            generic_everything=v.every_syscall and not plans and self.wide_attach is None,
            schema=schema, attachments=tuple(attachments),
            params=tuple(params), inflight=inflight, retry=retry,
            retry_bitmap=retry and p.has("atomic_bitops"),
            stash_size=stash_size,
            # a record that waits in ts_stash for its exit is built in scratch, whatever its size
            scratch_size=SCRATCH_SIZE if variable or stash_size else 0, ring_pages=pages, max_record=max_record,
            # processes given by pid are never armed, but their program is a started command's: one compile
            # (one cache entry, warmed by ./setup) serves both, at the cost of a test at untraced execs
            arm_on_exec=self.target.kind in (TargetKind.COMMAND, TargetKind.PIDS), exec_nrs=v.exec_nrs,
            exec_arm_events=arm_events,
            # a wide program's runs attach it wherever they leave execve or execveat out (plan/restrict.py)
            exec_arm_program=bool(arm_events) or (self.wide_attach == Attach.SYSCALL_TP
                                                  and self.target.kind in (TargetKind.COMMAND, TargetKind.PIDS)),
            target_bitmap=self.target.kind in (TargetKind.COMMAND, TargetKind.PIDS) and p.has("atomic_bitops"),
            wakeup_batch=self._wakeup_batch(output, recorder, pages), summary=summary, recorder=recorder, helpers=helpers,
            fd_inode_param=fd_inode_param, sock_ends_param=sock_ends_param, target_task_param=target_task_param,
            generic_stash=generic_stash,
            generic_enter_buffer=record_buffer(generic_enter, output, generic_filter is not None, summarised,
                                               generic_stash) if generic_enter else Placement.STACK,
            generic_exit_buffer=record_buffer(generic_exit, output, generic_filter is not None, summarised,
                                              False) if generic_exit else Placement.STACK,
            serve=self.serve, table=table, signals=signals, signals_note=signals_note, signals_sent=signals_sent,
            sigreturn_frame=(attach == Attach.RAW_TP and self.summary is None
                             and any(s.syscall.name == SIGRETURN for s in v.syscalls)),
            sigreturn_exit=(attach in (Attach.RAW_TP, Attach.RAW_SYSCALLS) and self.summary is not None
                            and any(s.syscall.name == SIGRETURN for s in v.syscalls)),
        )

    def signals(self) -> tuple[bool, str | None]:
        """Whether the program records signal deliveries, as strace prints them by default (the spec's
        `signals: false` is strace's -e signal=none), and why not when the spec wants them."""
        if not self.v.spec.signals:
            return False, None
        if self.summary is not None:
            return False, None  # a summary counts syscalls: strace -c prints no signals either
        if not self.profile.has("raw_tracepoint"):
            return False, "this kernel has no raw tracepoints (signal_deliver's siginfo needs one)"
        return True, None

    def check_features(self, filters, v: ValidatedSpec) -> None:
        """A filter asking for what the target kernel cannot do is an error naming the feature."""
        p = self.profile
        for expr in filters:
            for leaf in (leaves(expr) if expr is not None else ()):
                need = None
                if leaf.field.name == "cgroup" and not leaf.field.arg:
                    need, what = "cgroup_id", "the cgroup field"
                if isinstance(leaf, TStrMatch) and leaf.op == "contains" and leaf.field.arg \
                        and not p.has("bounded_loops"):
                    sel = next(s for s in v.syscalls if s.syscall.arg(leaf.field.name) is not None)
                    ap = next(a for a in sel.args if a.arg.name == leaf.field.name)
                    if ap.fetch is not None and ap.fetch.max > UNROLLED_CONTAINS_MAX:
                        need, what = "bounded_loops", f"contains on strings over {UNROLLED_CONTAINS_MAX} bytes"
                if need is not None and not p.has(need):
                    raise SpecError(
                        f"{what} needs {FEATURES[need][1]} (Linux {p.since(need)}); the target is {p.name}",
                        leaf.loc, hint="drop the condition, use a shorter max for that argument, or target "
                                       "a newer kernel with --kernel", source=v.spec.text)

    def check_filter_cost(self, sel: SelectedSyscall, expr: TExpr | None, v: ValidatedSpec) -> None:
        """Refuse a filter whose string matches the kernel's verifier would give up on, naming the leaf
        that crosses the budget (see contains_cost for the model)."""
        bounded = self.profile.has("bounded_loops")
        budget = VERIFIER_BUDGET if bounded else UNROLLED_BUDGET
        total = nth = 0
        for leaf in (leaves(expr) if expr is not None else ()):
            if not (isinstance(leaf, TStrMatch) and leaf.op == "contains" and leaf.field.arg):
                continue
            ap = next((a for a in sel.args if a.arg.name == leaf.field.name), None)
            if ap is None or ap.fetch is None:
                continue
            cost = contains_cost(len(leaf.value), ap.fetch.max, bounded, nth)
            if total + cost > budget:
                most = max((n for n in range(1, 256)
                            if contains_cost(n, ap.fetch.max, bounded, nth) <= budget - total), default=0)
                total += cost
                room = (f"here it may have at most {most}" if most else
                        "no contains fits beside the others")
                raise SpecError(
                    f"{sel.syscall.name}'s filter asks the kernel's verifier to check about {total} instructions "
                    f"for its contains on {ap.arg.name} (max {ap.fetch.max}); it checks at most {budget}",
                    leaf.loc, hint=f"this pattern has {len(leaf.value)} bytes and {room}: use a shorter "
                                   f"pattern, fewer contains, or a lower max for {ap.arg.name} "
                                   f"(paths.max or strings.max)", source=v.spec.text)
            total += cost
            nth += 1

    def choose_attach(self, selected) -> Attach:
        if self.wide_attach is not None:  # a wide program: the attach mode of the spec it stands for
            return self.wide_attach
        p = self.profile
        # rt_sigreturn's mask and return value are in the signal frame, found from the user stack
        # pointer: the raw tracepoint's pt_regs has it, a syscall tracepoint's context does not
        needs_raw = any(s.syscall.event is None or s.syscall.name == SIGRETURN for s in selected)
        many = self.v.every_syscall or len(selected) > MANY_SYSCALLS
        if needs_raw or many or not p.has("syscall_tracepoints"):
            return Attach.RAW_TP if p.has("raw_tracepoint") else Attach.RAW_SYSCALLS
        return Attach.SYSCALL_TP

    def families(self, specific: list[SelectedSyscall], global_filter, attach: Attach) -> list[FamilyPlan]:
        """Group the syscalls that are recorded alike, and plan each group once."""
        bounded = self.profile.has("bounded_loops")
        shared_filter = _filter_plan(global_filter) if not _uses_args(global_filter) else None
        self.shared_filter = shared_filter
        groups: dict[tuple, list[tuple[SelectedSyscall, tuple, tuple]]] = {}
        for sel in specific:
            enter = tuple(sl for ap in sel.args if ap.fetch and ap.fetch.at in (Phase.ENTER, Phase.BOTH)
                          for sl in (_slot(sel, ap, bounded),) + _part_slots(sel, ap, Phase.ENTER, bounded))
            exit_ = tuple(sl for ap in sel.args if ap.fetch and ap.fetch.at in (Phase.EXIT, Phase.BOTH)
                          for sl in (_slot(sel, ap, bounded, Phase.EXIT),) + _part_slots(sel, ap, Phase.EXIT,
                                                                                        bounded))
            # a struct the kernel reads, with pointers it writes through (clone3's): those at exit
            exit_ += tuple(sl for ap in sel.args if ap.fetch and ap.fetch.at == Phase.ENTER
                           for sl in _part_slots(sel, ap, Phase.EXIT, bounded))
            exit_ += self.descriptor_slots(sel)
            exit_ += _dirent_slots(sel, exit_, bounded)
            if self.summary is not None:  # nothing is printed: copy only what a filter matches
                matched = _matched_args(_combine(global_filter, sel.filter))
                enter = tuple(sl for sl in enter if sel.syscall.args[sl.index].name in matched)
                exit_ = ()
            kept = sel.syscall.nr in self.kept_nrs
            own = not kept and (sel.filter is not None or (global_filter is not None and shared_filter is None))
            key = (
                tuple(_slot_shape(sl, sel) for sl in enter),
                tuple(_slot_shape(sl, sel) for sl in exit_),
                sel.syscall.nr if own else None,  # a filter naming arguments is one syscall's own
                sel.syscall.name in ("execve", "execveat"),
                kept,  # fd_paths' bookkeeping: unfiltered, uncounted
            )
            groups.setdefault(key, []).append((sel, enter, exit_))
        plans = []
        for n, (key, members) in enumerate(groups.items()):
            first, enter_slots, exit_slots = members[0]
            kept = key[4]
            infos = tuple(replace(_info(sel), bookkeeping=True) if kept else _info(sel) for sel, _, _ in members)
            name = f"f{n}"
            if len(members) > 1:  # slots are named by argument position, each member names its own
                enter_slots = tuple(replace(sl, arg=f"arg{sl.index}") for sl in enter_slots)
                exit_slots = tuple(replace(sl, arg=f"arg{sl.index}") if sl.capture not in KERNEL_SLOTS else sl
                                   for sl in exit_slots)
            nrs = tuple(i.nr for i in infos)
            enter = RecordLayout(self.kind(), Phase.ENTER, nrs, name, _raw_args(infos), enter_slots)
            exit_ = RecordLayout(self.kind(), Phase.EXIT, nrs, name, (), exit_slots)
            if kept:
                fplan = None  # what the table must learn, whatever the filters keep of the trace
            elif key[2] is not None:
                fplan = _filter_plan(_combine(global_filter, first.filter))
            else:
                fplan = shared_filter
            stash = fplan is not None and fplan.defers and self.summary is None
            # the exit handler needs the arguments for its own copies (tracepoints have no pt_regs), and
            # to copy again memory that faulted when an entry leaf wanted it
            exit_args = (bool(exit_slots) and attach != Attach.RAW_TP) or bool(fplan and fplan.fault_leaves)
            events = tuple((sel.syscall.nr, sel.syscall.event) for sel, _, _ in members)
            rules = sorted({str(loc) for sel, _, _ in members for loc in sel.rules})
            origin = f"{', '.join(i.name for i in infos)} ({', '.join(rules)})"
            if kept:
                origin = f"{', '.join(i.name for i in infos)} (fd_paths' descriptor bookkeeping: the spec does not trace them)"
            plans.append(FamilyPlan(name, infos, events, enter, exit_, fplan, stash, exit_args, origin,
                                    bookkeeping=kept))
        return plans

    def bookkeeping(self) -> list[SelectedSyscall]:
        """fd_paths (strace's -y): the syscalls that make, copy, close or change descriptors (and exec,
        clone, chdir, unlink: catalogue/descriptors.py DESCRIPTOR_BOOKKEEPING) that the spec does not
        trace, recorded only for the descriptor table -y keeps, so that a traced read(3, ...) names the
        file an untraced openat made. A summary prints no descriptors: none then."""
        if not self.v.spec.fd_paths or self.summary is not None:
            return []
        return list(self.v.bookkeeping)

    def descriptor_slots(self, sel: SelectedSyscall) -> tuple[SlotLayout, ...]:
        """fd_paths (strace's -y): exit slots read from the kernel as the syscall returns
        (catalogue/descriptors.py), so that descriptors are named even once their process has gone: the
        inodes of the socket or pipe descriptors it makes, and (-yy) a TCP or UDP socket's endpoints
        as bind, listen, connect or accept leave them. Other specs, and summaries, read nothing."""
        name = sel.syscall.name
        if not self.v.spec.fd_paths or self.summary is not None:
            return ()
        out = []
        made = INODE_DESCRIPTORS.get(name)
        if made is not None:
            where = made[1]
            count = 2 if where is not None else 1
            out.append(SlotLayout(arg=FD_INODE_SLOT, index=sel.syscall.arg(where).index if where else 0,
                                  capture=Capture.FDINODE, max=8 * count, inline=True, count=count))
        if name in ENDPOINT_SYSCALLS:
            where = ENDPOINT_SYSCALLS[name]
            out.append(SlotLayout(arg=SOCK_ENDS_SLOT, index=sel.syscall.arg(where).index if where else 0,
                                  capture=Capture.SOCKENDS, max=SOCK_ENDS_SIZE, inline=True,
                                  count=0 if where else 1, written=Written.ALWAYS if where else Written.OK))
        return tuple(out)

    def table(self, plans: list[FamilyPlan], attach: Attach) -> tuple[list[FamilyPlan], TablePlan | None]:
        """Which families the table-driven programs record (see table_eligible), and their rows."""
        choice = self.table_choice
        if choice is False or self.summary is not None or not self.profile.has("bounded_loops"):
            return plans, None
        chosen = [sp for sp in plans if table_eligible(sp, self.shared_filter)]
        if not chosen or (choice is None and len(chosen) < TABLE_MIN_FAMILIES):
            return plans, None
        names = {sp.name for sp in chosen}
        entries = tuple(_table_entry(sp) for sp in chosen)
        table = TablePlan(entries, max(TABLE_COMMON_SLOTS, max(max(len(e.enter), len(e.exit)) for e in entries)),
                          self.shared_filter, chosen[0].stash)
        return [replace(sp, table=sp.name in names) for sp in plans], table

    def attachments(self, attach, plans, generic, generic_infos):
        """Where each program goes. Every traced syscall has its own enter and exit programs (BCC
        loads no program over 4096 instructions, so one program for all would not fit): per-syscall
        tracepoints attach them directly; raw tracepoints reach them by tail call from one dispatcher."""
        out: list[Attachment] = []
        tails: list[TailCall] = []
        arm_events: tuple[str, ...] = ()
        if attach in (Attach.RAW_TP, Attach.RAW_SYSCALLS):
            if attach == Attach.RAW_TP:
                out += [Attachment("ts_raw_enter", "raw_tracepoint", "sys_enter"),
                        Attachment("ts_raw_exit", "raw_tracepoint", "sys_exit")]
            else:
                out += [Attachment("ts_rs_enter", "tracepoint", "raw_syscalls:sys_enter"),
                        Attachment("ts_rs_exit", "tracepoint", "raw_syscalls:sys_exit")]
            for sp in plans:
                for nr in sp.nrs:
                    prog = "table" if sp.table else sp.name
                    tails += [TailCall("ts_enter_progs", nr, f"ts_enter_{prog}"),
                              TailCall("ts_exit_progs", nr, f"ts_exit_{prog}")]
        else:
            for sp in plans:
                prog = "table" if sp.table else sp.name
                for _, ev in sp.events:
                    out.append(Attachment(f"ts_enter_{prog}", "tracepoint", f"syscalls:sys_enter_{ev}"))
                    out.append(Attachment(f"ts_exit_{prog}", "tracepoint", f"syscalls:sys_exit_{ev}"))
            generic_events = sorted(s.syscall.event for s in generic)
            for ev in generic_events:
                out.append(Attachment("ts_tp_enter", "tracepoint", f"syscalls:sys_enter_{ev}"))
            for ev in generic_events:
                out.append(Attachment("ts_tp_exit", "tracepoint", f"syscalls:sys_exit_{ev}"))
            if self.target.kind in (TargetKind.COMMAND, TargetKind.PIDS):  # (the same program: arm_on_exec)
                traced = {ev for sp in plans for _, ev in sp.events} | {s.syscall.event for s in generic}
                arm_events = tuple(ev for ev in ("execve", "execveat") if ev not in traced)
                for ev in arm_events:
                    out.append(Attachment("ts_tp_arm", "tracepoint", f"syscalls:sys_enter_{ev}"))
        if self.target.kind in (TargetKind.COMMAND, TargetKind.PIDS) and self.target.follow:
            out.append(Attachment("tracepoint__sched__sched_process_fork", "auto", "sched:sched_process_fork"))
        if self.target.kind != TargetKind.ALL:
            # each traced thread's end, as strace prints it (and, under serve, the dump of a recorded group
            # a signal killed a process of); not every process's with --all
            out.append(Attachment("tracepoint__sched__sched_process_exit", "auto", "sched:sched_process_exit"))
        if any(m.name in ("execve", "execveat") and any(s.capture == Capture.STRV for s in sp.enter.slots)
               for sp in plans for m in sp.members):
            out.append(Attachment("tracepoint__sched__sched_process_exec", "auto", "sched:sched_process_exec"))
        return out, tuple(tails), arm_events


# The table-driven programs (one enter, one exit for many families) against a pair of programs per family:
# clang compiles each family's pair in about 8 ms here (failed.yaml: 50 pairs, 2.5 s of BCC before), the
# table's pair once; its loop over a row costs each event a little (bench/cost_probe.py, see the README).
# One family is enough: the table's C does not depend on its rows, so every selection of table families
# (strace's -e trace=openat,read, or =stat) is one compiled program, which ./setup keeps ahead (0.2 s to
# start, where a pair of programs of its own was BCC's 0.7 s at its first start).
TABLE_MIN_FAMILIES = 1
# The rows' loop bound when no family needs more: the verifier walks every bound's steps at each start (4
# slots cost a two-slot spec's start about 0.03 s, 7 about 0.3 s), and most families have one or two.
TABLE_COMMON_SLOTS = 4
TABLE_CAPTURES = (Capture.STRING, Capture.BUFFER, Capture.STRUCT, Capture.SOCKADDR)
TABLE_STRING_MAX = 4095  # ts_put_str bounds a string by a mask of 12 bits
TABLE_BUFFER_MAX = 0xFFFF  # a row holds a max in 16 bits
TABLE_MAX_SLOTS = 7  # slots per record a row describes at most (codegen/table_c.py packs a row in 16 words)
TABLE_ELEM_MAX = 0xFFFF  # a row holds an element's size in 16 bits
TABLE_BITS_OVER_MAX = 3  # ... and a bit count's excess in 2
TABLE_PLUS_MAX = 15  # ... and the bytes before a length's in 4


def table_eligible(fam: FamilyPlan, shared_filter: FilterPlan | None) -> bool:
    """A family the table can describe: its filter is the one all such families share (none naming
    arguments), every copy a string or a buffer (sized by a constant, an argument, an int behind one, or
    the return value, in bytes, elements or bits; at exit copied when the return value says the kernel
    wrote it), none inline, none a struct's pointer member, and no execve (its argv is a vector, read
    again from the new process)."""
    if fam.filter is not shared_filter or any(m.name in ("execve", "execveat") for m in fam.members):
        return False
    if fam.bookkeeping:  # the table's exit counts every row's syscall (serve) and tests the trigger
        return False
    if max(len(fam.enter.slots), len(fam.exit.slots)) > TABLE_MAX_SLOTS:
        return False
    for sl in fam.enter.slots + fam.exit.slots:
        if sl.capture not in TABLE_CAPTURES or sl.inline or sl.part:  # (a struct's pointer members: msghdr)
            return False
        if sl.elem > TABLE_ELEM_MAX or (sl.capture == Capture.STRING and (sl.elem or sl.bits or
                                                                          sl.written != Written.OK)):
            return False
        if sl.bits_over > TABLE_BITS_OVER_MAX or (sl.bits_over and (sl.size_from_ret or sl.size_deref)):
            return False
        if sl.plus > TABLE_PLUS_MAX or (sl.plus and (sl.size_index is None or sl.size_deref or sl.elem or sl.bits)):
            return False
        if sl.max > (TABLE_STRING_MAX if sl.capture == Capture.STRING else TABLE_BUFFER_MAX):
            return False
    return True


def _table_slot(sl: SlotLayout, info: SyscallInfo) -> TableSlot:
    if sl.capture == Capture.STRING:
        return TableSlot(True, sl.index, sl.max)
    shape = {"elem": sl.elem, "bits": sl.bits, "bits_over": sl.bits_over, "written": sl.written}
    if sl.capture == Capture.STRUCT:
        return TableSlot(False, sl.index, sl.max, written=sl.written)
    if sl.size_from_ret:
        return TableSlot(False, sl.index, sl.max, SlotLen.RET, **shape)
    a = info.args[sl.size_index]
    if sl.size_deref:
        return TableSlot(False, sl.index, sl.max, SlotLen.DEREF, a.index, written=sl.written)
    return TableSlot(False, sl.index, sl.max, SlotLen.ARG, a.index, a.size, a.signed, **shape, plus=sl.plus)


def _table_entry(fam: FamilyPlan) -> TableEntry:
    info = fam.members[0]  # the members agree on the slots' shapes and their lengths' C types
    args_from = "inflight" if fam.exit_args else "regs" if fam.exit.slots else None
    return TableEntry(fam.name, fam.nrs, tuple(m.name for m in fam.members), fam.enter.kind, fam.exit.kind,
                      len(fam.enter.args), tuple(_table_slot(sl, info) for sl in fam.enter.slots),
                      tuple(_table_slot(sl, info) for sl in fam.exit.slots),
                      fam.filter is not None or fam.exit_args, args_from)


def make_plan(v: ValidatedSpec, target: Target = Target(), buffer_bytes: int | None = None,
              wakeup_batch: int | None = None, ring_cap: int = 0, summary: SummaryPlan | None = None,
              recorder_bytes: int | None = None, cpus: int = 1, serve: ServePlan | None = None,
              table: bool | None = None, wide_attach: Attach | None = None) -> Plan:
    """ring_cap: the most the default ring buffer may take (0: no cap), on machines with little memory.
    wakeup_batch: bytes a CPU writes to the ring between wakeups of the reader (None: from the ring's
    size; 0: the kernel's rule, at every record the reader has caught up with).
    summary: aggregate instead of recording. recorder_bytes: a flight recorder of this many bytes
    (0: the default), spread over `cpus` per-CPU buffers. serve: recorders for `tracespec serve` (with
    recorder_bytes, and a cgroup target without a group: the recorders name theirs). table: record the
    families it can describe by the table-driven programs (True), never (False), or when it pays (None).
    wide_attach: v is a widened spec (validate.widened), planned for the attach mode of the spec it was
    widened from, with the generic handler's syscalls as data: a wide program (plan/restrict.py)."""
    return _Planner(v, target, buffer_bytes, wakeup_batch, ring_cap, summary,
                    recorder_bytes, cpus, serve, table, wide_attach).run()


# The optional helpers of tracespec/bpf/tracespec.bpf.h that each kind of slot copy calls.
_SLOT_HELPERS = {Capture.STRING: {"PUT_STR"}, Capture.STRV: {"PUT_STR"}, Capture.PTRCOUNT: {"PUT_PTRCOUNT"},
                 Capture.IOVEC: {"PUT_BUF"}, Capture.BUFFER: {"PUT_BUF"}, Capture.STRUCT: {"PUT_BUF"},
                 Capture.SOCKADDR: {"PUT_BUF"}, Capture.FDINODE: {"FD_INODE"},
                 Capture.SOCKENDS: {"FD_INODE", "SOCK_ENDS"}, Capture.DIRENTS: {"DIRENTS"}}
KERNEL_SLOTS = NAMED_CAPTURES  # slots of what the kernel holds or did: named as they are
# filter fields whose C calls a helper
_FIELD_HELPERS = {"ppid": {"PPID"}, "errno": {"FAILED"}, "failed": {"FAILED"}}


def _slot_helpers(layout: RecordLayout) -> set[str]:
    out: set[str] = set()
    for slot in layout.slots:
        out |= _SLOT_HELPERS[slot.capture]
        if slot.capture == Capture.STRING and layout.phase == Phase.EXIT:
            out.add("PUT_STR_RET")  # the kernel wrote it: nothing when the syscall failed
        if slot.size_deref:
            out.add("USER_INT")
        if slot.via >= 0:
            out.add("USER_U64")
    return out


def _leaf_helpers(leaves) -> set[str]:
    out: set[str] = set()
    for leaf in leaves:
        out |= _FIELD_HELPERS.get(leaf.field.name, set())
    return out


def exec_args_copy(fam: FamilyPlan) -> bool:
    """An execve whose argv is copied: a faulted argv is read again from the new process."""
    return any(m.name in ("execve", "execveat") for m in fam.members) and \
        any(sl.capture == Capture.STRV for sl in fam.enter.slots)


def needed_helpers(families, generic_filter: FilterPlan | None, summary: bool, trigger: TExpr | None,
                   targets: bool) -> frozenset[str]:
    """The optional helpers the program calls (as TS_NEED_<name> selects them in tracespec.bpf.h): those
    of its slot copies, filter fields, summary and trigger, and the bookkeeping its target needs."""
    out: set[str] = set()
    for fam in families:
        if not fam.table:  # a table family's copies are the table's (below)
            out |= _slot_helpers(fam.enter) | _slot_helpers(fam.exit)
        if fam.filter is not None:
            out |= _leaf_helpers(fam.filter.leaves)
        if exec_args_copy(fam):
            out.add("PUT_BUF")  # the new process's argument area
    if any(fam.table for fam in families):
        out |= {"TABLE", "PUT_STR", "PUT_BUF", "USER_INT"}  # a row's copies are any of these
    if generic_filter is not None:
        out |= _leaf_helpers(generic_filter.leaves)
    if trigger is not None:
        out |= _leaf_helpers(leaves(trigger))
    if summary:
        out |= {"LOG2", "FAILED"}
    if targets:
        out.add("TASK_S32")  # exit codes, thread-group ends and signals' targets, from task_struct
    return frozenset(out)


STACK_RECORD_MAX = 192  # records up to this size are built on the BPF stack, larger ones in scratch


def record_buffer(layout: RecordLayout, output: Output, filtered: bool, summary: bool, stash: bool) -> Placement:
    """Where a handler builds its record: stack, scratch (per-CPU map) or ring (in place in the ring buffer).

    A record that waits in the stash is built in scratch, whatever its size. One always emitted with no
    copies (every byte of it written: header, comm, arguments or return value) is built in the ring
    buffer: no stack buffer to zero and copy. Small records of fixed size go on the stack; one with a
    copied buffer in scratch, as the verifier bounds a copy by its mask (8 KiB), not by the record's size.
    """
    if stash:
        return Placement.SCRATCH
    if output == Output.RINGBUF and not layout.slots and not filtered and not summary:
        return Placement.RING
    if all(s.inline for s in layout.slots) and layout.max_size <= STACK_RECORD_MAX:
        return Placement.STACK
    return Placement.SCRATCH
