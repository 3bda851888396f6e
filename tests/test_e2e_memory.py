"""A running tracer's memory: the compile runs in a child process (runtime/bcc_compile), so the tracer never
maps clang, LLVM or libbcc, and once the programs are loaded it holds little but its buffers (a long run or
a daemon stays small)."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from conftest import ROOT, TRACESPEC

COMPILER = re.compile(r"/lib(LLVM|clang|clang-cpp|bcc)[-.][^/]*$")


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
                    "compiler" if COMPILER.search(name) else "own"
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
    # with BCC compiling in the process: ~160 MiB besides the buffers (90 of them code), 16 once given back
    assert "compiler" not in rss, rss
    assert rss["own"] < 64 * 1024, rss
