"""One group of a rules workload (tests/workloads/rulesN_workload.c) traced by strace and by tracespec,
their lines compared from the group's marker on: the shared harness of the tests/test_e2e_rules*.py that
use markers."""

from __future__ import annotations

import shutil
import subprocess

from conftest import compile_workload, decode_without_bcc, run_tracespec
from straceio import normalized

MARKER = "close(-4242)"  # each group starts with this call: what the loader and libc did before it varies


def from_marker(lines: list[str]) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    return lines[start + 1:]


def _traced(workload: str, group: str, syscalls: list[str], build_dir, tmp_path, options: tuple, spec_extra: str,
            scrub, extra_argv: tuple) -> tuple[list[list[str]], list[list[str]]]:
    """The group traced by strace and by tracespec: each one's lines per process, normalized, scrubbed."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    argv = [str(compile_workload(workload, build_dir)), group, *extra_argv]
    traced = syscalls + ["close"]
    want_file = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want_file), "-e", "trace=" + ",".join(traced), *argv],
                   check=True, stdout=subprocess.DEVNULL)
    spec = tmp_path / f"{group}.yaml"
    spec.write_text("version: 1\nsyscalls: [" + ", ".join(traced) + "]\n" + spec_extra)
    got_file = tmp_path / "tracespec.txt"
    if any(o in ("-X", "-x") for o in options):
        r = run_tracespec("run", str(spec), "--format", "bin", "-o", str(tmp_path / "t.tsb"), "--", *argv,
                          stdout=subprocess.DEVNULL)
        decode_without_bcc(tmp_path / "t.tsb", got_file, *options)
    else:
        r = run_tracespec("run", str(spec), *options, "-o", str(got_file), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return tuple([[scrub(line) if scrub else line for line in p]
                  for p in normalized(file.read_text(errors="surrogateescape"))] for file in (want_file, got_file))


def _kept(procs: list[list[str]], keep) -> list[list[str]]:
    return [[line for line in p if keep(line)] for p in procs] if keep is not None else procs


def compare_group(workload: str, group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (),
                  spec_extra: str = "", keep=None, scrub=None, extra_argv: tuple = ()) -> list[str]:
    """The group's lines under strace, asserted equal to tracespec's, both given the same options (-X and
    -x, which tracespec applies when it decodes, through a recorded trace decoded without BCC). keep: only
    the lines a test is about; scrub: a line made comparable (random bytes); extra_argv: the workload's
    arguments after the group's name. Returns strace's lines."""
    want, got = _traced(workload, group, syscalls, build_dir, tmp_path, options, spec_extra, scrub, extra_argv)
    want, got = ([from_marker(p) for p in procs] for procs in (want, got))
    assert len(want) == 1
    want, got = _kept(want, keep), _kept(got, keep)
    assert got == want
    return want[0]


def compare_tree(workload: str, group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (),
                 keep=None) -> list[list[str]]:
    """compare_group for a group whose children (threads, processes) end under the trace: the first
    process's lines from the marker on, every other one's whole, asserted equal to strace's. Returns
    strace's, per process."""
    want, got = _traced(workload, group, syscalls, build_dir, tmp_path, options, "", None, ())
    want, got = ([from_marker(procs[0])] + procs[1:] for procs in (want, got))
    want, got = _kept(want, keep), _kept(got, keep)
    assert got == want
    return want
