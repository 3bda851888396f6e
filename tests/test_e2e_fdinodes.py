"""-y and -yy against strace -f on tests/workloads/fdinode_workload.c: sockets and pipes made by
children that exit at once (their lines are printed after they have gone), numbers closed and made
again, connections accepted by a child, and what the command inherits (stdin and stdout pipes, stderr
a file, one more descriptor on a file). The inode of each socket and pipe comes from the kernel when the syscall
that made it returns, and so do -yy's TCP endpoints when bind, listen, connect and accept return; every
line must equal strace's, inodes and ports numbered in order of appearance."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import TRACESPEC, compile_workload
from straceio import normalized, numbered_inodes

pytestmark = pytest.mark.bpf

CALLS = ("openat", "close", "read", "write", "socket", "socketpair", "pipe", "pipe2", "dup", "fcntl", "accept",
         "accept4", "bind", "listen", "getsockname", "connect", "sendto", "exit_group")


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fdinode_workload", build_dir)


def _trace(tracer: str, workload, tmp_path, flag: str, extra_file: str = "/etc/hostname") -> list[list[str]]:
    """One run, its stdin and stdout pipes, stderr a file and one more descriptor on a file (its number
    the workload's argument): each process's lines."""
    out = tmp_path / f"{tracer}{flag}.txt"
    extra = os.open(extra_file, os.O_RDONLY)
    command = [str(workload), str(extra)]
    if tracer == "strace":
        argv = ["strace", "-f", "-q", flag, "-e", "trace=" + ",".join(CALLS), "-o", str(out), *command]
    else:
        spec = tmp_path / "fdinodes.yaml"
        spec.write_text("version: 1\nsyscalls: [" + ", ".join(CALLS) + "]\n")
        argv = [TRACESPEC, "run", str(spec), flag, "-o", str(out), "--", *command]
    try:
        with open(tmp_path / "stderr.txt", "w") as err:
            r = subprocess.run(argv, input=b"in", stdout=subprocess.PIPE, stderr=err, timeout=120, pass_fds=(extra,))
    finally:
        os.close(extra)
    assert r.returncode == 0, (tmp_path / "stderr.txt").read_text()
    assert r.stdout == b"child\nchild\nparent\n"
    return normalized(out.read_text(errors="surrogateescape"))


def test_sockets_and_pipes_of_exited_processes_like_strace_y(workload, tmp_path):
    strace = numbered_inodes(_trace("strace", workload, tmp_path, "-y"))
    ours = numbered_inodes(_trace("tracespec", workload, tmp_path, "-y"))
    assert ours == strace
    lines = [line for p in ours for line in p]
    # what the check is about: each child's sockets and pipes, named though the child is gone
    assert sum(line.startswith("socketpair(AF_UNIX, SOCK_DGRAM, 0, [6<socket:[N") for line in lines) == 2
    assert sum(line.startswith("pipe([4<pipe:[N") for line in lines) == 2
    assert any(line.startswith("accept4(3<socket:[N") and "= 4<socket:[N" in line for line in lines)
    assert any(line.startswith("read(0<pipe:[N") for line in lines)  # inherited
    assert any(line.startswith("write(2</") for line in lines) and any(line.startswith("fcntl(") and "</etc/hostname>, F_GETFD) = " in line for line in lines)


def test_sockets_pipes_and_devices_like_strace_yy(workload, tmp_path):
    """-yy: TCP endpoints as bind, listen, connect and accept left them (read from the kernel as they
    returned: these sockets are gone by the time their lines are printed), UNIX sockets by the kernel's
    protocol names (a datagram pair is UNIX:[a->b], each the other's peer), pipes, and the inherited
    device with its numbers."""
    strace = numbered_inodes(_trace("strace", workload, tmp_path, "-yy", "/dev/null"))
    ours = numbered_inodes(_trace("tracespec", workload, tmp_path, "-yy", "/dev/null"))
    assert ours == strace
    lines = [line for p in ours for line in p]
    assert sum(line.startswith("socketpair(AF_UNIX, SOCK_DGRAM, 0, [6<UNIX:[N") and "->" in line
               for line in lines) == 2
    assert sum(line.startswith("socket(AF_UNIX, SOCK_STREAM, 0) = 3<UNIX-STREAM:[N") for line in lines) == 2
    assert any(line.startswith("fcntl(") and "</dev/null<char 1:3>>, F_GETFD)" in line for line in lines)
    assert any(line.startswith("listen(3<TCP:[127.0.0.1:N") for line in lines)
    assert any(line.startswith("read(4<UDP:[127.0.0.1:N") and "]>, " in line and "->" not in line
               for line in lines)  # connected, shown as first found
    assert any(line.startswith("accept4(3<TCP:[127.0.0.1:N") and "= 4<TCP:[127.0.0.1:N" in line and "->" in line
               for line in lines)
