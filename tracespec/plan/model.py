"""The plan: every decision about the BPF program, made before any code is written.

Templates only render what is decided here. The `Schema` part (record layouts and the syscalls they
describe) is also what a decoder needs, and it serialises to JSON for binary trace headers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum, IntEnum

from tracespec.catalogue.kinds import Capture, Phase, Written
from tracespec.validate.typed import TExpr, TLeaf, TStrMatch
from tracespec.wire.layout import COMM_SIZE, HEADER_SIZE, SLOT_INFO_SIZE, align4, element_bytes


class Attach(str, Enum):
    """How the programs attach: raw tracepoints sys_enter/sys_exit (one program sees every syscall), the
    raw_syscalls tracepoints, or per-syscall tracepoints. A str (see Capture): equal to its value."""

    __str__ = str.__str__
    __format__ = str.__format__

    RAW_TP = "raw_tp"
    SYSCALL_TP = "syscall_tp"
    RAW_SYSCALLS = "raw_syscalls"


class Output(str, Enum):
    """Where records go: one BPF ring buffer, or per-CPU perf buffers."""

    __str__ = str.__str__
    __format__ = str.__format__

    RINGBUF = "ringbuf"
    PERFBUF = "perfbuf"


class TargetKind(str, Enum):
    """Whose syscalls are traced."""

    __str__ = str.__str__
    __format__ = str.__format__

    COMMAND = "command"  # a command tracespec starts
    PIDS = "pids"  # running processes, by id
    ALL = "all"  # every process but tracespec
    CGROUP = "cgroup"  # the processes of one cgroup v2 group
    COMM = "comm"  # processes by name


class Placement(str, Enum):
    """Where a record is built before it is emitted."""

    __str__ = str.__str__
    __format__ = str.__format__

    STACK = "stack"  # the BPF stack (512 bytes in all)
    SCRATCH = "scratch"  # a per-CPU array map
    RING = "ring"  # reserved in the ring buffer itself, no copy


# the programs that record syscalls with raw arguments (a raw tracepoint's also dispatches to the others)
GENERIC_PROGRAMS = frozenset({"ts_raw_enter", "ts_raw_exit", "ts_rs_enter", "ts_rs_exit", "ts_tp_enter", "ts_tp_exit"})
TABLE_PROGRAMS = ("ts_enter_table", "ts_exit_table")  # the table-driven families' programs
SIGNAL_PROGRAM = "raw_tracepoint__signal_deliver"  # signal deliveries (BCC attaches it by this name)
SIGNAL_SENT_PROGRAM = "raw_tracepoint__signal_generate"  # signals sent that an unptraced task never takes



@dataclass(frozen=True)
class ArgField:
    """An argument as stored (raw 64-bit slot) and as it is to be read."""

    name: str
    index: int
    kind: str  # the argument kind, e.g. "path", "flags(open_flags)"
    size: int  # bytes of the C type holding the value
    signed: bool


@dataclass(frozen=True)
class SlotLayout:
    """Memory copied for one argument: a string, buffer, struct, socket address, or an array of them."""

    arg: str
    index: int  # the argument holding the pointer
    capture: Capture  # never NONE
    max: int  # payload bytes at most (arrays: per element)
    inline: bool  # fixed-size slot in a fixed-size record
    size_index: int | None = None  # the argument holding the length (iovec: the element count)
    size_from_ret: bool = False  # the length is the return value (iovec: total bytes at exit)
    struct: str | None = None
    count: int = 0  # arrays: elements at most (ptrcount: pointers counted at most; fdinode: descriptors,
    # 1: the one returned, 2: the int[2] at `index`)
    size_deref: bool = False  # the length is an int behind the size_index pointer
    elem: int = 0  # an array of fixed-size elements: bytes of one; the length counts elements (max: bytes)
    bits: bool = False  # the length counts bits, copied in whole longs (select's fd_set)
    bits_over: int = 0  # ... unsigned, this many more than the kernel reads (a node mask's maxnode: 1)
    written: Written = Written.OK  # an exit copy is made (and decoded) only at these return values
    plus: int = 0  # bytes copied before the ones the length counts (a System V message's mtype)
    # a pointer member of the struct at the argument (catalogue.structs.PointerMember), copied as a slot
    # of its own named ARG__PART: the pointer at offset `via`, its length (or count) at `via_len`
    # of via_len_size bytes (0: the length is max, one of its own)
    part: str = ""
    via: int = -1
    via_len: int = 0
    via_len_size: int = 8
    # a pointer member of entry `entry` of an array of structs (sendmmsg's, recvmmsg's mmsghdr): copied
    # only when the array's count (size_index at entry, the return value at exit) reaches that entry;
    # an exit copy of its iovecs is limited by the entry's msg_len, not the return value
    entry: int = -1

    @property
    def name_suffix(self) -> str:
        return f"__{self.part}" if self.part else ""

    @property
    def bytes(self) -> int:
        """Bytes the slot occupies at most: its info word and payload (strings keep room for the NUL),
        4-aligned; arrays hold `count` elements, each with its own info word (and iovec its length)."""
        if self.capture == Capture.STRING:
            return SLOT_INFO_SIZE + align4(self.max + 1)
        if self.capture in (Capture.STRV, Capture.IOVEC):
            return SLOT_INFO_SIZE + self.count * element_bytes(self.capture, self.max)
        if self.capture == Capture.PTRCOUNT:
            return SLOT_INFO_SIZE
        return SLOT_INFO_SIZE + align4(self.max)


@dataclass(frozen=True)
class RecordLayout:
    kind: int
    phase: Phase  # ENTER or EXIT
    nrs: tuple[int, ...]  # the syscalls recorded with it; () for the raw layout any syscall may use
    name: str  # a family's name ("f3"), or "*" for the raw layout
    args: tuple[ArgField, ...]  # enter records store the argument registers' raw values
    slots: tuple[SlotLayout, ...]

    @property
    def fixed_size(self) -> int:
        if self.phase == Phase.ENTER:
            return HEADER_SIZE + COMM_SIZE + 8 * len(self.args)
        return HEADER_SIZE + 8

    @property
    def max_size(self) -> int:
        return self.fixed_size + sum(s.bytes for s in self.slots)

    @property
    def variable(self) -> bool:
        return any(not s.inline for s in self.slots)

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.arg for s in self.slots)


@dataclass(frozen=True)
class SyscallInfo:
    """What printing a syscall needs: its name, arguments and how its return value reads."""

    nr: int
    name: str
    ret: str
    args: tuple[ArgField, ...]
    raw: bool = False  # printed raw: numbers only, no syscall-specific layout
    # strace's -s for the arrays inside what a struct's pointer members point to (a msghdr's control
    # messages: SCM_RIGHTS' descriptors, IP_RETOPTS' bytes), which are copied whole: the spec's buffers
    # count; 0 when the syscall has no such struct
    limit: int = 0
    # recorded only for fd_paths' descriptor table (the spec does not trace it): never printed, counted
    # or exported; the decoder hands its events to the table alone (decode/events.py Noted)
    bookkeeping: bool = False


@dataclass(frozen=True)
class Schema:
    """Decoding and printing knowledge shared by the generated decoder and the formatters."""

    layouts: tuple[RecordLayout, ...]
    syscalls: tuple[SyscallInfo, ...]
    spec_path: str

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> "Schema":
        """The inverse of to_json, for a header format/traceheader.py has checked: its words become
        members again."""
        layouts = tuple(
            RecordLayout(kind=lay["kind"], phase=Phase(lay["phase"]), nrs=tuple(lay["nrs"]), name=lay["name"],
                         args=tuple(ArgField(**a) for a in lay["args"]),
                         slots=tuple(SlotLayout(**{**s, "capture": Capture(s["capture"]),
                                                       "written": Written(s.get("written", "ok"))})
                                     for s in lay["slots"]))
            for lay in data["layouts"])
        syscalls = tuple(SyscallInfo(nr=s["nr"], name=s["name"], ret=s["ret"],
                                     args=tuple(ArgField(**a) for a in s["args"]), raw=bool(s.get("raw")),
                                     limit=s.get("limit", 0), bookkeeping=bool(s.get("bookkeeping")))
                         for s in data["syscalls"])
        return Schema(layouts, syscalls, data["spec_path"])


@dataclass(frozen=True)
class FilterPlan:
    """A syscall's effective filter (global AND its own), split by when each leaf is known."""

    expr: TExpr
    leaves: tuple[TLeaf, ...]  # every leaf once; its position is its bit in the kept-bits word
    exit_leaves: frozenset[int]  # positions of the leaves known only at exit

    @property
    def has_exit(self) -> bool:
        return bool(self.exit_leaves)

    @property
    def fault_leaves(self) -> frozenset[int]:
        """Positions of the entry leaves matching copied memory: when the copy faults (the page is not
        in yet), the leaf is unknown at entry and is decided at exit, from a copy made then."""
        return frozenset(i for i, leaf in enumerate(self.leaves)
                         if isinstance(leaf, TStrMatch) and leaf.field.arg and i not in self.exit_leaves)

    @property
    def defers(self) -> bool:
        """Whether an event can wait for its exit to be decided (its enter record stashed meanwhile)."""
        return self.has_exit or bool(self.fault_leaves)


@dataclass(frozen=True)
class FamilyPlan:
    """Syscalls recorded alike - the same copies at the same argument positions, the same filter (and,
    on per-syscall tracepoints, the same number of arguments) - share one pair of programs and of
    record layouts; the syscall number in each record tells them apart."""

    name: str  # f0, f1, ...: C names and layout names
    members: tuple[SyscallInfo, ...]
    events: tuple[tuple[int, str | None], ...]  # (nr, syscalls:sys_enter_<event>) of each member
    enter: RecordLayout
    exit: RecordLayout
    filter: FilterPlan | None
    stash: bool  # the enter record waits in the stash map until the exit filter decides
    exit_args: bool  # the exit handler needs the arguments (exit copies, on tracepoints without pt_regs)
    origin: str = ""  # the spec rules behind it, for messages: "openat (specs/x.yaml:4:5)"
    # where each record is built
    enter_buffer: Placement = Placement.STACK
    exit_buffer: Placement = Placement.STACK
    table: bool = False  # recorded by the shared table-driven programs (Plan.table), not programs of its own
    # fd_paths' bookkeeping (SyscallInfo.bookkeeping): recorded whatever the filters say, and its exit
    # neither counted for a serve recorder nor tested by a recorder's trigger
    bookkeeping: bool = False

    @property
    def nrs(self) -> tuple[int, ...]:
        return tuple(m.nr for m in self.members)


class SlotLen(IntEnum):
    """Where a table slot's length comes from (TableSlot.len_from)."""

    CONST = 0  # the slot's max (a struct; at exit nothing when the syscall failed)
    RET = 1  # the return value
    ARG = 2  # an argument, as its C type holds it
    DEREF = 3  # an int behind an argument (at exit nothing when the syscall failed)


@dataclass(frozen=True)
class TableSlot:
    """One copy as the table-driven programs make it: what ts_put_str / ts_put_buf get."""

    string: bool  # a NUL-terminated string (else bytes)
    ptr: int  # the argument holding the pointer
    max: int
    len_from: SlotLen = SlotLen.CONST
    len_index: int = 0  # the argument holding the length (ARG, DEREF)
    len_size: int = 8  # bytes of that argument's C type
    len_signed: bool = False
    elem: int = 0  # bytes per element when the length counts elements (pollfds, gids, epoll events)
    bits: bool = False  # the length counts bits, copied in whole longs (fd_sets)
    bits_over: int = 0  # ... unsigned, this many more than the kernel reads (node masks' maxnode)
    written: Written = Written.OK  # at exit: when the kernel wrote the memory, by the return value
    plus: int = 0  # bytes before the ones the length counts (a System V message's mtype)


@dataclass(frozen=True)
class TableEntry:
    """A table-driven family's row: what its own programs would have had written in as constants."""

    family: str
    nrs: tuple[int, ...]
    names: tuple[str, ...]  # the syscalls it serves, for the C comment
    enter_kind: int
    exit_kind: int
    nargs: int  # argument words of the enter record
    enter: tuple[TableSlot, ...]
    exit: tuple[TableSlot, ...]
    inflight: bool  # the entry is kept in ts_inflight (a filter, or the exit needs the arguments)
    args_from: str | None  # exit: where the arguments come from (regs | inflight | None)


@dataclass(frozen=True)
class TablePlan:
    """Families whose copies are all strings and buffers (arrays and bit sets among them) taken at argument
    positions, and whose filter
    is the one they share, recorded by one enter and one exit program that look up their syscall
    number's row: much less C for clang to compile than a pair of programs per family."""

    entries: tuple[TableEntry, ...]
    slots: int  # slots per record at most (the programs' loop bound)
    filter: FilterPlan | None  # the filter every table family has (or none)
    stash: bool

    @property
    def nrs(self) -> tuple[int, ...]:
        return tuple(sorted(nr for e in self.entries for nr in e.nrs))


@dataclass(frozen=True)
class Attachment:
    program: str  # the C function
    kind: str  # tracepoint | raw_tracepoint
    target: str  # "category:event" or the raw tracepoint's name


@dataclass(frozen=True)
class TailCall:
    """A program the runtime puts into a program array, for a dispatcher to tail-call by index."""

    table: str
    index: int
    program: str


class ParamIndex(IntEnum):
    """The fixed slots of the ts_params map, named once for the template (as TS_P_* #defines), the
    planner and the loader. Filters' cgroup ids and the summary's epoch follow them."""

    SELF_TGID = 0  # tracespec's own process: never traced
    TARGET_CGROUP_ID = 1
    EXIT_CODE = 2  # struct offsets read from the kernel's BTF (0: unknown)
    TASK_MM = 3
    MM_ARG_START = 4
    MM_ARG_END = 5
    TASK_REAL_PARENT = 6
    TASK_TGID = 7
    TASK_SIGNAL = 8
    SIGNAL_LIVE = 9
    SIGNAL_FLAGS = 10
    SIGNAL_GROUP_EXIT_CODE = 11
    TASK_PID = 12


# what the runtime writes into each fixed slot: Param.name (btf:STRUCT.MEMBER is an offset from BTF)
FIXED_PARAMS = {
    ParamIndex.SELF_TGID: "self_tgid", ParamIndex.TARGET_CGROUP_ID: "target_cgroup_id",
    ParamIndex.EXIT_CODE: "btf:task_struct.exit_code", ParamIndex.TASK_MM: "btf:task_struct.mm",
    ParamIndex.MM_ARG_START: "btf:mm_struct.arg_start", ParamIndex.MM_ARG_END: "btf:mm_struct.arg_end",
    ParamIndex.TASK_REAL_PARENT: "btf:task_struct.real_parent", ParamIndex.TASK_TGID: "btf:task_struct.tgid",
    ParamIndex.TASK_SIGNAL: "btf:task_struct.signal", ParamIndex.SIGNAL_LIVE: "btf:signal_struct.live",
    ParamIndex.SIGNAL_FLAGS: "btf:signal_struct.flags",
    ParamIndex.SIGNAL_GROUP_EXIT_CODE: "btf:signal_struct.group_exit_code",
    ParamIndex.TASK_PID: "btf:task_struct.pid",
}

# signal_generate asks of a task that is not the current one what the target's test asks of the current
# task with a helper (bpf_get_current_cgroup_id, bpf_get_current_comm): its cgroup v2 group's id, read as
# that helper does, task->cgroups->dfl_cgrp->kn->id (cgroup and serve targets); or its name (comm
# targets). The struct members it walks, as btf: parameters from Plan.target_task_param on, in this order
# (TS_P_TT_*).
TARGET_TASK_CGROUP_MEMBERS = ("task_struct.cgroups", "css_set.dfl_cgrp", "cgroup.kn", "kernfs_node.id")
TARGET_TASK_COMM_MEMBERS = ("task_struct.comm",)


def target_task_members(kind: TargetKind, serve: bool) -> tuple[str, ...]:
    """The members signal_generate walks for a target (none: a target named by its tasks' ids, or all)."""
    if serve or kind == TargetKind.CGROUP:
        return TARGET_TASK_CGROUP_MEMBERS
    return TARGET_TASK_COMM_MEMBERS if kind == TargetKind.COMM else ()


@dataclass(frozen=True)
class Param:
    """A value the runtime writes into the ts_params map before attaching."""

    index: int
    name: str  # self_tgid | cgroup_id
    value: str = ""  # for cgroup ids: the cgroup path to resolve


@dataclass(frozen=True)
class Target:
    """Whose syscalls: a command started by tracespec, running processes, or everything."""

    kind: TargetKind = TargetKind.COMMAND
    follow: bool = True  # follow forked children (in the kernel)
    cgroup: str | None = None
    comm: bytes | None = None

    def __post_init__(self):
        # callers may name the kind by its word (a command-line choice): a word that is no kind fails here
        object.__setattr__(self, "kind", TargetKind(self.kind))


HIST_BUCKETS = 40  # log2 latency buckets: [2^i, 2^(i+1)) ns; the last one holds everything from 2^39 ns


@dataclass(frozen=True)
class SummaryPlan:
    """Aggregation in the kernel instead of records: per syscall (and process or thread), in per-CPU maps
    of a fixed number of keys, so memory stays constant however long the run."""

    by: str = "syscall"  # syscall | process | thread
    keys: int = 16384  # map entries at most; a call that finds the map full is counted as lost
    epoch_param: int = 0  # the ts_params index of the epoch the kernel writes into (flipped per interval)


@dataclass(frozen=True)
class RecorderPlan:
    """A flight recorder: records go to per-CPU perf buffers that the kernel overwrites (oldest first)
    and nobody reads until a dump; a small control buffer says when to dump."""

    pages_per_cpu: int  # a power of two
    trigger: TExpr | None = None  # decided at each traced syscall's exit (no memory, no arguments)


# by attach mode: the context structs of its enter and exit programs (tracespec.bpf.h defines ts_*)
ATTACH_CONTEXTS = {
    Attach.RAW_TP: ("struct bpf_raw_tracepoint_args", "struct bpf_raw_tracepoint_args"),
    Attach.RAW_SYSCALLS: ("struct ts_rs_enter_ctx", "struct ts_rs_exit_ctx"),
    Attach.SYSCALL_TP: ("struct ts_tp_enter_ctx", "struct ts_tp_exit_ctx"),
}


@dataclass(frozen=True)
class ServePlan:
    """`tracespec serve`: one loaded program, many flight recorders, one per cgroup v2 group. A group's id
    leads (ts_serve_slots) to its recorder's slot; slot s's buffer on CPU c is entry s * cpus + c of the
    perf event array ts_serve_events, and its counts sit at s * COUNTS_STRIDE + k in ts_serve_counts."""

    max_recorders: int
    cpus: int  # the kernel's possible CPUs: what bpf_get_smp_processor_id can return, plus one

    @property
    def counts(self) -> dict[str, int]:
        """The count indices, for the template."""
        return {"calls": COUNT_CALLS, "lost": COUNT_LOST, "errors": COUNT_ERRORS, "errno_base": COUNT_ERRNO_BASE,
                "stride": COUNTS_STRIDE}


# ts_serve_counts, per recorder slot (per CPU): syscalls recorded, records the buffer could not take,
# syscalls that failed, then one count per errno from 1 to COUNTS_STRIDE - COUNT_ERRNO_BASE - 1 (higher
# errnos are counted among the failures only)
COUNT_CALLS, COUNT_LOST, COUNT_ERRORS, COUNT_ERRNO_BASE, COUNTS_STRIDE = 0, 1, 2, 3, 160


@dataclass(frozen=True)
class Plan:
    spec_path: str
    profile: str
    attach: Attach
    output: Output
    read_user: str  # the helper names the profile offers
    read_user_str: str
    read_kernel: str
    bounded_loops: bool
    target: Target
    families: tuple[FamilyPlan, ...]
    generic: tuple[SyscallInfo, ...]  # syscalls recorded with raw arguments through one layout
    generic_enter: RecordLayout | None
    generic_exit: RecordLayout | None
    generic_filter: FilterPlan | None
    generic_events: tuple[tuple[int, str | None], ...]  # (nr, tracepoint event) of the generic syscalls
    generic_everything: bool  # every syscall goes through the generic handler (no per-number dispatch)
    schema: Schema
    attachments: tuple[Attachment, ...]
    tail_calls: tuple[TailCall, ...]  # raw tracepoints: each traced syscall's own programs
    params: tuple[Param, ...]
    inflight: bool  # per-thread in-flight map (entry ts, args, filter bits)
    retry: bool  # entry copies that fault are made again at exit (the kernel has paged the memory in)
    # with retry: a bit per thread says it may have a ts_retry entry, so that an exit tests it (an inlined
    # array lookup) rather than looking the hash map up every time (kernels with atomic or/and on maps)
    retry_bitmap: bool
    stash_size: int  # bytes of the stash map's value (0: no stash)
    scratch_size: int
    ring_pages: int  # ring buffer size, or perf buffer pages per CPU
    max_record: int
    arm_on_exec: bool  # command targets start being traced at their execve
    exec_nrs: tuple[int, int]  # execve's and execveat's syscall numbers (ValidatedSpec.exec_nrs)
    # command and -p targets: one bit per task id in an array (an inlined lookup at each syscall) rather
    # than a hash map, whose lookup cost ~35 ns per syscall on both entry and exit (bench/cost_probe.py)
    target_bitmap: bool
    exec_arm_events: tuple[str, ...]  # syscall_tp: execve events attached only to arm the target
    # ring buffer: each CPU wakes the reader once it has written this many bytes since it last did (the
    # reader also looks every POLL_SECONDS); 0: the kernel's own rule, a wakeup whenever the reader has
    # caught up, which in a VM cost about 1 us of every openat+close (bench/results/2026-12-02-vm-perf-*)
    wakeup_batch: int
    summary: SummaryPlan | None = None  # aggregate in maps instead of emitting syscall records
    recorder: RecorderPlan | None = None  # keep records in overwritable buffers until a dump
    serve: ServePlan | None = None  # tracespec serve: a recorder per cgroup, added while the program runs
    helpers: frozenset[str] = frozenset()  # optional helpers of tracespec.bpf.h the program calls (TS_NEED_*)
    generic_stash: bool = False  # the generic enter record waits in the stash map for its exit filter
    exec_arm_program: bool = False  # the C has ts_tp_arm (exec_arm_events, or a wide program's runs need it)
    generic_enter_buffer: Placement = Placement.STACK  # as FamilyPlan.enter_buffer, for the generic handler
    generic_exit_buffer: Placement = Placement.STACK
    table: TablePlan | None = None  # the families recorded by the table-driven programs ts_enter_table/_exit
    signals: bool = False  # record the signals traced tasks get (the raw tracepoint signal_deliver)
    signals_note: str | None = None  # why they are not recorded when the spec asks for them
    # ... and the signals sent to them that the kernel, as they are not ptraced, drops (ignored) or turns
    # into their group's death (a fatal one with no handler), which strace sees (raw tracepoint
    # signal_generate, in the sender: a cgroup or comm target's test of the receiver walks its task_struct,
    # target_task_param)
    signals_sent: bool = False
    sigreturn_frame: bool = False  # rt_sigreturn's entry records the mask and rax its signal frame restores
    # a summary counts rt_sigreturn at the exit whose syscall number it restored to -1 (raw exit probes)
    sigreturn_exit: bool = False
    # fd_paths: the ts_params index of the first of the struct offsets (catalogue/descriptors.py
    # FD_INODE_MEMBERS, in order) with which the exits of socket, pipe, ... read their descriptors' inodes
    fd_inode_param: int | None = None
    # -yy's socket endpoints: the first of SOCK_ENDS_MEMBERS' params (the exits of bind, connect, ...)
    sock_ends_param: int | None = None
    # signal_generate's test of a cgroup, serve or comm target on the receiving task: the first of
    # TARGET_TASK_CGROUP_MEMBERS' params (cgroup, serve) or TARGET_TASK_COMM_MEMBERS' (comm)
    target_task_param: int | None = None

    @property
    def contexts(self) -> tuple[str, str]:
        """The C types of the context the enter and exit programs get."""
        return ATTACH_CONTEXTS[self.attach]

    def program_origin(self, program: str) -> str:
        """What in the spec a generated program serves, for error messages."""
        for fam in self.families:
            if program in (f"ts_enter_{fam.name}", f"ts_exit_{fam.name}"):
                return fam.origin
        if self.table is not None and program in TABLE_PROGRAMS:
            names = [name for e in self.table.entries for name in e.names]
            return "the table-driven syscalls (" + ", ".join(names[:6]) + (", ..." if len(names) > 6 else "") + ")"
        if program == SIGNAL_PROGRAM:
            return "the signals traced tasks get (signals: true, strace's default)"
        if program == SIGNAL_SENT_PROGRAM:
            return "the signals sent to traced tasks that only a ptracer would see them take (ignored, or fatal)"
        # only the programs that handle them: the sched tracepoints and ts_tp_arm are bookkeeping
        if self.generic and program in GENERIC_PROGRAMS:
            return "the syscalls recorded with raw arguments (" + ", ".join(i.name for i in self.generic[:6]) + \
                (", ..." if len(self.generic) > 6 else "") + ")"
        return "tracespec's own bookkeeping (not a spec rule)"

    @property
    def all_syscalls(self) -> tuple[SyscallInfo, ...]:
        return tuple(sorted([m for f in self.families for m in f.members] + list(self.generic), key=lambda i: i.nr))

