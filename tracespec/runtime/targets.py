"""Whose syscalls to trace: a command tracespec starts, or processes already running."""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal

from tracespec.errors import TracespecError
from tracespec.runtime.cgroup import resolve_cgroup


def _inherited_signals() -> tuple[frozenset, frozenset]:
    """(signals ignored, signals blocked) as tracespec found them: a command it starts gets them back,
    as it would from a shell or from strace (nohup and `&` ignore SIGHUP, SIGINT, SIGQUIT).
    SIGPIPE and SIGXFSZ are left out: Python ignores them before any of its code runs, so their
    original state is unknown, and the command gets them at their defaults, as subprocess does."""
    ignored = set()
    for sig in signal.valid_signals():
        if sig in (signal.SIGPIPE, signal.SIGXFSZ):
            continue
        try:
            if signal.getsignal(sig) is signal.SIG_IGN:
                ignored.add(sig)
        except (OSError, ValueError):
            pass
    return frozenset(ignored), frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, []))


# Taken when this module is first imported, before tracespec installs any handler of its own (the
# session's SIGINT/SIGTERM, the recorder's SIGUSR1) or blocks anything.
INHERITED_IGNORED, INHERITED_BLOCKED = _inherited_signals()


def _restore_inherited_signals() -> None:
    """In the started command, before exec: every disposition and the mask as tracespec inherited
    them (exec keeps ignored signals and the mask, and resets handlers to their defaults)."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_IGN if sig in INHERITED_IGNORED else signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # the C library's own real-time signals
    signal.pthread_sigmask(signal.SIG_SETMASK, INHERITED_BLOCKED)


def resolve_command(argv: list[str]) -> str:
    """The executable for argv[0], as a shell would find it; exits 127/126 like a shell if not."""
    if not argv:
        raise TracespecError("no command to run", hint="put it after --: tracespec run SPEC -- CMD ARGS...")
    name = argv[0]
    path = name if "/" in name else shutil.which(name)
    if path is None or not os.path.exists(path):
        raise TracespecError(f"{name}: command not found", exit_code=127)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise TracespecError(f"{name}: permission denied (not an executable file)", exit_code=126)
    return path


def initial_environment() -> dict[bytes, bytes] | None:
    """The environment tracespec was started with, which the command gets as strace's gets strace's:
    Python adds LC_CTYPE=C.UTF-8 to its own when the locale is C (PEP 538's coercion), and a command
    that saw it would behave otherwise than under strace. None where /proc cannot tell (os.environ)."""
    try:
        with open("/proc/self/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        name, eq, value = item.partition(b"=")
        if eq and name:
            env.setdefault(name, value)
    return env


class GatedCommand:
    """A child process that waits, stopped at a pipe, until the probes are attached, then execs.

    Its first traced syscall is its execve, as with strace: everything before (the fork's return, the
    wait on the gate) happens while the child is only armed, not traced.
    """

    def __init__(self, path: str, argv: list[str]):
        self.path = path
        self.argv = argv
        self.pid: int | None = None
        self.status: int | None = None  # waitpid status once it ended
        self._gate_w = self._err_r = None

    def fork(self) -> int:
        gate_r, gate_w = os.pipe()
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        env = initial_environment()
        if env is None:
            env = os.environb
        pid = os.fork()
        if pid == 0:  # the child: wait for the gate, then become the command
            try:
                os.close(gate_w)
                os.close(err_r)
                _restore_inherited_signals()
                if os.read(gate_r, 1) != b"g":
                    os._exit(127)
                os.close(gate_r)
                os.execve(self.path, self.argv, env)
            except OSError as e:
                os.write(err_w, str(e.errno).encode())
            finally:
                os._exit(127)
        os.close(gate_r)
        os.close(err_w)
        self.pid, self._gate_w, self._err_r = pid, gate_w, err_r
        return pid

    def release(self) -> None:
        """Let the child exec; raise if the exec failed."""
        os.write(self._gate_w, b"g")
        os.close(self._gate_w)
        with os.fdopen(self._err_r, "rb") as f:
            failure = f.read()
        if failure:
            code = int(failure)
            self.wait()
            raise TracespecError(f"cannot run {self.argv[0]}: {os.strerror(code)}",
                                 exit_code=126 if code in (errno.EACCES, errno.ENOEXEC) else 127)

    def cancel(self) -> None:
        """The probes failed: make the waiting child go away without running the command."""
        if self.pid is not None and self.status is None:
            try:
                os.close(self._gate_w)
            except OSError:
                pass
            self.wait()

    def poll(self) -> bool:
        """True once the child has ended."""
        if self.status is None and self.pid is not None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def wait(self) -> int:
        if self.status is None and self.pid is not None:
            _, self.status = os.waitpid(self.pid, 0)
        return self.status

    @property
    def exit_code(self) -> int:
        """The shell's view of the child's status: its exit code, or 128 + the signal that killed it."""
        s = self.status
        if s is None:
            return 0
        if os.WIFSIGNALED(s):
            return 128 + os.WTERMSIG(s)
        return os.WEXITSTATUS(s)


def check_pids(pids: list[int]) -> list[int]:
    """Thread-group ids of running processes (a thread id is taken to its process)."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                tgid = next(int(line.split()[1]) for line in f if line.startswith("Tgid:"))
        except (OSError, StopIteration, ValueError):
            raise TracespecError(f"no process {pid}", hint="check the pid with ps") from None
        if tgid not in out:
            out.append(tgid)
    return out


class WatchedProcess:
    """A process given with -p, held from the moment it was found: its end is seen whenever it comes,
    even before the probes that would have seen it were attached, and never taken for a new process
    that got its pid.

    A pidfd (Linux 5.3+) becomes readable once the process has ended; without one, its /proc entry's
    start time stands for it (a reused pid has another)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.fd: int | None = None
        self.start: str | None = None
        self.ended = False
        try:
            self.fd = os.pidfd_open(pid)
        except AttributeError:  # a Python without os.pidfd_open
            pass
        except OSError as e:
            if e.errno == errno.ESRCH:
                raise TracespecError(f"no process {pid}", hint="check the pid with ps") from None
        if self.fd is None:
            self.start = _start_time(pid)
            if self.start is None:
                raise TracespecError(f"no process {pid}", hint="check the pid with ps")

    def exited(self) -> bool:
        """True once the process has ended (a zombie has: it makes no more syscalls)."""
        if self.ended:
            return True
        if self.fd is not None:
            self.ended = bool(select.select([self.fd], [], [], 0)[0])
        else:
            self.ended = _start_time(self.pid) != self.start
        if self.ended:
            self.close()
        return self.ended

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _start_time(pid: int) -> str | None:
    """A running process's start time (field 22 of /proc/PID/stat); None once it has ended."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after the name, which may hold anything
    except (OSError, IndexError):
        return None
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def open_descriptors(pid: int | str, inherited_only: bool = False) -> dict[str, str]:
    """What a process's descriptors refer to now ({"1": "pipe:[1234]", ...}), for -y: what was open before
    tracing began. `inherited_only`: those without close-on-exec (what a command it starts gets)."""
    out: dict[str, str] = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            if inherited_only and _close_on_exec(pid, name):
                continue
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor is)
        out[name] = target
    return out


def _close_on_exec(pid: int | str, fd: str) -> bool:
    with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("flags:"):
                return bool(int(line.split()[1], 8) & os.O_CLOEXEC)
    return False


def descriptors_at_start(command: bool, pids: list[int], cgroup: str | None = None) -> dict[str, dict[str, str]]:
    """For -y, by process id ("command": a command tracespec starts, which inherits tracespec's own
    descriptors but for the close-on-exec ones; with a cgroup, the processes in it)."""
    if command:
        return {"command": open_descriptors("self", inherited_only=True)}
    if cgroup:
        return descriptors_in_group(resolve_cgroup(cgroup)[0])
    return {str(pid): open_descriptors(pid) for pid in check_pids(pids)} if pids else {}


def descriptors_in_group(group: str) -> dict[str, dict[str, str]]:
    """For -y, by process id, as descriptors_at_start: the processes of a cgroup v2 group now (its
    cgroup.procs; those of groups below it are not its)."""
    try:
        with open(os.path.join(group, "cgroup.procs"), encoding="ascii", errors="replace") as f:
            pids = f.read().split()
    except OSError:
        return {}
    return {pid: open_descriptors(pid) for pid in pids if pid.isdigit()}


def directories_at_start(processes) -> dict[str, str]:
    """For -y in a recorded trace: the working directory AT_FDCWD names until a chdir the trace shows, for
    each key of descriptors_at_start's answer (a process id, or "command": tracespec's own directory, where
    the command starts)."""
    out = {}
    for key in processes:
        try:
            out[key] = os.getcwd() if key == "command" else os.readlink(f"/proc/{key}/cwd")
        except OSError:
            continue  # gone meanwhile: its syscalls, if any, print AT_FDCWD without a path
    return out
