"""strace's abbreviation options given to `tracespec run` itself (-X raw|verbose, -x, -xx), not only to
decode: the live lines equal strace's, here on IPv6 socket addresses."""

from __future__ import annotations

import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from groupcompare import from_marker
from straceio import normalized

pytestmark = pytest.mark.bpf


@pytest.mark.parametrize("options", [(), ("-X", "raw"), ("-X", "verbose"), ("-x",), ("-xx",)], ids=" ".join)
def test_run_prints_ipv6_addresses_as_strace_in_every_style(build_dir, tmp_path, options):
    argv = [str(compile_workload("inet6_workload", build_dir)), "inet6"]
    want_file, got_file = tmp_path / "strace.txt", tmp_path / "tracespec.txt"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want_file), "-e", "trace=sendto,close", *argv],
                   check=True, stdout=subprocess.DEVNULL)
    r = run_tracespec("run", "-e", "trace=sendto,close", *options, "-o", str(got_file), "--", *argv,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want, got = ([from_marker(p) for p in normalized(f.read_text(errors="surrogateescape"))]
                 for f in (want_file, got_file))
    assert got == want
    assert sum(line.startswith("sendto(") for line in want[0]) == 5
