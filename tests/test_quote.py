"""strace's string quoting, byte for byte, against strace itself."""

from __future__ import annotations

import re
import subprocess

from conftest import compile_workload
from tracespec.quote import quote


def test_quoting_matches_strace_for_every_byte(build_dir, tmp_path):
    exe = compile_workload("all_bytes", build_dir)
    out = tmp_path / "strace.txt"
    subprocess.run(["strace", "-s", "1024", "-e", "trace=write", "-o", str(out), str(exe)], check=True)
    shown = re.findall(r'^write\(-1, ("(?:[^"\\]|\\.)*"), 512\)', out.read_text(), re.M)
    assert len(shown) == 8
    for n, nxt in enumerate("0178 9ax"):
        data = bytes(b for c in range(256) for b in (c, ord(nxt)))
        assert quote(data) == shown[n], f"bytes followed by {nxt!r}"


def test_truncation_and_escapes():
    assert quote(b"abc", truncated=True) == '"abc"...'
    assert quote(b'"\\\n\t\r\v\f') == '"\\"\\\\\\n\\t\\r\\v\\f"'
    assert quote(b"\x00\x01" + b"7") == '"\\0\\0017"'
    assert quote(b"\x00" + b"9") == '"\\09"'
