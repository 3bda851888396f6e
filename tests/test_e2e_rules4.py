"""End to end, with real BPF: arguments strace decodes from the memory they point to, by operation
(fcntl's locks and owners, ioctl's terminal structs, futex's timeouts, prctl's names, AF_PACKET
addresses, signal masks), on tests/workloads/rules4_workload.c, compared with strace's lines."""

from __future__ import annotations

import subprocess

import pytest

from conftest import compile_workload, run_tracespec
from groupcompare import compare_group
from straceio import normalized

pytestmark = pytest.mark.bpf

def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = ()) -> list[str]:
    return compare_group("rules4_workload", group, syscalls, build_dir, tmp_path, options)


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_fcntl_locks_and_owners_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("fcntl", ["fcntl"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[0] == "fcntl(3, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0"
    assert any(", l_pid=0}) = 0" in line for line in lines), "F_GETLK shows the struct the kernel wrote"
    assert "fcntl(3, F_GETLK, 0x8) = -1 EFAULT (Bad address)" in lines
    assert "fcntl(3, F_SETOWN_EX, {type=F_OWNER_TID, pid=P1}) = 0" in lines


@pytest.mark.parametrize("options", [("-v",), ("-X", "verbose"), ("-X", "raw")], ids=["v", "Xverbose", "Xraw"])
def test_ioctl_terminal_structs_in_strace_styles(options, build_dir, tmp_path):
    """-v prints termios whole (line discipline, control characters, termios2's speeds); -X the numbers."""
    lines = _compare("ioctl", ["ioctl"], build_dir, tmp_path, options)
    if options == ("-v",):
        assert any("c_line=N_TTY, c_cc=[[VINTR]=0x3, " in line and "c_ispeed=38400" in line for line in lines)


def test_ioctl_terminal_structs_agree_with_strace(build_dir, tmp_path):
    lines = _compare("ioctl", ["ioctl"], build_dir, tmp_path)
    assert lines[0] == ("ioctl(4, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
                        "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0")
    assert "ioctl(4, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0" in lines
    assert "ioctl(4, TCGETS, 0x8) = -1 EFAULT (Bad address)" in lines
    assert "ioctl(4, FIONBIO, [1]) = 0" in lines


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_futex_timeouts_agree_with_strace(options, build_dir, tmp_path):
    """A wait's timeout is the timespec read at entry (an invalid one too, the address when unreadable);
    a requeue's fourth argument is a count."""
    lines = _compare("futex", ["futex"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[0] == ("futex(0xADDR, FUTEX_WAIT_PRIVATE, 8, {tv_sec=1, tv_nsec=0}) = "
                        "-1 EAGAIN (Resource temporarily unavailable)")
    assert "futex(0xADDR, FUTEX_WAIT_PRIVATE, 7, 0x8) = -1 EFAULT (Bad address)" in lines
    assert "futex(0xADDR, FUTEX_REQUEUE_PRIVATE, 1, 5, 0xADDR) = 0" in lines


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_prctl_names_and_options_agree_with_strace(options, build_dir, tmp_path):
    """PR_SET_NAME's string read at entry (15 bytes at most), PR_GET_NAME's and the other PR_GET_ values
    the kernel writes, read when the call returns; each option's arguments as many as strace shows."""
    lines = _compare("prctl", ["prctl"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[:4] == ['prctl(PR_SET_NAME, "rules4") = 0', 'prctl(PR_GET_NAME, "rules4") = 0',
                         'prctl(PR_SET_NAME, "a-name-of-seven"...) = 0', 'prctl(PR_GET_NAME, "a-name-of-seven") = 0']
    assert "prctl(PR_GET_PDEATHSIG, [SIGUSR1]) = 0" in lines
    assert "prctl(PR_GET_SECUREBITS) = 0x10 (SECBIT_KEEP_CAPS)" in lines


@pytest.mark.parametrize("options", [(), ("-X", "verbose"), ("-X", "raw")], ids=["abbrev", "Xverbose", "Xraw"])
def test_packet_addresses_agree_with_strace(options, build_dir, tmp_path):
    """struct sockaddr_ll field by field (the interface by its name on this machine), a shorter one as
    its bytes; socket's protocol for AF_PACKET in network order."""
    lines = _compare("packet", ["socket", "bind", "getsockname", "sendto", "connect"], build_dir, tmp_path, options)
    if not options:
        assert lines[0] == "socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) = 3"
        assert lines[2] == ('bind(3, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), '
                            'sll_ifindex=if_nametoindex("lo"), sll_hatype=ARPHRD_NETROM, sll_pkttype=PACKET_HOST, '
                            'sll_halen=0}, 20) = 0')
        assert any("sll_addr=[0x2, 00, 00, 0xab, 0xcd, 0xef]" in line for line in lines)


# not -X verbose: strace 6.1 aborts on the 40-signal mask there ("sprintsigmask_n: got unexpected return
# value"); tests/unit/test_rules_memory.py has that style
@pytest.mark.parametrize("options", [(), ("-X", "raw")], ids=["abbrev", "Xraw"])
def test_signal_masks_agree_with_strace(options, build_dir, tmp_path):
    """rt_sigpending's set as the kernel wrote it (a shorter sigsetsize too), rt_sigsuspend's read at
    entry; a mask two thirds full prints as what it lacks; -X raw numbers the signals."""
    lines = _compare("sigmask", ["rt_sigpending", "rt_sigsuspend", "rt_sigprocmask"], build_dir, tmp_path, options)
    if options:
        return
    assert lines[:2] == ["rt_sigpending([USR1], 8) = 0", "rt_sigpending([USR1], 4) = 0"]
    assert "rt_sigsuspend([USR2], 8) = ? ERESTARTNOHAND (To be restarted if no handler)" in lines
    assert "rt_sigsuspend(~[USR1], 8) = ? ERESTARTNOHAND (To be restarted if no handler)" in lines
    assert any(line.startswith("rt_sigprocmask(SIG_BLOCK, [HUP INT ") for line in lines)


def test_a_filter_compares_the_number_of_an_argument_decoded_by_operation(build_dir, tmp_path):
    """fcntl's third argument is a number to filters (a lock's address here, a flag there), though its
    memory is copied for the commands that point to a struct."""
    argv = [str(compile_workload("rules4_workload", build_dir)), "fcntl"]
    spec = tmp_path / "filtered.yaml"
    spec.write_text("version: 1\nsyscalls:\n  - name: fcntl\n    filter: arg == 1 or arg == 0\n")
    out = tmp_path / "t.txt"
    r = run_tracespec("run", str(spec), "-o", str(out), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    lines = [line for p in normalized(out.read_text()) for line in p if not line.startswith("+++")]
    assert lines[:2] == ["fcntl(3, F_SETLK, NULL) = -1 EFAULT (Bad address)", "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"]
    assert all(" F_GETFD" in line for line in lines[2:]), "F_GETFD's unused register may hold anything"
