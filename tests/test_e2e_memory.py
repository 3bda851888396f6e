"""A running tracer's memory: once the programs are loaded, what the compile left (clang's and LLVM's
code pages, the heap they freed) is given back, so that a long run or a daemon stays small."""

from __future__ import annotations

import subprocess
import time

import pytest

from conftest import ROOT, TRACESPEC
from tracespec.runtime.memory import compiler_code_mappings

MAPS = """\
7f0000000000-7f0000100000 r--p 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1
7f0000100000-7f0006500000 r-xp 00100000 08:01 1 /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1
7f0006500000-7f0006600000 rw-p 06500000 08:01 1 /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1
7f1000000000-7f1000200000 r-xp 00000000 08:01 2 /usr/lib/llvm-14/lib/libclang-cpp.so.14
7f2000000000-7f2000100000 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/libbcc.so.0.26.0
7f3000000000-7f3000100000 r-xp 00000000 08:01 4 /usr/lib/x86_64-linux-gnu/libc.so.6
7f4000000000-7f4000100000 r-xp 00000000 08:01 5 /opt/libLLVMish/other.so
7f5000000000-7f5000100000 rw-p 00000000 00:00 0
"""


def test_only_the_compilers_code_is_advised_away():
    """Executable mappings of libLLVM, libclang and libbcc; never data (rw-p, r--p) nor other libraries."""
    assert compiler_code_mappings(MAPS) == [(0x7f0000100000, 0x7f0006500000), (0x7f1000000000, 0x7f1000200000),
                                            (0x7f2000000000, 0x7f2000100000)]


def _resident_kib(pid: int) -> dict[str, int]:
    """Rss by mapping name, the BPF maps' shared mappings (the ring buffer: kernel memory, mapped twice)
    apart from the process's own."""
    out: dict[str, int] = {}
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5:
                name = head[5] if len(head) > 5 else "[anon]"
            elif head[0] == "Rss:":
                key = "bpf-maps" if name.startswith("anon_inode:bpf-map") else \
                    "compiler" if compiler_code_mappings(f"0-1 r-xp 0 0 0 {name}") else "own"
                out[key] = out.get(key, 0) + int(head[1])
    return out


@pytest.mark.bpf
def test_a_running_tracer_holds_little_but_its_buffers():
    p = subprocess.Popen([TRACESPEC, "run", "specs/all.yaml", "-o", "/dev/null", "--", "sleep", "30"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # attached once the command runs
            children = subprocess.run(["pgrep", "-P", str(p.pid), "-x", "sleep"], capture_output=True, text=True)
            if children.stdout.strip():
                break
            assert p.poll() is None, p.communicate()
            time.sleep(0.2)
        time.sleep(0.5)
        rss = _resident_kib(p.pid)
    finally:
        p.terminate()
        p.communicate(timeout=60)
    # before the compile's leftovers were given back: ~160 MiB besides the buffers (90 of them code)
    assert rss.get("compiler", 0) < 16 * 1024, rss
    assert rss["own"] + rss.get("compiler", 0) < 100 * 1024, rss
