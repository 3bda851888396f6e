"""End to end, with real BPF: the classes of difference a whole-program comparison with strace -f
found (issue 19: ls, cp, tar, df, curl, python3, git...), each reproduced by a group of
tests/workloads/rules5_workload.c and compared with strace's lines."""

from __future__ import annotations

import re

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

RANDOM = re.compile(r"\\x[0-9a-f]{2}")


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (), spec_extra: str = "",
             keep=None) -> list[str]:
    """getrandom's bytes differ from run to run: only their form is compared."""
    return compare_group("rules5_workload", group, syscalls, build_dir, tmp_path, options, spec_extra, keep,
                         scrub=lambda line: RANDOM.sub(r"\\xNN", line) if line.startswith("getrandom(") else line)


def test_flag_tables_and_hex_numbers_agree_with_strace(build_dir, tmp_path):
    lines = _compare("flags", ["socket", "accept4", "setsockopt", "faccessat2", "rseq"], build_dir, tmp_path)
    assert "setsockopt(3, SOL_NETLINK, NETLINK_EXT_ACK, [1], 4) = 0" in lines
    assert lines[0] == "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3"
    assert any("X_OK, AT_EACCESS) = -1 ENOENT" in line for line in lines)
    assert any(line.startswith("rseq(0xADDR, 0x10, 0, 0xADDR) = -1 EINVAL") for line in lines)


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-x",)], ids=["abbrev", "Xverbose", "x"])
def test_random_bytes_in_hex_and_socket_errors_by_name(options, build_dir, tmp_path):
    """getrandom's bytes all in hex whatever they are (strace's QUOTE_FORCE_HEX); SO_ERROR's value is an
    errno, by name; one too short for an int, its bytes in hex."""
    lines = _compare("buffers", ["getrandom", "getsockopt"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[0] == 'getrandom("' + "\\xNN" * 8 + '", 8, GRND_NONBLOCK) = 8'
    assert "getrandom(0x8, 4, 0) = -1 EFAULT (Bad address)" in lines
    assert "getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0" in lines
    assert "getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0" in lines
    assert 'getsockopt(3, SOL_SOCKET, SO_ERROR, "\\x00\\x00", [2]) = 0' in lines


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_limits_and_file_system_statistics_agree_with_strace(options, build_dir, tmp_path):
    """struct rlimit as strace's print_rlim64_t (RLIM64_INFINITY, N*1024), read at entry for the limits
    set and when the call returns for those got; struct statfs whole, the magic by name."""
    lines = _compare("structs", ["getrlimit", "setrlimit", "prlimit64", "statfs", "fstatfs"], build_dir, tmp_path,
                     options)
    if options:
        return
    assert "setrlimit(RLIMIT_CORE, {rlim_cur=0, rlim_max=RLIM64_INFINITY}) = 0" in lines
    assert any(line.startswith("prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1000, rlim_max=4*1024}, {rlim_cur=")
               for line in lines)
    assert "prlimit64(0, RLIMIT_NOFILE, NULL, {rlim_cur=1024, rlim_max=4*1024}) = 0" in lines
    assert "getrlimit(RLIMIT_NOFILE, 0x8) = -1 EFAULT (Bad address)" in lines
    assert any(line.startswith('statfs("/proc", {f_type=PROC_SUPER_MAGIC, f_bsize=') for line in lines)
    assert any(line.startswith('statfs("/sys", {f_type=SYSFS_MAGIC, ') and "f_flags=ST_VALID|" in line
               for line in lines)


def test_cpu_masks_as_the_cpus_they_hold(build_dir, tmp_path):
    """sched_getaffinity's mask as the kernel wrote it (its return value's bytes), sched_setaffinity's
    as given, both as strace's print_affinitylist lists their CPUs; a failed get's address."""
    lines = _compare("cpus", ["sched_getaffinity", "sched_setaffinity"], build_dir, tmp_path)
    assert lines[0].startswith("sched_getaffinity(0, 128, [0") and "]) = " in lines[0]
    assert "sched_getaffinity(0, 4, 0xADDR) = -1 EINVAL (Invalid argument)" in lines
    assert "sched_setaffinity(0, 8, [0]) = 0" in lines
    assert "sched_setaffinity(0, 0, []) = -1 EINVAL (Invalid argument)" in lines


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_timeouts_and_file_times_agree_with_strace(options, build_dir, tmp_path):
    """select's timeval and pselect6's and ppoll's timespec read at entry; utimensat's two times with
    UTIME_NOW and UTIME_OMIT by name and the others' local date in a comment."""
    lines = _compare("times", ["select", "pselect6", "ppoll", "utimensat"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[0] == "select(0, NULL, NULL, NULL, {tv_sec=0, tv_usec=1000}) = 0 (Timeout)"
    assert lines[1] == "pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 0 (Timeout)"
    assert any("[UTIME_OMIT, {tv_sec=1700000000, tv_nsec=0} /* 2023-11-" in line for line in lines)
    assert any(line.startswith("utimensat(AT_FDCWD, ") and ", 0x8, 0) = -1 EFAULT" in line for line in lines)


@pytest.mark.parametrize("options", [(), ("-v",), ("-v", "-X", "verbose"), ("-X", "raw")],
                         ids=["abbrev", "v", "vXverbose", "Xraw"])
def test_stat_and_statx_whole_under_v(options, build_dir, tmp_path):
    """-v prints struct stat and struct statx whole (strace's print_struct_stat and statx), each time with
    its date, statx's fields as its mask says the kernel filled them; a device's number in hex with a
    plain 0 (makedev(0x5, 0))."""
    # statx's flags under -X are two values (its sync type, then the rest), which tracespec prints as one
    syscalls = ["newfstatat", "fstat"] + ([] if "-X" in options else ["statx"])
    lines = _compare("stat", syscalls, build_dir, tmp_path, options)
    if options == ("-v",):
        assert any(line.startswith("newfstatat(AT_FDCWD, \"/dev/tty\", {st_dev=makedev(") and
                   "st_rdev=makedev(0x5, 0), st_atime=" in line for line in lines)
        assert any(line.startswith("statx(AT_FDCWD, ") and "stx_btime={tv_sec=" in line for line in lines)
    if not options:
        assert any("{st_mode=S_IFCHR|0666, st_rdev=makedev(0x5, 0), ...}" in line for line in lines)


TIMER_SYSCALLS = ["timer_create", "timer_settime", "timer_gettime", "timer_delete", "getitimer", "setitimer",
                  "timerfd_create", "timerfd_settime", "timerfd_gettime"]


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_timers_agree_with_strace(options, build_dir, tmp_path):
    """timer_create's clock, struct sigevent and the id it writes; itimerspec and itimerval read at entry
    and when the call returns; timerfd's clock and flags."""
    lines = _compare("timers", TIMER_SYSCALLS, build_dir, tmp_path, options)
    if options:
        return
    assert lines[0] == "timer_create(CLOCK_MONOTONIC, {sigev_signo=SIGUSR1, sigev_notify=SIGEV_SIGNAL}, [0]) = 0"
    assert ("timer_settime(0, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=100, tv_nsec=0}}, NULL) = 0"
            in lines)
    assert any(line.startswith("timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC|TFD_NONBLOCK) = ") for line in lines)


def test_unix_addresses_agree_with_strace(build_dir, tmp_path):
    """An address no longer than its family (an unnamed AF_UNIX socket's) prints the family alone."""
    lines = _compare("unix", ["socketpair", "getsockname", "getpeername", "bind"], build_dir, tmp_path)
    assert "getsockname(3, {sa_family=AF_UNIX}, [110 => 2]) = 0" in lines
    assert any('sun_path=@"tracespec-abstract"' in line for line in lines)


@pytest.mark.parametrize("size", [4096, None], ids=["whole", "default"])
def test_directory_entries_counted_as_strace_does(size, build_dir, tmp_path):
    """getdents64 and getdents: the address and the number of entries the kernel wrote, counted from a
    copy that holds them all (buffers: max); the end of a directory, 0 entries, needs no copy at all."""
    extra = f"buffers: {{max: {size}}}\n" if size else ""
    keep = None if size else (lambda line: "/* 0 entries */" in line or not line.startswith("getdents"))
    lines = _compare("dirs", ["getdents64", "getdents"], build_dir, tmp_path, spec_extra=extra, keep=keep)
    assert "getdents64(3, 0xADDR /* 0 entries */, 4096) = 0" in lines
    if size:
        assert any(line.startswith("getdents64(3, 0xADDR /* 7 entries */, 4096) = ") for line in lines)
        assert any(line.startswith("getdents(3, 0xADDR /* 7 entries */, 4096) = ") for line in lines)
