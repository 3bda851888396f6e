"""BCC's compile of a program's C, in a process of its own, which hands back what a load needs (a
bpfobject.BpfObject) and exits.

Why a process: clang and LLVM are hundreds of MB mapped and a heap they leave behind, which a tracer that
stays (a long run, `tracespec serve`) should not carry; LLVM calls exit() on some programs it gives up on;
BCC writes its messages on file descriptor 2. In a child, all three end with it: tracespec keeps its memory
small, reports the compiler's last words as an error, and its own stderr is never taken over.

The child reads the C on standard input, writes the stored form of the object on standard output (and
BCC's messages on standard error), and exits 0 once done, 1 when BCC refused the C. It imports nothing of
tracespec but bpfobject.

A fourth reason: BCC reads all of /proc/kallsyms (120,000 symbols here) on every compile, to learn two
things the caller already knows: whether the kernel has bpf_probe_read_kernel and bpf_probe_read_user.
That is 0.15 s of a compile of 0.2-0.4 s for a small program. The child, when it may, gives BCC a
/proc/kallsyms of its own that names just the helpers the caller says exist (private_kallsyms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from tracespec.runtime import bpfobject

CFLAGS = ["-Wno-unused-variable", "-Wno-unused-function", "-g0"]  # no debug info: BTF is not used, and it costs ~10% of compile time


class CompileError(Exception):
    """BCC refused the C, or its compiler died: `log` holds what it wrote on standard error."""

    def __init__(self, log: str, died: bool):
        super().__init__(log)
        self.log = log
        self.died = died  # the compiler ended the process (LLVM's exit(), a signal) instead of saying no


class Compile:
    """One compile in a child process, started at once; result() waits for it, kill() gives it up."""

    def __init__(self, c_source: str, kernel_helpers: tuple[str, ...] = ()):
        """kernel_helpers: the probe-read helpers this kernel has, as BCC looks them up in /proc/kallsyms
        (KALLSYMS_NAMES); empty: the child lets BCC read the kernel's own list."""
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tracespec.runtime.bcc_compile", json.dumps(CFLAGS), json.dumps(kernel_helpers)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True)
        self._source = c_source.encode("utf-8")

    def result(self) -> bpfobject.BpfObject:
        out, err = self._proc.communicate(self._source)
        log = err.decode("utf-8", "replace")
        if self._proc.returncode != 0 or not out:
            raise CompileError(log, died=self._proc.returncode not in (0, 1))
        return bpfobject.loads(out)

    def kill(self) -> None:
        try:
            self._proc.kill()
        except OSError:
            pass


# The kernel symbols BCC's rewriter looks up while it compiles (bcc 0.26, b_frontend_action.cc): with
# bpf_probe_read_kernel missing it rewrites the probe-read helpers to bpf_probe_read; bpf_probe_read_user
# is looked up only for a call under that name, which tracespec.bpf.h avoids, but answered all the same.
KALLSYMS_NAMES = ("bpf_probe_read_kernel", "bpf_probe_read_user")

_CLONE_NEWNS, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20000, 0x1000, 0x4000, 0x40000


def private_kallsyms(names: list[str]) -> bool:
    """Give this process a /proc/kallsyms that lists only `names` (at an address BCC takes for the
    kernel's): the process moves to a mount namespace of its own, whose mounts stop propagating to the
    machine's before the file is bind-mounted over /proc/kallsyms, so nothing outside it sees the change,
    and it ends with the process. False (and nothing changed that matters) where that is not allowed: not
    root, no CAP_SYS_ADMIN (a container), or a process with threads (unshare refuses)."""
    if not names or os.geteuid() != 0 or any(n not in KALLSYMS_NAMES for n in names):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False  # a new namespace whose mounts would still reach the machine's: mount nothing
    try:
        fd, path = tempfile.mkstemp(prefix="tracespec-kallsyms-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("".join(f"ffffffff80000000 T {n}\n" for n in names))
        return libc.mount(path.encode(), b"/proc/kallsyms", None, _MS_BIND, None) == 0
    finally:
        os.unlink(path)  # the bind mount holds the file while this process lives


def _declare(lib) -> None:
    """The functions of libbcc's bcc_common.h that its Python module does not declare."""
    import ctypes as ct

    for name, restype in (("bpf_num_tables", ct.c_ulonglong), ("bpf_table_name", ct.c_char_p),
                          ("bpf_table_fd_id", ct.c_int), ("bpf_table_key_size_id", ct.c_size_t),
                          ("bpf_table_leaf_size_id", ct.c_size_t), ("bpf_table_key_desc_id", ct.c_char_p),
                          ("bpf_table_leaf_desc_id", ct.c_char_p)):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = [ct.c_void_p] if name == "bpf_num_tables" else [ct.c_void_p, ct.c_ulonglong]


def _extract(lib, module) -> bpfobject.BpfObject:
    import ctypes as ct

    maps, fd_to_map = [], {}
    for i in range(lib.bpf_num_tables(module)):
        fd = lib.bpf_table_fd_id(module, i)
        fd_to_map[fd] = len(maps)
        maps.append(bpfobject.MapSpec(
            (lib.bpf_table_name(module, i) or b"").decode(), lib.bpf_table_type_id(module, i),
            lib.bpf_table_key_size_id(module, i), lib.bpf_table_leaf_size_id(module, i),
            lib.bpf_table_max_entries_id(module, i), lib.bpf_table_flags_id(module, i),
            (lib.bpf_table_key_desc_id(module, i) or b"").decode(),
            (lib.bpf_table_leaf_desc_id(module, i) or b"").decode()))
    programs = []
    for i in range(lib.bpf_num_functions(module)):
        name = lib.bpf_function_name(module, i)
        start, size = lib.bpf_function_start(module, name), lib.bpf_function_size(module, name)
        insns, relocations = bpfobject.relocate(ct.string_at(start, size), fd_to_map)
        programs.append(bpfobject.ProgramSpec(name.decode(), insns, relocations))
    license = (lib.bpf_module_license(module) or b"GPL").decode()
    return bpfobject.BpfObject(license, lib.bpf_module_kern_version(module), tuple(maps), tuple(programs))


def main() -> int:
    import ctypes as ct

    cflags = [f.encode() for f in json.loads(sys.argv[1])]
    private_kallsyms(json.loads(sys.argv[2]) if len(sys.argv) > 2 else [])
    source = sys.stdin.buffer.read()
    from bcc.libbcc import lib  # the compiler: LLVM, clang and libbcc, in this process only

    _declare(lib)
    array = (ct.c_char_p * len(cflags))(*cflags)
    module = lib.bpf_module_create_c_from_string(source, 0, array, len(cflags), True, None)
    if not module:
        return 1
    data = bpfobject.dumps(_extract(lib, module))
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    os._exit(0)  # no destructors: the maps BCC made go with the process


if __name__ == "__main__":
    sys.exit(main())
