"""Compile the generated C with BCC, set parameters, attach in a safe order, and take it all down."""

from __future__ import annotations

import ctypes
import os
import threading

from tracespec.errors import TracespecError
from tracespec.kernel.btf import BtfError, member_offsets
from tracespec.plan.model import Attach, ParamIndex, Plan, TargetKind
from tracespec.runtime.capture import captured_stderr
from tracespec.runtime.cgroup import resolve_cgroup

CFLAGS = ["-Wno-unused-variable", "-Wno-unused-function", "-g0"]  # no debug info: BTF is not used, and it costs ~10% of compile time
STATE_TRACED, STATE_ARMED = 1, 2


def _first_errors(text: str, limit: int = 6) -> str:
    lines = [ln for ln in text.splitlines() if "error" in ln.lower()]
    return "\n".join(lines[:limit]) or text.strip()[-1500:]


class Loaded:
    """The BPF object of one plan, until close()."""

    def __init__(self, bcc, bpf, plan: Plan):
        self.bcc = bcc
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
        """Fill the program arrays, then attach exits before enters, so that no syscall is seen
        entering whose return could be missed."""
        bpf, bcc = self.bpf, self.bcc
        prog_type = bcc.BPF.RAW_TRACEPOINT if self.plan.attach == Attach.RAW_TP else bcc.BPF.TRACEPOINT
        order = sorted(self.plan.attachments, key=lambda a: 0 if "exit" in a.target else 1)
        self._preload(prog_type, order)
        step = None
        with captured_stderr() as log:
            try:
                for t in self.plan.tail_calls:
                    step = (t.program, f"the {t.table} program array")
                    fn = bpf.load_func(t.program.encode(), prog_type)
                    bpf.get_table(t.table.encode())[ctypes.c_int(t.index)] = ctypes.c_int(fn.fd)
                for a in order:
                    if a.kind == "auto":
                        continue  # BCC attached it when it loaded the object
                    step = (a.program, a.target)
                    if a.kind == "raw_tracepoint":
                        bpf.attach_raw_tracepoint(tp=a.target.encode(), fn_name=a.program.encode())
                    else:
                        bpf.attach_tracepoint(tp=a.target.encode(), fn_name=a.program.encode())
                step = None
            except Exception as e:  # BCC raises bare Exceptions
                err = e
        if step is not None:
            raise LoadError(step[0], step[1], str(err), "".join(log), self.plan.program_origin(step[0]))

    def _preload(self, prog_type: int, order) -> None:
        """Load the programs attach() needs, a thread per CPU: each load is the kernel's verifier, in a
        call into libbcc that lets go of Python's lock, and slow.yaml's 256 take a quarter of a second
        one after another. Best effort: a program that fails here is loaded again by attach(), one at
        a time, which then says why, with the verifier's log of that load alone (this one's is dropped)."""
        bpf = self.bpf
        types = {t.program: prog_type for t in self.plan.tail_calls}
        for a in order:
            if a.kind == "raw_tracepoint":
                types[a.program] = self.bcc.BPF.RAW_TRACEPOINT
            elif a.kind != "auto":
                types[a.program] = self.bcc.BPF.TRACEPOINT
        todo = [(name, t) for name, t in types.items() if name.encode() not in bpf.funcs]
        workers = min(os.cpu_count() or 1, len(todo))
        if workers < 2:
            return

        def work() -> None:
            while True:
                try:
                    name, t = todo.pop()
                except IndexError:
                    return
                try:
                    bpf.load_func(name.encode(), t)
                except Exception:  # BCC raises bare Exceptions; attach() loads it again and reports it
                    pass

        with captured_stderr():
            threads = [threading.Thread(target=work, name="tracespec-load", daemon=True) for _ in range(workers)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()

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


def compile_program(bcc, c_source: str):
    """BCC's compile of the C (clang and LLVM, then the maps and the programs BCC attaches itself): the
    BPF object, or the error that says why not."""
    with captured_stderr(guard_exit=True) as log:
        try:
            bpf = bcc.BPF(text=c_source.encode(), cflags=CFLAGS)
        except Exception:
            bpf = None
    if bpf is None:
        raise TracespecError("BCC could not compile the generated program:\n" + _first_errors("".join(log)),
                             hint="check the kernel headers (./setup), or report it with `tracespec emit SPEC`")
    return bpf


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


def _loaded(bcc, bpf, plan: Plan, cgroup_ids: dict[str, int], offsets: dict[str, dict[str, int]]) -> Loaded:
    loaded = Loaded(bcc, bpf, plan)
    loaded.set_param(ParamIndex.SELF_TGID, os.getpid())
    for p in plan.params:
        if p.name.startswith("btf:"):
            struct_name, member = p.name[4:].split(".")
            loaded.set_param(p.index, offsets.get(struct_name, {}).get(member, 0))
        elif p.name == "cgroup_id" or (p.name == "target_cgroup_id" and p.value):
            loaded.set_param(p.index, cgroup_ids[p.value])
    return loaded


def load(bcc, plan: Plan, c_source: str, cgroup_ids: dict[str, int] | None = None) -> Loaded:
    if cgroup_ids is None:
        cgroup_ids = plan_cgroup_ids(plan)
    return _loaded(bcc, compile_program(bcc, c_source), plan, cgroup_ids, btf_offsets(plan))


class PendingLoad:
    """load(), with BCC's compile in a thread of its own: the compile is a call into libbcc that lets go
    of Python's lock, so the rest of the start-up (the decoder, the output, the modules the trace needs,
    the kernel's BTF) goes on beside it, on another core. While it runs, BCC's messages are captured
    from file descriptor 2, so nothing must be written there until result() or cancel() return.

    Waits are on an Event, not Thread.join: Python 3.11 takes a thread whose join() a Ctrl-C interrupted
    for finished, and a second join() returns at once."""

    def __init__(self, bcc, plan: Plan, c_source: str, cgroup_ids: dict[str, int]):
        self.bcc, self.plan, self.cgroup_ids = bcc, plan, cgroup_ids
        self._bpf = None
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

    def _compile(self, c_source: str) -> None:
        bpf = None
        try:
            bpf = compile_program(self.bcc, c_source)
        except BaseException as e:  # given to the thread that waits for the result
            self._error = e
        with self._lock:
            self._bpf = bpf
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
        return _loaded(self.bcc, self._bpf, self.plan, self.cgroup_ids, self.offsets)

    def cancel(self) -> None:
        """Start-up failed elsewhere: wait for the compile to end (and descriptor 2 to be given back,
        for the error to be seen), then release what it loaded."""
        if self._taken:
            return
        self._done.wait()
        self._taken = True
        if self._bpf is not None:
            release(self._bpf)

    def abandon(self) -> None:
        """Start-up interrupted (Ctrl-C): no waiting for the compile. What it loads is released by its
        thread when it ends, or by the process's end, which comes first when tracespec exits."""
        if self._taken:
            return
        self._taken = True
        with self._lock:
            self._abandoned = True
            bpf = self._bpf
        if bpf is not None:
            release(bpf)
