"""End to end, with real BPF (issue 19): -y names a descriptor even when the syscall that made it is not
traced (a -e trace= subset, a spec that does not list it). strace reads /proc/PID/fd; tracespec records
the descriptor syscalls the spec leaves out for its table alone (plan/planner.py bookkeeping), and prints,
counts and exports none of them. Compared line for line with strace -f on cat and on
tests/workloads/fdbook_workload.c (opens, dups, fcntl, pipes, sockets, eventfd, memfd, chdir, close_range,
a fork and an exec)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import normalized, numbered_inodes

pytestmark = pytest.mark.bpf


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fdbook_workload", build_dir)


def _both(tmp_path, strace_flags: list[str], tracespec_args: list[str], argv: list[str]):
    """(strace's, tracespec's) lines per process, inodes and loopback ports numbered; and tracespec's stderr."""
    assert shutil.which("strace"), "strace is needed (./setup installs it)"
    want, got = tmp_path / "strace.txt", tmp_path / "tracespec.txt"
    # the program's stderr a pipe under both (tracespec's run_tracespec gives it one)
    subprocess.run(["strace", "-f", "-q", *strace_flags, "-o", str(want), *argv], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    r = run_tracespec("run", *tracespec_args, "-o", str(got), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return (numbered_inodes(normalized(want.read_text(errors="surrogateescape"))),
            numbered_inodes(normalized(got.read_text(errors="surrogateescape"))), r.stderr)


def _traced(stderr: str) -> int:
    return int(re.search(r"(\d+) syscalls traced", stderr).group(1))


def test_cat_under_a_subset_names_what_the_untraced_openat_made(tmp_path):
    flags = ["-y", "-e", "trace=read,write,close"]
    want, got, err = _both(tmp_path, flags, flags, ["cat", "/etc/hostname"])
    assert got == want
    assert "close(3</etc/hostname>) = 0" in want[0]
    assert _traced(err) == sum(1 for line in got[0] if not line.startswith("+++"))  # no openat among them


def test_reads_and_writes_name_descriptors_made_copied_and_closed_untraced(workload, tmp_path):
    flags = ["-y", "-e", "trace=read,write"]
    want, got, err = _both(tmp_path, flags, flags, [str(workload)])
    assert got == want
    # what each untraced syscall taught (the numbers depend on what the test's process left open)
    text = "\n".join(want[0])
    for pattern in (r'read\(\d+</etc/hostname>, "m", 1\) = 1',  # dup
                    r'read\(1\d</etc/hostname>, "\\n", 1\) = 1',  # fcntl F_DUPFD_CLOEXEC, from 10 on
                    r'read\(7</etc/hostname>, "", 1\) = 0',  # dup2
                    r'read\(\d+, 0xADDR, 1\) = -1 EBADF',  # closed
                    r'read\(\d+<pipe:\[N1\]>, "x", 1\) = 1',  # pipe2
                    r'write\(\d+</memfd:mine>\(deleted\), "abc", 3\) = 3',
                    r'read\(\d+</etc/passwd>, "r", 1\) = 1',  # relative, after chdir("/etc")
                    r'write\(21<socket:\[N\d\]>, "s", 1\) = 1'):  # after exec: not close-on-exec
        assert re.search(pattern, text), pattern
    assert re.fullmatch(r'read\(1\d, 0xADDR, 1\) = -1 EBADF \(Bad file descriptor\)', want[0][-3])  # exec closed it
    assert re.fullmatch(r'read\((\d+)</etc/passwd>, "o", 1\) = 1', want[1][0])  # the fork's copy of the table
    assert _traced(err) == sum(1 for p in got for line in p if not line.startswith("+++"))


def test_network_class_with_yy(workload, tmp_path):
    flags = ["-yy", "-e", "trace=%network"]
    want, got, _ = _both(tmp_path, flags, flags, [str(workload)])
    assert got == want
    assert any(line.startswith("sendto(21<TCP:[127.0.0.1:") for line in want[0])  # a dup2 of the socket


def test_yy_endpoints_of_sockets_made_untraced(workload, tmp_path):
    flags = ["-yy", "-e", "trace=read,write"]
    want, got, _ = _both(tmp_path, flags, flags, [str(workload)])
    assert got == want
    assert any(line.startswith("write(21<TCP:[127.0.0.1:") for line in want[0])


def test_a_spec_with_a_syscall_list_and_a_filter(workload, tmp_path):
    """status=failed keeps the successful opens out of the trace, not out of the table."""
    spec = tmp_path / "rw.yaml"
    spec.write_text("version: 1\nfd_paths: true\nsyscalls: [read, write]\nfilter: failed\n")
    want, got, err = _both(tmp_path, ["-y", "-e", "trace=read,write", "-e", "status=failed"], [str(spec)],
                           [str(workload)])
    assert got == want
    assert any(re.fullmatch(r'write\(\d+</etc/hostname>, "q", 1\) = -1 EBADF \(Bad file descriptor\)', line)
               for line in want[0])
    assert all(" = -1 " in line for p in got for line in p if not line.startswith("+++"))


def test_the_summary_counts_only_the_traced_syscalls(workload, tmp_path):
    """-c (in the kernel: nothing to name there, nothing added) and -C (counted from the trace's events,
    the bookkeeping ones among them uncounted) agree with strace -c's calls."""
    out = subprocess.run(["strace", "-f", "-c", "-e", "trace=read,write", "-o", str(tmp_path / "c.txt"),
                          str(workload)], check=True, stdout=subprocess.DEVNULL)
    assert out.returncode == 0
    want = _calls((tmp_path / "c.txt").read_text())
    for mode in ("-c", "-C"):
        r = run_tracespec("run", mode, "-y", "--no-hist", "-e", "trace=read,write", "-o", str(tmp_path / "t.txt"),
                          "--", str(workload), stdout=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        text = (tmp_path / "t.txt").read_text()
        assert _calls(text[text.index("% time"):]) == want, mode
    assert set(want) == {"read", "write"}


def _calls(table: str) -> dict[str, tuple[int, int]]:
    """A -c table's rows: syscall -> (calls, errors); strace leaves the errors column empty when none."""
    rows = {}
    for line in table.splitlines():
        f = line.split()
        if len(f) in (5, 6) and re.fullmatch(r"\d+\.\d+", f[0]) and f[-1] != "total":
            rows[f[-1]] = (int(f[3]), int(f[4]) if len(f) == 6 else 0)
    return rows
