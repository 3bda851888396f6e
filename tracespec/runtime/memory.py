"""Give back the memory the compile left behind, once the programs are loaded and attached.

BCC compiles with clang and LLVM inside this process: afterwards the process holds the pages of their
code it ran (file-backed, hundreds of MB: libLLVM alone maps 100+ MB of code) and the heap they freed
but malloc kept. Neither is needed while tracing, and a tracer that stays resident (a `serve` daemon, a
long `run`) should not keep them:
- malloc_trim(0) returns the freed heap to the kernel;
- madvise(MADV_DONTNEED) on the *executable* mappings of libLLVM, libclang and libbcc drops their pages
  from this process. Executable pages of a shared library are never written (no text relocations), so
  dropping them loses nothing: touched again (another compile), they fault back in from the page cache.
  Writable or read-only-after-relocation mappings (.data, RELRO) are left alone: their pages may differ
  from the file, and dropping those would lose the differences.
"""

from __future__ import annotations

import ctypes
import re

MADV_DONTNEED = 4
COMPILER_LIBRARIES = re.compile(r"/lib(LLVM|clang|clang-cpp|bcc)[-.][^/]*$")


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.restype = ctypes.c_int
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def compiler_code_mappings(maps_text: str) -> list[tuple[int, int]]:
    """(start, end) of the executable, file-backed mappings of the compiler's libraries in a
    /proc/PID/maps text."""
    found = []
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or parts[1] != "r-xp" or not COMPILER_LIBRARIES.search(parts[5].strip()):
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        found.append((start, end))
    return found


def release_compiler_memory() -> int:
    """Return the compile's leftovers to the kernel; the bytes of code mappings advised. Best effort:
    a libc without malloc_trim, or a mapping that refuses the advice, only leaves memory where it was."""
    try:
        libc = _libc()
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            mappings = compiler_code_mappings(f.read())
    except (OSError, AttributeError):
        return 0
    try:
        libc.malloc_trim(0)
    except AttributeError:  # not glibc
        pass
    advised = 0
    for start, end in mappings:
        if libc.madvise(start, end - start, MADV_DONTNEED) == 0:
            advised += end - start
    return advised
