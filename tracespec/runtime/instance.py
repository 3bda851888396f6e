"""One load of a compiled object (bpfobject.BpfObject) into the kernel: its maps created, its programs loaded
as they are asked for (the verifier runs then), attached to tracepoints, and all of it given back by
cleanup(). Called directly on the kernel (runtime/bpfsys): no BCC here.
"""

from __future__ import annotations

import os
import threading

from tracespec.runtime import bpfsys
from tracespec.runtime.bpfobject import BpfObject, with_map_fds
from tracespec.runtime.maps import Map

RLIMIT_MEMLOCK = 8


def _lift_memlock() -> None:
    """Kernels before 5.11 charge maps and programs to RLIMIT_MEMLOCK (as BCC does, lift it for root)."""
    import resource

    try:
        resource.setrlimit(RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


class ProgramLoadError(Exception):
    """The kernel refused a program: `error` is the load's strerror, `log` the verifier's words."""

    def __init__(self, name: str, error: str, log: str):
        super().__init__(f"cannot load the program {name}: {error}")
        self.name, self.error, self.log = name, error, log


class Instance:
    def __init__(self, obj: BpfObject, tracefs: str):
        self.obj = obj
        self.tracefs = tracefs
        self.maps: dict[str, Map] = {}
        self.map_fds: list[int] = []
        self.prog_fds: dict[str, int] = {}
        self._failed: dict[str, ProgramLoadError] = {}
        self._lock = threading.Lock()
        self.tracepoint_fds: dict[str, int] = {}  # what detaches each attached program, when closed
        self.raw_tracepoint_fds: dict[str, int] = {}
        _lift_memlock()
        try:
            for m in obj.maps:
                fd = bpfsys.map_create(m.type, m.key_size, m.value_size, m.max_entries, m.flags, m.name)
                self.map_fds.append(fd)
                self.maps[m.name] = Map(m.name, fd, m.type, m.key_size, m.value_size, m.max_entries,
                                        m.key_desc, m.leaf_desc)
        except BaseException:
            self.cleanup()
            raise

    def __getitem__(self, name):
        return self.maps[name.decode() if isinstance(name, bytes) else name]

    get_table = __getitem__

    def load(self, name: str, prog_type: int) -> int:
        """The program's descriptor, loaded the first time it is asked for; ProgramLoadError if refused
        (the same error again on a later ask)."""
        with self._lock:
            if name in self.prog_fds:
                return self.prog_fds[name]
            if name in self._failed:
                raise self._failed[name]
        program = self.obj.program(name)
        try:
            fd = bpfsys.prog_load(prog_type, with_map_fds(program, self.map_fds), self.obj.license,
                                  self.obj.kern_version, name)
        except bpfsys.BpfError as e:
            err = ProgramLoadError(name, e.strerror or str(e), getattr(e, "log", ""))
            with self._lock:
                self._failed[name] = err
            raise err from None
        with self._lock:
            if name in self.prog_fds:  # loaded twice by two threads: keep one
                os.close(fd)
                return self.prog_fds[name]
            self.prog_fds[name] = fd
        return fd

    def load_all(self, programs: dict[str, int]) -> None:
        """Load these programs (name: type), a thread per CPU: each load is the verifier, which lets go of
        Python's lock. Refusals are kept for load() to raise, to the one who attaches."""
        todo = list(programs.items())
        workers = min(os.cpu_count() or 1, len(todo))

        def work() -> None:
            while True:
                try:
                    name, t = todo.pop()
                except IndexError:
                    return
                try:
                    self.load(name, t)
                except ProgramLoadError:
                    pass

        if workers < 2:
            work()
            return
        threads = [threading.Thread(target=work, name="tracespec-load", daemon=True) for _ in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    def attach_tracepoint(self, target: str, program: str) -> None:
        category, _, event = target.partition(":")
        fd = bpfsys.attach_tracepoint(self.tracefs, category, event,
                                      self.load(program, bpfsys.PROG_TYPE_TRACEPOINT))
        self.tracepoint_fds[target] = fd

    def attach_raw_tracepoint(self, target: str, program: str) -> None:
        self.raw_tracepoint_fds[target] = bpfsys.raw_tracepoint_open(
            target, self.load(program, bpfsys.PROG_TYPE_RAW_TRACEPOINT))

    def cleanup(self) -> None:
        """Close every descriptor still held (the attachments first, which detach the programs)."""
        fds = list(self.tracepoint_fds.values()) + list(self.raw_tracepoint_fds.values())
        fds += list(self.prog_fds.values()) + self.map_fds
        self.tracepoint_fds.clear()
        self.raw_tracepoint_fds.clear()
        self.prog_fds.clear()
        self.map_fds = []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
