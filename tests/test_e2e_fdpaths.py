"""-y and -yy against strace on tests/workloads/fd_workload.c: what each descriptor argument and result
is shown as, line for line, with stdout an inherited pipe; and a binary trace decoded after the workload
ended (names from the trace and its header alone)."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from straceio import per_process

pytestmark = pytest.mark.bpf

CALLS = ("write", "read", "socket", "close", "pipe2", "dup2", "fcntl", "eventfd2", "socketpair", "bind",
         "listen", "getsockname", "connect", "accept", "clone", "wait4", "execve", "exit_group")
FD = re.compile(r"\b\d+<(?:[^<>]|<[^<>]*>)*>|\b\d+(?=[,)\]])")
INODE = re.compile(r"(?<=[\[>])\d{3,}(?=[\]-])|(?<=->)\d{3,}")
PORT = re.compile(r"(127\.0\.0\.1):\d+")


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fd_workload", build_dir)


def _descriptors(text: str) -> list[list[tuple]]:
    """Per process: (syscall, the descriptor-looking tokens of its line), inodes and ports numbered in
    order of appearance (two runs get other ones)."""
    names: dict[str, str] = {}

    def renumber(m):
        return names.setdefault(m.group(0), f"N{len(names)}")
    out = []
    for lines in per_process(text):
        rows = []
        for line in lines:
            name = line.split("(", 1)[0]
            if name in CALLS:
                shown = [PORT.sub(lambda m: m.group(1) + ":" + renumber(m), INODE.sub(renumber, t))
                         for t in FD.findall(line.split(" = ")[0].split("(", 1)[1]) if "<" in t]
                ret = line.rsplit(" = ", 1)[1]
                rows.append((name, shown, INODE.sub(renumber, PORT.sub(renumber, ret)) if "<" in ret else ""))
        out.append(rows)
    return out


def _trace(tracer: str, workload, out, yy: bool = False) -> str:
    flag = "-yy" if yy else "-y"
    if tracer == "strace":
        cmd = ["strace", "-f", "-q", flag, "-e", "trace=" + ",".join(CALLS), "-o", str(out), str(workload)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    else:
        r = run_tracespec("run", "tests/specs/fdpaths.yaml", flag, "-o", str(out), "--", str(workload))
    assert r.returncode == 0
    return out.read_text(errors="surrogateescape")


def test_descriptors_like_strace_y(workload, tmp_path):
    strace = _descriptors(_trace("strace", workload, tmp_path / "s.txt"))
    text = _trace("tracespec", workload, tmp_path / "t.txt")
    ours = _descriptors(text)
    assert ours == strace
    assert "'1<pipe:[N" in repr(ours)  # the inherited stdout, a pipe
    assert 'write(6, "dropped", 7) = -1 EBADF' in text  # dropped at exec: a bare number
    # the socket closed before the next socket() got its number: shown as the one it closed
    calls = [row for row in ours[0] if row[0] in ("socket", "close")]
    first = calls[[row[0] for row in calls].index("socket"):][:4]
    assert first[0][2] == first[1][1][0] != first[2][2] == first[3][1][0]


def test_tcp_endpoints_like_strace_yy(workload, tmp_path):
    """Endpoints change as a socket is bound and connected; compare the lines once they are settled."""
    def settled(text):
        lines = [line for p in per_process(text) for line in p]
        return [PORT.sub(r"\1:P", line) for line in lines
                if line.split("(", 1)[0] in ("write", "read", "accept") and "TCP:" in line]
    strace = settled(_trace("strace", workload, tmp_path / "s.txt", yy=True))
    ours = settled(_trace("tracespec", workload, tmp_path / "t.txt", yy=True))
    assert ours == strace and len(ours) == 3
    assert "accept(4<TCP:[127.0.0.1:P]>, NULL, NULL) = 8<TCP:[127.0.0.1:P->127.0.0.1:P]>" in ours


def test_decoded_after_the_workload_ended(workload, tmp_path):
    """Inherited stdout (a file) named from the header; the exited child's too; sockets and pipes by the
    inodes their records carry (no /proc at decode time)."""
    trace, out, stdout = tmp_path / "t.tsb", tmp_path / "d.txt", tmp_path / "stdout.txt"
    with open(stdout, "w") as f:
        r = run_tracespec("run", "tests/specs/fdpaths.yaml", "-y", "--format", "bin", "-o", str(trace), "--",
                          str(workload), stdout=f)
    assert r.returncode == 0, r.stderr
    r = run_tracespec("decode", str(trace), "-o", str(out))
    assert r.returncode == 0, r.stderr
    procs = per_process(out.read_text())
    writes = [line for p in procs for line in p if line.startswith("write(1")]
    assert len(writes) == 3 and all(line.startswith(f"write(1<{stdout}>") for line in writes)
    parent = procs[0]
    made = [line for line in parent if line.startswith(("socket(", "pipe2(", "socketpair("))]
    assert len(made) == 6 and all(re.search(r"\b\d+<(socket|pipe):\[[1-9]\d*\]>", line) for line in made), made
    # the first socket's number, closed and made again: two inodes
    assert re.fullmatch(r"socket\(AF_INET, SOCK_DGRAM, IPPROTO_IP\) = 3<socket:\[\d+\]>", made[0])
    assert made[0] != made[1] and made[1].startswith("socket(AF_INET, SOCK_DGRAM")
    assert any(re.fullmatch(r"accept\(4<socket:\[\d+\]>, NULL, NULL\) = \d+<socket:\[\d+\]>", line)
               for line in parent)
    assert 'write(4<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8' in parent
