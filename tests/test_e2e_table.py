"""End to end, with real BPF: the table-driven programs record what each family's own programs record.

The same workload is traced twice with the same spec, once with every family the table can describe
table-driven (TRACESPEC_TABLE=1) and once with a pair of programs per family (TRACESPEC_TABLE=0); the
records are meant to be the same bytes, so the decoded lines must be the same, line for line, once what
differs between any two runs (pids, addresses, ports) is set aside.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import ROOT, compile_workload, run_tracespec
from straceio import normalized
from tracespec.pipeline import compile_spec

pytestmark = pytest.mark.bpf

# (spec, workload, whether it takes a scratch directory)
CASES = [("failed", "fileio_workload", True), ("fileio", "fileio_workload", True),
         ("network", "network_workload", True), ("process", "process_workload", False)]
# slow.yaml's table is failed.yaml's but for its filter (a duration, decided at exit, like failed): which
# calls pass it depends on the machine, so two runs cannot be compared line by line; test_e2e_specs.py
# checks it against the workload's slow calls


def _run(spec: str, workload: str, needs_dir: bool, build_dir, tmp_path, table: str) -> list[list[str]]:
    exe = compile_workload(workload, build_dir)
    scratch = tmp_path / f"scratch-{table}"
    scratch.mkdir()
    out = tmp_path / f"table-{table}.txt"
    argv = [str(exe)] + ([str(scratch)] if needs_dir else [])
    r = run_tracespec("run", f"specs/{spec}.yaml", "-o", str(out), "--", *argv, stdout=subprocess.DEVNULL,
                      env=dict(os.environ, TRACESPEC_TABLE=table))
    assert r.returncode == 0, r.stderr
    return normalized(out.read_text(errors="surrogateescape").replace(str(scratch), "SCRATCH"))


@pytest.mark.parametrize("spec,workload,needs_dir", CASES, ids=[c[0] for c in CASES])
def test_table_driven_records_decode_as_per_family_ones(spec, workload, needs_dir, build_dir, tmp_path):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with_table = compile_spec(f"specs/{spec}.yaml", table=True).plan
        without = compile_spec(f"specs/{spec}.yaml", table=False).plan
    finally:
        os.chdir(cwd)
    assert with_table.table is not None and without.table is None, "the switch changes how the spec is recorded"
    table = _run(spec, workload, needs_dir, build_dir, tmp_path, "1")
    own = _run(spec, workload, needs_dir, build_dir, tmp_path, "0")
    assert len(table) == len(own), "the same processes and threads"
    assert sum(len(p) for p in own) > 3, "the workload was traced"
    for n, (want, have) in enumerate(zip(own, table)):
        assert have == want, f"process {n + 1}: table-driven lines differ from per-family ones"
