"""Delivered signals on synthetic records: the lines strace prints for them (its printsiginfo's choice of
fields by si_code and signal), in the text writer and in JSON, and where they land among syscalls."""

from __future__ import annotations

import json

import pytest

from synthetic import (ERESTARTSYS, close, enter, exit_, jsonl, proc_exit, read_, sent, sigframe, siginfo, signal,
                       text)
from tracespec.wire.layout import SIGSENT_FATAL, SIGSENT_IGNORED
from tracespec.format.text import TextOptions

SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV = 4, 5, 7, 8, 10, 11
SIGCHLD, SIGIO, SIGSYS, SIGALRM, SIGTERM = 17, 29, 31, 14, 15
SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_SIGIO, SI_TKILL, SI_MESGQ = 0, 0x80, -1, -2, -5, -6, -3


def _sender(pid: int, uid: int = 0) -> dict:
    return {"si_pid": (16, "i", pid), "si_uid": (20, "I", uid)}


CASES = {
    "kill": (SIGUSR1, siginfo(SIGUSR1, SI_USER, **_sender(4242)),
             "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=4242, si_uid=0}"),
    "tgkill from an unknown uid": (SIGUSR1, siginfo(SIGUSR1, SI_TKILL, **_sender(4242, 0xFFFFFFFF)),
                                   "{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=4242, si_uid=-1}"),
    "sigqueue with a value": (SIGUSR1, siginfo(SIGUSR1, SI_QUEUE, **_sender(7, 1000), v=(24, "Q", 42)),
                              "{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=7, si_uid=1000, si_int=42, si_ptr=0x2a}"),
    "sigqueue with a value of 0: no value shown": (
        SIGUSR1, siginfo(SIGUSR1, SI_QUEUE, **_sender(7)), "{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=7, si_uid=0}"),
    "mq_notify": (SIGUSR1, siginfo(SIGUSR1, SI_MESGQ, **_sender(7), v=(24, "Q", 0x7F0000001000)),
                  "{si_signo=SIGUSR1, si_code=SI_MESGQ, si_pid=7, si_uid=0, si_int=4096, si_ptr=0x7f0000001000}"),
    "a POSIX timer": (SIGALRM, siginfo(SIGALRM, SI_TIMER, t=(16, "i", 1), o=(20, "i", 2), v=(24, "Q", 7)),
                      "{si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0x1, si_overrun=2, si_int=7, si_ptr=0x7}"),
    "the kernel's, with nothing more": (SIGALRM, siginfo(SIGALRM, SI_KERNEL), "{si_signo=SIGALRM, si_code=SI_KERNEL}"),
    "the kernel's, from a process": (SIGTERM, siginfo(SIGTERM, SI_KERNEL, **_sender(1)),
                                     "{si_signo=SIGTERM, si_code=SI_KERNEL, si_pid=1, si_uid=0}"),
    "si_errno set": (SIGUSR1, siginfo(SIGUSR1, SI_USER, errno=2, **_sender(5)),
                     "{si_signo=SIGUSR1, si_code=SI_USER, si_errno=ENOENT, si_pid=5, si_uid=0}"),
    "a child exited": (SIGCHLD, siginfo(SIGCHLD, 1, **_sender(4243), s=(24, "i", 3), u=(32, "q", 0), t=(40, "q", 0)),
                       "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4243, si_uid=0, si_status=3, si_utime=0, "
                       "si_stime=0}"),
    "a child killed, with its times": (
        SIGCHLD, siginfo(SIGCHLD, 2, **_sender(4243), s=(24, "i", 9), u=(32, "q", 125), t=(40, "q", 3)),
        "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=4243, si_uid=0, si_status=SIGKILL, "
        "si_utime=125 /* 1.25 s */, si_stime=3 /* 0.03 s */}"),
    "a child dumped core": (SIGCHLD, siginfo(SIGCHLD, 3, **_sender(9), s=(24, "i", 11)),
                            "{si_signo=SIGCHLD, si_code=CLD_DUMPED, si_pid=9, si_uid=0, si_status=SIGSEGV, si_utime=0, "
                            "si_stime=0}"),
    "a child stopped": (SIGCHLD, siginfo(SIGCHLD, 5, **_sender(9), s=(24, "i", 19)),
                        "{si_signo=SIGCHLD, si_code=CLD_STOPPED, si_pid=9, si_uid=0, si_status=SIGSTOP, si_utime=0, "
                        "si_stime=0}"),
    "a segfault": (SIGSEGV, siginfo(SIGSEGV, 1, a=(16, "Q", 0x10)),
                   "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}"),
    "a segfault at NULL": (SIGSEGV, siginfo(SIGSEGV, 2), "{si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=NULL}"),
    "a bounds error": (SIGSEGV, siginfo(SIGSEGV, 3, a=(16, "Q", 0x1000), lo=(32, "Q", 0x2000), hi=(40, "Q", 0x3000)),
                       "{si_signo=SIGSEGV, si_code=SEGV_BNDERR, si_addr=0x1000, si_lower=0x2000, si_upper=0x3000}"),
    "a protection key": (SIGSEGV, siginfo(SIGSEGV, 4, a=(16, "Q", 0x1000), k=(32, "I", 5)),
                         "{si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x1000, si_pkey=5}"),
    "a machine check": (SIGBUS, siginfo(SIGBUS, 4, a=(16, "Q", 0x1000), lsb=(24, "h", 12)),
                        "{si_signo=SIGBUS, si_code=BUS_MCEERR_AR, si_addr=0x1000, si_addr_lsb=0xc}"),
    "a bus error": (SIGBUS, siginfo(SIGBUS, 2, a=(16, "Q", 0x1000)),
                    "{si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x1000}"),
    "an integer division by zero": (SIGFPE, siginfo(SIGFPE, 1, a=(16, "Q", 0x401000)),
                                    "{si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x401000}"),
    "an illegal instruction": (SIGILL, siginfo(SIGILL, 2, a=(16, "Q", 0x401000)),
                               "{si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x401000}"),
    "a breakpoint": (SIGTRAP, siginfo(SIGTRAP, SI_KERNEL), "{si_signo=SIGTRAP, si_code=SI_KERNEL, si_addr=NULL}"),
    "I/O ready": (SIGIO, siginfo(SIGIO, 1, b=(16, "q", 0x41), fd=(24, "i", 5)),
                  "{si_signo=SIGIO, si_code=POLL_IN, si_band=65, si_fd=5}"),
    "SIGIO queued by the kernel": (SIGIO, siginfo(SIGIO, SI_SIGIO, b=(16, "q", 1), fd=(24, "i", 3)),
                                   "{si_signo=SIGIO, si_code=SI_SIGIO, si_band=1, si_fd=3}"),
    "SIGIO sent by kill": (SIGIO, siginfo(SIGIO, SI_USER, **_sender(8)),
                           "{si_signo=SIGIO, si_code=SI_USER, si_pid=8, si_uid=0}"),
    "seccomp": (SIGSYS, siginfo(SIGSYS, 1, a=(16, "Q", 0x7F00000010), nr=(24, "i", 39), arch=(28, "I", 0xC000003E)),
                "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x7f00000010, si_syscall=__NR_getpid, "
                "si_arch=AUDIT_ARCH_X86_64}"),
    "seccomp, another arch": (SIGSYS, siginfo(SIGSYS, 1, a=(16, "Q", 0x1000), nr=(24, "i", 20), arch=(28, "I", 0x40000003)),
                              "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x1000, si_syscall=20, "
                              "si_arch=AUDIT_ARCH_I386}"),
    "an si_code no name covers": (SIGUSR1, siginfo(SIGUSR1, -10, **_sender(1)),
                                  "{si_signo=SIGUSR1, si_code=0xfffffff6, si_pid=1, si_uid=0}"),
    "no siginfo (si_signo 0)": (SIGUSR1, siginfo(0, 0), "{}"),
}


@pytest.mark.parametrize("sig, info, fields", CASES.values(), ids=CASES.keys())
def test_siginfo_as_strace_prints_it(sig, info, fields):
    name = {SIGUSR1: "SIGUSR1", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGSEGV: "SIGSEGV",
            SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGIO: "SIGIO",
            SIGSYS: "SIGSYS"}[sig]
    assert text([signal(100, 1000, sig, info)]) == f"100 --- {name} {fields} ---\n"


KILLED = siginfo(SIGCHLD, 2, **_sender(4243), s=(24, "i", 9), u=(32, "q", 125))


@pytest.mark.parametrize("xlat, fields", [
    ("verbose", "{si_signo=17 /* SIGCHLD */, si_code=0x2 /* CLD_KILLED */, si_pid=4243, si_uid=0, "
                "si_status=9 /* SIGKILL */, si_utime=125 /* 1.25 s */, si_stime=0}"),
    ("raw", "{si_signo=17, si_code=0x2, si_pid=4243, si_uid=0, si_status=9, si_utime=125, si_stime=0}"),
])
def test_xlat_styles_as_strace_x(xlat, fields):
    """-X verbose and raw: numbers with (or without) their names; the line's own signal stays a name."""
    got = text([signal(100, 1000, SIGCHLD, KILLED)], TextOptions(live=False, xlat=xlat))
    assert got == f"100 --- SIGCHLD {fields} ---\n"


def test_tkill_code_in_verbose_style_is_unsigned_hex():
    got = text([signal(100, 1000, SIGUSR1, siginfo(SIGUSR1, SI_TKILL, **_sender(1)))],
               TextOptions(live=False, xlat="verbose"))
    assert "si_code=0xfffffffa /* SI_TKILL */" in got


def test_a_signal_splits_another_threads_syscall_in_flight():
    raws = [enter("read", 100, 1000, (3, 0x5000, 16)), signal(101, 2000, SIGUSR1, siginfo(SIGUSR1, SI_USER, **_sender(1))),
            exit_("read", 100, 3000, 2, {"buf": (b"hi", 0)})]
    assert text(raws) == ("100 read(3,  <unfinished ...>\n"
                          "101 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---\n"
                          '100 <... read resumed>"hi", 16) = 2\n')


def test_an_interrupted_syscall_comes_before_its_signal():
    """The syscall returns a restart code, then its thread takes the signal, as strace shows them; the
    signal says no SIGKILL ended the thread, so the held return is let go at once."""
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), exit_("read", 100, 2000, ERESTARTSYS),
            signal(100, 2100, SIGUSR1, siginfo(SIGUSR1, SI_USER, **_sender(7)))] + read_(100, 3000, 0, b"x")
    assert text(raws) == ("100 read(0, 0x5000, 16) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)\n"
                          "100 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          '100 read(0, "x", 4096) = 1\n')


def test_signals_in_json():
    raws = [signal(100, 1000, SIGCHLD, KILLED, tgid=99)] + close(99, 2000, 3)
    objs = [json.loads(line) for line in jsonl(raws).splitlines()]
    assert objs[0] == {"ts_ns": 1000, "ts": "0.000001000", "pid": 99, "tid": 100, "signal": "SIGCHLD",
                       "siginfo": {"si_signo": 17, "si_signo_names": ["SIGCHLD"], "si_code": 2,
                                   "si_code_names": ["CLD_KILLED"], "si_pid": 4243, "si_uid": 0, "si_status": 9,
                                   "si_status_names": ["SIGKILL"], "si_utime": 125, "si_stime": 0}}
    assert objs[1]["syscall"] == "close"
    assert objs[-1] == {"lost": 0, "syscalls": 1, "unfinished": 0}, "a signal is not a syscall"


SIGINT_BIT, SIGCHLD_BIT = 1 << 1, 1 << 16


@pytest.mark.parametrize("frame, line", [
    ((SIGINT_BIT, 0), "100 rt_sigreturn({mask=[INT]}) = 0\n"),
    ((SIGINT_BIT | SIGCHLD_BIT, -4), "100 rt_sigreturn({mask=[INT CHLD]}) = -1 EINTR (Interrupted system call)\n"),
    ((0, 61), "100 rt_sigreturn({mask=[]}) = 61\n"),  # a restarted wait4: its number again, as strace shows
    (None, "100 rt_sigreturn() = ?\n"),  # the frame could not be read
])
def test_rt_sigreturn_with_what_its_frame_restores(frame, line):
    raws = [sigframe(100, 999, *frame)] if frame else []
    assert text(raws + [enter("rt_sigreturn", 100, 1000)]) == line


def test_a_frame_goes_with_the_next_rt_sigreturn_of_its_thread_only():
    raws = [sigframe(101, 900, SIGINT_BIT, 0), enter("rt_sigreturn", 100, 1000)]
    raws += [sigframe(100, 1100, 0, 5)] + close(100, 1200, 3) + [enter("rt_sigreturn", 100, 2300)]
    assert text(raws) == "100 rt_sigreturn() = ?\n100 close(3) = 0\n100 rt_sigreturn() = ?\n"


def test_rt_sigreturn_in_json():
    objs = [json.loads(line) for line in jsonl([sigframe(100, 999, SIGINT_BIT, -4), enter("rt_sigreturn", 100, 1000)]).splitlines()]
    assert (objs[0]["syscall"], objs[0]["args"], objs[0]["ret"], objs[0]["errno"]) == \
        ("rt_sigreturn", {"mask": {"bits": 2}}, -4, "EINTR")
    assert objs[-1] == {"lost": 0, "syscalls": 1, "unfinished": 0}


IGNORED_USR1 = siginfo(SIGUSR1, SI_USER, **_sender(7))
TERM_FROM_7 = siginfo(SIGTERM, SI_USER, **_sender(7))


def test_a_signal_sent_during_a_syscall_shows_after_it():
    """Ignored when sent (the task, unptraced, never takes it): strace shows it as the thread goes back to
    user space, after the syscall it was in; other threads' lines go on meanwhile."""
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), sent(100, 1500, SIGUSR1, IGNORED_USR1, SIGSENT_IGNORED)]
    raws += close(101, 1600, 3, dur=100) + [exit_("read", 100, 2000, 1, {"buf": (b"x", 0)})] + close(100, 3000, 4)
    assert text(raws) == ("100 read(0,  <unfinished ...>\n"
                          "101 close(3) = 0\n"
                          '100 <... read resumed>"x", 16) = 1\n'
                          "100 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          "100 close(4) = 0\n")


def test_a_signal_sent_outside_a_syscall_shows_at_once():
    raws = close(100, 1000, 3) + [sent(100, 1500, SIGUSR1, IGNORED_USR1, SIGSENT_IGNORED)] + close(100, 2000, 4)
    assert text(raws) == ("100 close(3) = 0\n"
                          "100 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          "100 close(4) = 0\n")


def test_a_fatal_signal_sent_shows_before_the_death():
    """Made the group's death when sent: the syscall it interrupts returns its restart code (the kernel's
    SIGKILL, but the process dies of SIGTERM: the return is printed), then the signal, then the death."""
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), sent(100, 1500, SIGTERM, TERM_FROM_7, SIGSENT_FATAL),
            exit_("read", 100, 2000, ERESTARTSYS), proc_exit(100, 3000, SIGTERM)]
    assert text(raws) == ("100 read(0, 0x5000, 16) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)\n"
                          "100 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          "100 +++ killed by SIGTERM +++\n")


def test_a_signal_sent_to_a_thread_whose_syscall_never_returns():
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), sent(100, 1500, SIGTERM, TERM_FROM_7, SIGSENT_FATAL),
            proc_exit(100, 3000, SIGTERM)]
    assert text(raws) == ("100 read(0,  <unfinished ...>\n"
                          "100 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          "100 +++ killed by SIGTERM +++\n")


def test_a_signal_sent_says_nothing_of_a_sigkilled_syscall():
    """A record made in a sender is no sign that the thread lived on after its restart code: SIGKILL
    still ends the syscall unfinished."""
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), exit_("read", 100, 2000, ERESTARTSYS),
            sent(100, 2100, SIGCHLD, siginfo(SIGCHLD, 1, **_sender(7)), SIGSENT_IGNORED), proc_exit(100, 3000, 9)]
    assert text(raws).splitlines()[0] == "100 read(0,  <unfinished ...>) = ?"


def test_a_signal_sent_in_json_is_a_signal():
    objs = [json.loads(line) for line in jsonl([sent(100, 1000, SIGUSR1, IGNORED_USR1, SIGSENT_IGNORED)]).splitlines()]
    assert objs[0]["signal"] == "SIGUSR1" and objs[0]["siginfo"]["si_pid"] == 7


def test_a_thread_in_a_syscall_when_another_takes_the_fatal_signal_was_killed():
    """The group's end by a signal thread 100 took: thread 101's read returned a restart code only because
    the kernel sent it SIGKILL; strace never sees that return and prints the read unfinished."""
    raws = [enter("read", 101, 1000, (3, 0x5000, 1), tgid=100), exit_("read", 101, 2000, ERESTARTSYS, tgid=100),
            signal(100, 1900, SIGTERM, TERM_FROM_7), proc_exit(101, 2100, SIGTERM, tgid=100),
            proc_exit(100, 2200, SIGTERM)]
    assert text(raws) == ("101 read(3,  <unfinished ...>\n"
                          "100 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=7, si_uid=0} ---\n"
                          "101 <... read resumed> <unfinished ...>) = ?\n"
                          "101 +++ killed by SIGTERM +++\n"
                          "100 +++ killed by SIGTERM +++\n")


def test_a_thread_in_a_syscall_when_another_calls_exit_group_was_killed():
    raws = [enter("read", 101, 1000, (3, 0x5000, 1), tgid=100), enter("exit_group", 100, 1500, (3,)),
            exit_("read", 101, 2000, ERESTARTSYS, tgid=100), proc_exit(101, 2100, 3 << 8, tgid=100),
            proc_exit(100, 2200, 3 << 8)]
    lines = text(raws).splitlines()
    assert "101 <... read resumed> <unfinished ...>) = ?" in lines and lines[-1] == "100 +++ exited with 3 +++"


def test_a_restart_code_then_a_death_no_thread_was_seen_taking_shows_the_return():
    """No signal record (signals: false): nothing says the kernel's SIGKILL ended the syscall."""
    raws = [enter("read", 100, 1000, (0, 0x5000, 16)), exit_("read", 100, 2000, ERESTARTSYS),
            proc_exit(100, 2100, SIGTERM)]
    assert text(raws).splitlines()[0] == "100 read(0, 0x5000, 16) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
