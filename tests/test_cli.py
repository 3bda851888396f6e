"""The command line: help, exit codes, and one clear line for each kind of bad invocation."""

from __future__ import annotations

import re

import pytest

from conftest import run_tracespec

SPEC = "specs/fileio.yaml"


def test_no_command_prints_help_and_fails():
    r = run_tracespec()
    assert r.returncode == 2 and "COMMAND" in r.stdout


@pytest.mark.parametrize("cmd", [[], ["run"], ["check"], ["emit"], ["list"]])
def test_help_reads_like_a_manual(cmd):
    r = run_tracespec(*cmd, "--help")
    assert r.returncode == 0
    assert "usage:" in r.stdout
    if cmd == ["run"]:
        assert "-- CMD" in r.stdout and "-p PID" in r.stdout and "standard error" in r.stdout


def test_check_accepts_the_shipped_spec():
    r = run_tracespec("check", SPEC)
    assert r.returncode == 0 and "ok" in r.stdout


def test_check_against_an_older_kernel_profile():
    r = run_tracespec("check", SPEC, "--kernel", "4.19")
    assert r.returncode == 0 and "Linux 4.19" in r.stdout


@pytest.mark.parametrize("version,fragment", [("3.10", "needs Linux 4.14"), ("banana", "not a kernel version")])
def test_check_refuses_impossible_kernels(version, fragment):
    r = run_tracespec("check", SPEC, "--kernel", version)
    assert r.returncode != 0 and fragment in r.stderr and "Traceback" not in r.stderr


def test_emit_prints_c_and_decoder():
    c = run_tracespec("emit", SPEC)
    assert c.returncode == 0 and c.stdout.startswith("/*") and "int ts_tp_exit(" in c.stdout
    d = run_tracespec("emit", "--decoder", SPEC)
    assert d.returncode == 0
    compile(d.stdout, "decoder", "exec")  # it is valid Python
    w = run_tracespec("emit", "--wide", "--kernel", "6.1", SPEC)  # what a run loads when its own is not cached
    assert w.returncode == 0 and w.stdout.startswith("/* The wide program") and w.stdout != c.stdout
    assert re.search(r"per-syscall tracepoints \(\d{3} syscalls", w.stdout)


def test_list_prints_the_catalogue():
    r = run_tracespec("list")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) > 380
    assert any(" openat " in line and "filename:path" in line for line in lines)
    net = run_tracespec("list", "--class", "network").stdout
    assert "socket" in net and "openat" not in net


def test_run_needs_a_target():
    r = run_tracespec("run", SPEC)
    assert r.returncode == 2 and "say what to trace" in r.stderr


def test_run_unknown_spec_file():
    r = run_tracespec("run", "specs/nope.yaml", "--", "true")
    assert r.returncode == 1 and "cannot read the spec" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.bpf
def test_run_command_not_found_exits_127():
    r = run_tracespec("run", SPEC, "--", "/no/such/program")
    assert r.returncode == 127 and "command not found" in r.stderr


@pytest.mark.bpf
def test_run_not_executable_exits_126(tmp_path):
    plain = tmp_path / "data.txt"
    plain.write_text("not a program\n")
    plain.chmod(0o644)
    r = run_tracespec("run", SPEC, "--", str(plain))
    assert r.returncode == 126 and "permission denied" in r.stderr


@pytest.mark.bpf
@pytest.mark.parametrize("script,code", [("exit 7", 7), ("kill -9 $$", 137)])
def test_run_exits_with_the_commands_status(script, code):
    r = run_tracespec("run", SPEC, "-o", "/dev/null", "--", "sh", "-c", script)
    assert r.returncode == code, r.stderr
    assert "records lost" in r.stderr


@pytest.mark.bpf
def test_text_reports_death_by_signal_like_strace():
    r = run_tracespec("run", SPEC, "-o", "-", "--", "sh", "-c", "kill -9 $$")
    assert "+++ killed by SIGKILL +++" in r.stdout
