"""strace's decoding of the memory an argument points to, by operation (fcntl's locks and owners,
ioctl's terminal structs, futex's timeouts, prctl's names, signal masks), on the printers of
format/special.py given synthetic copies: what a faulted, missing or short copy prints, a failed call,
the styles; the layouts checked against the headers."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess

from schemas import syscall_infos
from tracespec.decode.events import SyscallEvent
from tracespec.format.special import special
from tracespec.format.values import Style, constants, structs
from tracespec.wire.records import EnterRecord, ExitRecord, Slot
from tracespec.wire.layout import SLOT_FAULT

C = constants().values
VERBOSE, RAW = Style(xlat="verbose"), Style(xlat="raw")
FAULT = Slot(b"", SLOT_FAULT >> 16)
SYSCALLS = ["fcntl", "ioctl", "futex", "prctl", "rt_sigpending", "rt_sigsuspend"]


def infos() -> dict:
    return syscall_infos(tuple(SYSCALLS))


def call(name: str, args: tuple, ret: int | None, entry: dict | None = None, exit_: dict | None = None) -> SyscallEvent:
    """An event of `name` with the copies made at entry and (over them) at exit; ret None: unfinished."""
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    enter = EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", full, ())
    done = None if ret is None else ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ())
    entry = entry or {}
    return SyscallEvent(info, info.nr, 1, 1, "t", enter, done, full, {**entry, **(exit_ or {})}, entry)


def flock(l_type: int, whence: int, start: int, length: int, pid: int = 0) -> Slot:
    return Slot(struct.pack("<hh4xqqi4x", l_type, whence, start, length, pid), 0)


def test_fcntl_setlk_shows_the_lock_read_at_entry_even_when_it_fails():
    ev = call("fcntl", (3, C["F_SETLK"], 0x7000), -9, {"arg": flock(0, 0, 0, 0)})
    assert special(ev)[0] == "3, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=0}"
    ev = call("fcntl", (3, C["F_OFD_SETLKW"], 0x7000), 0, {"arg": flock(1, 2, -5, 100)})
    assert special(ev, VERBOSE)[0] == ("3, 0x26 /* F_OFD_SETLKW */, {l_type=0x1 /* F_WRLCK */, "
                                       "l_whence=0x2 /* SEEK_END */, l_start=-5, l_len=100}")
    ev = call("fcntl", (3, C["F_SETLK"], 0x7000), 0, {"arg": flock(9, 7, 0, 0)})
    assert special(ev)[0] == "3, F_SETLK, {l_type=0x9 /* F_??? */, l_whence=0x7 /* SEEK_??? */, l_start=0, l_len=0}"


def test_fcntl_lock_that_could_not_be_read_is_its_address():
    assert special(call("fcntl", (3, C["F_SETLKW"], 0x8), -14, {"arg": FAULT}))[0] == "3, F_SETLKW, 0x8"
    assert special(call("fcntl", (3, C["F_SETLK"], 0), -14, {"arg": FAULT}))[0] == "3, F_SETLK, NULL"
    short = Slot(b"\0" * 8, 0)
    assert special(call("fcntl", (3, C["F_SETLK"], 0x7000), 0, {"arg": short}))[0] == "3, F_SETLK, 0x7000"


def test_fcntl_getlk_shows_the_lock_written_back_with_its_pid_when_it_returns():
    ev = call("fcntl", (3, C["F_GETLK"], 0x7000), 0, {"arg": flock(1, 1, 10, 100)}, {"arg": flock(2, 1, 10, 100, 77)})
    assert special(ev) == ("3, F_GETLK", ", {l_type=F_UNLCK, l_whence=SEEK_CUR, l_start=10, l_len=100, l_pid=77}",
                           None)
    failed = call("fcntl", (3, C["F_OFD_GETLK"], 0x7000), -22, {"arg": flock(1, 1, 10, 100)})
    assert special(failed)[1] == ", 0x7000", "a failed call wrote nothing: strace shows the address"
    unfinished = call("fcntl", (3, C["F_GETLK"], 0x7000), None, {"arg": flock(1, 1, 10, 100)})
    assert special(unfinished)[:2] == ("3, F_GETLK", "")


def test_fcntl_owner_ex():
    owner = Slot(struct.pack("<ii", 0, 4242) + b"\0" * 24, 0)
    assert special(call("fcntl", (3, C["F_SETOWN_EX"], 0x7000), 0, {"arg": owner}))[0] == \
        "3, F_SETOWN_EX, {type=F_OWNER_TID, pid=4242}"
    got = call("fcntl", (3, C["F_GETOWN_EX"], 0x7000), 0, {"arg": Slot(b"\0" * 32, 0)},
               {"arg": Slot(struct.pack("<ii", 2, 99) + b"\0" * 24, 0)})
    assert special(got)[1] == ", {type=F_OWNER_PGRP, pid=99}"
    assert special(call("fcntl", (3, C["F_SETOWN_EX"], 0x7000), 0, {"arg": Slot(struct.pack("<ii", 77, 1), 0)}),
                   RAW)[0] == "3, 0xf, {type=0x4d, pid=1}"


def test_fcntl_number_arguments_ignore_the_copy_made_in_case():
    assert special(call("fcntl", (3, C["F_SETFD"], 1), 0, {"arg": FAULT}))[0] == "3, F_SETFD, FD_CLOEXEC"
    assert special(call("fcntl", (3, C["F_SETLEASE"], 4), 0, {"arg": FAULT}))[0] == "3, F_SETLEASE, F_EXLCK"


def termios(iflag: int, oflag: int, cflag: int, lflag: int, speeds: tuple = (38400, 38400)) -> Slot:
    cc = bytes([3, 0x1C, 0x7F, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1A, 0, 0x12, 0xF, 0x17, 0x16, 0, 0, 0])
    return Slot(struct.pack("<4IB19s2I", iflag, oflag, cflag, lflag, 0, cc, *speeds), 0)


PTY = termios(0x500, 0x5, 0xBF, 0x8A3B)  # a new pseudo-terminal's settings
PTY_TEXT = ("{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
            "c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}")


def test_ioctl_tcgets_shows_the_settings_when_it_returns_and_tcsets_at_entry():
    got = call("ioctl", (0, C["TCGETS"], 0x7000), 0, {"arg": Slot(b"\0" * 44, 0)}, {"arg": PTY})
    assert special(got) == ("0, TCGETS", ", " + PTY_TEXT, None)
    assert special(call("ioctl", (0, C["TCGETS"], 0x7000), None, {"arg": PTY}))[:2] == ("0, TCGETS", "")
    put = call("ioctl", (0, C["TCSETSW"], 0x7000), -25, {"arg": PTY})
    assert special(put)[0] == "0, SNDCTL_TMR_STOP or TCSETSW, " + PTY_TEXT


def test_ioctl_termios_odd_bits():
    odd = termios(0x80000000, 0x1800 | 0x100, 0xF | (0xD << 16) | 0x30, 0)
    assert special(call("ioctl", (0, C["TCSETS"], 0x7000), 0, {"arg": odd}))[0].split(", ", 2)[2] == \
        "{c_iflag=0x80000000, c_oflag=NL1|CR0|XTABS|BS0|VT0|FF0|, c_cflag=B38400|B9600<<IBSHIFT|CS8|, c_lflag=, ...}"


def test_ioctl_termios_styles():
    ev = call("ioctl", (0, C["TCGETS2"], 0x7000), 0, {}, {"arg": PTY})
    assert special(ev, Style(verbose=True))[1] == (
        ", {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
        "c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, c_line=N_TTY, c_cc=[[VINTR]=0x3, [VQUIT]=0x1c, "
        "[VERASE]=0x7f, [VKILL]=0x15, [VEOF]=0x4, [VTIME]=0, [VMIN]=0x1, [VSWTC]=0, [VSTART]=0x11, [VSTOP]=0x13, "
        "[VSUSP]=0x1a, [VEOL]=0, [VREPRINT]=0x12, [VDISCARD]=0xf, [VWERASE]=0x17, [VLNEXT]=0x16, [VEOL2]=0, "
        "[17]=0, [18]=0], c_ispeed=38400, c_ospeed=38400}")
    assert special(ev, RAW)[1] == ", {c_iflag=0x500, c_oflag=0|0|0|0|0|0|0x5, c_cflag=0xf|0x30|0x80, c_lflag=0x8a3b, ...}"
    assert special(ev, VERBOSE)[1].startswith(", {c_iflag=0x500 /* ICRNL|IXON */, c_oflag=0 /* NL0 */|0 /* CR0 */|")


def test_ioctl_memory_that_was_not_read_is_its_address():
    failed = call("ioctl", (-1, C["TCGETS"], 0x7000), -9, {"arg": PTY})
    assert special(failed)[1] == ", 0x7000", "a failed get wrote nothing"
    assert special(call("ioctl", (0, C["TCSETS"], 0x8), -14, {"arg": FAULT}))[0].endswith(", 0x8")
    assert special(call("ioctl", (0, C["TIOCGWINSZ"], 0), -14, {}))[1] == ", NULL"
    short = Slot(b"\0" * 20, 0)
    assert special(call("ioctl", (0, C["TCSETS"], 0x7000), 0, {"arg": short}))[0].endswith(", 0x7000")


def test_ioctl_winsize_ints_and_terminal_arguments():
    ws = Slot(struct.pack("<4H", 24, 80, 0, 0) + b"\0" * 36, 0)
    assert special(call("ioctl", (0, C["TIOCSWINSZ"], 0x7000), 0, {"arg": ws}))[0] == \
        "0, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}"
    n = Slot(struct.pack("<i", -3) + b"\0" * 40, 0)
    assert special(call("ioctl", (0, C["FIONBIO"], 0x7000), 0, {"arg": n}))[0] == "0, FIONBIO, [-3]"
    assert special(call("ioctl", (0, C["TIOCGPGRP"], 0x7000), 0, {}, {"arg": n}))[1] == ", [-3]"
    modem = Slot(struct.pack("<I", 0x6), 0)
    assert special(call("ioctl", (0, C["TIOCMBIS"], 0x7000), 0, {"arg": modem}))[0] == "0, TIOCMBIS, [TIOCM_DTR|TIOCM_RTS]"
    assert special(call("ioctl", (0, C["TIOCSTI"], 0x7000), 0, {"arg": Slot(b"x" + b"\0" * 43, 0)}))[0] == \
        '0, TIOCSTI, "x"'
    assert special(call("ioctl", (0, C["TCFLSH"], 2), 0, {"arg": FAULT}))[0] == "0, TCFLSH, TCIOFLUSH"
    assert special(call("ioctl", (0, C["TCXONC"], 9), 0, {"arg": FAULT}))[0] == "0, TCXONC, 0x9 /* TC??? */"
    assert special(call("ioctl", (0, C["TIOCNOTTY"], 0x7000), -25, {"arg": FAULT}))[0] == "0, TIOCNOTTY"
    assert special(call("ioctl", (0, C["TIOCLINUX"], 0), -25, {"arg": FAULT}))[0] == "0, TIOCLINUX, 0"


def timespec(sec: int, nsec: int) -> Slot:
    return Slot(struct.pack("<qq", sec, nsec), 0)


def test_futex_wait_timeouts_are_the_timespec_read_at_entry():
    ev = call("futex", (0x5000, C["FUTEX_WAIT_PRIVATE"], 3, 0x7000, 0, 0), -110, {"utime": timespec(1, 0)})
    assert special(ev)[0] == "0x5000, FUTEX_WAIT_PRIVATE, 3, {tv_sec=1, tv_nsec=0}"
    ev = call("futex", (0x5000, C["FUTEX_WAIT_BITSET"], 3, 0x7000, 0, 0xFFFFFFFF), -22, {"utime": timespec(-1, 5)})
    assert special(ev)[0] == "0x5000, FUTEX_WAIT_BITSET, 3, {tv_sec=-1, tv_nsec=5}, FUTEX_BITSET_MATCH_ANY"
    ev = call("futex", (0x5000, C["FUTEX_LOCK_PI"], 0, 0x7000, 0, 0), 0, {"utime": timespec(2, 3)})
    assert special(ev)[0] == "0x5000, FUTEX_LOCK_PI, {tv_sec=2, tv_nsec=3}"
    unreadable = call("futex", (0x5000, C["FUTEX_WAIT"], 3, 0x8, 0, 0), -14, {"utime": FAULT})
    assert special(unreadable)[0] == "0x5000, FUTEX_WAIT, 3, 0x8"
    assert special(call("futex", (0x5000, C["FUTEX_WAIT"], 3, 0, 0, 0), -11, {"utime": FAULT}))[0] == \
        "0x5000, FUTEX_WAIT, 3, NULL"


def test_futex_wake_op_styles():
    op = (1 << 28) | (1 << 12) | (4 << 24)  # FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0)
    ev = call("futex", (0x5000, C["FUTEX_WAKE_OP_PRIVATE"], 1, 1, 0x6000, op), 0, {"utime": FAULT})
    assert special(ev)[0].endswith(", FUTEX_OP_ADD<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0")
    assert special(ev, VERBOSE)[0].endswith(", 0x1 /* FUTEX_OP_ADD */<<28|0x1<<12|0x4 /* FUTEX_OP_CMP_GT */<<24|0")
    assert special(ev, RAW)[0].endswith(", 0x1<<28 /* FUTEX_OP_??? */|0x1<<12|0x4<<24 /* FUTEX_OP_CMP_??? */|0")
    unknown = call("futex", (0x5000, C["FUTEX_WAKE_OP"], 1, 1, 0x6000, 7 << 28 | 9 << 24), 0, {"utime": FAULT})
    assert special(unknown)[0].endswith(", 0x7<<28 /* FUTEX_OP_??? */|0<<12|0x9<<24 /* FUTEX_OP_CMP_??? */|0")


def test_futex_requeue_counts_ignore_the_copy():
    ev = call("futex", (0x5000, C["FUTEX_CMP_REQUEUE_PRIVATE"], 1, 2, 0x6000, 7), 0, {"utime": FAULT})
    assert special(ev)[0] == "0x5000, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, 0x6000, 7"


def comm(text: bytes) -> Slot:
    return Slot(text.ljust(16, b"\0")[:16], 0)


def test_prctl_set_name_reads_fifteen_bytes_at_most():
    assert special(call("prctl", (C["PR_SET_NAME"], 0x6000), 0, {"arg2": comm(b"worker")}))[0] == \
        'PR_SET_NAME, "worker"'
    assert special(call("prctl", (C["PR_SET_NAME"], 0x6000), 0, {"arg2": comm(b"fifteen-bytes-x")}))[0] == \
        'PR_SET_NAME, "fifteen-bytes-x"...', "no NUL in the 15 bytes strace reads"
    assert special(call("prctl", (C["PR_SET_NAME"], 0x6000), 0, {"arg2": comm(b"fourteen-bytes")}))[0] == \
        'PR_SET_NAME, "fourteen-bytes"'
    assert special(call("prctl", (C["PR_SET_NAME"], 0x6000), -14, {"arg2": FAULT}))[0] == "PR_SET_NAME, 0x6000"


def test_prctl_get_values_show_when_the_call_returns():
    ev = call("prctl", (C["PR_GET_NAME"], 0x6000), 0, {"arg2": comm(b"")}, {"arg2": comm(b"fifteen-bytes-x")})
    assert special(ev) == ("PR_GET_NAME, ", '"fifteen-bytes-x"', None)
    assert special(call("prctl", (C["PR_GET_NAME"], 0x6000), None, {"arg2": comm(b"")}))[:2] == ("PR_GET_NAME, ", "")
    assert special(call("prctl", (C["PR_GET_NAME"], 0x6000), -14, {"arg2": comm(b"")}))[1] == "0x6000"
    sig = Slot(struct.pack("<I", 10) + b"\0" * 12, 0)
    assert special(call("prctl", (C["PR_GET_PDEATHSIG"], 0x6000), 0, {}, {"arg2": sig}))[1] == "[SIGUSR1]"
    ptr = Slot(struct.pack("<Q", 0x7F0000001000) + b"\0" * 8, 0)
    assert special(call("prctl", (C["PR_GET_TID_ADDRESS"], 0x6000), 0, {}, {"arg2": ptr}))[1] == "[0x7f0000001000]"
    assert special(call("prctl", (C["PR_GET_TSC"], 0x6000), 0, {}, {"arg2": sig}))[1] == "[0xa /* PR_TSC_??? */]"


def test_prctl_arities_and_returns():
    assert special(call("prctl", (C["PR_CAPBSET_READ"], 21, 7, 7, 7), 1, {"arg2": FAULT}))[0] == \
        "PR_CAPBSET_READ, CAP_SYS_ADMIN"
    assert special(call("prctl", (C["PR_CAP_AMBIENT"], 2, 0, 9, 0), 0, {"arg2": FAULT}))[0] == \
        "PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0x9, 0"
    assert special(call("prctl", (C["PR_SET_PTRACER"], (1 << 64) - 1), -22, {"arg2": FAULT}), VERBOSE)[0] == \
        "0x59616d61 /* PR_SET_PTRACER */, -1 /* PR_SET_PTRACER_ANY */"
    assert special(call("prctl", (C["PR_SET_MM"], 1, 2, 3, 4), -1, {"arg2": FAULT}))[0] == \
        "PR_SET_MM, PR_SET_MM_START_CODE, 0x2, 0x3, 0x4"
    assert special(call("prctl", (C["PR_SET_VMA"], 0, 0x7000, 4096, 0x6000), 0, {"arg2": FAULT}))[0] == \
        "PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x7000, 4096, 0x6000"
    assert special(call("prctl", (C["PR_SET_SECCOMP"], 1, 5, 6, 7), 0, {"arg2": FAULT}))[0] == \
        "PR_SET_SECCOMP, SECCOMP_MODE_STRICT"
    assert special(call("prctl", (C["PR_GET_SECUREBITS"],), 0x11))[2] == "0x11 (SECBIT_NOROOT|SECBIT_KEEP_CAPS)"
    assert special(call("prctl", (C["PR_GET_SECUREBITS"],), 0))[2] is None
    assert special(call("prctl", (C["PR_MCE_KILL_GET"],), 1))[2] == "1 (PR_MCE_KILL_EARLY)"
    assert special(call("prctl", (C["PR_GET_SPECULATION_CTRL"], 0), 0))[2] == "0 (PR_SPEC_NOT_AFFECTED)"
    assert special(call("prctl", (C["PR_GET_SECUREBITS"],), 0x11), RAW)[2] == "0x11", "raw: the bare number"
    assert special(call("prctl", (C["PR_MCE_KILL_GET"],), 1), RAW)[2] == "1 (PR_MCE_KILL_EARLY)", "a name, raw too"
    assert special(call("prctl", (C["PR_SET_PDEATHSIG"], 10), 0, {"arg2": FAULT}), VERBOSE)[0] == \
        "0x1 /* PR_SET_PDEATHSIG */, 10 /* SIGUSR1 */"


def test_packet_addresses():
    from tracespec.format.sockaddr import sockaddr_text

    ll = struct.pack("<H", 17) + struct.pack(">H", 3) + struct.pack("<iHBB", 1, 772, 0, 6) + bytes([2, 0, 0, 0xAB, 0xCD, 0xEF, 0, 0])
    lo = socket.if_indextoname(1)
    assert sockaddr_text(ll) == ('{sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), '
                                 f'sll_ifindex=if_nametoindex("{lo}"), sll_hatype=ARPHRD_LOOPBACK, '
                                 'sll_pkttype=PACKET_HOST, sll_halen=6, sll_addr=[0x2, 00, 00, 0xab, 0xcd, 0xef]}')
    assert sockaddr_text(ll, RAW).startswith('{sa_family=0x11, sll_protocol="\\x00\\x03", sll_ifindex=1, sll_hatype=0x304,')
    long_address = ll[:11] + bytes([10]) + ll[12:]
    assert sockaddr_text(long_address).endswith("sll_halen=10, sll_addr=[0x2, 00, 00, 0xab, 0xcd, 0xef, 00, 00, ...]}")
    assert sockaddr_text(ll[:19]).startswith('{sa_family=AF_PACKET, sa_data="'), "short of a sockaddr_ll: its bytes"


def test_packet_socket_protocol_is_in_network_order():
    from tracespec.format.values import enumby_text

    assert enumby_text(0x300, "family:protocol_by_family", 17) == "htons(ETH_P_ALL)"
    assert enumby_text(0x3412, "family:protocol_by_family", 17) == "htons(0x1234 /* ETH_P_??? */)"
    assert enumby_text(6, "family:protocol_by_family", 2) == "IPPROTO_TCP"


def _mask(name: str, ptr: int, size: int, ret: int, slot: Slot | None, at_exit: bool) -> str:
    from tracespec.format.args import render

    info = infos()[name]
    slots = {"uset" if at_exit else "unewset": slot} if slot is not None else {}
    ev = call(name, (ptr, size), ret, {} if at_exit else slots, slots if at_exit else None)
    return render(info.args[0], ptr, ev)


def test_signal_masks_of_sigpending_and_sigsuspend():
    usr1 = Slot(struct.pack("<Q", 1 << 9), 0)
    assert _mask("rt_sigpending", 0x7000, 8, 0, usr1, True) == "[USR1]"
    garbage_above = Slot(struct.pack("<Q", (0xFFFF << 40) | 1 << 9), 0)
    assert _mask("rt_sigpending", 0x7000, 4, 0, garbage_above, True) == "[USR1]", "only the bytes asked for"
    assert _mask("rt_sigpending", 0x7000, 16, -22, None, True) == "0x7000"
    assert _mask("rt_sigsuspend", 0x7000, 8, -514, Slot(struct.pack("<Q", ~(1 << 9) & (2**64 - 1)), 0), False) == \
        "~[USR1]"
    assert _mask("rt_sigsuspend", 0x7000, 4, -22, usr1, False) == "0x7000", "only rt_sigpending takes a shorter set"


def test_a_mask_two_thirds_full_prints_as_what_it_lacks():
    from tracespec.format.structs import sigset_text

    assert sigset_text((1 << 41) - 1).startswith("[HUP INT "), "41 of 64: listed"
    assert sigset_text((1 << 42) - 1) == "~[" + " ".join(f"RT_{n}" for n in range(11, 33)) + "]", "42 of 64: inverted"
    assert sigset_text(1 << 9 | 1 << 11, style=VERBOSE) == "[10 /* USR1 */ 12 /* USR2 */]"
    assert sigset_text(~(1 << 9), style=RAW) == "~[10]"
    assert sigset_text((1 << 21) - 1, 32) == "~[TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN]", "a 4-byte set"


HEADERS = {"flock": ("fcntl.h", "struct flock"), "f_owner_ex": ("fcntl.h", "struct f_owner_ex"),
           "termios": ("asm/termios.h", "struct termios"), "termios2": ("asm/termios.h", "struct termios2"),
           "termio": ("asm/termios.h", "struct termio"), "winsize": ("asm/termios.h", "struct winsize")}
WIDTHS = {"u8": 1, "u16": 2, "s16": 2, "u32": 4, "s32": 4, "u64": 8, "s64": 8}


def test_layouts_match_the_headers(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (./setup installs gcc)"
    for header in sorted({h for h, _ in HEADERS.values()}):
        names = [n for n, (h, _) in HEADERS.items() if h == header]
        prog = f"#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n#include <{header}>\nint main(void) {{\n"
        for name in names:
            ctype = HEADERS[name][1]
            prog += f'printf("{name} %zu\\n", sizeof({ctype}));\n'
            for f in structs()[name].fields:
                prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof({ctype}, {f.name}), '
                         f'sizeof((({ctype} *)0)->{f.name}));\n')
        prog += "return 0;\n}\n"
        src = tmp_path / "p.c"
        src.write_text(prog)
        subprocess.run([cc, "-o", str(tmp_path / "p"), str(src)], check=True, capture_output=True)
        out = dict(line.split(" ", 1) for line in subprocess.run([str(tmp_path / "p")], check=True, text=True,
                                                                  capture_output=True).stdout.splitlines())
        for name in names:
            layout = structs()[name]
            assert int(out[name]) == layout.size, name
            for f in layout.fields:
                width = int(f.type[1:]) if f.type.startswith("c") else WIDTHS[f.type]
                assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, width), f"{name}.{f.name}"


def test_json_keeps_the_number_of_an_argument_decoded_by_operation():
    import io

    from synthetic import CheckedJsonWriter as JsonWriter  # the fast line held to the dict

    writer = JsonWriter(io.StringIO())
    ev = call("fcntl", (3, C["F_SETFD"], 0), 0, {"arg": FAULT})
    assert writer.event(ev, True)["args"]["arg"] == 0
    ev = call("ioctl", (0, C["TCGETS"], 0x7000), 0, {}, {"arg": PTY})
    assert writer.event(ev, True)["args"]["arg"] == 0x7000
    ev = call("prctl", (C["PR_SET_TIMERSLACK"], 12345), 0, {"arg2": FAULT})
    assert writer.event(ev, True)["args"]["arg2"] == 12345
