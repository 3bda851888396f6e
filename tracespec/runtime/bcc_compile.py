"""BCC's compile of a program's C, in a process of its own, which hands back what a load needs (a
bpfobject.BpfObject) and exits.

Why a process: clang and LLVM are hundreds of MB mapped and a heap they leave behind, which a tracer that
stays (a long run, `tracespec serve`) should not carry; LLVM calls exit() on some programs it gives up on;
BCC writes its messages on file descriptor 2. In a child, all three end with it: tracespec keeps its memory
small, reports the compiler's last words as an error, and its own stderr is never taken over.

The child reads the C on standard input, writes the stored form of the object on standard output (and
BCC's messages on standard error), and exits 0 once done, 1 when BCC refused the C. It imports nothing of
tracespec but bpfobject.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

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

    def __init__(self, c_source: str):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tracespec.runtime.bcc_compile", json.dumps(CFLAGS)],
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
