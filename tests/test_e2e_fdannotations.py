"""-y and -yy against strace -f on tests/workloads/fdanno_workload.c, group by group, in the places strace
annotates descriptors beyond plain arguments: SCM_RIGHTS descriptors sent and received (the receiver's
new ones named on the recvmsg line and the lines after it, also when the sender has exited), UDP, UDPv6,
TCPv6, UNIX (by path, abstract, datagram; listening, connecting, accepted) and netlink sockets with -yy,
all closed before tracespec prints their lines, and the descriptors anonymous inodes, memfds, pidfds,
dups, splice, tee, sendfile, copy_file_range, *at() directories, fchdir, mmap, poll and select show.

Every line must equal strace's, inodes and loopback ports numbered in order of appearance; only the
arguments tracespec does not decode (signalfd4's mask, epoll_ctl's event, copy_file_range's offset, which
it shows as addresses; perf_event_open's, fanotify's and landlock's) are left out, their descriptors still
compared. UDP sockets that a failed send, write or connect bound show their port on the lines after, as
strace's do."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from groupcompare import from_marker
from straceio import normalized

pytestmark = pytest.mark.bpf

CALLS = ("socketpair", "pipe", "pipe2", "openat", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "close", "read",
         "writev", "write", "socket", "bind", "getsockname", "sendto", "connect", "listen", "accept", "unlink",
         "eventfd2", "timerfd_create", "signalfd4", "epoll_create1", "epoll_ctl", "epoll_wait", "memfd_create",
         "ftruncate",
         "mmap", "munmap", "getpid", "pidfd_open", "inotify_init1", "userfaultfd", "poll", "pselect6", "dup2", "dup3",
         "fcntl", "splice", "tee", "sendfile", "copy_file_range", "newfstatat", "faccessat2", "unlinkat", "mkdirat",
         "fchdir", "fchmod", "lseek", "fsync", "close_range", "perf_event_open", "fanotify_init", "fanotify_mark",
         "fsopen", "fsconfig", "fsmount", "open_tree", "landlock_create_ruleset", "pidfd_getfd", "wait4",
         "clone", "waitid", "exit_group")
# arguments tracespec shows as numbers or addresses (not decoded)
UNDECODED = ("signalfd4", "epoll_ctl", "copy_file_range", "perf_event_open", "fanotify_init", "fanotify_mark",
             "fsopen", "fsconfig", "open_tree", "landlock_create_ruleset")
FD = re.compile(r"\b\d+<(?:[^<>]|<[^<>]*>)*>(?:\(deleted\))?")
INODE = re.compile(r"(?<=[\[>])\d{3,}(?=[\],-])|(?<=->)\d{3,}(?=[\],])")
PORT = re.compile(r"(?<=127\.0\.0\.1:)\d+|(?<=0\.0\.0\.0:)\d+|(?<=\[::1\]:)\d+|(?<=\[::\]:)\d+")
ADDR = re.compile(r"0x[0-9a-f]{6,}")
# what tracespec does not decode, as an address: clone's parent_tid (strace: [3<pid:N>] with CLONE_PIDFD)
# and waitid's siginfo
NOT_DECODED = (re.compile(r"(?<=parent_tid=)(\[[^\]]*\]|(?:0x)?ADDR)"),
               re.compile(r"(?<=^waitid\(P_PIDFD, )([^,]+, )(\{[^}]*\}|(?:0x)?ADDR)"))


@pytest.fixture(scope="module")
def workload(build_dir):
    return compile_workload("fdanno_workload", build_dir)


def _lines(tracer: str, workload, group: str, flag: str, tmp_path) -> list[list[str]]:
    out = tmp_path / f"{tracer}{flag}.txt"
    argv = [str(workload), group]
    if tracer == "strace":
        r = subprocess.run(["strace", "-f", "-q", flag, "-e", "trace=" + ",".join(CALLS), "-o", str(out), *argv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    else:
        spec = tmp_path / "fdanno.yaml"
        spec.write_text("version: 1\nsyscalls: [" + ", ".join(CALLS) + "]\n")
        r = run_tracespec("run", str(spec), flag, "-o", str(out), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    procs = normalized(out.read_text(errors="surrogateescape"))
    procs[0] = from_marker(procs[0])
    names: dict[str, str] = {}

    def name(m):
        return names.setdefault(m.group(0), f"N{len(names) + 1}")

    def comparable(line: str) -> str:
        line = ADDR.sub("ADDR", PORT.sub(name, INODE.sub(name, line)))
        line = NOT_DECODED[1].sub(r"\1INFO", NOT_DECODED[0].sub("TID", line))
        if line.split("(", 1)[0] in UNDECODED:  # the descriptors alone
            return line.split("(", 1)[0] + " " + " ".join(FD.findall(line))
        return line
    return [[comparable(line) for line in p] for p in procs]


def _compare(workload, group: str, flag: str, tmp_path) -> list[str]:
    want = _lines("strace", workload, group, flag, tmp_path)
    got = _lines("tracespec", workload, group, flag, tmp_path)
    assert got == want
    return [line for p in want for line in p]


@pytest.mark.parametrize("flag", ["-y", "-yy"])
def test_scm_rights_like_strace(workload, tmp_path, flag):
    lines = _compare(workload, "scm", flag, tmp_path)
    recv = next(line for line in lines if line.startswith("recvmsg("))
    assert "cmsg_data=[5</etc/hostname>, 7<pipe:[N" in recv  # 5 and 7: numbers the sender had closed
    assert any(line.startswith("read(5</etc/hostname>") for line in lines)


@pytest.mark.parametrize("flag", ["-y", "-yy"])
def test_scm_rights_from_a_process_gone_like_strace(workload, tmp_path, flag):
    lines = _compare(workload, "scm_fork", flag, tmp_path)
    recv = next(line for line in lines if line.startswith("recvmmsg("))
    assert re.search(r"cmsg_data=\[\d+</etc/hostname>, \d+<pipe:\[N\d+\]>\]", recv), recv


@pytest.mark.parametrize("group", ["udp", "inet6", "unix", "netlink"])
def test_socket_endpoints_like_strace_yy(workload, tmp_path, group):
    lines = _compare(workload, group, "-yy", tmp_path)
    expect = {"udp": "UDP:[127.0.0.1:N", "inet6": "TCPv6:[[::1]:N", "unix": "UNIX-STREAM:[N",
              "netlink": "NETLINK:[ROUTE:P1]"}[group]
    assert any(expect in line for line in lines)
    if group == "unix":
        assert sum('->N' in line and ',"/tmp/fa-P1-s"]' in line for line in lines) >= 2
        assert any(',@"fa-abs"]' in line for line in lines)
        assert sum('-longer-than-the-32-bytes-a-record-holds"]' in line for line in lines) >= 4


def test_udp_sockets_bound_by_failed_sends_and_connects_like_strace_yy(workload, tmp_path):
    lines = _compare(workload, "udp_failed", "-yy", tmp_path)
    after = [line for line in lines if line.startswith("fsync(")]
    bound = re.compile(r"fsync\(\d+<UDP(v6)?:\[(0\.0\.0\.0|\[::\]):N\d+\]>\)")
    assert [bool(bound.match(line)) for line in after] == [True] * 5 + [False] * 2 + [True] * 2, after
    assert any(line.startswith("write(") and "->127.0.0.1:N" in line and "ECONNREFUSED" in line for line in lines)


@pytest.mark.parametrize("group", ["udp", "unix"])
def test_sockets_like_strace_y(workload, tmp_path, group):
    _compare(workload, group, "-y", tmp_path)


@pytest.mark.parametrize("flag", ["-y", "-yy"])
def test_anonymous_inodes_and_descriptor_arguments_like_strace(workload, tmp_path, flag):
    lines = _compare(workload, "anon", flag, tmp_path)
    assert any(line.startswith("tee(") and "<pipe:[" in line for line in lines)
    assert any("</memfd:famem>(deleted)" in line for line in lines)
    assert any(line.startswith("close_range(50, 60, 0)") for line in lines)
    assert any(line.startswith("pidfd_open(") and (" = 8<pid:P1>" if flag == "-yy" else "<anon_inode:[pidfd]>") in line
               for line in lines)


@pytest.mark.parametrize("flag", ["-y", "-yy"])
def test_groups_rulesets_and_copies_like_strace(workload, tmp_path, flag):
    lines = _compare(workload, "more", flag, tmp_path)
    assert sum(line.startswith("perf_event_open ") and "<anon_inode:[perf_event]>" in line for line in lines) == 2
    assert any(line.startswith("fsopen ") and line.endswith("<anon_inode:[fscontext]>") for line in lines)
    assert any(line.startswith("fsmount(") and line.endswith("</>") for line in lines)
    trees = [re.sub(r"\d+<", "<", line.split()[-1]) for line in lines if line.startswith("open_tree ")]
    assert trees == ["</etc>", "</etc/ssl>", "</>"]  # what each returned (the tokens of its line: the last)
    # the copied descriptor, named in the child's table, and the copy
    assert any(line.startswith("pidfd_getfd(") and "30</etc/hosts>, 0) = " in line and line.endswith("</etc/hosts>")
               for line in lines)


def test_clone_pidfd_like_strace_yy(workload, tmp_path):
    """The parent's pidfd (at the lowest free number: the record does not hold where it was written),
    waited for with P_PIDFD while the child lives, closed once it has gone."""
    lines = _compare(workload, "pidfd", "-yy", tmp_path)
    assert any(line.startswith("fcntl(3<pid:P2>, F_GETFD)") for line in lines)
    assert any(line.startswith("waitid(P_PIDFD, 3<pid:P2>, ") for line in lines)
    assert "close(3<anon_inode:[pidfd]>) = 0" in lines
