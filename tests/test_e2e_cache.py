"""The program cache (runtime/objcache) from the command line: a spec compiled once is loaded from the
cache the next time, with the same trace; a damaged entry is compiled again; TRACESPEC_CACHE=off compiles
every time and writes nothing."""

from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT, run_tracespec

pytestmark = pytest.mark.bpf


def _trace(cache: str, tmp_path, spec: str = "specs/fileio.yaml") -> str:
    out = tmp_path / "out.txt"
    r = run_tracespec("run", spec, "-o", str(out), "--", "cat", "/etc/hostname",
                      env=dict(os.environ, TRACESPEC_CACHE=cache))
    assert r.returncode == 0, r.stderr
    pid = re.compile(r"^\d+ ", re.M)
    return pid.sub("PID ", out.read_text())


def _entries(where) -> list:
    return sorted(p for p in where.iterdir() if p.name.endswith(".bpfobj")) if where.exists() else []


def test_a_second_run_loads_from_the_cache_and_traces_the_same(tmp_path):
    where = tmp_path / "cache"
    cold = _trace(str(where), tmp_path)
    entries = _entries(where)
    assert len(entries) == 1 and not where.stat().st_mode & 0o022  # nobody else may write there
    stamp = entries[0].stat().st_mtime_ns
    warm = _trace(str(where), tmp_path)
    assert warm == cold and 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' in warm
    assert _entries(where) == entries and entries[0].stat().st_mtime_ns >= stamp  # used, not compiled again


def test_a_damaged_entry_is_compiled_again(tmp_path):
    where = tmp_path / "cache"
    cold = _trace(str(where), tmp_path)
    (entry,) = _entries(where)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert _trace(str(where), tmp_path) == cold
    assert entry.read_bytes() != bytes(data)  # written again, whole


def test_off_compiles_and_keeps_nothing(tmp_path):
    out = _trace("off", tmp_path)
    assert "/etc/hostname" in out
    assert not (ROOT / "off").exists()  # not taken for a directory's name (the BTF offsets' cache did)
