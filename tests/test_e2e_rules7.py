"""End to end, with real BPF: classes found by sweeping real programs under strace and tracespec
(issue 19; tests/sweep.py), each a group of tests/workloads/rules7_workload.c compared line for line
with strace -f, under each -X style: a socket's kind and flags and statx's sync type and AT_ flags,
which strace prints as two constants joined by |, and futex's operation, one constant whose
combinations with FUTEX_CLOCK_REALTIME are only those strace names; execve's argv and environment,
whole under -v; arguments the sweep found as bare numbers (epoll_ctl, signalfd, inotify_add_watch,
memfd_create, the scheduling calls, the priorities); -y's "(deleted)" after the brackets of a file
unlinked while open and of a memfd; mknod's device, shown only for a device."""

from __future__ import annotations

import subprocess

import pytest

from conftest import run_tracespec
from groupcompare import compare_group

pytestmark = pytest.mark.bpf

XLAT = ["socket", "socketpair", "statx", "futex"]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (), extra_argv: tuple = ()
             ) -> list[str]:
    return compare_group("rules7_workload", group, syscalls, build_dir, tmp_path, options, extra_argv=extra_argv)


def test_split_and_combined_constants_agree_with_strace(build_dir, tmp_path):
    lines = _compare("xlat", XLAT, build_dir, tmp_path)
    assert lines[0] == "socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3"
    assert "socket(AF_INET, SOCK_CLOEXEC|0x40, IPPROTO_IP) = -1 EINVAL (Invalid argument)" in lines
    assert "socket(AF_INET, 0xf /* SOCK_??? */, IPPROTO_IP) = -1 EINVAL (Invalid argument)" in lines
    assert any(line.startswith('statx(AT_FDCWD, "/", AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC, 0, ') for line in lines)
    assert "futex(0xADDR, 0x101 /* FUTEX_??? */, 1) = -1 ENOSYS (Function not implemented)" in lines
    assert any(line.startswith("futex(0xADDR, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, NULL, ")
               for line in lines)


def test_split_constants_follow_the_xlat_styles(build_dir, tmp_path):
    raw = _compare("xlat", XLAT, build_dir, tmp_path, ("-X", "raw"))
    assert "socket(0x2, 0x2|0xADDR, 0) = 3" in raw
    assert any(line.startswith('statx(-100, "/", , 0x7ff, ') for line in raw)
    assert any(line.startswith('statx(-100, "/", |0x900, 0x1, ') for line in raw)
    verbose = _compare("xlat", XLAT, build_dir, tmp_path, ("-X", "verbose"))
    assert ("socket(0x1 /* AF_UNIX */, 0x5 /* SOCK_SEQPACKET */|0xADDR /* SOCK_CLOEXEC|SOCK_NONBLOCK */, 0) = 3"
            in verbose)
    assert any(line.startswith('statx(-100 /* AT_FDCWD */, "/", 0x4000 /* AT_STATX_DONT_SYNC */|0x100 '
                               '/* AT_SYMLINK_NOFOLLOW */, ') for line in verbose)


ARGS = ", ".join(f'"{i}"' for i in range(40))


def test_execve_prints_argv_and_the_environment_whole_under_v(build_dir, tmp_path):
    lines = _compare("exec", ["execve"], build_dir, tmp_path, ("-v",), extra_argv=("/bin/true",))
    assert lines[0] == (f'execve("/bin/true", ["/bin/true", {ARGS}], ["A=1", '
                        '"TRACESPEC_LONG_VARIABLE=01234567"..., "Z="]) = 0')


def test_execve_cuts_argv_and_counts_the_environment_without_v(build_dir, tmp_path):
    lines = _compare("exec", ["execve"], build_dir, tmp_path, extra_argv=("/bin/true",))
    cut = ", ".join(f'"{i}"' for i in range(31))
    assert lines[0] == f'execve("/bin/true", ["/bin/true", {cut}, ...], 0xADDR /* N vars */) = 0'


def test_the_command_gets_the_environment_tracespec_was_given(tmp_path):
    """Under the C locale Python adds LC_CTYPE=C.UTF-8 to its own environment (PEP 538): the command
    must not see it, as under strace it does not."""
    env = {"A": "1", "PATH": "/usr/bin:/bin"}  # no LANG, no LC_*: Python coerces its locale
    want = subprocess.run(["strace", "-qq", "-v", "-e", "trace=execve", "/bin/true", "x"], env=env,
                          capture_output=True, text=True).stderr.splitlines()
    out = tmp_path / "t.txt"
    r = run_tracespec("run", "-qq", "-v", "-e", "trace=execve", "-o", str(out), "/bin/true", "x", env=env)
    assert r.returncode == 0, r.stderr
    got = [line.split(" ", 1)[1] for line in out.read_text().splitlines() if "execve(" in line]
    assert want == got == ['execve("/bin/true", ["/bin/true", "x"], ["A=1", "PATH=/usr/bin:/bin"]) = 0']


CATALOGUED = ["epoll_ctl", "signalfd4", "inotify_add_watch", "memfd_create", "sched_getparam", "sched_setscheduler", "sched_getscheduler",
              "sched_get_priority_max", "sched_get_priority_min", "setpriority", "getpriority"]


@pytest.mark.parametrize("options", [(), ("-X", "verbose")], ids=["abbrev", "Xverbose"])
def test_catalogued_arguments_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("catalogued", CATALOGUED, build_dir, tmp_path, options)
    if not options:
        assert lines[0] == "epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data={u32=7, u64=7}}) = 0"
        assert "signalfd4(-1, [USR1], 8, SFD_CLOEXEC|SFD_NONBLOCK) = 5" in lines
        assert 'inotify_add_watch(5, "/tmp", IN_CREATE|IN_DELETE|IN_ONLYDIR) = 1' in lines
        assert "sched_setscheduler(0, SCHED_BATCH, [0]) = 0" in lines
        assert "sched_getscheduler(0) = 3 (SCHED_BATCH)" in lines
        assert "getpriority(PRIO_PGRP, 0) = 20" in lines or any(x.startswith("getpriority(PRIO_PGRP, 0)") for x in lines)


def test_deleted_files_agree_with_strace_under_y(build_dir, tmp_path):
    victim = str(tmp_path / "victim")
    lines = _compare("deleted", ["openat", "write", "unlink", "fsync", "memfd_create", "ftruncate", "mknodat", "mknod"],
                     build_dir,
                     tmp_path, ("-y",), extra_argv=(victim,))
    assert f'write(3<{victim}>, "x", 1) = 1' in lines
    assert f'write(3<{victim}>(deleted), "y", 1) = 1' in lines
    assert f"close(3<{victim}>(deleted)) = 0" in lines
    assert 'memfd_create("rules7", MFD_CLOEXEC) = 3</memfd:rules7>(deleted)' in lines
    assert any(x.startswith("mknodat(AT_FDCWD<") and x.endswith(f'"{victim}", S_IFIFO|0600) = 0') for x in lines)
    assert any(x.endswith(f'"{victim}", S_IFCHR|0600, makedev(0x1, 0x3)) = 0') for x in lines)
    assert f'mknod("{victim}", S_IFREG|0600) = 0' in lines
