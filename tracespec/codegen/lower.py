"""Plan -> BPF C text, through templates/program.c.j2.

This module turns the plan's decisions (where each record is built, which helpers the program calls: see
plan/planner.py) into the small C fragments the template splices together (which slot writer each
argument uses, the filter's leaves), and writes the preamble: the wire format's #defines and struct
ts_hdr from wire/layout.py, the plan's configuration #defines, then the text of
tracespec/bpf/tracespec.bpf.h. Every value passes through cliteral; the template adds structure, not
decisions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources

import tracespec
from tracespec.codegen.cliteral import c_comment, c_ident, c_int
from tracespec.codegen.filter_c import FilterC, HandlerScope, lower_filter, lower_trigger
from tracespec.codegen import table_c
from tracespec.codegen.templates import env
from tracespec.catalogue import sigframe
from tracespec.catalogue.structs import MMSGHDR_SIZE, MSG_LEN_AT
from tracespec.catalogue.dirents import D_RECLEN, DIRENT_HEADERS, DIRENTS_MAX
from tracespec.catalogue.descriptors import FD_INODE_MEMBERS, SOCK_ENDS_MEMBERS, SOCK_ENDS_SIZE
from tracespec.catalogue.kinds import RESTART_ERRNO_MAX, RESTART_ERRNO_MIN, Capture, Phase, Written
from tracespec.plan.model import (HIST_BUCKETS, Attach, FamilyPlan, Output, ParamIndex, Placement, Plan, RecordLayout,
                                  SlotLayout, SyscallInfo, TargetKind, target_task_members)
from tracespec.plan.planner import exec_args_copy
from tracespec.wire.layout import COMM_SIZE, HEADER_SIZE, c_defines, c_header_struct, element_bytes

TARGET_STATES = {"TS_TRACED": 1, "TS_ARMED": 2}
EXEC_ARGS_MAX = 4096  # bytes of the argument area copied at most
EXEC_PATH_MAX = 4095
# Task ids go up to the kernel's PID_MAX_LIMIT (4M on 64-bit, include/linux/threads.h): one bit each.
PID_MAX_LIMIT = 4 * 1024 * 1024
BITMAP_WORDS = PID_MAX_LIMIT // 64


@dataclass(frozen=True)
class SlotC:
    var: str  # C variable holding the slot's offset (for filters)
    call: str  # the writer call, given the running offset `off`; returns the next offset
    fixed: int  # inline slots: bytes the slot always occupies (the call's result is ignored); else 0
    arg: str
    fault_bit: int = 0  # its bit in the faults word of an entry's copies to make again (an entry loop's: all of its)
    faults_var: str = ""  # an entry loop's: the variable its call sets to the fault bits of its copies
    # the info bits that say to copy it again at exit: an iovec array's also when a buffer in it faulted
    # (TS_SLOT_AGAIN); every other slot's only when it faulted, a test the verifier walks more cheaply
    redo: str = "TS_SLOT_FAULT"


@dataclass(frozen=True)
class EntryLoopC:
    """The copies of each entry of an array of structs (sendmmsg's, recvmmsg's mmsghdr) as one loop over
    the entries, where the kernel takes loops (5.3+): the record's bytes are those of the copies written
    out entry by entry, and so are the fault bits (entry i's member j: bit first + per_entry * i + j),
    but clang compiles the members' copies once instead of once per entry."""
    name: str  # C function: (r, off, a, ret, faults, redo) -> the next offset
    comment: str
    count: int  # entries
    # (copy call of entry i's member, C expression of its fault bit's index, its SlotC.redo)
    members: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class HandlerC:
    name: str  # C function name
    nr: int | None
    kind: int
    comment: str
    via: Placement  # RING: reserved in the ring buffer and written there
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
    slots_at: int = 0  # enter: where the record's slots begin (after the header, comm and arguments)
    exec_args: bool = False  # exit of execve: a faulted argv is read from the new process instead
    counted: bool = True  # exit: counted for serve's recorder and tested by the trigger (not bookkeeping)


@dataclass(frozen=True)
class SyscallC:
    """A family's two programs."""

    name: str
    enter: HandlerC
    exit: HandlerC
    loops: tuple[EntryLoopC, ...] = ()  # the entry loops its programs call


def syscall_nrs(plan: Plan) -> dict[str, int]:
    """The numbers of the syscalls the plan traces, by name."""
    return {i.name: i.nr for i in plan.all_syscalls}


def _signature(info: SyscallInfo) -> str:
    return f"{info.name}({', '.join(a.name for a in info.args)})"


def _arg_value(a) -> str:
    """C expression of an argument's value as its C type holds it, widened to s64."""
    if a.size >= 8:
        return f"(s64)a[{a.index}]"
    bits = a.size * 8
    return f"(s64)(s{bits})a[{a.index}]" if a.signed else f"(s64)(u{bits})a[{a.index}]"


def _written_guard(slot: SlotLayout, phase: Phase) -> str:
    """At exit, the C test that skips the copy unless the return value says the kernel wrote it
    (catalogue.kinds.written is the decoder's side of the same rule)."""
    if phase != Phase.EXIT:
        return ""
    if slot.written == Written.POSITIVE:
        return "ret <= 0 ? -1 : "
    if slot.written == Written.RESTART:
        return f"(ret < -{c_int(RESTART_ERRNO_MAX)} || ret > -{c_int(RESTART_ERRNO_MIN)}) ? -1 : "
    if slot.written == Written.ALWAYS:  # (sched_setattr's struct, which the kernel writes when it fails)
        return ""
    return "ret < 0 ? -1 : "


def _len_expr(slot: SlotLayout, info: SyscallInfo, phase: Phase) -> str:
    """C expression of how many bytes a buffer-like slot copies (negative: copy nothing)."""
    failed_guard = _written_guard(slot, phase)
    if slot.capture == Capture.STRUCT and not slot.elem:  # (an array of structs: by its count, below)
        return f"({failed_guard}{c_int(slot.max)})" if failed_guard else c_int(slot.max)
    if slot.size_from_ret:
        n = "ret"
    else:
        a = info.args[slot.size_index]
        if slot.size_deref:
            return f"({failed_guard}ts_user_int(a[{a.index}]))"
        n = _arg_value(a)
    if slot.bits and slot.bits_over:
        # an unsigned count of bits, bits_over more than the kernel reads, in whole longs; more than the
        # copy holds (a huge count too, which must not turn negative) asks for one byte more: truncated
        bits = f"((u64)a[{info.args[slot.size_index].index}] - {c_int(slot.bits_over)})"
        n = f"({bits} > {c_int(8 * slot.max)} ? {c_int(slot.max + 1)} : (s64)((({bits} + 63) >> 6) << 3))"
    elif slot.bits:  # bits, in whole longs; a negative count is none (the kernel refuses it)
        n = f"({n} < 0 ? 0 : (({n} + 63) >> 6) << 3)"
    elif slot.elem:
        n = f"({n} * {c_int(slot.elem)})"
    elif slot.plus:  # bytes before the counted ones (a System V message's mtype)
        n = f"({n} < 0 ? {n} : {n} + {c_int(slot.plus)})"
    if failed_guard and (slot.written != Written.OK or slot.bits_over):  # get_mempolicy's mask: when it succeeded
        return f"({failed_guard}{n})"
    return n


def _member_call(slot: SlotLayout, info: SyscallInfo, phase: Phase, entry_var: str = "") -> str:
    """A pointer member's copy: the pointer and its length read from the struct at the argument (an
    entry of an array of them: only when the array's count reaches it, else a NULL pointer, nothing).
    entry_var: the C variable holding the entry's index, in an entry loop (else the slot's own entry)."""
    base = f"a[{slot.index}]"
    via, via_len, entry = slot.via, slot.via_len, c_int(slot.entry)
    if entry_var:  # the member's place in entry i, not in the slot's own entry
        base = f"({base} + {entry_var} * {c_int(MMSGHDR_SIZE)})"
        via, via_len, entry = via - slot.entry * MMSGHDR_SIZE, via_len - slot.entry * MMSGHDR_SIZE, entry_var
    ptr = f"ts_user_u64({base} + {c_int(via)})"
    length = (c_int(slot.max) if slot.via_len_size == 0  # a fixed length (clone3's ints)
              else f"(s64)(u{8 * slot.via_len_size})ts_user_u64({base} + {c_int(via_len)})")
    total = "ret"
    if slot.entry >= 0:
        count = "ret" if slot.size_from_ret else _arg_value(info.args[slot.size_index])
        ptr = f"({count} > {entry} ? {ptr} : 0)"
        # what the kernel received into this entry's buffers: its msg_len
        at = c_int(MSG_LEN_AT) if entry_var else c_int(slot.entry * MMSGHDR_SIZE + MSG_LEN_AT)
        total = f"(s64)(u32)ts_user_u64({base} + {at})"
    if slot.capture == Capture.IOVEC:
        # a msghdr's iovecs when the call failed: absent (strace prints the msghdr's pointer)
        total, limited = (total, "TS_IOV_RET") if slot.size_from_ret else ("0", "TS_IOV_WHOLE")
        return f"ts_put_iov_{slot.count}_{slot.max}(r, off, {ptr}, {length}, {total}, {limited})"
    guard = "ret < 0 ? -1 : " if phase == Phase.EXIT else ""
    return f"ts_put_buf(r, off, {ptr}, {f'({guard}{length})' if guard else length}, {c_int(slot.max)})"


def _slot_call(slot: SlotLayout, info: SyscallInfo, phase: Phase) -> str:
    if slot.via >= 0:
        return _member_call(slot, info, phase)
    ptr = f"a[{slot.index}]"
    mx = c_int(slot.max)
    cap = slot.capture
    if cap == Capture.STRING:
        if phase == Phase.EXIT:
            return f"ts_put_str_ret(r, off, {ptr}, ret, {mx})"
        return f"ts_put_str(r, off, {ptr}, {mx})"
    if cap == Capture.STRV:
        return f"ts_put_strv_{slot.count}_{slot.max}(r, off, {ptr})"
    if cap == Capture.PTRCOUNT:
        return f"ts_put_ptrcount(r, off, {ptr}, {c_int(slot.count)})"
    if cap == Capture.FDINODE:  # the descriptor returned, or the two of the int[2] at the argument
        ptr = ptr if slot.count == 2 else "0"
        return f"ts_put_fd_inodes(r, off, ret, {ptr}, {c_int(slot.count)})"
    if cap == Capture.SOCKENDS:  # the socket returned (count 1), or the one the argument names, which
        # a failed call may have bound too (a UDP send, a connect binds first: catalogue/descriptors.py)
        if slot.count == 1:
            return "ts_put_sock_ends(r, off, ret, ret >= 0)"
        return f"ts_put_sock_ends(r, off, {_arg_value(info.args[slot.index])}, 1)"
    if cap == Capture.DIRENTS:  # the entries getdents wrote at the argument, counted
        return f"ts_put_dirents(r, off, {ptr}, ret, ts_dirent_header(nr))"
    if cap == Capture.IOVEC:
        cnt = _arg_value(info.args[slot.size_index])
        # readv's when it failed: each element's length and iov_base, as strace prints them
        total, limited = ("ret", "TS_IOV_RET_OR_BASES") if slot.size_from_ret else ("0", "TS_IOV_WHOLE")
        return f"ts_put_iov_{slot.count}_{slot.max}(r, off, {ptr}, {cnt}, {total}, {limited})"
    if cap == Capture.STRUCT and slot.elem:  # an array of structs (mmsghdr): the readable elements at least
        return f"ts_put_elems_{slot.count}_{slot.elem}(r, off, {ptr}, {_len_expr(slot, info, phase)})"
    return f"ts_put_buf(r, off, {ptr}, {_len_expr(slot, info, phase)}, {mx})"  # buffer, struct, sockaddr


def _slot_calls(layout: RecordLayout, info: SyscallInfo) -> tuple[tuple[SlotC, ...], str]:
    """Slot writer calls in record order, and the size expression of the finished record."""
    out = []
    for slot in layout.slots:
        var = f"so_{c_ident(slot.arg + slot.name_suffix)}"
        call = _slot_call(slot, info, layout.phase)
        out.append(SlotC(var, call, slot.bytes if slot.inline else 0, slot.arg, 1 << len(out), redo=_redo_bits(slot)))
    size = "off" if layout.variable else c_int(layout.max_size)
    return tuple(out), size


def _entry_loop(slots: tuple[SlotC, ...], layout: RecordLayout, info: SyscallInfo, handler: str,
                retry: bool) -> tuple[tuple[SlotC, ...], EntryLoopC | None]:
    """The slots with the copies of an array's entries (SlotLayout.entry) replaced by one call of an
    entry loop, when there are several entries of the same members in a row (else as they were)."""
    at = [i for i, sl in enumerate(layout.slots) if sl.entry >= 0]
    if not at or at != list(range(at[0], at[-1] + 1)):
        return slots, None
    parts = [layout.slots[i] for i in at]
    entries = parts[-1].entry + 1
    per_entry = len(parts) // entries
    first = [sl for sl in parts if sl.entry == 0]
    def member(sl: SlotLayout):  # what a copy is in its entry (its part is named m<entry>_<member>)
        return sl.capture, sl.max, sl.count, sl.part.split("_", 1)[-1], sl.via_len_size, sl.via - sl.entry * MMSGHDR_SIZE

    shape = [member(sl) for sl in first]
    if entries < 2 or len(first) != per_entry or any(
            member(sl) != shape[k % per_entry] or sl.entry != k // per_entry for k, sl in enumerate(parts)):
        return slots, None
    group = [slots[i] for i in at]
    first_bit = group[0].fault_bit.bit_length() - 1
    if retry and any(sc.fault_bit != 1 << (first_bit + k) for k, sc in enumerate(group)):
        return slots, None  # the retry's bits are not the entries' in order: keep the copies written out
    name = f"ts_entries_{handler}"
    members = tuple((_member_call(sl, info, layout.phase, entry_var="i"),
                     f"{c_int(first_bit)} + {c_int(per_entry)} * i + {c_int(k)}", _redo_bits(sl))
                    for k, sl in enumerate(first))
    loop = EntryLoopC(name, c_comment(f"{info.name}: each of the first {entries} entries of {first[0].arg}: "
                                      + ", ".join(sl.part.split("_", 1)[-1] for sl in first)), entries, members)
    var = f"so_{c_ident(first[0].arg)}__entries"
    faults_var = f"{var}_faults" if retry else ""
    call = f"{name}(r, off, a, {'ret' if layout.phase == Phase.EXIT else '0'}, {'&' + faults_var if retry else '0'}, 0)"
    mask = sum(sc.fault_bit for sc in group)
    merged = SlotC(var, call, 0, group[0].arg, mask, faults_var)
    return slots[:at[0]] + (merged,) + slots[at[-1] + 1:], loop


def _redo_bits(slot: SlotLayout) -> str:
    return "TS_SLOT_REDO" if slot.capture == Capture.IOVEC else "TS_SLOT_FAULT"


def _redo_call(slot: SlotC) -> str:
    """An entry loop's call at exit, copying again only the copies whose bits the entry's faults set."""
    return f"{slot.call.split('(', 1)[0]}(r, off, a, 0, 0, faults)"


def _array_shapes(p: Plan, capture: Capture) -> list[tuple[int, int, int]]:
    """(elements, bytes per element payload, bytes per element in the record) of each array copier."""
    return sorted({(sl.count, sl.max, element_bytes(capture, sl.max)) for lay in p.schema.layouts for sl in lay.slots
                   if sl.capture == capture})


def _struct_arrays(p: Plan) -> list[tuple[int, int]]:
    """(elements, bytes of one) of each array of structs copied element by element when it faults."""
    return sorted({(sl.count, sl.elem) for lay in p.schema.layouts for sl in lay.slots
                   if sl.capture == Capture.STRUCT and sl.elem})


class _Lowerer:
    def __init__(self, plan: Plan):
        self.plan = plan
        self.nrs = syscall_nrs(plan)
        self.params = {p.value: p.index for p in plan.params if p.name == "cgroup_id"}

    def scope(self, fam: FamilyPlan | None, enter_slots: dict, slot_calls: dict) -> HandlerScope:
        # A filter naming arguments belongs to one syscall, whose family has only it.
        args = {a.name: a for a in fam.members[0].args} if fam and len(fam.members) == 1 else {}
        in_scratch = fam is not None and fam.enter_buffer == Placement.SCRATCH
        return HandlerScope(fam.name if fam else "generic", args, enter_slots, slot_calls, self.nrs, self.params,
                            self.plan.bounded_loops, in_scratch)

    def handler_pair(self, fam: FamilyPlan) -> SyscallC:
        p = self.plan
        info = fam.members[0]  # the members agree on what the C needs (slot shapes, length types)
        enter_slots, enter_size = _slot_calls(fam.enter, info)
        exit_slots, exit_size = _slot_calls(fam.exit, info)
        scope_slots, slot_calls = {}, {}
        for slot, lay in zip(enter_slots, fam.enter.slots):
            if lay.part:  # a struct's pointer member: filters see the argument's own slot
                continue
            scope_slots[info.args[lay.index].name] = (slot.var, lay)
            slot_calls[info.args[lay.index].name] = slot.call
        fc = lower_filter(fam.filter, self.scope(fam, scope_slots, slot_calls)) if fam.filter else None
        loops = []
        if p.bounded_loops:  # (filters see no entry's copy: the slots stop lining up with the layout's here)
            enter_slots, loop = _entry_loop(enter_slots, fam.enter, info, f"enter_{c_ident(fam.name)}", p.retry)
            loops += [loop] if loop else []
            exit_slots, loop = _entry_loop(exit_slots, fam.exit, info, f"exit_{c_ident(fam.name)}", False)
            loops += [loop] if loop else []
        uses_inflight = fc is not None or fam.exit_args or p.summary is not None
        enter_via, exit_via = fam.enter_buffer, fam.exit_buffer
        sig = c_comment("; ".join(_signature(m) for m in fam.members))
        name = c_ident(fam.name)
        enter = HandlerC(f"ts_enter_{name}", None, fam.enter.kind, sig, enter_via, (fam.enter.max_size + 7) // 8,
                         len(fam.enter.args), enter_slots, enter_size, fc, fam.stash, uses_inflight, fam.exit_args, None,
                         enter_slots if p.retry else (), HEADER_SIZE + COMM_SIZE + 8 * len(fam.enter.args))
        args_from = "inflight" if fam.exit_args else "regs" if fam.exit.slots else None
        # retried copies are compact
        retry_calls = tuple(SlotC(s.var, _redo_call(s) if s.faults_var else s.call, 0, s.arg, s.fault_bit)
                            for s in enter_slots) if p.retry else ()
        exec_args = exec_args_copy(fam)
        exit_ = HandlerC(f"ts_exit_{name}", None, fam.exit.kind, sig, exit_via, (fam.exit.max_size + 7) // 8,
                         0, exit_slots, exit_size, fc, fam.stash, uses_inflight, fam.exit_args, args_from,
                         retry_calls, exec_args, counted=not fam.bookkeeping)
        return SyscallC(name, enter, exit_, tuple(loops))

    def generic(self) -> tuple[HandlerC | None, HandlerC | None]:
        p = self.plan
        if p.generic_enter is None:
            return None, None
        fc = lower_filter(p.generic_filter, self.scope(None, {}, {})) if p.generic_filter else None
        stash = p.generic_stash
        inflight = fc is not None or p.summary is not None
        via, exit_via = p.generic_enter_buffer, p.generic_exit_buffer
        enter = HandlerC("ts_enter_generic", None, p.generic_enter.kind, "any syscall, raw arguments", via,
                         p.generic_enter.max_size // 8, len(p.generic_enter.args), (), c_int(p.generic_enter.max_size), fc, stash,
                         inflight, False, None)
        exit_ = HandlerC("ts_exit_generic", None, p.generic_exit.kind, "any syscall, raw arguments", exit_via,
                         p.generic_exit.max_size // 8, 0, (), c_int(p.generic_exit.max_size), fc, stash,
                         inflight, False, None)
        return enter, exit_

    def table(self) -> dict | None:
        """The table-driven programs' rows and their shared filter (lowered once: it names no argument)."""
        t = self.plan.table
        if t is None:
            return None
        scope = HandlerScope("table", {}, {}, {}, self.nrs, self.params, self.plan.bounded_loops, True)
        # an unfiltered row says whether it keeps its entry in flight; a filtered table keeps every one
        inflight_test = "1" if t.filter else "(row >> TS_TR_INFLIGHT) & 1"
        return {"rows": table_c.rows(t), "slots": t.slots, "exit_word": table_c.exit_word(t), "stash": t.stash,
                "inflight_test": inflight_test,
                "filter": lower_filter(t.filter, scope) if t.filter else None}

    def view(self) -> dict:
        p = self.plan
        syscalls = [self.handler_pair(fam) for fam in p.families if not fam.table]
        table = self.table()
        g_enter, g_exit = self.generic()
        generic_default = p.generic_everything
        generic_names = c_comment(", ".join(f"{i.nr} ({i.name})" for i in p.generic))
        helpers = []
        for s in syscalls:
            if s.enter.filter:
                helpers.extend(s.enter.filter.helpers)
        if table and table["filter"]:
            helpers.extend(table["filter"].helpers)
        if g_enter and g_enter.filter:
            helpers.extend(g_enter.filter.helpers)
        trigger = None
        if p.recorder is not None and p.recorder.trigger is not None:
            trigger = lower_trigger(p.recorder.trigger, self.scope(None, {}, {}))
        return {
            "plan": p,
            "trigger": trigger,
            "version": tracespec.__version__,
            "spec_path": c_comment(p.spec_path),
            "profile": c_comment(p.profile),
            "syscalls": syscalls,
            "table": table,
            "generic_enter": g_enter,
            "generic_exit": g_exit,
            "generic_names": generic_names,
            "generic_nrs_bound": table_c.TABLE_NRS,
            "generic_default": generic_default,
            "helpers": helpers,
            "c_int": c_int,
            "c_comment": c_comment,
            "describe": describe_plan(p),
        }


def describe_plan(p: Plan) -> list[str]:
    attach = {
        Attach.RAW_TP: "raw tracepoints sys_enter/sys_exit (every syscall passes through one program)",
        Attach.RAW_SYSCALLS: "tracepoints raw_syscalls:sys_enter/sys_exit",
        Attach.SYSCALL_TP: f"per-syscall tracepoints ({len(p.all_syscalls)} syscalls, {len(p.families)} families "
                           f"of programs)",
    }[p.attach]
    if p.output == Output.RINGBUF:
        output = f"BPF ring buffer, {p.ring_pages * 4096 >> 20} MiB"
    else:
        output = f"perf buffers, {p.ring_pages * 4096 >> 10} KiB per CPU"
    # a started command and processes given by pid share their C (and so a compiled program)
    started_or_pids = ("a command started by tracespec, or the processes given by pid"
                       + (", and their children" if p.target.follow else ""))
    target = {TargetKind.COMMAND: started_or_pids, TargetKind.PIDS: started_or_pids,
              TargetKind.ALL: "every process but tracespec", TargetKind.CGROUP: "the processes of one cgroup",
              TargetKind.COMM: "processes by name"}[p.target.kind]
    if p.summary is not None:
        output = f"a summary in per-CPU maps, by {p.summary.by}, at most {p.summary.keys} keys (no syscall records)"
    elif p.recorder is not None:
        output = (f"a flight recorder: overwritable perf buffers, {p.recorder.pages_per_cpu * 4096 >> 10} KiB per "
                  f"CPU, read only when dumped")
    out = [f"attach:  {attach}", f"output:  {output}", f"target:  {target}",
           f"records: {len(p.schema.layouts)} layouts, at most {p.max_record} bytes"]
    if p.signals:
        out.append("signals: each one a traced task gets (raw tracepoint signal_deliver), as strace prints them"
                   + ("; and the ones sent that it would take only ptraced, ignored or fatal (signal_generate)"
                      if p.signals_sent else ""))
    elif p.signals_note:
        out.append(f"signals: not printed: {p.signals_note}")
    if p.table is not None:
        own = len([f for f in p.families if not f.table])
        out.append(f"table:   {len(p.table.entries)} families ({len(p.table.nrs)} syscalls) recorded by one table-driven "
                   f"pair of programs; {own} with programs of their own")
    return out


HEADER_BEGIN_MARK = "/* ---- tracespec/bpf/tracespec.bpf.h ---- */"
HEADER_END_MARK = "/* ---- end of tracespec.bpf.h ---- */"
TASKS_BEGIN_MARK = "/* ---- tracespec/bpf/tasks.bpf.h ---- */"
TASKS_END_MARK = "/* ---- end of tasks.bpf.h ---- */"
DISPATCH_BEGIN_MARK = "/* ---- tracespec/bpf/dispatch.bpf.h ---- */"
DISPATCH_END_MARK = "/* ---- end of dispatch.bpf.h ---- */"


def _bpf_file(name: str) -> str:
    return resources.files("tracespec").joinpath("bpf", name).read_text("utf-8")


def _config_defines(plan: Plan) -> dict[str, str]:
    """The #defines that configure tracespec.bpf.h for this plan (every value passes through c_int or is
    a helper name the profile offers)."""
    d = {"TS_OUTPUT_RINGBUF": c_int(int(plan.output == Output.RINGBUF)), "TS_RING_PAGES": c_int(plan.ring_pages),
         "TS_WAKE_BYTES": c_int(plan.wakeup_batch),
         "TS_N_PARAMS": c_int(len(plan.params)), "TS_SCRATCH_SIZE": c_int(plan.scratch_size),
         "TS_BOUNDED_LOOPS": c_int(int(plan.bounded_loops)), "TS_READ_USER": c_ident(plan.read_user),
         "TS_READ_USER_STR": c_ident(plan.read_user_str), "TS_READ_KERNEL": c_ident(plan.read_kernel),
         f"TS_ATTACH_{plan.attach.upper()}": "1"}
    d.update({f"TS_P_{i.name}": c_int(int(i)) for i in ParamIndex})
    d.update({name: c_int(value) for name, value in TARGET_STATES.items()})
    d.update({f"TS_NEED_{h}": "1" for h in sorted(plan.helpers)})
    if plan.table is not None:
        d.update({name: c_int(value) for name, value in table_c.c_defines().items()})
        d["TS_TROW_USED"] = c_int(table_c.used_words(plan.table))
    if plan.fd_inode_param is not None:  # ts_fd_inode's offsets: FD_INODE_MEMBERS' params, in order
        d.update({f"TS_P_FD_{member.split('.')[1].upper()}": c_int(plan.fd_inode_param + i)
                  for i, member in enumerate(FD_INODE_MEMBERS)})
    if "DIRENTS" in plan.helpers:
        d.update({"TS_DIRENTS_MAX": c_int(DIRENTS_MAX), "TS_D_RECLEN": c_int(D_RECLEN),
                  "TS_NR_GETDENTS": c_int(syscall_nrs(plan).get("getdents", -1)),
                  "TS_DIRENT_HEADER": c_int(DIRENT_HEADERS["getdents"]),
                  "TS_DIRENT64_HEADER": c_int(DIRENT_HEADERS["getdents64"])})
    if plan.sock_ends_param is not None:  # ts_put_sock_ends's: SOCK_ENDS_MEMBERS'
        d.update({f"TS_P_SK_{member.split('.')[1].upper()}": c_int(plan.sock_ends_param + i)
                  for i, member in enumerate(SOCK_ENDS_MEMBERS)})
        d["TS_SOCK_ENDS_SIZE"] = c_int(SOCK_ENDS_SIZE)
    if plan.target_task_param is not None:  # signal_generate's walk of the receiver's task_struct
        members = target_task_members(plan.target.kind, plan.serve is not None)
        d.update({f"TS_P_TT_{member.split('.')[1].upper()}": c_int(plan.target_task_param + i)
                  for i, member in enumerate(members)})
    d.update(_dispatch_defines(plan))
    d.update(_state_defines(plan))
    d.update(_target_defines(plan))
    d.update(_task_event_defines(plan))
    d.update(_summary_defines(plan))
    if plan.serve is not None:
        counts = plan.serve.counts
        d.update({"TS_SERVE": "1", "TS_SERVE_MAX": c_int(plan.serve.max_recorders),
                  "TS_SERVE_NCPUS": c_int(plan.serve.cpus), "TS_SERVE_STRIDE": c_int(counts["stride"]),
                  "TS_SERVE_CALLS": c_int(counts["calls"]), "TS_SERVE_LOST": c_int(counts["lost"]),
                  "TS_SERVE_ERRORS": c_int(counts["errors"]), "TS_SERVE_ERRNO_BASE": c_int(counts["errno_base"])})
    return d


def _dispatch_defines(plan: Plan) -> dict[str, str]:
    """What the programs every syscall passes through do (dispatch.bpf.h)."""
    d = {}
    if plan.tail_calls:
        d["TS_TAIL_CALLS"] = "1"
    if plan.generic_enter is not None:
        d["TS_GENERIC"] = "1"
    if plan.exec_arm_program:
        d["TS_EXEC_ARM_EVENTS"] = "1"
    if plan.sigreturn_frame:
        d.update({"TS_SIGFRAME": "1", "TS_SIGFRAME_MASK": c_int(sigframe.SIGFRAME_MASK),
                  "TS_SIGFRAME_RAX": c_int(sigframe.SIGFRAME_RAX)})
    if plan.sigreturn_exit:
        d["TS_SIGRETURN_EXIT"] = "1"
    if plan.sigreturn_frame or plan.sigreturn_exit:
        d["TS_NR_RT_SIGRETURN"] = c_int(syscall_nrs(plan)["rt_sigreturn"])
    return d


def _state_defines(plan: Plan) -> dict[str, str]:
    """The maps a syscall's entry leaves for its exit (tracespec.bpf.h): in-flight entries, copies to make
    again, stashed records; and the flight recorder's control channel."""
    d = {"TS_STASH_SIZE": c_int(plan.stash_size)}
    if plan.inflight:
        d["TS_INFLIGHT"] = "1"
    if plan.retry:
        d["TS_RETRY"] = "1"
        if plan.retry_bitmap:
            d.update({"TS_RETRY_BITMAP": "1", "TS_RETRY_BITMAP_WORDS": c_int(BITMAP_WORDS)})
    if plan.recorder:
        d["TS_RECORDER"] = "1"
    return d


def _target_defines(plan: Plan) -> dict[str, str]:
    """Which tasks are traced (tasks.bpf.h): tasks tracespec names (a command, pids) in a bitmap or a hash;
    the recorded cgroups of serve; one cgroup; a task name; else every task but tracespec's."""
    kind = plan.target.kind
    if kind not in (TargetKind.COMMAND, TargetKind.PIDS):
        if plan.serve is not None:
            return {}  # TS_SERVE says it
        if kind == TargetKind.CGROUP:
            return {"TS_TARGET_CGROUP": "1"}
        if kind == TargetKind.COMM:
            word0, word1 = struct.unpack("<QQ", (plan.target.comm or b"").ljust(16, b"\0")[:16])
            return {"TS_TARGET_COMM": "1", "TS_COMM_WORD0": c_int(word0), "TS_COMM_WORD1": c_int(word1)}
        return {}
    d = {"TS_TARGET_HASH": "1"} if not plan.target_bitmap else \
        {"TS_TARGET_BITMAP": "1", "TS_BITMAP_WORDS": c_int(BITMAP_WORDS)}
    if plan.arm_on_exec:
        d["TS_ARM_ON_EXEC"] = "1"
    if plan.target.follow:
        d["TS_FOLLOW"] = "1"
    return d


def _task_event_defines(plan: Plan) -> dict[str, str]:
    """The events of the traced tasks' lives that tasks.bpf.h records beside their syscalls."""
    execve, execveat = plan.exec_nrs
    d = {"TS_NR_EXECVE": c_int(execve), "TS_NR_EXECVEAT": c_int(execveat)}
    if any(exec_args_copy(fam) for fam in plan.families):
        d.update({"TS_EXEC_ARGS": "1", "TS_EXEC_PATH_MAX": c_int(EXEC_PATH_MAX), "TS_EXEC_ARGS_MAX": c_int(EXEC_ARGS_MAX)})
    if plan.signals:
        d["TS_SIGNALS"] = "1"
    if plan.signals_sent:
        d["TS_SIGNALS_SENT"] = "1"
    return d


def _summary_defines(plan: Plan) -> dict[str, str]:
    if plan.summary is None:
        return {}
    d = {"TS_SUMMARY": "1", "TS_HIST_BUCKETS": c_int(HIST_BUCKETS), "TS_SUMMARY_KEYS": c_int(plan.summary.keys),
         "TS_SUMMARY_EPOCH_PARAM": c_int(plan.summary.epoch_param)}
    if plan.summary.by != "syscall":
        d["TS_SUMMARY_BY_TGID"] = "1"
    if plan.summary.by == "thread":
        d["TS_SUMMARY_BY_TID"] = "1"
    return d


def preamble(plan: Plan, header: str | None = None) -> str:
    """What comes before the program's own maps and handlers: the wire format's C side (from
    wire.layout), the plan's configuration, then tracespec.bpf.h, spliced in so that `tracespec emit`
    prints one self-contained file."""
    lines = ["", "/* the wire format (tracespec/wire/layout.py) */"]
    lines += [f"#define {name} {c_int(value)}" for name, value in c_defines().items()]
    lines += ["", c_header_struct(), "/* this program's configuration of tracespec.bpf.h */"]
    lines += [f"#define {name} {value}" for name, value in _config_defines(plan).items()]
    lines += ["", HEADER_BEGIN_MARK, (header if header is not None else _bpf_file("tracespec.bpf.h")).rstrip(),
              HEADER_END_MARK, ""]
    lines += _array_copiers(plan)
    lines += [TASKS_BEGIN_MARK, _bpf_file("tasks.bpf.h").rstrip(), TASKS_END_MARK, ""]
    return "\n".join(lines)


def _array_copiers(plan: Plan) -> list[str]:
    """The header's array copiers instantiated for each (elements, bytes, sub-slot) shape the records use."""
    out = [f"TS_DEFINE_PUT_STRV({c_int(c)}, {c_int(m)}, {c_int(s)})" for c, m, s in _array_shapes(plan, Capture.STRV)]
    out += [f"TS_DEFINE_PUT_IOV({c_int(c)}, {c_int(m)}, {c_int(s)})" for c, m, s in _array_shapes(plan, Capture.IOVEC)]
    out += [f"TS_DEFINE_PUT_ELEMS({c_int(c)}, {c_int(e)})" for c, e in _struct_arrays(plan)]
    return out + [""] if out else []


def render_c(plan: Plan) -> str:
    """The program's C, in one pass: the plan names the helpers it calls."""
    view = _Lowerer(plan).view()
    program = env().get_template("program.c.j2").render(**view, preamble=preamble(plan))
    return "\n".join([program.rstrip(), "", DISPATCH_BEGIN_MARK, _bpf_file("dispatch.bpf.h").rstrip(),
                      DISPATCH_END_MARK, ""])
