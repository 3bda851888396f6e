"""More arguments printed as bare numbers or addresses (issue 19), now decoded as strace decodes them:
sigaltstack's stack_t, the ids getresuid and getresgid write back, the set*id calls' -1, personality's
type and flags (argument and return), the I/O priorities of ioprio_set and ioprio_get, and the
capability sets of capget and capset, extended attributes' values, mremap's new address, sendfile's
offset, membarrier's commands, mount's arguments by its flags, syslog's by its action, System V IPC's
flags, siginfo in memory. Each rendered from a synthetic event, without BPF."""

from __future__ import annotations

import struct
import time

from schemas import rendered_args, synthetic_event, syscall_infos
from tracespec.format.args import render, visible
from tracespec.format.special import special
from tracespec.format.values import Style, ret_text, structs, value_names
from tracespec.wire.layout import SIGINFO_SIZE
from tracespec.wire.records import Slot

SYSCALLS = ["sigaltstack", "getresuid", "getresgid", "setresuid", "setreuid", "setfsgid", "personality",
            "ioprio_set", "ioprio_get", "capget", "capset", "getxattr", "fsetxattr", "mremap", "sendfile", "membarrier", "mount", "syslog", "shmget", "semget", "rt_sigtimedwait",
            "seccomp", "fsconfig", "mq_open", "mq_getsetattr", "futimesat"]
RAW, VERBOSE = Style(xlat="raw"), Style(xlat="verbose")
V3, V1 = 0x20080522, 0x19980330


def infos() -> dict:
    return syscall_infos(tuple(SYSCALLS))


def event(name: str, args: tuple, ret: int = 0, entry: dict | None = None, exit: dict | None = None):
    return synthetic_event(infos()[name], args, ret, entry, exit)


def line(name: str, args: tuple, ret: int = 0, slots: dict | None = None, style: Style = Style()) -> str:
    return rendered_args(event(name, args, ret, slots), style)


def stack(sp: int, flags: int, size: int) -> Slot:
    return Slot(struct.pack("<QIIQ", sp, flags, 0, size), 0)


def test_sigaltstack_prints_both_stacks():
    old = stack(0, 2, 0)
    assert line("sigaltstack", (0, 0x7000), slots={"uoss": old}) == "NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}"
    new = stack(0x5000, 0x80000000, 8192)
    assert line("sigaltstack", (0x6000, 0), slots={"uss": new}) == \
        "{ss_sp=0x5000, ss_flags=SS_AUTODISARM, ss_size=8192}, NULL"
    assert line("sigaltstack", (0x6000, 0), slots={"uss": stack(0x5000, 0x11, 8192)}) == \
        "{ss_sp=0x5000, ss_flags=SS_ONSTACK|0x10, ss_size=8192}, NULL"
    # the old stack when the call failed: its address (the decoder keeps no copy the kernel did not write)
    assert line("sigaltstack", (0x6000, 0x7000), -22, {"uss": new}).endswith(", 0x7000")


def test_ids_written_back_and_minus_one():
    ids = {n: Slot((v & 0xFFFFFFFF).to_bytes(4, "little"), 0) for n, v in
           (("ruidp", 0), ("euidp", 1000), ("suidp", -1))}
    assert line("getresuid", (0x1000, 0x1004, 0x1008), slots=ids) == "[0], [1000], [-1]"
    assert line("getresuid", (0, 0x1004, 0x1008), -14) == "NULL, 0x1004, 0x1008"
    assert line("setresuid", (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE)) == "-1, -1, 4294967294"
    assert line("setreuid", (-1, 0)) == "-1, 0"
    assert line("setfsgid", (0xFFFFFFFF,)) == "-1"


def test_personality_type_and_flags():
    assert line("personality", (0xFFFFFFFF,)) == "0xffffffff"
    assert line("personality", (0x40000,)) == "PER_LINUX|ADDR_NO_RANDOMIZE"
    assert line("personality", (0x8,)) == "PER_LINUX32"
    assert line("personality", (0x10001,)) == "0x1 /* PER_??? */|0x10000"
    assert line("personality", (0x40000,), style=VERBOSE) == "0 /* PER_LINUX */|0x40000 /* ADDR_NO_RANDOMIZE */"
    assert line("personality", (0x40000,), style=RAW) == "0|0x40000"
    assert ret_text(0x40000, "persona") == "0x40000 (PER_LINUX|ADDR_NO_RANDOMIZE)"
    assert ret_text(0, "persona") == "0 (PER_LINUX)"
    assert ret_text(-1, "persona") == "-1 EPERM (Operation not permitted)"
    f = infos()["personality"].args[0]
    assert value_names(0x40000, f) == ["PER_LINUX", "ADDR_NO_RANDOMIZE"] and value_names(0xFFFFFFFF, f) == []


def test_io_priorities():
    assert line("ioprio_set", (1, 0, (2 << 13) | 4)) == "IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)"
    assert line("ioprio_set", (9, 0, (5 << 13) | 4)) == \
        "0x9 /* IOPRIO_WHO_??? */, 0, IOPRIO_PRIO_VALUE(0x5 /* IOPRIO_CLASS_??? */, 4)"
    assert line("ioprio_set", (1, 0, 3 << 13), style=RAW) == "0x1, 0, 24576"
    assert line("ioprio_set", (1, 0, 3 << 13), style=VERBOSE) == \
        "0x1 /* IOPRIO_WHO_PROCESS */, 0, 24576 /* IOPRIO_PRIO_VALUE(0x3 /* IOPRIO_CLASS_IDLE */, 0) */"
    assert ret_text(16388, "ioprio") == "16388 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4))"
    assert ret_text(16388, "ioprio", RAW) == "16388"
    assert ret_text(-3, "ioprio") == "-1 ESRCH (No such process)"


def caps(*words: int) -> Slot:
    return Slot(struct.pack("<6I", *(words + (0,) * (6 - len(words)))), 0)


def header(version: int, pid: int = 0) -> Slot:
    return Slot(struct.pack("<Ii", version, pid), 0)


def test_capget_reads_the_data_by_the_header_version():
    ev = event("capget", (0x1000, 0x2000), 0, {"header": header(V3)}, {"dataptr": caps(0x3, 0x1, 0, 0x1, 0x100, 0)})
    enter, rest = special(ev)[:2]
    assert enter == "{version=_LINUX_CAPABILITY_VERSION_3, pid=0}"
    assert rest == (", {effective=1<<CAP_CHOWN|1<<CAP_DAC_OVERRIDE|1<<CAP_MAC_OVERRIDE, "
                    "permitted=1<<CAP_CHOWN|1<<CAP_CHECKPOINT_RESTORE, inheritable=0}")
    # version 1: one word each; the second word, which the kernel did not write, is not read
    ev = event("capget", (0x1000, 0x2000), 0, {"header": header(V1)}, {"dataptr": caps(0x1, 0, 0, 0xFF, 0xFF, 0xFF)})
    assert special(ev)[1] == ", {effective=1<<CAP_CHOWN, permitted=0, inheritable=0}"
    # failed: the data's address; an unreadable header: both addresses
    ev = event("capget", (0x1000, 0x2000), -22, {"header": header(0x12345)})
    assert special(ev)[:2] == ("{version=0x12345 /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}", ", 0x2000")
    ev = event("capget", (0x1000, 0x2000), -14, {})
    assert special(ev)[:2] == ("0x1000", ", 0x2000")


def test_capset_prints_unknown_capabilities_in_hex():
    ev = event("capset", (0x1000, 0x2000), 0, {"header": header(V3), "data": caps(0, 0, 0, 0xFFFFFE00, 0, 0)})
    assert special(ev)[0] == ("{version=_LINUX_CAPABILITY_VERSION_3, pid=0}, "
                              "{effective=0xfffffe00 /* CAP_??? */, permitted=0, inheritable=0}")
    assert special(ev, VERBOSE)[0].endswith("inheritable=0}")


def test_an_attribute_value_loses_its_last_nul_unless_printed_in_hex():
    value = {"value": Slot(b"label\0", 0), "name": Slot(b"security.x", 0)}
    assert line("fsetxattr", (3, 0x1000, 0x2000, 6, 1), slots=value) == '3, "security.x", "label", 6, XATTR_CREATE'
    assert line("fsetxattr", (3, 0x1000, 0x2000, 6, 0), slots=value, style=Style(hex_strings=2)).split(", ")[2] == \
        '"\\x6c\\x61\\x62\\x65\\x6c\\x00"'
    got = {"value": Slot(b"v\0", 0), "name": Slot(b"user.v", 0)}
    assert line("getxattr", (0x3000, 0x1000, 0x2000, 64), 2, {**got, "pathname": Slot(b"/f", 0)}) == \
        '"/f", "user.v", "v", 64'


def test_mremap_new_address_and_sendfile_offset():
    assert line("mremap", (0x1000, 4096, 8192, 1, 0x5000)) == "0x1000, 4096, 8192, MREMAP_MAYMOVE"
    assert line("mremap", (0x1000, 4096, 8192, 5, 0x5000)) == "0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_DONTUNMAP, 0x5000"
    ev = event("sendfile", (4, 3, 0x2000, 5), 5, {"offset": Slot((2).to_bytes(8, "little"), 0)},
               {"offset": Slot((7).to_bytes(8, "little"), 0)})
    assert ", ".join(render(f, v, ev, None) for f, v in visible(ev)) == "4, 3, [2] => [7], 5"


def test_membarrier_names_its_commands_and_what_query_returns():
    ev = event("membarrier", (0, 0, 0), 0x209)
    assert special(ev) == ("MEMBARRIER_CMD_QUERY, 0", "",
                           "0x209 (MEMBARRIER_CMD_GLOBAL|MEMBARRIER_CMD_PRIVATE_EXPEDITED|0x200)")
    ev = event("membarrier", (0x80, 1, 1), 0)
    assert special(ev) == ("MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, 1", "", None)


def strings(**named: bytes) -> dict:
    return {k: Slot(v, 0) for k, v in named.items()}


def test_mount_shows_type_and_data_by_its_flags():
    paths = strings(dev_name=b"tmpfs", dir_name=b"/mnt", type=b"tmpfs", data=b"size=1m")
    ev = event("mount", (0x1000, 0x2000, 0x3000, 0x6, 0x4000), 0, paths)
    assert special(ev)[0] == '"tmpfs", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, "size=1m"'
    ev = event("mount", (0x1000, 0x2000, 0x3000, 0x20, 0x4000), 0, paths)  # a remount: no type
    assert special(ev)[0] == '"tmpfs", "/mnt", 0x3000, MS_REMOUNT, "size=1m"'
    ev = event("mount", (0x1000, 0x2000, 0, 0x1000 | 0x4000, 0), 0, paths)  # a bind: neither
    assert special(ev)[0] == '"tmpfs", "/mnt", NULL, MS_BIND|MS_REC, NULL'
    ev = event("mount", (0x1000, 0x2000, 0x3000, 0xC0ED0000, 0), 0, paths)  # the old magic alone
    assert special(ev)[0] == '"tmpfs", "/mnt", "tmpfs", MS_MGC_VAL, NULL'
    assert special(ev, VERBOSE)[0].split(", ")[3] == "0xc0ed0000 /* MS_MGC_VAL */"


def test_syslog_by_action():
    assert special(event("syslog", (10, 0, 0), 131072))[:2] == ("10 /* SYSLOG_ACTION_SIZE_BUFFER */", "")
    assert special(event("syslog", (10, 0, 0), 131072), RAW)[0] == "10 /* SYSLOG_ACTION_SIZE_BUFFER */"
    read = event("syslog", (3, 0x1000, 64), 3, {}, {"buf": Slot(b"<6>", 0)})
    assert special(read)[:2] == ("3 /* SYSLOG_ACTION_READ_ALL */", ', "<6>", 64')
    assert special(event("syslog", (8, 0, 4), 0))[0] == \
        "8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, NULL, 4 /* LOGLEVEL_WARNING */"
    assert special(event("syslog", (77, 0x1000, 3), -22))[0] == "77 /* SYSLOG_ACTION_??? */, 0x1000, 3"


def test_ipc_flags_above_the_permission_bits():
    assert line("shmget", (0, 4096, 0o1000 | 0o600)) == "IPC_PRIVATE, 4096, IPC_CREAT|0600"
    assert line("shmget", (0x1234, 4096, 0)) == "0x1234, 4096, 000"
    assert line("semget", (0, 1, 0o3000 | 0o600)) == "IPC_PRIVATE, 1, IPC_CREAT|IPC_EXCL|0600"
    assert line("shmget", (0, 4096, 0o100000 | 0o644)) == "IPC_PRIVATE, 4096, 0x8000|0644"


def test_a_siginfo_in_memory_and_a_signal_returned():
    si = struct.pack("<iii4xiIi", 10, 0, -1, 77, 0, 5) + bytes(20)
    ev = event("rt_sigtimedwait", (0x1000, 0x2000, 0, 8), 10, {"uthese": Slot((1 << 9).to_bytes(8, "little"), 0)},
               {"uinfo": Slot(si, 0)})
    assert ", ".join(render(f, v, ev, None) for f, v in visible(ev)) == \
        "[USR1], {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=77, si_uid=0, si_int=5, si_ptr=0x5}, NULL, 8"
    assert ret_text(10, "sig") == "10 (SIGUSR1)"
    ev = event("rt_sigtimedwait", (0x1000, 0x2000, 0, 8), 10, {}, {"uinfo": Slot(bytes(48), 0)})
    assert render(infos()["rt_sigtimedwait"].args[1], 0x2000, ev, None) == "{}"
    assert structs()["siginfo"].size == SIGINFO_SIZE


def test_seccomp_by_operation():
    prog = Slot(struct.pack("<H6xQ", 3, 0x5000), 0)
    ev = event("seccomp", (1, 3, 0x1000), 0, {"uargs": prog})
    assert special(ev)[0] == ("SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_LOG, "
                              "{len=3, filter=0x5000}")
    ev = event("seccomp", (2, 0, 0x1000), 0, {"uargs": Slot(struct.pack("<I12x", 0x7FFF0000), 0)})
    assert special(ev)[0] == "SECCOMP_GET_ACTION_AVAIL, 0, [SECCOMP_RET_ALLOW]"
    ev = event("seccomp", (3, 0, 0x1000), 0, {}, {"uargs": Slot(struct.pack("<HHH10x", 80, 24, 64), 0)})
    assert special(ev)[:2] == ("SECCOMP_GET_NOTIF_SIZES, 0", ", {seccomp_notif=80, seccomp_notif_resp=24, seccomp_data=64}")
    assert special(event("seccomp", (0, 1, 0), -22))[0] == "SECCOMP_SET_MODE_STRICT, 0x1, NULL"


def test_fsconfig_by_command():
    kv = strings(_key=b"source", _value=b"/dev/sda1")
    assert special(event("fsconfig", (3, 1, 0x1000, 0x2000, 0), 0, kv))[0] == \
        '3, FSCONFIG_SET_STRING, "source", "/dev/sda1", 0'
    assert special(event("fsconfig", (3, 3, 0x1000, 0x2000, -100), 0, kv))[0] == \
        '3, FSCONFIG_SET_PATH, "source", "/dev/sda1", AT_FDCWD'
    assert special(event("fsconfig", (3, 5, 0x1000, 0x2000, 7), 0, kv))[0] == '3, FSCONFIG_SET_FD, "source", 0x2000, 7'
    assert special(event("fsconfig", (3, 6, 0, 0, 0), 0))[0] == "3, FSCONFIG_CMD_CREATE, NULL, NULL, 0"


def test_mq_open_shows_mode_and_attributes_only_when_it_creates():
    attr = struct.pack("<4q", 2048, 4, 64, 0)
    named = strings(u_name=b"q", u_attr=attr)
    assert line("mq_open", (0x1000, 0o102, 0o600, 0x2000), 3, named) == \
        '"q", O_RDWR|O_CREAT, 0600, {mq_flags=0x800, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=0}'
    assert line("mq_open", (0x1000, 0, 0o600, 0x2000), 3, named) == '"q", O_RDONLY'
    ev = event("mq_getsetattr", (3, 0x2000, 0), 0, {"u_mqstat": Slot(attr, 0)})
    assert render(infos()["mq_getsetattr"].args[1], 0x2000, ev, None) == \
        "{mq_flags=O_NONBLOCK, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=0}"


def test_timevals_carry_their_dates_to_the_microsecond():
    tv = Slot(struct.pack("<qQqQ", 0, 0, 1_000_000_000, 5), 0)
    text = line("futimesat", (-100, 0x1000, 0x2000), 0, {"filename": Slot(b"/f", 0), "utimes": tv})
    assert text.startswith('AT_FDCWD, "/f", [{tv_sec=0, tv_usec=0}, {tv_sec=1000000000, tv_usec=5} /* ')
    assert text.endswith(".000005" + time.strftime("%z", time.localtime(1_000_000_000)) + " */]")
