"""Compile the generated C with BCC (or take it from the cache), load it, set parameters, attach in a safe
order, and take it all down."""

from __future__ import annotations

import ctypes
import os
import threading

from tracespec.codegen import table_c
from tracespec.errors import TracespecError
from tracespec.kernel.btf import BtfError, member_offsets
from tracespec.kernel.profile import find_tracefs
from tracespec.plan.model import Attach, ParamIndex, Plan, TargetKind
from tracespec.runtime import bpfobject, bpfsys, objcache
from tracespec.runtime.bcc_compile import KALLSYMS_NAMES, Compile, CompileError
from tracespec.runtime.cgroup import resolve_cgroup
from tracespec.runtime.instance import Instance, ProgramLoadError

STATE_TRACED, STATE_ARMED = 1, 2


def _first_errors(text: str, limit: int = 6) -> str:
    lines = [ln for ln in text.splitlines() if "error" in ln.lower()]
    return "\n".join(lines[:limit]) or text.strip()[-1500:]


def program_types(plan: Plan) -> dict[str, int]:
    """Every program the plan attaches or calls, with its BPF program type."""
    default = bpfsys.PROG_TYPE_RAW_TRACEPOINT if plan.attach == Attach.RAW_TP else bpfsys.PROG_TYPE_TRACEPOINT
    types = {t.program: default for t in plan.tail_calls}
    for a in plan.attachments:
        types[a.program] = _attachment_type(a)
    return types


def _attachment_type(a) -> int:
    if a.kind == "raw_tracepoint" or (a.kind == "auto" and a.program.startswith("raw_tracepoint__")):
        return bpfsys.PROG_TYPE_RAW_TRACEPOINT
    return bpfsys.PROG_TYPE_TRACEPOINT


class Loaded:
    """The loaded object of one plan (runtime/instance.Instance), until close()."""

    def __init__(self, bpf: Instance, plan: Plan):
        self.bpf = bpf
        self.plan = plan
        self.closed = False
        self.params = bpf.get_table(b"ts_params")
        self.lost_map = bpf.get_table(b"ts_lost")
        self.targets = None
        self.traced_bits = self.armed_bits = self.live = None
        self.missed = 0  # targets whose exit the programs missed (see drop_target)
        if plan.target.kind in (TargetKind.COMMAND, TargetKind.PIDS):
            if plan.target_bitmap:
                self.traced_bits = bpf.get_table(b"ts_traced_bits")
                self.armed_bits = bpf.get_table(b"ts_armed_bits") if plan.arm_on_exec else None
                self.live = bpf.get_table(b"ts_live")
            else:
                self.targets = bpf.get_table(b"ts_targets")

    def set_param(self, index: int, value: int) -> None:
        self.params[ctypes.c_int(index)] = ctypes.c_ulonglong(value & 0xFFFFFFFFFFFFFFFF)

    def set_table_rows(self) -> None:
        """The table-driven families' rows, by syscall number (codegen/table_c.map_rows): before
        attaching, as the parameters, since the table's programs record nothing without them."""
        if self.plan.table is None:
            return
        rows = self.bpf.get_table(b"ts_table_rows")
        for nr, words in table_c.map_rows(self.plan.table):
            rows[ctypes.c_uint(nr)] = (ctypes.c_ulonglong * len(words))(*words)

    def set_generic_nrs(self) -> None:
        """The syscalls the shared handler of raw records serves, by number (the template's
        ts_generic_nrs): before attaching, as the table's rows. Every syscall when it serves all."""
        if self.plan.generic_enter is None or self.plan.generic_everything:
            return
        served = self.bpf.get_table(b"ts_generic_nrs")
        for info in self.plan.generic:
            if not 0 <= info.nr < table_c.TABLE_NRS:
                raise ValueError(f"syscall number {info.nr} is past the {table_c.TABLE_NRS} the shared handler knows")
            served[ctypes.c_int(info.nr)] = ctypes.c_uint(1)

    def add_target(self, pid: int, armed: bool = False) -> None:
        """Called before the programs are attached: nothing else writes the maps yet."""
        if self.targets is not None:
            self.targets[ctypes.c_uint(pid)] = ctypes.c_uint(STATE_ARMED if armed else STATE_TRACED)
            return
        bits = self.armed_bits if armed else self.traced_bits
        word = ctypes.c_int(pid >> 6)
        old = bits[word].value
        if not old >> (pid & 63) & 1:
            bits[word] = ctypes.c_ulonglong(old | 1 << (pid & 63))
            self.live[ctypes.c_int(0)] = ctypes.c_longlong(self.live[ctypes.c_int(0)].value + 1)

    def is_target(self, pid: int) -> bool:
        """Whether the maps still count pid as traced (its exit, once seen, takes it out)."""
        if self.targets is not None:
            return ctypes.c_uint(pid) in self.targets
        return bool(self.traced_bits[ctypes.c_int(pid >> 6)].value >> (pid & 63) & 1)

    def drop_target(self, pid: int) -> None:
        """Take out a process that ended before its exit could be seen (while the program loaded)."""
        if self.targets is not None:
            try:
                del self.targets[ctypes.c_uint(pid)]
            except KeyError:
                pass
            return
        # The programs change bits and the count with atomic operations; this process cannot. So the
        # count keeps the process and `missed` makes up for it, and only the bit is cleared (so that a
        # new process with its pid is not traced): a read and a write of the word, which holds the
        # dead process's bit and those of 63 neighbouring pids, whose fork or exit at that microsecond
        # is the one thing that could be overwritten.
        word = ctypes.c_int(pid >> 6)
        old = self.traced_bits[word].value
        if old >> (pid & 63) & 1:
            self.traced_bits[word] = ctypes.c_ulonglong(old & ~(1 << (pid & 63)))
            self.missed += 1

    def targets_left(self) -> int:
        if self.live is not None:
            return self.live[ctypes.c_int(0)].value - self.missed
        return sum(1 for _ in self.targets.keys()) if self.targets is not None else 0

    def lost(self) -> int:
        return sum(int(v) for v in self.lost_map[ctypes.c_int(0)])

    def events_fd(self) -> int:
        return self.bpf.get_table(b"ts_events").map_fd

    def attach(self) -> None:
        """Fill the program arrays, then attach: the process lifecycle and signal programs first, then exits
        before enters, so that no syscall is seen entering whose return could be missed."""
        bpf = self.bpf
        order = sorted(self.plan.attachments, key=lambda a: (0 if a.kind == "auto" else 1 if "exit" in a.target else 2))
        types = program_types(self.plan)
        bpf.load_all({name: t for name, t in types.items() if name not in bpf.prog_fds})
        step = None
        try:
            for t in self.plan.tail_calls:
                step = (t.program, f"the {t.table} program array")
                fd = bpf.load(t.program, types[t.program])
                bpf.get_table(t.table)[ctypes.c_int(t.index)] = ctypes.c_int(fd)
            for a in order:
                step = (a.program, a.target)
                if _attachment_type(a) == bpfsys.PROG_TYPE_RAW_TRACEPOINT:
                    bpf.attach_raw_tracepoint(a.target, a.program)
                else:
                    bpf.attach_tracepoint(a.target, a.program)
            step = None
        except ProgramLoadError as e:
            raise LoadError(step[0], step[1], e.error, e.log, self.plan.program_origin(step[0])) from None
        except (OSError, KeyError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise LoadError(step[0], step[1], why, "", self.plan.program_origin(step[0])) from None

    def close(self) -> None:
        """Release everything. Closing a tracepoint's perf event makes the kernel wait out an RCU grace
        period (~60 ms each here), so a detached helper process closes those, all at once, while this
        one goes on: tracespec exits at once and the probes are gone a moment later."""
        if self.closed:
            return
        self.closed = True
        release(self.bpf)


def release(bpf) -> None:
    """Detach and free a BPF object (see Loaded.close)."""
    slow = list(bpf.tracepoint_fds.values()) + list(bpf.raw_tracepoint_fds.values())
    bpf.tracepoint_fds.clear()
    bpf.raw_tracepoint_fds.clear()
    if slow:
        release_in_background(slow)
    bpf.cleanup()


def release_in_background(fds: list[int]) -> None:
    """Close fds concurrently in a detached grandchild, which holds the last references: this process
    drops its own copies first (cheap), then lets the grandchild go (the kernel does the slow part)."""
    go_r, go_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                keep = set(fds) | {go_r}
                for fd in range(3, _max_fd()):
                    if fd not in keep:
                        _close_quietly(fd)
                while os.read(go_r, 1):  # EOF: the parent has closed its copies
                    pass
                threads = [threading.Thread(target=_close_quietly, args=(fd,)) for fd in fds]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        finally:
            os._exit(0)
    os.close(go_r)
    if pid > 0:
        os.waitpid(pid, 0)  # the intermediate child exits at once; the grandchild is on its own
    for fd in fds:
        _close_quietly(fd)
    os.close(go_w)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _max_fd() -> int:
    try:
        return max(int(n) for n in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return 1024


def _verifier_verdict(log: str) -> str:
    """The verifier's reason: the last line of its log before its statistics."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("processed ", "verification time", "stack depth", "HINT:")) and \
                not line[:1].isdigit():
            return line[:200]
    return ""


class LoadError(TracespecError):
    """A program the kernel (or BCC) would not load or attach; `log` has the verifier's words."""

    def __init__(self, program: str, where: str, error: str, log: str, origin: str = ""):
        serves = f" (it serves {origin})" if origin else ""
        if "too large" in log or "Argument list too long" in error:
            message = f"the program {program} is too large to load{serves}"
            hint = ("the verifier gives up on a program after 1,000,000 processed instructions (before "
                    "Linux 5.2, on one of more than 4,096): copy fewer or shorter strings (args.NAME.count, "
                    "strings.max), or make its filter simpler; `tracespec check` should have refused it: "
                    "please report the spec")
        elif "Permission denied" in error or "Invalid argument" in error or "processed" in log:
            said = _verifier_verdict(log)
            message = f"the kernel's verifier rejected the generated program {program}{serves}" + \
                (f": {said}" if said else "")
            hint = ("run again with --debug to see the verifier's log; this is a tracespec bug worth "
                    "reporting with the output of `tracespec emit SPEC`")
        else:
            message = f"cannot attach {program} to {where}: {error}"
            hint = "the kernel may lack this tracepoint; check the spec with `tracespec check`"
        super().__init__(message, hint=hint)
        self.log = log


def plan_cgroup_ids(plan: Plan) -> dict[str, int]:
    """The id of each cgroup the plan names (its target, its filters' cgroup fields), by path: resolved
    before the compile, so that a path that is not a cgroup v2 group fails at once."""
    return {p.value: resolve_cgroup(p.value)[1] for p in plan.params
            if p.name == "cgroup_id" or (p.name == "target_cgroup_id" and p.value)}


def kernel_helpers(plan: Plan) -> tuple[str, ...]:
    """The probe-read helpers BCC's compile may take as there (runtime/bcc_compile.KALLSYMS_NAMES): those of
    the running kernel's profile; none named when it has only bpf_probe_read (BCC then reads the kernel's
    own list, as before)."""
    return KALLSYMS_NAMES if plan.read_kernel == "bpf_probe_read_kernel" else ()


def compile_object(c_source: str, started=None, helpers: tuple[str, ...] = ()):
    """What BCC's compile of the C leaves to load (bpfobject.BpfObject): from the cache when this C was
    compiled before on this kernel and machine, else compiled in a child process (and kept). started(c)
    is told of the child's Compile, which its kill() gives up; helpers: kernel_helpers(plan)."""
    obj = objcache.get(c_source)
    if obj is not None:
        return obj
    job = Compile(c_source, helpers)
    if started is not None:
        started(job)
    try:
        obj = job.result()
    except CompileError as e:
        if e.died:
            lines = [line.strip() for line in e.log.splitlines() if line.strip()]
            why = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "no message")
            raise TracespecError(f"the BPF compiler gave up on the generated program: {why}",
                                 hint="this is a tracespec bug worth reporting with the output of `tracespec emit "
                                      "SPEC`; a smaller max for the spec's strings or buffers may avoid it") from None
        raise TracespecError("BCC could not compile the generated program:\n" + _first_errors(e.log),
                             hint="check the kernel headers (./setup), or report it with `tracespec emit SPEC`") \
            from None
    except bpfobject.ObjectError as e:
        raise TracespecError(f"BCC's compile left nothing this loader can load: {e}",
                             hint="report it with `tracespec emit SPEC` and BCC's version") from None
    objcache.put(c_source, obj)
    return obj


def instantiate(obj, plan: Plan) -> Instance:
    """The object's maps created and the plan's programs loaded (the verifier runs here; a program it
    refuses is reported by attach(), which names the spec part it serves)."""
    tracefs = find_tracefs()
    if tracefs is None:
        raise TracespecError("tracefs is not mounted, so the kernel's tracepoints are out of reach",
                             hint="mount -t tracefs tracefs /sys/kernel/tracing (./setup does this)")
    try:
        bpf = Instance(obj, tracefs)
    except bpfsys.BpfError as e:
        raise TracespecError(f"the kernel would not create the program's maps: {e.strerror}",
                             hint="check `ulimit -l` and the memory the maps take (ring and recorder sizes)") from None
    try:
        bpf.load_all(program_types(plan))
    except BaseException:
        bpf.cleanup()
        raise
    return bpf


def compile_program(c_source: str, plan: Plan, started=None) -> Instance:
    """Compiled (or taken from the cache) and loaded: the maps made, the programs verified."""
    return instantiate(compile_object(c_source, started, kernel_helpers(plan)), plan)


def btf_offsets(plan: Plan) -> dict[str, dict[str, int]]:
    """The struct member offsets the plan's btf: parameters name, from the kernel's own BTF ({} when it
    cannot be read: exit statuses are then unknown, and execve's arguments only what entry saw)."""
    want: dict[str, tuple[str, ...]] = {}
    for p in plan.params:
        if p.name.startswith("btf:"):
            struct_name, member = p.name[4:].split(".")
            want[struct_name] = want.get(struct_name, ()) + (member,)
    try:
        return member_offsets(want)
    except BtfError:
        return {}


def _loaded(bpf: Instance, plan: Plan, cgroup_ids: dict[str, int], offsets: dict[str, dict[str, int]]) -> Loaded:
    loaded = Loaded(bpf, plan)
    loaded.set_param(ParamIndex.SELF_TGID, os.getpid())
    loaded.set_table_rows()
    loaded.set_generic_nrs()
    for p in plan.params:
        if p.name.startswith("btf:"):
            struct_name, member = p.name[4:].split(".")
            loaded.set_param(p.index, offsets.get(struct_name, {}).get(member, 0))
        elif p.name == "cgroup_id" or (p.name == "target_cgroup_id" and p.value):
            loaded.set_param(p.index, cgroup_ids[p.value])
    return loaded


def load(plan: Plan, c_source: str, cgroup_ids: dict[str, int] | None = None) -> Loaded:
    if cgroup_ids is None:
        cgroup_ids = plan_cgroup_ids(plan)
    return _loaded(compile_program(c_source, plan), plan, cgroup_ids, btf_offsets(plan))


class PendingLoad:
    """load(), in a thread of its own: the compile (a child process, runtime/bcc_compile) or the cache,
    then the maps and the programs' verification, while the rest of the start-up (the decoder, the output,
    the modules the trace needs, the kernel's BTF) goes on beside it, on another core.

    Waits are on an Event, not Thread.join: Python 3.11 takes a thread whose join() a Ctrl-C interrupted
    for finished, and a second join() returns at once."""

    def __init__(self, plan: Plan, c_source: str, cgroup_ids: dict[str, int]):
        self.plan, self.cgroup_ids = plan, cgroup_ids
        self._bpf = None
        self._job = None  # the compile's child process, while it runs
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()  # between the thread's end and abandon(): one of them releases
        self._abandoned = False
        self._taken = False
        threading.Thread(target=self._compile, args=(c_source,), name="tracespec-compile",
                         daemon=True).start()  # an abandoned start-up does not wait for it at exit
        try:
            self.offsets = btf_offsets(plan)  # meanwhile, here
        except BaseException:
            self.abandon()
            raise

    def _started(self, job) -> None:
        with self._lock:
            self._job = job
            abandoned = self._abandoned
        if abandoned:
            job.kill()

    def _compile(self, c_source: str) -> None:
        bpf = None
        try:
            bpf = compile_program(c_source, self.plan, self._started)
        except BaseException as e:  # given to the thread that waits for the result
            self._error = e
        with self._lock:
            self._bpf = bpf
            self._job = None
            abandoned = self._abandoned
        self._done.set()
        if abandoned and bpf is not None:
            release(bpf)

    def result(self) -> Loaded:
        """The loaded object once the compile is over, or the compile's error, raised here."""
        self._done.wait()
        self._taken = True
        if self._error is not None:
            raise self._error
        return _loaded(self._bpf, self.plan, self.cgroup_ids, self.offsets)

    def cancel(self) -> None:
        """Start-up failed elsewhere: wait for the compile to end, then release what it loaded."""
        if self._taken:
            return
        self._done.wait()
        self._taken = True
        if self._bpf is not None:
            release(self._bpf)

    def abandon(self) -> None:
        """Start-up interrupted (Ctrl-C): the compile's process is killed, not waited for. What was loaded
        is released by the thread when it ends, or by the process's end, which comes first when
        tracespec exits."""
        if self._taken:
            return
        self._taken = True
        with self._lock:
            self._abandoned = True
            bpf, job = self._bpf, self._job
        if job is not None:
            job.kill()
        if bpf is not None:
            release(bpf)
