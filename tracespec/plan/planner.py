"""ValidatedSpec (+ target and buffer choices) -> Plan.

The decisions, each driven by the kernel profile or the spec:
  attach   raw tracepoints when many syscalls are traced (one program sees every syscall, cheaply), per-
           syscall tracepoints when few are (syscalls nobody asked for then cost almost nothing), classic
           raw_syscalls tracepoints on kernels before raw tracepoints (4.17)
  output   the BPF ring buffer (5.8+, one ordered buffer) or per-CPU perf buffers
  layouts  one enter and one exit record per syscall that fetches memory or has its own filter; one
           shared raw layout for the rest
  filters  each syscall's effective filter (global AND its own) split into leaves known at entry and at
           exit; an exit leaf means the enter record waits in a stash map until the syscall returns
"""

from __future__ import annotations

from tracespec.catalogue import Syscall
from tracespec.errors import SpecError
from tracespec.plan.model import (HEADER_SIZE, ArgField, Attachment, FilterPlan, Param, Plan, RecordLayout,
                                  Schema, SlotLayout, SyscallInfo, SyscallPlan, TailCall, Target)
from tracespec.validate import SelectedSyscall, ValidatedSpec
from tracespec.validate.typed import TAnd, TExpr, leaves

MANY_SYSCALLS = 48  # above this many, one raw tracepoint beats one tracepoint per syscall
SCRATCH_SIZE = 32768  # per-CPU record building space (the largest per-CPU map value)
MAX_RECORD = 16383  # records are built at offsets masked to 14 bits
RING_BYTES = 64 << 20  # default ring buffer: a burst of ~0.5 s at a million syscalls per second
PERF_PAGES = 2048  # default perf buffer: 8 MiB per CPU
PAGE = 4096
EXECVE_NRS = (59, 322)  # execve, execveat: where a started command begins to be traced
# The x86_64 syscall argument registers, in order, and their offsets in struct pt_regs.
# A raw tracepoint copies r10..di (64 bytes from offset 56) once and picks the arguments out of it.


def _argfield(a) -> ArgField:
    return ArgField(a.name, a.index, str(a.kind), a.ctype.size, a.ctype.signed)


def _info(sel: SelectedSyscall) -> SyscallInfo:
    sc = sel.syscall
    args = tuple(ArgField(ap.arg.name, ap.arg.index, str(ap.kind), ap.arg.ctype.size, ap.arg.ctype.signed)
                 for ap in sel.args)
    return SyscallInfo(sc.nr, sc.name, sc.ret, args)


ENVP_COUNT_LOOP = 1024  # execve's environment variables counted at most, with bounded loops (5.3+)
ENVP_COUNT_UNROLLED = 128  # ... and when the loop must be unrolled


def _slot(sel: SelectedSyscall, ap, bounded_loops: bool) -> SlotLayout:
    f = ap.fetch
    size_index = None
    from_ret = False
    if f.size_from == "ret":
        from_ret = True
    elif f.size_from is not None:
        size_index = sel.syscall.arg(f.size_from).index
    if f.capture == "iovec" and f.at == "exit":
        from_ret = True  # readv fills its buffers up to what it returns
    count = f.count
    if f.capture == "ptrcount":
        count = ENVP_COUNT_LOOP if bounded_loops else ENVP_COUNT_UNROLLED
    return SlotLayout(arg=ap.arg.name, index=ap.arg.index, capture=f.capture, max=f.max,
                      inline=f.mode == "inline" and f.capture == "string", size_index=size_index,
                      size_from_ret=from_ret, struct=f.struct, count=count, size_deref=f.deref)


def _filter_plan(expr: TExpr | None) -> FilterPlan | None:
    if expr is None:
        return None
    seen: list = []
    for leaf in leaves(expr):
        if not any(leaf is s for s in seen):
            seen.append(leaf)
    exit_bits = frozenset(i for i, leaf in enumerate(seen) if leaf.field.phase == "exit")
    return FilterPlan(expr, tuple(seen), exit_bits)


def _combine(a: TExpr | None, b: TExpr | None) -> TExpr | None:
    if a is None:
        return b
    if b is None:
        return a
    return TAnd((a, b), a.loc)


def _uses_args(expr: TExpr | None) -> bool:
    return expr is not None and any(leaf.field.arg for leaf in leaves(expr))


class _Planner:
    def __init__(self, v: ValidatedSpec, target: Target, buffer_bytes: int | None, wakeup_batch: int):
        self.v = v
        self.profile = v.profile
        self.target = target
        self.buffer_bytes = buffer_bytes
        self.wakeup_batch = wakeup_batch
        self.next_kind = 0

    def kind(self) -> int:
        k = self.next_kind
        self.next_kind += 1
        return k

    def err(self, message: str, sel: SelectedSyscall | None, hint: str | None = None) -> SpecError:
        loc = sel.rules[0] if sel else self.v.spec.loc
        return SpecError(message, loc, hint, source=self.v.spec.text)

    def run(self) -> Plan:
        v, p = self.v, self.profile
        global_filter = v.filter
        generic_ok = not _uses_args(global_filter)
        specific: list[SelectedSyscall] = []
        generic: list[SelectedSyscall] = []
        for sel in v.syscalls:
            fetches = any(ap.fetch is not None for ap in sel.args)
            if fetches or sel.filter is not None or not generic_ok:
                specific.append(sel)
            else:
                generic.append(sel)

        attach = self.choose_attach(v.syscalls)
        output = "ringbuf" if p.has("ringbuf") else "perfbuf"

        plans = []
        for sel in specific:
            plans.append(self.syscall_plan(sel, global_filter, attach))
        generic_infos = tuple(_info(s) for s in generic)
        generic_enter = generic_exit = None
        generic_filter = None
        if generic:
            generic_enter = RecordLayout(self.kind(), "enter", None, "*",
                                         tuple(ArgField(f"arg{i}", i, "hex", 8, False) for i in range(6)), ())
            generic_exit = RecordLayout(self.kind(), "exit", None, "*", (), ())
            generic_filter = _filter_plan(global_filter)

        layouts = []
        for sp in plans:
            layouts += [sp.enter, sp.exit]
        if generic_enter:
            layouts += [generic_enter, generic_exit]
        schema = Schema(tuple(layouts), tuple(sorted([sp.info for sp in plans] + list(generic_infos),
                                                     key=lambda i: i.nr)), v.spec.path)
        max_record = max(lay.max_size for lay in layouts)
        for sp in plans:
            if sp.enter.max_size > MAX_RECORD or sp.exit.max_size > MAX_RECORD:
                sel = next(s for s in specific if s.syscall.nr == sp.info.nr)
                size = max(sp.enter.max_size, sp.exit.max_size)
                raise self.err(f"a {sp.info.name} record could reach {size} bytes; records are limited to "
                               f"{MAX_RECORD}", sel, hint="lower paths.max, strings.max or buffers.max for it")
        retry = any(sp.enter.slots for sp in plans)
        variable = retry or any(lay.variable for lay in layouts)
        stash_size = max((sp.enter.max_size for sp in plans if sp.stash), default=0)
        if generic_filter is not None and generic_filter.has_exit:
            stash_size = max(stash_size, generic_enter.max_size)
        stash_size = (stash_size + 7) & ~7
        inflight = (any(sp.filter is not None or sp.exit_args for sp in plans)
                    or generic_filter is not None)

        attachments, tail_calls, arity_groups, arm_events = self.attachments(attach, plans, generic, generic_infos)
        # 0: tracespec's own tgid; 1: the target cgroup's id; 2-5: struct offsets read from the kernel's BTF
        params = [Param(0, "self_tgid"), Param(1, "target_cgroup_id", self.target.cgroup or ""),
                  Param(2, "btf:task_struct.exit_code"), Param(3, "btf:task_struct.mm"),
                  Param(4, "btf:mm_struct.arg_start"), Param(5, "btf:mm_struct.arg_end")]
        filters = [sp.filter for sp in plans] + [generic_filter]
        for fp in filters:
            for leaf in (fp.leaves if fp else ()):
                if leaf.field.name == "cgroup":
                    for path in (leaf.values if hasattr(leaf, "values") else (leaf.value,)):
                        if not any(p.value == path and p.name == "cgroup_id" for p in params):
                            params.append(Param(len(params), "cgroup_id", path))

        if output == "ringbuf":
            size = self.buffer_bytes or RING_BYTES
            pages = max(1, size // PAGE)
            pages = 1 << (pages.bit_length() - 1)  # a power of two, as the ring buffer requires
        else:
            pages = max(8, (self.buffer_bytes or PERF_PAGES * PAGE) // PAGE)
            pages = 1 << (pages.bit_length() - 1)

        return Plan(
            spec_path=v.spec.path, profile=p.name, attach=attach, output=output,
            read_user="bpf_probe_read_user" if p.has("probe_read_user") else "bpf_probe_read",
            read_user_str="bpf_probe_read_user_str" if p.has("probe_read_user") else "bpf_probe_read_str",
            read_kernel="bpf_probe_read_kernel" if p.has("probe_read_user") else "bpf_probe_read",
            bounded_loops=p.has("bounded_loops"), target=self.target, syscalls=tuple(plans),
            generic=generic_infos, generic_enter=generic_enter, generic_exit=generic_exit,
            generic_filter=generic_filter, tail_calls=tail_calls,
            generic_events=tuple((s.syscall.nr, s.syscall.event) for s in generic),
            generic_everything=v.every_syscall and not plans,
            schema=schema, attachments=tuple(attachments),
            params=tuple(params), arity_groups=arity_groups, inflight=inflight, retry=retry,
            stash_size=stash_size,
            scratch_size=SCRATCH_SIZE if variable else 0, ring_pages=pages, max_record=max_record,
            arm_on_exec=self.target.kind == "command", exec_arm_events=arm_events,
            wakeup_batch=self.wakeup_batch,
        )

    def choose_attach(self, selected) -> str:
        p = self.profile
        needs_raw = any(s.syscall.event is None for s in selected)
        many = self.v.every_syscall or len(selected) > MANY_SYSCALLS
        if needs_raw or many or not p.has("syscall_tracepoints"):
            if not needs_raw and not many and not p.has("syscall_tracepoints"):
                pass
            return "raw_tp" if p.has("raw_tracepoint") else "raw_syscalls"
        return "syscall_tp"

    def syscall_plan(self, sel: SelectedSyscall, global_filter, attach: str) -> SyscallPlan:
        sc: Syscall = sel.syscall
        info = _info(sel)
        bounded = self.profile.has("bounded_loops")
        enter_slots = tuple(_slot(sel, ap, bounded) for ap in sel.args if ap.fetch and ap.fetch.at in ("enter", "both"))
        exit_slots = tuple(_slot(sel, ap, bounded) for ap in sel.args if ap.fetch and ap.fetch.at in ("exit", "both"))
        enter = RecordLayout(self.kind(), "enter", sc.nr, sc.name, tuple(_argfield(a) for a in sc.args), enter_slots)
        exit_ = RecordLayout(self.kind(), "exit", sc.nr, sc.name, (), exit_slots)
        fplan = _filter_plan(_combine(global_filter, sel.filter))
        stash = fplan is not None and fplan.has_exit
        exit_args = bool(exit_slots) and attach != "raw_tp"
        return SyscallPlan(info, enter, exit_, fplan, sc.event, stash, exit_args)

    def attachments(self, attach, plans, generic, generic_infos):
        """Where each program goes. Every traced syscall has its own enter and exit programs (BCC
        loads no program over 4096 instructions, so one program for all would not fit): per-syscall
        tracepoints attach them directly; raw tracepoints reach them by tail call from one dispatcher."""
        out: list[Attachment] = []
        tails: list[TailCall] = []
        arity_groups: tuple = ()
        arm_events: tuple[str, ...] = ()
        if attach in ("raw_tp", "raw_syscalls"):
            if attach == "raw_tp":
                out += [Attachment("ts_raw_enter", "raw_tracepoint", "sys_enter"),
                        Attachment("ts_raw_exit", "raw_tracepoint", "sys_exit")]
            else:
                out += [Attachment("ts_rs_enter", "tracepoint", "raw_syscalls:sys_enter"),
                        Attachment("ts_rs_exit", "tracepoint", "raw_syscalls:sys_exit")]
            for sp in plans:
                tails += [TailCall("ts_enter_progs", sp.info.nr, f"ts_enter_{sp.info.name}"),
                          TailCall("ts_exit_progs", sp.info.nr, f"ts_exit_{sp.info.name}")]
        else:
            for sp in sorted(plans, key=lambda p: p.event):
                out.append(Attachment(f"ts_enter_{sp.info.name}", "tracepoint", f"syscalls:sys_enter_{sp.event}"))
                out.append(Attachment(f"ts_exit_{sp.info.name}", "tracepoint", f"syscalls:sys_exit_{sp.event}"))
            groups: dict[int, list[str]] = {}
            for s in generic:
                groups.setdefault(len(s.syscall.args), []).append(s.syscall.event)
            arity_groups = tuple((a, tuple(sorted(evs))) for a, evs in sorted(groups.items()))
            for arity, evs in arity_groups:
                for ev in evs:
                    out.append(Attachment(f"ts_tp_enter{arity}", "tracepoint", f"syscalls:sys_enter_{ev}"))
            for ev in sorted(s.syscall.event for s in generic):
                out.append(Attachment("ts_tp_exit", "tracepoint", f"syscalls:sys_exit_{ev}"))
            if self.target.kind == "command":
                traced = {sp.event for sp in plans} | {s.syscall.event for s in generic}
                arm_events = tuple(ev for ev in ("execve", "execveat") if ev not in traced)
                for ev in arm_events:
                    out.append(Attachment("ts_tp_arm", "tracepoint", f"syscalls:sys_enter_{ev}"))
        if self.target.kind in ("command", "pids") and self.target.follow:
            out.append(Attachment("tracepoint__sched__sched_process_fork", "auto", "sched:sched_process_fork"))
        if self.target.kind in ("command", "pids"):
            out.append(Attachment("tracepoint__sched__sched_process_exit", "auto", "sched:sched_process_exit"))
        if any(sp.info.name in ("execve", "execveat") and any(s.capture == "strv" for s in sp.enter.slots)
               for sp in plans):
            out.append(Attachment("tracepoint__sched__sched_process_exec", "auto", "sched:sched_process_exec"))
        return out, tuple(tails), arity_groups, arm_events


def make_plan(v: ValidatedSpec, target: Target = Target(), buffer_bytes: int | None = None,
              wakeup_batch: int = 0) -> Plan:
    return _Planner(v, target, buffer_bytes, wakeup_batch).run()
