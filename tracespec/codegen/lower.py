"""Plan -> BPF C text, through templates/program.c.j2.

This module turns the plan's decisions into the small C fragments the template splices together (how
each handler gets its record buffer, which slot writer each argument uses, the filter's leaves). Every
value passes through cliteral; the template adds structure, not decisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tracespec
from tracespec.codegen.cliteral import c_comment, c_ident, c_int
from tracespec.codegen.filter_c import FilterC, HandlerScope, lower_filter, lower_trigger
from tracespec.codegen.templates import env
from tracespec.plan.model import HIST_BUCKETS, FamilyPlan, Plan, RecordLayout, SlotLayout, SyscallInfo
from tracespec.wire.layout import (COMM_SIZE, CONTROL_KILLED, CONTROL_TRIGGER, EXEC_ARGS_KIND, FLAG_DEFERRED, FORK_KIND,
                                   HEADER_SIZE, PROC_EXIT_KIND, RETRY_KIND, SLOT_FLAGS)

STACK_RECORD_MAX = 192  # records up to this size are built on the BPF stack, larger ones in scratch
TARGET_STATES = {"TS_TRACED": 1, "TS_ARMED": 2}
EXEC_ARGS_MAX = 4096  # bytes of the argument area copied at most
EXEC_PATH_MAX = 4095
# Task ids go up to the kernel's PID_MAX_LIMIT (4M on 64-bit, include/linux/threads.h): one bit each.
PID_MAX_LIMIT = 4 * 1024 * 1024
BITMAP_WORDS = PID_MAX_LIMIT // 64
EXEC_SYSCALLS = ("execve", "execveat")


@dataclass(frozen=True)
class SlotC:
    var: str  # C variable holding the slot's offset (for filters)
    call: str  # the writer call, given the running offset `off`; returns the next offset
    fixed: int  # inline slots: bytes the slot always occupies (the call's result is ignored); else 0
    arg: str


@dataclass(frozen=True)
class HandlerC:
    name: str  # C function name
    nr: int | None
    kind: int
    comment: str
    via: str  # stack | scratch | ring (reserved in the ring buffer and written there)
    stack_words: int  # u64 words of the stack buffer
    nargs: int  # argument words the record carries (and the in-flight entry keeps)
    slots: tuple[SlotC, ...]
    size: str  # C expression: the record's size once built
    filter: FilterC | None
    stash: bool
    inflight: bool  # enter: record the in-flight entry; exit: look it up
    inflight_args: bool
    args_from: str | None  # exit: where the arguments come from (regs | inflight | None)
    retry: tuple[SlotC, ...] = ()  # enter: slots whose faults are noted; exit: slots to copy again
    exec_args: bool = False  # exit of execve: a faulted argv is read from the new process instead


@dataclass(frozen=True)
class SyscallC:
    """A family's two programs."""

    name: str
    enter: HandlerC
    exit: HandlerC


def _signature(info: SyscallInfo) -> str:
    return f"{info.name}({', '.join(a.name for a in info.args)})"


def _in_ring(plan: Plan, layout: RecordLayout, filtered: bool) -> bool:
    """A record that is always emitted and has no copies (every byte of it is written: header, comm,
    arguments or return value) is built in place in the ring buffer: no stack buffer to zero and copy."""
    return plan.output == "ringbuf" and not layout.slots and not filtered and plan.summary is None


def _on_stack(layout: RecordLayout) -> bool:
    """Small records of fixed size are built on the BPF stack. A record with a copied buffer is built in
    per-CPU scratch: the verifier bounds a copy by its mask (8 KiB), not by the record's size."""
    return not any(not s.inline for s in layout.slots) and layout.max_size <= STACK_RECORD_MAX


def _arg_value(a) -> str:
    """C expression of an argument's value as its C type holds it, widened to s64."""
    if a.size >= 8:
        return f"(s64)a[{a.index}]"
    bits = a.size * 8
    return f"(s64)(s{bits})a[{a.index}]" if a.signed else f"(s64)(u{bits})a[{a.index}]"


def _len_expr(slot: SlotLayout, info: SyscallInfo, phase: str) -> str:
    """C expression of how many bytes a buffer-like slot copies (negative: copy nothing)."""
    failed_guard = "ret < 0 ? -1 : " if phase == "exit" else ""
    if slot.capture == "struct":
        return f"({failed_guard}{c_int(slot.max)})" if failed_guard else c_int(slot.max)
    if slot.size_from_ret:
        return "ret"
    a = info.args[slot.size_index]
    if slot.size_deref:
        return f"({failed_guard}ts_user_int(a[{a.index}]))"
    return _arg_value(a)


def _slot_call(slot: SlotLayout, info: SyscallInfo, phase: str) -> str:
    ptr = f"a[{slot.index}]"
    mx = c_int(slot.max)
    cap = slot.capture
    if cap == "string":
        if phase == "exit":
            return f"ts_put_str_ret(r, off, {ptr}, ret, {mx})"
        return f"ts_put_str(r, off, {ptr}, {mx})"
    if cap == "strv":
        return f"ts_put_strv_{slot.count}_{slot.max}(r, off, {ptr})"
    if cap == "ptrcount":
        return f"ts_put_ptrcount(r, off, {ptr}, {c_int(slot.count)})"
    if cap == "iovec":
        cnt = _arg_value(info.args[slot.size_index])
        total, limited = ("ret", "1") if slot.size_from_ret else ("0", "0")
        return f"ts_put_iov_{slot.count}_{slot.max}(r, off, {ptr}, {cnt}, {total}, {limited})"
    return f"ts_put_buf(r, off, {ptr}, {_len_expr(slot, info, phase)}, {mx})"  # buffer, struct, sockaddr


def _slot_calls(layout: RecordLayout, info: SyscallInfo) -> tuple[tuple[SlotC, ...], str]:
    """Slot writer calls in record order, and the size expression of the finished record."""
    out = []
    for slot in layout.slots:
        var = f"so_{c_ident(slot.arg)}"
        call = _slot_call(slot, info, layout.phase)
        out.append(SlotC(var, call, slot.bytes if slot.inline else 0, slot.arg))
    size = "off" if layout.variable else c_int(layout.max_size)
    return tuple(out), size


class _Lowerer:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.nrs = {i.name: i.nr for i in plan.all_syscalls}
        self.params = {p.value: p.index for p in plan.params if p.name == "cgroup_id"}

    def scope(self, fam: FamilyPlan | None, enter_slots: dict, slot_calls: dict) -> HandlerScope:
        # A filter naming arguments belongs to one syscall, whose family has only it.
        args = {a.name: a for a in fam.members[0].args} if fam and len(fam.members) == 1 else {}
        in_scratch = fam is not None and (fam.stash or not _on_stack(fam.enter))  # as handler_pair decides
        return HandlerScope(fam.name if fam else "generic", args, enter_slots, slot_calls, self.nrs, self.params,
                            self.plan.bounded_loops, in_scratch)

    def handler_pair(self, fam: FamilyPlan) -> SyscallC:
        p = self.plan
        info = fam.members[0]  # the members agree on what the C needs (slot shapes, length types)
        enter_slots, enter_size = _slot_calls(fam.enter, info)
        exit_slots, exit_size = _slot_calls(fam.exit, info)
        scope_slots, slot_calls = {}, {}
        for slot, lay in zip(enter_slots, fam.enter.slots):
            scope_slots[info.args[lay.index].name] = (slot.var, lay)
            slot_calls[info.args[lay.index].name] = slot.call
        fc = lower_filter(fam.filter, self.scope(fam, scope_slots, slot_calls)) if fam.filter else None
        uses_inflight = fc is not None or fam.exit_args or p.summary is not None
        enter_via = "scratch" if fam.stash or not _on_stack(fam.enter) else \
            "ring" if _in_ring(p, fam.enter, fc is not None) else "stack"
        exit_via = "ring" if _in_ring(p, fam.exit, fc is not None) else "stack" if _on_stack(fam.exit) else "scratch"
        sig = c_comment("; ".join(_signature(m) for m in fam.members))
        name = c_ident(fam.name)
        enter = HandlerC(f"ts_enter_{name}", None, fam.enter.kind, sig, enter_via, (fam.enter.max_size + 7) // 8,
                         len(fam.enter.args), enter_slots, enter_size, fc, fam.stash, uses_inflight, fam.exit_args, None,
                         enter_slots if p.retry else ())
        args_from = "inflight" if fam.exit_args else "regs" if fam.exit.slots else None
        # retried copies are compact
        retry_calls = tuple(SlotC(s.var, s.call, 0, s.arg) for s in enter_slots) if p.retry else ()
        exec_args = any(m.name in EXEC_SYSCALLS for m in fam.members) and \
            any(sl.capture == "strv" for sl in fam.enter.slots)
        exit_ = HandlerC(f"ts_exit_{name}", None, fam.exit.kind, sig, exit_via, (fam.exit.max_size + 7) // 8,
                         0, exit_slots, exit_size, fc, fam.stash, uses_inflight, fam.exit_args, args_from,
                         retry_calls, exec_args)
        return SyscallC(name, enter, exit_)

    def generic(self) -> tuple[HandlerC | None, HandlerC | None]:
        p = self.plan
        if p.generic_enter is None:
            return None, None
        fc = lower_filter(p.generic_filter, self.scope(None, {}, {})) if p.generic_filter else None
        stash = fc is not None and fc.defers and p.summary is None
        inflight = fc is not None or p.summary is not None
        via = "scratch" if stash else "ring" if _in_ring(p, p.generic_enter, fc is not None) else "stack"
        exit_via = "ring" if _in_ring(p, p.generic_exit, fc is not None) else "stack"
        enter = HandlerC("ts_enter_generic", None, p.generic_enter.kind, "any syscall, raw arguments", via,
                         p.generic_enter.max_size // 8, len(p.generic_enter.args), (), c_int(p.generic_enter.max_size), fc, stash,
                         inflight, False, None)
        exit_ = HandlerC("ts_exit_generic", None, p.generic_exit.kind, "any syscall, raw arguments", exit_via,
                         p.generic_exit.max_size // 8, 0, (), c_int(p.generic_exit.max_size), fc, stash,
                         inflight, False, None)
        return enter, exit_

    def view(self) -> dict:
        p = self.plan
        syscalls = [self.handler_pair(fam) for fam in p.families]
        g_enter, g_exit = self.generic()
        generic_nrs = [i.nr for i in p.generic]
        generic_default = p.generic_everything
        helpers = []
        for s in syscalls:
            if s.enter.filter:
                helpers.extend(s.enter.filter.helpers)
        if g_enter and g_enter.filter:
            helpers.extend(g_enter.filter.helpers)
        trigger = None
        if p.recorder is not None and p.recorder.trigger is not None:
            trigger = lower_trigger(p.recorder.trigger, self.scope(None, {}, {}))
        return {
            "plan": p,
            "trigger": trigger,
            "control_trigger": CONTROL_TRIGGER,
            "control_killed": CONTROL_KILLED,
            "hist_buckets": HIST_BUCKETS,
            "summary_key_doc": {"syscall": "", "process": " and process", "thread": " and thread"}[
                p.summary.by] if p.summary else "",
            "version": tracespec.__version__,
            "spec_path": c_comment(p.spec_path),
            "profile": c_comment(p.profile),
            "syscalls": syscalls,
            "generic_enter": g_enter,
            "generic_exit": g_exit,
            "generic_nrs": generic_nrs,
            "generic_default": generic_default,
            "helpers": helpers,
            "strv_shapes": sorted({(sl.count, sl.max) for lay in p.schema.layouts for sl in lay.slots
                                   if sl.capture == "strv"}),
            "iov_shapes": sorted({(sl.count, sl.max) for lay in p.schema.layouts for sl in lay.slots
                                  if sl.capture == "iovec"}),
            "targets": p.target.kind in ("command", "pids"),
            "bitmap_words": BITMAP_WORDS,
            "bitmaps": ("traced", "armed") if p.arm_on_exec else ("traced",),
            "n_params": len(p.params),
            "header_size": HEADER_SIZE,
            "exit_fixed": HEADER_SIZE + 8,
            "comm_offset": HEADER_SIZE,
            "args_offset": HEADER_SIZE + COMM_SIZE,
            "states": TARGET_STATES,
            "slot_flags": SLOT_FLAGS,
            "flag_deferred": FLAG_DEFERRED,
            "proc_exit_kind": PROC_EXIT_KIND,
            "retry_kind": RETRY_KIND,
            "exec_args_kind": EXEC_ARGS_KIND,
            "fork_kind": FORK_KIND,
            "exec_args_max": EXEC_ARGS_MAX,
            "exec_path_max": EXEC_PATH_MAX,
            "exec_args": any(s.exit.exec_args for s in syscalls),
            "execve_nrs": [self.nrs.get("execve", 59), self.nrs.get("execveat", 322)],
            "comm_target": list(p.target.comm or b""),
            "c_int": c_int,
            "c_comment": c_comment,
            "describe": describe_plan(p),
        }


def describe_plan(p: Plan) -> list[str]:
    attach = {
        "raw_tp": "raw tracepoints sys_enter/sys_exit (every syscall passes through one program)",
        "raw_syscalls": "tracepoints raw_syscalls:sys_enter/sys_exit",
        "syscall_tp": f"per-syscall tracepoints ({len(p.all_syscalls)} syscalls, {len(p.families)} families "
                      f"of programs)",
    }[p.attach]
    if p.output == "ringbuf":
        output = f"BPF ring buffer, {p.ring_pages * 4096 >> 20} MiB"
    else:
        output = f"perf buffers, {p.ring_pages * 4096 >> 10} KiB per CPU"
    target = {"command": "a command started by tracespec, and its children" if p.target.follow
              else "a command started by tracespec", "pids": "the processes given by pid",
              "all": "every process but tracespec", "cgroup": "the processes of one cgroup",
              "comm": "processes by name"}[p.target.kind]
    if p.summary is not None:
        output = f"a summary in per-CPU maps, by {p.summary.by}, at most {p.summary.keys} keys (no syscall records)"
    elif p.recorder is not None:
        output = (f"a flight recorder: overwritable perf buffers, {p.recorder.pages_per_cpu * 4096 >> 10} KiB per "
                  f"CPU, read only when dumped")
    return [f"attach:  {attach}", f"output:  {output}", f"target:  {target}",
            f"records: {len(p.schema.layouts)} layouts, at most {p.max_record} bytes"]


# Helpers the template defines only for programs that call them: clang compiling the ones a program
# never calls cost BCC about 0.2 s of every start (all.yaml: 0.79-1.15 s with them, 0.60-0.67 s without).
OPTIONAL_HELPERS = frozenset({"ts_ppid", "ts_failed", "ts_put_str", "ts_put_str_ret", "ts_put_buf", "ts_user_int",
                              "ts_put_ptrcount"})


def render_c(plan: Plan) -> str:
    """The program's C. Calls to helpers come from many places (filters, slot copies, the template's
    own array and exec copies), so the program is rendered with every optional helper, and again with
    only those it calls, until none is left uncalled (one helper may call another)."""
    view = _Lowerer(plan).view()
    template = env().get_template("program.c.j2")
    helpers = OPTIONAL_HELPERS
    while True:
        c = template.render(**view, defined_helpers=helpers)
        called = frozenset(h for h in helpers if len(re.findall(rf"\b{h}\(", c)) > 1)  # more than its definition
        if called == helpers:
            return c
        helpers = called
