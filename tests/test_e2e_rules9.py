"""End to end, with real BPF: syscalls strace decodes whose arguments tracespec printed as bare numbers
(issue 19), each a group of tests/workloads/rules9_workload.c compared line for line with strace, in
each -X style: sigaltstack's stack_t, the ids getresuid and getresgid write back and the -1 of the
set*id calls, capget and capset's header and capability sets, personality's type and flags, and the
I/O priorities of ioprio_set and ioprio_get."""

from __future__ import annotations

import re

import pytest

from groupcompare import compare_group, compare_tree

pytestmark = pytest.mark.bpf

STYLES = [(), ("-X", "raw"), ("-X", "verbose")]
STYLE_IDS = ["abbrev", "Xraw", "Xverbose"]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple) -> list[str]:
    return compare_group("rules9_workload", group, syscalls, build_dir, tmp_path, options)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_sigaltstack_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("altstack", ["sigaltstack"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0] == "sigaltstack(NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0"
        assert lines[1] == ("sigaltstack({ss_sp=0xADDR, ss_flags=0, ss_size=16384}, "
                            "{ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0")
        assert lines[4] == "sigaltstack(0x1, NULL) = -1 EFAULT (Bad address)"
        assert lines[5] == ("sigaltstack({ss_sp=0xADDR, ss_flags=0x10 /* SS_??? */, ss_size=16384}, 0x8) "
                            "= -1 EINVAL (Invalid argument)")


def test_ids_written_back_and_unchanged_ids_agree_with_strace(build_dir, tmp_path):
    lines = _compare("ids", ["getresuid", "getresgid", "setreuid", "setresuid", "setfsuid", "setresgid",
                             "setuid"], build_dir, tmp_path, ())
    assert lines[:2] == ["getresuid([0], [0], [0]) = 0", "getresgid([0], [0], [0]) = 0"]
    assert lines[2] == "getresuid(NULL, 0xADDR, 0xADDR) = -1 EFAULT (Bad address)"
    assert lines[3:7] == ["setreuid(-1, 0) = 0", "setresuid(-1, -1, 4294967294) = 0", "setresuid(-1, -1, 0) = 0",
                          "setfsuid(-1) = 0"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_capget_and_capset_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("caps", ["capget", "capset"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0].startswith("capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|")
        # capabilities above the known ones have no names (0xfffffe00, masked as an address)
        assert lines[2].endswith(", inheritable=0xADDR /* CAP_??? */}) = 0")
        assert lines[5] == "capget({version=0xADDR /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, NULL) = 0"
        assert lines[6:9] == ["capget(NULL, 0xADDR) = -1 EFAULT (Bad address)",
                             "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, 0x8) = -1 EFAULT (Bad address)",
                             "capset(0x8, 0xADDR) = -1 EFAULT (Bad address)"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_personality_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("persona", ["personality"], build_dir, tmp_path, options)
    if options == ():
        # (straceio masks numbers of five hex digits and more as addresses)
        assert lines[:6] == ["personality(0xADDR) = 0 (PER_LINUX)",
                             "personality(PER_LINUX|ADDR_NO_RANDOMIZE) = 0 (PER_LINUX)",
                             "personality(0xADDR) = 0xADDR (PER_LINUX|ADDR_NO_RANDOMIZE)",
                             "personality(0x1 /* PER_??? */|0xADDR) = 0xADDR (PER_LINUX|ADDR_NO_RANDOMIZE)",
                             "personality(PER_LINUX32) = 0xADDR (0x1 /* PER_??? */|0xADDR)",
                             "personality(PER_LINUX) = 0x8 (PER_LINUX32)"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_io_priorities_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("ioprio", ["ioprio_set", "ioprio_get"], build_dir, tmp_path, options)
    if options == ():
        assert lines[1] == "ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)) = 0"
        assert lines[2] == "ioprio_get(IOPRIO_WHO_PROCESS, 0) = 16388 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4))"
        assert lines[6] == ("ioprio_set(0x9 /* IOPRIO_WHO_??? */, 0, IOPRIO_PRIO_VALUE(0x5 /* IOPRIO_CLASS_??? */, "
                            "4)) = -1 EINVAL (Invalid argument)")


XATTRS = ["setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
          "flistxattr"]


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-x",), ("-xx",), ("-s", "4")],
                         ids=["abbrev", "Xverbose", "x", "xx", "s4"])
def test_extended_attributes_agree_with_strace(options, build_dir, tmp_path):
    """Values as strings without a last NUL (strace's print_xattr_val), read values at exit when the
    call returns them, lists whole, flags by name."""
    path = str(tmp_path / "attrs")
    lines = compare_group("rules9_workload", "xattr", XATTRS, build_dir, tmp_path, options, extra_argv=(path,))
    if options == ():
        assert lines[2] == 'fsetxattr(3, "user.asciz", "ends in NUL", 12, 0) = 0'
        assert lines[4] == f'setxattr("{path}", "user.none", "x", 1, XATTR_REPLACE) = -1 ENODATA (No data available)'
        assert lines[9] == 'fgetxattr(3, "user.bytes", "\\1\\2\\0\\3", 256) = 4'
        assert lines[13] == f'listxattr("{path}", "user.text\\0user.bytes\\0user.long\\0u"..., 256) = 42'


def test_mremap_shows_its_new_address_only_when_the_mapping_may_move_there(build_dir, tmp_path):
    lines = _compare("remap", ["mremap"], build_dir, tmp_path, ())
    assert lines[0] == "mremap(0xADDR, 8192, 16384, MREMAP_MAYMOVE) = 0xADDR"
    assert lines[2] == "mremap(0xADDR, 8192, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0xADDR) = 0xADDR"
    assert lines[3] == "mremap(0xADDR, 8192, 8192, MREMAP_FIXED) = -1 EINVAL (Invalid argument)"
    assert lines[4] == "mremap(0xADDR, 8192, 8192, 0x40 /* MREMAP_??? */) = -1 EINVAL (Invalid argument)"


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_offsets_and_splice_flags_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("offsets", ["sendfile", "copy_file_range", "splice", "tee", "vmsplice"], build_dir, tmp_path,
                     options)
    if options == ():
        assert lines[:3] == ["sendfile(4, 3, [2] => [7], 5) = 5", "sendfile(4, 3, NULL, 5) = 5",
                             "sendfile(4, 3, [1099511627776], 5) = 0"]
        assert lines[3] == "copy_file_range(3, [1], -1, [0], 4, 0) = -1 EBADF (Bad file descriptor)"
        assert lines[5] == "splice(3, [1], 6, NULL, 4, SPLICE_F_MOVE|SPLICE_F_MORE) = 4"
        assert lines[7] == 'vmsplice(6, [{iov_base="gift", iov_len=4}], 1, SPLICE_F_GIFT) = 4'


def _clock_scrub(line: str) -> str:
    """The times and their dates differ between the two runs: only their shape is compared."""
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", "DATE", re.sub(r"(tv_sec|tv_usec)=\d+", r"\1=N",
                  re.sub(r"(\[|= |^time\(\[)\d{6,}", r"\1N", line)))


def test_clocks_agree_with_strace(build_dir, tmp_path):
    lines = compare_group("rules9_workload", "clock", ["times", "gettimeofday", "time"], build_dir, tmp_path,
                          scrub=_clock_scrub)
    assert lines[0] == "times({tms_utime=0, tms_stime=0, tms_cutime=0, tms_cstime=0}) = N"
    assert lines[3] == "gettimeofday({tv_sec=N, tv_usec=N}, {tz_minuteswest=0, tz_dsttime=0}) = 0"
    assert lines[4] == "gettimeofday(0x8, NULL) = -1 EFAULT (Bad address)"
    assert lines[5:7] == ["time(NULL) = N (DATE)", "time([N /* DATE */]) = N (DATE)"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_membarrier_pidfd_open_mlock2_and_getcpu_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("misc", ["getcpu", "membarrier", "pidfd_open", "mlock2"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0] == "getcpu([0], NULL, NULL) = 0"
        assert lines[1].startswith("membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x3") and "MEMBARRIER_CMD_GLOBAL|" in lines[1]
        assert lines[4] == ("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, 0) "
                            "= -1 EPERM (Operation not permitted)")
        assert "pidfd_open(P1, PIDFD_NONBLOCK) = 3" in lines
        assert lines[-2] == "mlock2(0xADDR, 4096, 0x2 /* MLOCK_??? */) = -1 EINVAL (Invalid argument)"


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_mount_umount2_and_setns_agree_with_strace(options, build_dir, tmp_path):
    """mount's type only for a new mount, its data only where it is not a bind, move or propagation
    change (their addresses otherwise), the old magic apart from the flags."""
    target = str(tmp_path / "mnt")
    lines = compare_group("rules9_workload", "mount", ["mount", "umount2", "setns"], build_dir, tmp_path, options,
                          extra_argv=(target,))
    if options == ():
        assert lines[0] == 'mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0'
        assert lines[1] == f'mount("tmpfs", "{target}", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m,mode=700") = 0'
        assert lines[2] == f'mount("tmpfs", "{target}", 0xADDR, MS_NOSUID|MS_REMOUNT, "size=2m") = 0'
        assert lines[4] == f'mount("{target}", "{target}", 0xADDR, MS_BIND, 0xADDR) = 0'
        assert lines[5] == f'mount("tmpfs", "{target}", "tmpfs", MS_MGC_VAL|MS_NOATIME, NULL) = 0'
        setns = [line for line in lines if line.startswith("setns")]
        assert setns == ["setns(3, CLONE_NEWNS) = 0", "setns(3, 0) = 0",
                         "setns(3, CLONE_NEWNET|0x1) = -1 EINVAL (Invalid argument)"]


def _unread_scrub(line: str) -> str:
    """The kernel log's unread size changes between the two runs."""
    return re.sub(r"^(syslog\(9 /\* SYSLOG_ACTION_SIZE_UNREAD \*/\) = )\d+$", r"\1N", line)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_syslog_and_sync_file_range_agree_with_strace(options, build_dir, tmp_path):
    lines = compare_group("rules9_workload", "syslog", ["syslog", "sync_file_range"], build_dir, tmp_path, options,
                          scrub=_unread_scrub)
    # the action is a number with its name in a comment whatever -X says (strace's XLAT_STYLE_VERBOSE)
    assert lines[0] == "syslog(10 /* SYSLOG_ACTION_SIZE_BUFFER */) = 131072" or lines[0].startswith("syslog(10 /* ")
    assert lines[4] == "syslog(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, NULL, 4 /* LOGLEVEL_WARNING */) = 0"
    if options == ():
        assert lines[6] == "syslog(77 /* SYSLOG_ACTION_??? */, 0xADDR, 3) = -1 EINVAL (Invalid argument)"
        assert lines[7] == ("sync_file_range(1, 0, 0, SYNC_FILE_RANGE_WRITE|SYNC_FILE_RANGE_WAIT_AFTER) "
                            "= -1 ESPIPE (Illegal seek)")


IPC = ["shmget", "shmat", "shmdt", "shmctl", "semget", "semctl", "msgget", "msgctl"]


def _ipc_scrub(line: str) -> str:
    """Identifiers the kernel hands out differ between the two runs."""
    line = re.sub(r"^(shmget|semget|msgget)(\(.*\) = )\d+$", r"\1\2ID", line)
    return re.sub(r"^(shmat|shmctl|semctl|msgctl)\(\d+, ", r"\1(ID, ", line)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_system_v_ipc_agrees_with_strace(options, build_dir, tmp_path):
    lines = compare_group("rules9_workload", "ipc", IPC, build_dir, tmp_path, options, scrub=_ipc_scrub)
    if options == ():
        assert lines[:3] == ["shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = ID",
                             "shmget(0xADDR, 4096, 000) = -1 ENOENT (No such file or directory)",  # (masked)
                             "shmget(IPC_PRIVATE, 4096, SHM_NORESERVE|0644) = ID"]
        assert lines[3] == "shmat(ID, NULL, SHM_RDONLY) = 0xADDR"
        assert lines[10] == "semctl(ID, 0, IPC_RMID, NULL) = 0"
        assert lines[-2] == "msgctl(ID, 0x4d /* MSG_??? */, NULL) = -1 EINVAL (Invalid argument)"


def test_signal_waits_and_queued_siginfo_agree_with_strace(build_dir, tmp_path):
    procs = compare_tree("rules9_workload", "sigwait", ["rt_sigtimedwait", "rt_sigqueueinfo", "waitid"], build_dir,
                         tmp_path)
    lines = procs[0]
    assert lines[0] == ("rt_sigtimedwait([USR1], NULL, {tv_sec=0, tv_nsec=1000}, 8) = -1 EAGAIN "
                        "(Resource temporarily unavailable)")
    assert lines[1] == ("rt_sigqueueinfo(P1, SIGUSR1, {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=P1, si_uid=0, "
                        "si_int=5, si_ptr=0x5}) = 0")
    assert lines[2].endswith(", {tv_sec=0, tv_nsec=1000}, 8) = 10 (SIGUSR1)")
    assert any(line.startswith("waitid(P_ALL, 0, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=P2, ") for line in lines)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_seccomp_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("seccomp", ["seccomp"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0] == "seccomp(SECCOMP_GET_ACTION_AVAIL, 0, [SECCOMP_RET_KILL_PROCESS]) = 0"
        assert lines[2].startswith("seccomp(SECCOMP_GET_NOTIF_SIZES, 0, {seccomp_notif=")
        assert lines[3] == "seccomp(0x63 /* SECCOMP_SET_MODE_??? */, 0, NULL) = -1 EINVAL (Invalid argument)"
        assert lines[4] == ("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_LOG, "
                            "{len=1, filter=0xADDR}) = 0")


NEW_MOUNT = ["fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr", "fspick"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_the_new_mount_api_agrees_with_strace(options, build_dir, tmp_path):
    target = str(tmp_path / "nm")
    lines = compare_group("rules9_workload", "newmount", NEW_MOUNT, build_dir, tmp_path, options,
                          extra_argv=(target,))
    if options == ():
        assert lines[:4] == ['fsopen("tmpfs", FSOPEN_CLOEXEC) = 3',
                             'fsconfig(3, FSCONFIG_SET_STRING, "size", "1m", 0) = 0',
                             'fsconfig(3, FSCONFIG_SET_FLAG, "ro", NULL, 0) = 0',
                             "fsconfig(3, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0"]
        assert lines[5] == "fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV) = 4"
        assert lines[6] == f'move_mount(4, "", AT_FDCWD, "{target}", MOVE_MOUNT_F_EMPTY_PATH) = 0'
        assert lines[8] == ('mount_setattr(5, "", AT_EMPTY_PATH, {attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, '
                            "propagation=0 /* MS_??? */, userns_fd=0}, 32) = 0")


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_io_uring_enter_and_register_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("uring", ["io_uring_enter", "io_uring_register"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0] == "io_uring_enter(3, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0) = 0"
        assert lines[2] == "io_uring_register(3, IORING_REGISTER_PROBE, NULL, 0) = -1 EINVAL (Invalid argument)"


MQ = ["mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_posix_message_queues_agree_with_strace(options, build_dir, tmp_path):
    """mq_open's mode and attributes only with O_CREAT (the attributes' flags as a number there, by name in
    mq_getsetattr), the message sent and received as strings, the priority the kernel wrote."""
    lines = _compare("mq", MQ, build_dir, tmp_path, options)
    if options == ():
        assert lines[1] == ('mq_open("tracespec-rules9", O_RDWR|O_CREAT|O_EXCL, 0600, {mq_flags=0, mq_maxmsg=4, '
                            "mq_msgsize=64, mq_curmsgs=0}) = 3")
        assert lines[2] == 'mq_open("tracespec-rules9", O_RDONLY) = 4'
        assert lines[4:6] == ['mq_timedsend(3, "hello", 5, 3, NULL) = 0',
                              'mq_timedreceive(3, "hello", 64, [3], NULL) = 5']
        assert lines[9].startswith("mq_getsetattr(3, {mq_flags=O_NONBLOCK, ")
        assert lines[10] == "mq_notify(3, {sigev_signo=SIGUSR1, sigev_notify=SIGEV_SIGNAL}) = 0"


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_fanotify_robust_list_and_pkeys_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("fanotify", ["fanotify_init", "fanotify_mark", "get_robust_list", "pkey_alloc"], build_dir,
                     tmp_path, options)
    if options == ():
        assert lines[0] == "fanotify_init(FAN_CLASS_NOTIF|FAN_CLOEXEC|FAN_NONBLOCK, O_RDONLY) = 3"
        assert lines[1] == 'fanotify_mark(3, FAN_MARK_ADD, FAN_CLOSE_WRITE|FAN_OPEN|FAN_ONDIR, AT_FDCWD, "/") = 0'
        robust = [line for line in lines if line.startswith("get_robust_list")]
        assert robust[0] == "get_robust_list(0, [0xADDR], [24]) = 0"


def test_utime_utimes_futimesat_and_io_setup_agree_with_strace(build_dir, tmp_path):
    path = str(tmp_path / "stamped")
    lines = compare_group("rules9_workload", "utimes", ["utime", "utimes", "futimesat", "io_setup"], build_dir,
                          tmp_path, extra_argv=(path,))
    lines = [line for line in lines if not line.startswith("close(")]
    date = r"/\* \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d{4} \*/"  # local time, as strace's
    assert re.fullmatch(rf'utime\("{re.escape(path)}", \{{actime=1000000000 {date}, modtime=1700000000 {date}\}}\) = 0',
                        lines[0])
    assert lines[2].startswith(f'utime("{path}", {{actime=0, modtime=1700000000 /* ')
    assert re.fullmatch(rf'utimes\("{re.escape(path)}", \[\{{tv_sec=1000000000, tv_usec=5\}} {date}, '
                        rf'\{{tv_sec=1700000000, tv_usec=999999\}} {date}\]\) = 0', lines[3])
    assert ".000005" in lines[3] and ".999999" in lines[3]
    assert [line for line in lines if line.startswith("io_setup")] == [
        "io_setup(4, [0xADDR]) = 0", "io_setup(4, 0x8) = -1 EFAULT (Bad address)"]
