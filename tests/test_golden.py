"""Golden files pin the generated code: a change to it shows in review.

The decoder of every spec in specs/ on two kernel profiles, and the C of two specs on 6.1 (C_GOLDEN), must
equal the files in tests/golden/; what the C of the others is made of is asserted on their plans
(tests/unit/test_plan_decisions.py), and every spec's C is compiled and verified here below. After an
intended change, regenerate them and review the diff:

    .venv/bin/python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT
from tracespec.pipeline import compile_spec, decoder_source

GOLDEN = ROOT / "tests" / "golden"
PROFILES = ("4.19", "6.1")  # perf buffers, bpf_probe_read, no bounded loops / ring buffer, probe_read_user
SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.yaml"))
CASES = [(s, k) for s in SPECS for k in PROFILES]
# the other two modes, for one spec on the newer profile: a summary by process, and a flight recorder
MODE_CASES = [("fileio.yaml", "summary"), ("fileio.yaml", "record")]
C_GOLDEN = {("all.yaml", "6.1"), ("fileio.yaml", "6.1")}


def _compile(spec: str, kernel: str, **mode):
    cwd = os.getcwd()
    os.chdir(ROOT)  # the spec's path appears in the output: keep it relative
    try:
        return compile_spec(f"specs/{spec}", kernel, **mode)
    finally:
        os.chdir(cwd)


def _generated(spec: str, kernel: str) -> dict[str, str]:
    c = _compile(spec, kernel)
    out = {"decoder.py": decoder_source(c.plan)}
    if (spec, kernel) in C_GOLDEN:
        out["c"] = c.c_source
    return out


def _mode_options(mode: str) -> dict:
    from tracespec.plan.model import SummaryPlan

    return {"summary": SummaryPlan(by="process")} if mode == "summary" else {"recorder_bytes": 0, "cpus": 2}


@pytest.mark.parametrize("spec,kernel", CASES)
def test_generated_code_matches_golden(spec, kernel, update_golden):
    for suffix, text in _generated(spec, kernel).items():
        path = GOLDEN / f"{Path(spec).stem}.{kernel}.{suffix}"
        if update_golden:
            path.write_text(text)
            continue
        assert path.exists(), f"{path.name} is missing: run pytest tests/test_golden.py --update-golden"
        assert text == path.read_text(), (
            f"generated {suffix} for {spec} (Linux {kernel}) differs from {path.name}; if intended, "
            "regenerate with --update-golden and review the diff")


def test_no_stale_golden_files():
    expected = {f"{Path(s).stem}.{k}.decoder.py" for s, k in CASES}
    expected |= {f"{Path(s).stem}.{k}.c" for s, k in C_GOLDEN}
    present = {p.name for p in GOLDEN.iterdir() if p.is_file()}
    assert present <= expected, f"golden files for no spec: {sorted(present - expected)}"


def _refusals(compiled) -> dict[str, str]:
    """The programs the plan uses that this kernel's verifier refuses, and on a profile without bounded
    loops (before 5.3) those with a loop, before 5.2 those over 4096 instructions, which those kernels
    refuse: {name: why}. Compiled by BCC (the
    child process, or the cache) and loaded as `tracespec run` does it."""
    from bpfcfg import loop_edge
    from tracespec.runtime import loader
    from tracespec.runtime.instance import ProgramLoadError

    from tracespec.kernel.profile import FEATURES

    bpf = loader.compile_program(compiled.c_source, compiled.plan)
    version = tuple(int(x) for x in compiled.plan.profile.split()[-1].split(".")[:2])
    small = version < FEATURES["insns_1m"][0]  # before 5.2: at most 4096 instructions a program
    out = {}
    try:
        for name, prog_type in loader.program_types(compiled.plan).items():
            size = len(bpf.obj.program(name).insns) // 8
            if small and size > 4096:
                out[name] = f"{size} instructions, over the 4096 of kernels before 5.2"
                continue
            if not compiled.plan.bounded_loops:
                edge = loop_edge(bpf.obj.program(name).insns)
                if edge:
                    out[name] = f"a loop (a jump from instruction {edge[0]} back to {edge[1]})"
                    continue
            try:
                bpf.load(name, prog_type)
            except ProgramLoadError as e:
                out[name] = f"{e.error}\n{e.log[-2000:]}"
    finally:
        bpf.cleanup()
    return out


def _compiles_and_verifies(compiled) -> None:
    refused = _refusals(compiled)
    assert not refused, "\n".join(f"{k}: {v}" for k, v in refused.items())


@pytest.mark.bpf
@pytest.mark.parametrize("spec,kernel", CASES + [("network.yaml", "4.15")])  # 4.15: raw_syscalls tracepoints
def test_generated_c_compiles_and_verifies_here(spec, kernel):
    """Every profile's program is valid C for BCC and passes this kernel's verifier: the attached programs
    and the tail-called ones (which this test did not load before 2026-12-02, and so missed that readv's and
    writev's iovec copier stayed a loop on pre-5.3 profiles: clang folded the element count into the loop's
    trip count; tracespec.bpf.h's TS_STOP_AT now hides it)."""
    _compiles_and_verifies(_compile(spec, kernel))


@pytest.mark.bpf
@pytest.mark.parametrize("spec,mode", MODE_CASES)
def test_mode_c_compiles_and_verifies_here(spec, mode):
    _compiles_and_verifies(_compile(spec, "6.1", **_mode_options(mode)))


# the specs that copy getdents' buffers, with abbrev: false (-v): copies of DIRENTS_COPY bytes instead of 32
ABBREV_CASES = [(s, k) for s in ("failed.yaml", "slow.yaml") for k in PROFILES]


@pytest.mark.bpf
@pytest.mark.parametrize("spec,kernel", ABBREV_CASES)
def test_unabbreviated_c_compiles_and_verifies_here(spec, kernel, tmp_path):
    from tracespec.catalogue.dirents import DIRENTS_COPY

    path = tmp_path / spec
    path.write_text((ROOT / "specs" / spec).read_text() + "\nabbrev: false\n")
    compiled = compile_spec(str(path), kernel)
    sizes = {sl.max for fam in compiled.plan.families for m in fam.members if m.name.startswith("getdents")
             for sl in fam.exit.slots if sl.capture.name == "BUFFER"}
    assert sizes == {DIRENTS_COPY}
    _compiles_and_verifies(compiled)
