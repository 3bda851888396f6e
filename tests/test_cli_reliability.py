"""Reliability of the command line (issue 14): standard streams that are closed or cannot be written,
and one clear line for each kind of bad value, without BPF where the refusal comes before loading."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, TRACESPEC, run_tracespec
from tracespec.cli import main
from tracespec.errors import ExitStatus

SPEC = str(ROOT / "specs" / "fileio.yaml")


def run_in_shell(script: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI under sh, for redirections Python's subprocess cannot express (a closed descriptor)."""
    return subprocess.run(["sh", "-c", script, "sh", TRACESPEC, SPEC], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def refused(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


# --- standard streams -------------------------------------------------------------------------------

@pytest.mark.bpf
def test_unwritable_stderr_is_a_failed_trace_not_a_segfault():
    with open("/dev/full", "w") as full:
        r = subprocess.run([TRACESPEC, "run", SPEC, "--", "true"], stdout=subprocess.PIPE, stderr=full,
                           text=True, timeout=120, cwd=ROOT)
    assert r.returncode == ExitStatus.CANNOT_TRACE  # the trace went to standard error, and could not


@pytest.mark.bpf
def test_unwritable_stderr_does_not_stop_a_trace_to_a_file(tmp_path):
    trace = tmp_path / "trace.txt"
    with open("/dev/full", "w") as full:
        r = subprocess.run([TRACESPEC, "run", SPEC, "-o", str(trace), "--", "sh", "-c", "cat /etc/hostname; exit 5"],
                           stdout=subprocess.PIPE, stderr=full, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 5
    assert "+++ exited with 5 +++" in trace.read_text()


@pytest.mark.bpf
def test_closed_stderr_does_not_stop_a_trace_to_a_file(tmp_path):
    trace = tmp_path / "trace.txt"
    r = run_in_shell(f'"$1" run "$2" -o {trace} -- sh -c "exit 4" 2>&-')
    assert r.returncode == 4, r.stdout
    text = trace.read_text()
    assert "+++ exited with 4 +++" in text and "tracespec:" not in text  # no notice landed in the trace
    assert r.stdout == ""  # nothing meant for standard error went to standard output


def test_closed_stderr_as_the_trace_is_refused_before_tracing():
    r = run_in_shell('"$1" run "$2" -- true 2>&-')
    assert r.returncode == ExitStatus.CANNOT_TRACE and r.stdout == ""


def test_closed_stdout_as_the_trace_is_refused_in_one_line():
    r = run_in_shell('"$1" run "$2" -o - -- true >&-')
    assert r.returncode == ExitStatus.CANNOT_TRACE
    assert "cannot write the trace to standard output: it was closed" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


# --- bad values ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["abc", "12,x", "-3"])
def test_pid_that_is_not_a_number_is_a_usage_error(capsys, value):
    code, err = refused(capsys, "run", SPEC, "-p", value)
    assert code == ExitStatus.USAGE and "is not a process id" in err and repr(value) in err


@pytest.mark.parametrize("size", ["4G", "1K"])
def test_ring_buffer_size_outside_what_the_kernel_takes(capsys, size):
    code, err = refused(capsys, "run", SPEC, "--buffer-size", size, "--", "true")
    assert code == ExitStatus.USAGE and f"--buffer-size {size}: a BPF ring buffer takes 4K to 2G" in err


def test_perf_buffer_size_is_per_cpu(capsys):
    code, err = refused(capsys, "run", SPEC, "--kernel", "5.4", "--buffer-size", "4G", "--", "true")
    assert code == ExitStatus.USAGE and "a perf buffer, per CPU, takes 32K to 2G" in err


def test_recorder_size_has_the_specs_limits(capsys):
    code, err = refused(capsys, "record", SPEC, "--size", "8G", "--", "true")
    assert code == ExitStatus.USAGE and "--size 8G: the recorder takes 64K to 4G" in err


@pytest.mark.parametrize("path,kind", [("/dev/zero", "a character device"), (str(ROOT / "specs"), "a directory")])
def test_spec_that_is_not_a_file_is_refused(capsys, path, kind):
    code, err = refused(capsys, "check", path)
    assert code == ExitStatus.ERROR and f"the spec {path} is {kind}, not a file" in err


def test_named_fifo_as_spec_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    r = run_tracespec("run", str(fifo), "--", "true", timeout=30)
    assert r.returncode == ExitStatus.ERROR and "is a named pipe (FIFO), not a file" in r.stderr


def test_spec_from_a_pipe_is_read_whole():
    with open(SPEC, "rb") as f:
        r = subprocess.run([TRACESPEC, "check", "/dev/stdin"], capture_output=True, timeout=60, cwd=ROOT,
                           input=f.read())
    assert r.returncode == 0 and b"/dev/stdin: ok" in r.stdout, r.stderr


def test_summary_false_means_no_summary(tmp_path, capsys):
    from tracespec.spec import load_spec

    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nsyscalls: [openat]\nsummary: false\nraw: false\n")
    assert load_spec(str(spec)).summary is None
    assert main(["check", str(spec)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("interval", ["0", "86401"])
def test_interval_limits_are_the_same_for_flag_and_spec(tmp_path, capsys, interval):
    code, err = refused(capsys, "run", SPEC, "-c", "--interval", interval, "--", "true")
    assert code == ExitStatus.USAGE and "1 to 86400" in err
    spec = tmp_path / "s.yaml"
    spec.write_text(f"version: 1\nsyscalls: [openat]\nsummary: {{interval: {interval}}}\n")
    code, err = refused(capsys, "check", str(spec))
    assert code == ExitStatus.ERROR and "summary.interval" in err and "86400" in err


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv (util-linux)")
def test_dropped_capabilities_give_the_privileges_line():
    r = subprocess.run(["setpriv", "--inh-caps=-all", "--bounding-set=-all", TRACESPEC, "run", SPEC, "--", "true"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == ExitStatus.CANNOT_TRACE
    assert "loading BPF programs needs root (or CAP_BPF and CAP_PERFMON" in r.stderr, r.stderr
    assert "compile" not in r.stderr


@pytest.mark.parametrize("command", [["list"], ["check", "specs/all.yaml"], ["emit", "specs/all.yaml"],
                                     ["list", "--class", "file"]])
def test_printing_commands_on_a_full_stdout_say_so_in_one_line(command):
    """list, check and emit print their result: a standard output that cannot take it is one error line
    and the status for an output that cannot be written, never an internal error."""
    with open("/dev/full", "w") as full:
        r = subprocess.run([TRACESPEC, *command], stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           timeout=60)
    assert r.returncode == ExitStatus.CANNOT_TRACE, r.stderr
    assert r.stderr == "tracespec: error: cannot write standard output: No space left on device\n"
