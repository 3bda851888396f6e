"""End to end, with real BPF: more syscalls strace decodes whose arguments tracespec printed as bare
numbers (issue 19), each a group of tests/workloads/rules10_workload.c compared line for line with
strace, in each -X style: the administrator's calls (reboot's magic numbers and commands, userfaultfd's,
the module calls' and swapon's flags, kexec_load's segments and architecture, kexec_file_load's command
line), struct sched_attr both ways, and process_vm_readv's and process_vm_writev's two sides."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import compile_workload, decode_without_bcc, run_tracespec
from groupcompare import compare_group, from_marker
from straceio import normalized

pytestmark = pytest.mark.bpf

STYLES = [(), ("-X", "raw"), ("-X", "verbose")]
STYLE_IDS = ["abbrev", "Xraw", "Xverbose"]
ADMIN = ["reboot", "userfaultfd", "delete_module", "init_module", "finit_module", "swapon", "swapoff", "kexec_load",
         "kexec_file_load"]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple, scrub=None) -> list[str]:
    return compare_group("rules10_workload", group, syscalls, build_dir, tmp_path, options, scrub=scrub)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_administrators_calls_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("admin", ADMIN, build_dir, tmp_path, options)
    if options == ():
        # (straceio masks numbers of five hex digits and more as addresses)
        assert lines[0] == ("reboot(0xADDR /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART)"
                            " = -1 EINVAL (Invalid argument)")
        assert lines[8].startswith("reboot(0xADDR /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_MAGIC2A, "
                                   'LINUX_REBOOT_CMD_RESTART2, "again") = -1')
        assert lines[10].startswith("reboot(0xADDR /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_MAGIC2C, "
                                    "LINUX_REBOOT_CMD_RESTART2, NULL) = -1")
        assert lines[11].startswith("userfaultfd(O_NONBLOCK|O_CLOEXEC) = ")
        swapon = [line for line in lines if line.startswith("swapon(")]
        assert [s.split(", ", 1)[1].split(")")[0] for s in swapon] == [
            "0", "SWAP_FLAG_PREFER|7", "SWAP_FLAG_DISCARD|SWAP_FLAG_DISCARD_PAGES|0", "SWAP_FLAG_PREFER|0xADDR|42"]
        kexec = [line for line in lines if line.startswith("kexec_load(")]
        assert kexec[0].startswith("kexec_load(0xADDR, 2, [{buf=0xADDR, bufsz=3, mem=0xADDR, memsz=4096}, "
                                   "{buf=NULL, bufsz=0, mem=0xADDR, memsz=8192}], KEXEC_ARCH_X86_64|KEXEC_ON_CRASH|0x100)")
        assert kexec[3].startswith("kexec_load(NULL, 17, 0xADDR, KEXEC_ARCH_DEFAULT|0x100 /* KEXEC_??? */)")
        assert any(line.startswith('kexec_file_load(-1, -1, 8, "quiet\\0x\\0", '
                                   "KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS)") for line in lines)


def _runtime(line: str) -> str:
    """The default runtime the kernel reports depends on its configuration: the same in both traces, but
    not a value to assert."""
    return re.sub(r"sched_runtime=\d+", "sched_runtime=N", line)


@pytest.mark.parametrize("options", STYLES + [("-v",)], ids=STYLE_IDS + ["v"])
def test_sched_attr_agrees_with_strace(options, build_dir, tmp_path):
    lines = [_runtime(line) for line in
             _compare("schedattr", ["sched_setattr", "sched_getattr"], build_dir, tmp_path, options)]
    if options == ():
        assert lines[0] == ("sched_getattr(0, {size=48, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=0, "
                            "sched_priority=0, sched_runtime=N, sched_deadline=0, sched_period=0}, 48, 0) = 0")
        assert lines[2] == "sched_getattr(0, 0xADDR, 40, 0) = -1 EINVAL (Invalid argument)"
        assert lines[9] == ("sched_setattr(0, {size=56, sched_flags=SCHED_FLAG_KEEP_POLICY|SCHED_FLAG_KEEP_PARAMS, "
                            "sched_util_min=0, sched_util_max=0}, 0) = 0")
        assert lines[13] == "sched_setattr(0, {size=20} => {size=56}, 0) = -1 E2BIG (Argument list too long)"
        assert lines[14].endswith(", sched_util_max=0, ...} => {size=56}, 0) = -1 E2BIG (Argument list too long)")


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_process_vm_readv_and_writev_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("vm", ["process_vm_readv", "process_vm_writev"], build_dir, tmp_path, options)
    if options == ():
        pid = re.escape(lines[0].split("(")[1].split(",")[0])
        assert re.fullmatch(rf'process_vm_readv\({pid}, \[\{{iov_base="remote", iov_len=6}}, '
                            rf'\{{iov_base=" bytes", iov_len=6}}\], 2, \[\{{iov_base=0xADDR, iov_len=12}}\], 1, 0\) = 12',
                            lines[0])
        assert lines[3].endswith("[{iov_base=0xADDR, iov_len=6}], 1, [{iov_base=0x8, iov_len=4}], 1, 0) "
                                 "= -1 EFAULT (Bad address)")
        assert lines[4].endswith(", NULL, 0, NULL, 0, 0) = 0")


@pytest.mark.parametrize("options", STYLES + [("-y",)], ids=STYLE_IDS + ["y"])
def test_landlock_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("sandbox", ["landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"],
                     build_dir, tmp_path, options)
    lines = [line for line in lines if not line.startswith("close(")]
    if options == ():
        assert lines[0].startswith("landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) = ")
        rights = "LANDLOCK_ACCESS_FS_READ_FILE|LANDLOCK_ACCESS_FS_READ_DIR"
        assert lines[1].startswith(f"landlock_create_ruleset({{handled_access_fs={rights}}}, 8, 0) = ")
        assert lines[2].startswith(f"landlock_create_ruleset({{handled_access_fs={rights}, ...}}, 16, 0) = ")
        assert lines[3] == "landlock_create_ruleset(0xADDR, 4, 0) = -1 EINVAL (Invalid argument)"
        assert lines[6] == ("landlock_add_rule(3, LANDLOCK_RULE_PATH_BENEATH, "
                            "{allowed_access=LANDLOCK_ACCESS_FS_READ_FILE, parent_fd=-100}, 0) = -1 EBADF (Bad file descriptor)")
        assert lines[7].startswith("landlock_add_rule(3, LANDLOCK_RULE_PATH_BENEATH, "
                                   "{allowed_access=LANDLOCK_ACCESS_FS_READ_FILE, parent_fd=4}, 0) = ")
        assert lines[8] == "landlock_add_rule(3, 0x7 /* LANDLOCK_RULE_??? */, 0xADDR, 0) = -1 EINVAL (Invalid argument)"
        assert lines[10] == "landlock_restrict_self(3, 0x80) = -1 EINVAL (Invalid argument)"


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_futex_waitv_and_move_pages_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("pages", ["futex_waitv", "move_pages"], build_dir, tmp_path, options)
    lines = [line for line in lines if not line.startswith("close(")]
    if options == ():
        assert lines[0] == ("futex_waitv([{val=0x4, uaddr=0xADDR, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, {val=0x5, "
                            "uaddr=0xADDR, flags=FUTEX_32}], 2, 0, {tv_sec=1, tv_nsec=500}, CLOCK_MONOTONIC) "
                            "= -1 EAGAIN (Resource temporarily unavailable)")
        assert "flags=0x40 /* FUTEX_??? */, __reserved=0x1}], 2, 0, NULL, CLOCK_MONOTONIC)" in lines[2]
        assert lines[3] == "futex_waitv(NULL, 0, 0x1, NULL, 0x4d /* CLOCK_??? */) = -1 EINVAL (Invalid argument)"
        assert lines[4] == "move_pages(0, 2, [0xADDR, 0xADDR], NULL, [0, 0], 0) = 0"
        assert lines[5] == "move_pages(0, 2, [0xADDR, 0xADDR], [0, 0], [0, 0], MPOL_MF_MOVE) = 0"


def _clock_now(line: str) -> str:
    """The clock's time and its error estimates move between the two runs; the rest of struct timex does
    not."""
    line = re.sub(r"time=\{tv_sec=\d+, tv_usec=\d+\}", "time={tv_sec=S, tv_usec=U}", line)
    return re.sub(r"(maxerror|esterror)=\d+", r"\1=N", line)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_adjtimex_and_clock_adjtime_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("timex", ["adjtimex", "clock_adjtime"], build_dir, tmp_path, options, scrub=_clock_now)
    if options == ():
        assert re.fullmatch(r"adjtimex\(\{modes=0, offset=-?\d+, freq=-?\d+, maxerror=N, esterror=N, status=\S+, "
                            r"constant=\d+, precision=\d+, tolerance=\d+, time=\{tv_sec=S, tv_usec=U\}, tick=\d+, "
                            r"ppsfreq=\d+, jitter=\d+, shift=\d+, stabil=\d+, jitcnt=\d+, calcnt=\d+, errcnt=\d+, "
                            r"stbcnt=\d+, tai=\d+\}\) = \d \(TIME_[A-Z]+\)", lines[0]), lines[0]
        assert lines[1].startswith("adjtimex({modes=ADJ_OFFSET_SS_READ, ")
        assert lines[2] == "adjtimex(NULL) = -1 EFAULT (Bad address)"
        assert lines[3].startswith("clock_adjtime(CLOCK_REALTIME, {modes=0, ")
        assert lines[4] == "clock_adjtime(CLOCK_MONOTONIC, 0xADDR) = -1 EOPNOTSUPP (Operation not supported)"


# (not under -y: a descriptor open_by_handle_at makes has no path the trace knows, and /proc no longer
# has one once the process has gone; strace reads it while the process lives)
@pytest.mark.parametrize("options", [(), ("-X", "verbose")], ids=["abbrev", "Xverbose"])
def test_file_handles_agree_with_strace(options, build_dir, tmp_path):
    directory = tmp_path / "d"
    directory.mkdir()
    lines = compare_group("rules10_workload", "handles", ["name_to_handle_at", "open_by_handle_at"], build_dir,
                          tmp_path, options, extra_argv=(str(directory),))
    lines = [line for line in lines if not line.startswith("close(")]
    if options == ():
        assert re.fullmatch(rf'name_to_handle_at\(AT_FDCWD, "{re.escape(str(directory))}", \{{handle_bytes=128 => 8, '
                            r'handle_type=1, f_handle="(\\x[0-9a-f]{2}){8}"\}, \[\d+\], 0\) = 0', lines[0]), lines[0]
        assert lines[1] == ('name_to_handle_at(3, "", {handle_bytes=0 => 8}, 0xADDR, AT_EMPTY_PATH) = -1 EOVERFLOW '
                            "(Value too large for defined data type)")
        assert lines[3].endswith(", NULL, 0xADDR, AT_SYMLINK_FOLLOW) = -1 EFAULT (Bad address)")
        assert re.fullmatch(r'open_by_handle_at\(3, \{handle_bytes=8, handle_type=1, f_handle="(\\x[0-9a-f]{2}){8}"\}, '
                            r"O_RDONLY\|O_CLOEXEC\) = 4", lines[4]), lines[4]
        assert lines[5] == "open_by_handle_at(3, NULL, O_RDONLY) = -1 EFAULT (Bad address)"


def _untracked_pids(line: str) -> str:
    """The child the workload traces is no process of the traced tree (the tracers do not follow it): its
    pid differs between the two runs, as do the addresses of the stop's siginfo."""
    line = re.sub(r"^ptrace\(([^,]+), P?\d+", r"ptrace(\1, PID", line)
    line = re.sub(r"si_pid=\d+", "si_pid=PID", line)
    # the SSE registers hold what the child's libc left there: halves of addresses, which ASLR moves
    line = re.sub(r"xmm_space=\[([^\]]*)\]",
                  lambda m: "xmm_space=[" + re.sub(r"0x[0-9a-fA-DR]+|\b0\b", "W", m.group(1)) + "]", line)
    return re.sub(r"si_addr=0x[0-9a-f]+", "si_addr=ADDR", line)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_ptrace_agrees_with_strace(options, build_dir, tmp_path):
    """strace follows no children here (nor does tracespec): the workload's child is its own tracee, which
    a tracer of the whole tree would already hold."""
    argv = [str(compile_workload("rules10_workload", build_dir)), "ptrace"]
    want_file, got_file = tmp_path / "strace.txt", tmp_path / "tracespec.txt"
    subprocess.run(["strace", "-q", *options, "-o", str(want_file), "-e", "trace=ptrace,close", *argv], check=True,
                   stdout=subprocess.DEVNULL)
    spec = tmp_path / "ptrace.yaml"
    spec.write_text("version: 1\nsyscalls: [ptrace, close]\n")
    if options:
        r = run_tracespec("run", str(spec), "--no-follow", "--format", "bin", "-o", str(tmp_path / "t.tsb"), "--",
                          *argv, stdout=subprocess.DEVNULL)
        decode_without_bcc(tmp_path / "t.tsb", got_file, *options)
    else:
        r = run_tracespec("run", str(spec), "--no-follow", "-o", str(got_file), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    # (strace shows no pids when it follows no children: each line is the one process's)
    pid = got_file.read_text().split(" ", 1)[0]
    texts = ("".join(f"{pid} {line}\n" for line in want_file.read_text().splitlines()), got_file.read_text())
    want, got = ([[_untracked_pids(line) for line in from_marker(p)] for p in normalized(text)] for text in texts)
    assert len(want) == 1 and got == want
    lines = want[0]
    if options == ():
        assert lines[0] == "ptrace(PTRACE_SEIZE, PID, NULL, PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXIT) = 0"
        assert lines[2] == "ptrace(PTRACE_PEEKDATA, PID, 0xADDR, [0xADDR]) = 0"
        assert lines[5:8] == ["ptrace(PTRACE_PEEKUSER, PID, 8*ORIG_RAX, [0x22]) = 0",
                              "ptrace(PTRACE_PEEKUSER, PID, 8*SS+8, [0xADDR]) = 0",
                              "ptrace(PTRACE_PEEKUSER, PID, offsetof(struct user, u_debugreg)+8, [NULL]) = 0"]
        assert "ptrace(PTRACE_SETSIGMASK, PID, 8, [USR1]) = 0" in lines
        assert any(line.startswith("ptrace(PTRACE_GETREGS, PID, {r15=") and "orig_rax=0x22, " in line for line in lines)


def _ipc_ids(line: str) -> str:
    """Each run gets ids of its own, and the INFO commands return the highest in use; the change times
    are the run's."""
    line = re.sub(r"^(shmctl|msgctl|semctl)\(\d+", r"\1(ID", line)
    line = re.sub(r"_ctime=\d+", "_ctime=T", line)
    return re.sub(r"(IPC_INFO|SHM_INFO|MSG_INFO|SEM_INFO|0x3|0xe|0xc|0x13)(.*) = \d+$", r"\1\2 = ID", line)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_system_v_ipc_structs_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("ipcctl", ["shmctl", "msgctl", "semctl"], build_dir, tmp_path, options, scrub=_ipc_ids)
    if options == ():
        assert lines[0] == ("shmctl(ID, IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, "
                            "shm_segsz=4096, shm_cpid=P1, shm_lpid=0, shm_nattch=0, shm_atime=0, shm_dtime=0, "
                            "shm_ctime=T}) = 0")
        assert lines[1] == "shmctl(ID, IPC_SET, {shm_perm={uid=0, gid=0, mode=0640}}) = 0"
        assert lines[5] == "shmctl(ID, IPC_STAT, 0xADDR) = -1 EINVAL (Invalid argument)"
        assert lines[7] == "msgctl(ID, IPC_SET, {msg_perm={uid=0, gid=0, mode=0600}, msg_qbytes=8192}) = 0"
        assert lines[12] == "semctl(ID, 0, IPC_SET, {sem_perm={uid=0, gid=0, mode=0660}}) = 0"
        assert lines[15] == "semctl(ID, 1, GETVAL, NULL) = 0"


@pytest.mark.parametrize("options", STYLES + [("-s", "8"), ("-x",)], ids=STYLE_IDS + ["s8", "x"])
def test_system_v_messages_agree_with_strace(options, build_dir, tmp_path):
    """msgsnd's and msgrcv's struct msgbuf: the mtype, then as much text as msgsz says (up to -s), whatever
    msgrcv returned; the address when it failed or could not be read; the flags by name."""
    lines = _compare("messages", ["msgsnd", "msgrcv"], build_dir, tmp_path, options,
                     scrub=lambda line: re.sub(r"^(msgsnd|msgrcv)\(\d+", r"\1(ID", line))
    if options == ():
        assert lines[0] == 'msgsnd(ID, {mtype=7, mtext="a mes"}, 5, 0) = 0'
        assert lines[1] == 'msgsnd(ID, {mtype=7, mtext="a message of 40 bytes, more than"...}, 40, IPC_NOWAIT) = 0'
        assert lines[4] == 'msgrcv(ID, {mtype=7, mtext="a m"}, 3, 7, MSG_NOERROR|IPC_NOWAIT) = 3'
        assert lines[6].startswith("msgrcv(ID, 0xADDR, 64, 9, MSG_EXCEPT|IPC_NOWAIT) = -1 ENOMSG")
        assert lines[8] == 'msgsnd(ID, {mtype=7, mtext="a me"}, 4, 0xADDR /* MSG_??? */) = 0'  # (0x100000)
        assert lines[9] == 'msgsnd(ID, {mtype=7, mtext="a me"}, 4, 0) = -1 EINVAL (Invalid argument)'


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_add_key_and_request_key_agree_with_strace(options, build_dir, tmp_path):
    """The key's serial number is the kernel's choice each run."""
    lines = _compare("keys", ["add_key", "request_key"], build_dir, tmp_path, options,
                     scrub=lambda line: re.sub(r"^(add_key\(.*\)) = \d+$", r"\1 = SERIAL", line))
    if options == ():
        assert lines[:4] == ['add_key("user", "tracespec:test", "secret\\0x", 8, KEY_SPEC_PROCESS_KEYRING) = SERIAL',
                         'add_key("user", "tracespec:test", NULL, 0, 12345) = -1 ENOKEY (Required key not available)',
                         'request_key("user", "tracespec:none", NULL, KEY_SPEC_THREAD_KEYRING) = -1 ENOKEY '
                         "(Required key not available)",
                         'request_key("user", "tracespec:none", "callout", -42) = -1 EINVAL (Invalid argument)']


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_openat2_semop_and_process_madvise_agree_with_strace(options, build_dir, tmp_path):
    directory = tmp_path / "d"
    directory.mkdir()
    lines = compare_group("rules10_workload", "misc2", ["openat2", "semop", "semtimedop", "process_madvise"],
                          build_dir, tmp_path, options, extra_argv=(str(directory),),
                          scrub=lambda line: re.sub(r"^(semop|semtimedop)\(\d+", r"\1(ID", line))
    lines = [line for line in lines if not line.startswith("close(")]
    if options == ():
        assert lines[0] == (f'openat2(AT_FDCWD, "{directory}", {{flags=O_RDONLY|O_CLOEXEC|O_DIRECTORY, '
                            "resolve=RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH}, 24) = -1 EXDEV (Invalid cross-device link)")
        assert lines[1].startswith('openat2(AT_FDCWD, "/nonexistent/dir/f", {flags=O_WRONLY|O_CREAT|O_EXCL, '
                                   "mode=0600, resolve=0}, 24)")
        assert lines[3] == f'openat2(AT_FDCWD, "{directory}", 0xADDR, 8) = -1 EINVAL (Invalid argument)'
        assert lines[4] == ("semop(ID, [{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}, {sem_num=1, sem_op=2, "
                            "sem_flg=IPC_NOWAIT}], 2) = 0")
        assert lines[6] == ("semtimedop(ID, [{sem_num=1, sem_op=-5, sem_flg=0}], 1, {tv_sec=0, tv_nsec=1000}) "
                            "= -1 EAGAIN (Resource temporarily unavailable)")
        assert lines[8].startswith("process_madvise(3, [{iov_base=0xADDR, iov_len=4096}], 1, MADV_COLD, 0) = ")
