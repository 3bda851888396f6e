"""The administrator's syscalls and struct sched_attr (issue 19), decoded as strace decodes them:
reboot's magic numbers, command and RESTART2 string, swapon's priority apart from its flags, the module
calls' and userfaultfd's flags, kexec_load's segments and architecture, kexec_file_load's command line,
sched_setattr's and sched_getattr's struct by its size and flags, process_vm_readv's remote iovecs, and
the catalogue's slot for a struct the kernel writes when it fails, Landlock's rulesets and rules,
futex_waitv's waiters, move_pages' arrays, adjtimex's struct timex and clock state, struct file_handle both
ways, ptrace by request, System V IPC's control structs, keyrings by name, openat2's struct
open_how, semop's operations, process_madvise's remote iovecs. Each rendered from a synthetic event, without BPF."""

from __future__ import annotations

import json
import struct

from schemas import rendered_args, synthetic_event, syscall_infos
from tracespec.catalogue.kinds import KINDS, Written
from tracespec.format.args import render, visible
from tracespec.format.fdpaths import FdPaths
from tracespec.format.ptrace import USER_OFFSETS, user_offset_text
from tracespec.format.jsonl import json_value
from tracespec.format.special import special
from tracespec.format.values import Style, ret_text, value_names
from tracespec.wire.records import Slot

SYSCALLS = ["reboot", "swapon", "userfaultfd", "delete_module", "finit_module", "kexec_load", "kexec_file_load",
            "sched_setattr", "sched_getattr", "process_vm_readv", "landlock_create_ruleset", "landlock_add_rule",
            "landlock_restrict_self", "futex_waitv", "move_pages", "adjtimex", "clock_adjtime",
            "name_to_handle_at", "open_by_handle_at", "ptrace", "shmctl", "msgctl", "semctl", "add_key",
            "request_key", "openat2", "semop", "process_madvise"]
RAW, VERBOSE = Style(xlat="raw"), Style(xlat="verbose")
MAGIC1, MAGIC2, RESTART2 = 0xFEE1DEAD, 0x28121969, 0xA1B2C3D4


def event(name: str, args: tuple, ret: int = 0, entry: dict | None = None, exit: dict | None = None):
    return synthetic_event(syscall_infos(tuple(SYSCALLS))[name], args, ret, entry, exit)


def line(name: str, args: tuple, ret: int = 0, slots: dict | None = None, style: Style = Style()) -> str:
    return rendered_args(event(name, args, ret, slots), style)


def test_reboot_shows_its_string_only_for_restart2():
    arg = {"arg": Slot(b"again", 0)}
    assert special(event("reboot", (MAGIC1, MAGIC2, 0x1234567, 0x1000), -1, arg))[0] == \
        "LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART"
    assert special(event("reboot", (MAGIC1, MAGIC2, RESTART2, 0x1000), -1, arg))[0] == \
        'LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART2, "again"'
    # a wrong magic number of either kind, an unknown command; the registers' upper halves are not the int's
    assert special(event("reboot", (0xFFFFFFFFDEADBEEF, 0x1234, 0x12345678, 0), -22))[0] == \
        ("0xdeadbeef /* LINUX_REBOOT_MAGIC_??? */, 0x1234 /* LINUX_REBOOT_MAGIC_??? */, "
         "0x12345678 /* LINUX_REBOOT_CMD_??? */")
    assert special(event("reboot", (MAGIC1, MAGIC2, 0, 0)), RAW)[0] == "0xfee1dead, 0x28121969, 0"
    assert special(event("reboot", (MAGIC1, MAGIC2, 0, 0)), VERBOSE)[0].endswith(", 0 /* LINUX_REBOOT_CMD_CAD_OFF */")


def test_swapon_prints_its_priority_always_and_its_flags_when_set():
    path = {"specialfile": Slot(b"/dev/sdb1", 0)}
    texts = [special(event("swapon", (0x1000, flags), 0, path))[0].split(", ")[1]
             for flags in (0, 0x8000 | 7, 0x10000 | 0x40000, 0x100000 | 0x8000 | 42)]
    assert texts == ["0", "SWAP_FLAG_PREFER|7", "SWAP_FLAG_DISCARD|SWAP_FLAG_DISCARD_PAGES|0",
                     "SWAP_FLAG_PREFER|0x100000|42"]
    assert special(event("swapon", (0x1000, 0x8000 | 7), 0, path), RAW)[0] == '"/dev/sdb1", 0x8000|7'


def test_module_and_userfaultfd_flags():
    assert line("userfaultfd", (0x80800,), 3) == "O_NONBLOCK|O_CLOEXEC"
    assert line("userfaultfd", (0x8001,), -22) == "UFFD_USER_MODE_ONLY|0x8000"
    name = {"name_user": Slot(b"dummy", 0)}
    assert line("delete_module", (0x1000, 0xA00), -2, name) == '"dummy", O_NONBLOCK|O_TRUNC'
    assert line("delete_module", (0x1000, 0x10), -2, name) == '"dummy", 0x10 /* O_??? */'
    uargs = {"uargs": Slot(b"x=y", 0)}
    assert line("finit_module", (3, 0x1000, 3), -1, uargs) == \
        '3, "x=y", MODULE_INIT_IGNORE_MODVERSIONS|MODULE_INIT_IGNORE_VERMAGIC'
    assert line("finit_module", (3, 0x1000, 0x40), -1, uargs) == '3, "x=y", 0x40 /* MODULE_INIT_??? */'


def segments(*segs: tuple) -> dict:
    return {"segments": Slot(b"".join(struct.pack("<QQQQ", *s) for s in segs), 0)}


def test_kexec_load_segments_and_architecture():
    segs = segments((0x5000, 3, 0x100000, 4096), (0, 0, 0x200000, 8192))
    assert special(event("kexec_load", (0x100000, 2, 0x7000, (62 << 16) | 1), -38, segs))[0] == \
        ("0x100000, 2, [{buf=0x5000, bufsz=3, mem=0x100000, memsz=4096}, {buf=NULL, bufsz=0, mem=0x200000, "
         "memsz=8192}], KEXEC_ARCH_X86_64|KEXEC_ON_CRASH")
    # each part by its own set: an unknown architecture or flag with its own comment
    assert special(event("kexec_load", (0, 0, 0, 0x100), -22))[0] == \
        "NULL, 0, NULL, KEXEC_ARCH_DEFAULT|0x100 /* KEXEC_??? */"
    assert special(event("kexec_load", (0, 1, 0x7000, (777 << 16) | 2), -22, segs))[0].endswith(
        "], 0x3090000 /* KEXEC_ARCH_??? */|KEXEC_PRESERVE_CONTEXT")
    # more segments than the kernel takes: the list's address
    assert special(event("kexec_load", (0, 17, 0x7000, 0), -22, segs))[0] == "NULL, 17, 0x7000, KEXEC_ARCH_DEFAULT"


def test_kexec_file_load_command_line_is_its_bytes():
    cmdline = {"cmdline_ptr": Slot(b"quiet\0x\0", 0)}
    assert line("kexec_file_load", (3, 4, 8, 0x1000, 6), -1, cmdline) == \
        '3, 4, 8, "quiet\\0x\\0", KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS'


def attr(size: int, policy: int = 0, flags: int = 0, nice: int = 0, runtime: int = 0, tail: bytes = b"") -> Slot:
    return Slot(struct.pack("<IIQiIQQQII", size, policy, flags, nice, 0, runtime, 0, 0, 0, 1024) + tail, 0)


def test_sched_setattr_by_size_and_flags():
    full = ("sched_nice=-2, sched_priority=0, sched_runtime=0, sched_deadline=0, sched_period=0")
    ev = event("sched_setattr", (0, 0x1000, 0), 0, {"uattr": attr(48, 3, 0, -2)})
    assert "".join(special(ev)[:2]) == f"0, {{size=48, sched_policy=SCHED_BATCH, sched_flags=0, {full}}}, 0"
    ev = event("sched_setattr", (0, 0x1000, 0), 0, {"uattr": attr(56, 0, 0x18)})  # keep both
    assert special(ev)[0] == ("0, {size=56, sched_flags=SCHED_FLAG_KEEP_POLICY|SCHED_FLAG_KEEP_PARAMS, "
                              "sched_util_min=0, sched_util_max=1024}")
    ev = event("sched_setattr", (0, 0x1000, 0), 0, {"uattr": attr(56, 0, 0x8, -2)})  # keep the policy only
    assert special(ev)[0].startswith("0, {size=56, sched_flags=SCHED_FLAG_KEEP_POLICY, sched_nice=-2, ")
    ev = event("sched_setattr", (0, 0x1000, 0), 0, {"uattr": attr(0)})  # size 0: the first version's
    assert special(ev)[0].startswith("0, {size=0, sched_policy=SCHED_OTHER, ") and "util" not in special(ev)[0]
    # refused sizes: the size the kernel wrote back; a larger struct's first 56 bytes and "..."
    ev = event("sched_setattr", (0, 0x1000, 0), -7, {"uattr": attr(20)}, {"uattr": attr(56)})
    assert special(ev)[:2] == ("0, {size=20}", " => {size=56}, 0")
    ev = event("sched_setattr", (0, 0x1000, 0), -7, {"uattr": attr(80, tail=b"\1" * 24)}, {"uattr": attr(56)})
    assert special(ev)[0].endswith(", sched_util_min=0, sched_util_max=1024, ...}")
    ev = event("sched_setattr", (0, 0x1000, 5), -22, {"uattr": attr(48)}, {"uattr": attr(48)})
    assert special(ev)[1] == ", 5"  # another error: nothing written back
    assert special(event("sched_setattr", (0, 0x1000, 0), -14, {"uattr": Slot(b"", 1)}))[0] == "0, 0x1000"
    assert special(event("sched_setattr", (0, 0, 0), -22))[0] == "0, NULL"


def test_sched_getattr_as_far_as_the_size_the_kernel_wrote():
    ev = event("sched_getattr", (0, 0x1000, 48, 0), 0, exit={"uattr": attr(48, runtime=1400000)})
    assert special(ev)[1] == (", {size=48, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=0, sched_priority=0, "
                              "sched_runtime=1400000, sched_deadline=0, sched_period=0}, 48, 0")
    ev = event("sched_getattr", (0, 0x1000, 80, 0), 0, exit={"uattr": attr(56)})
    assert special(ev)[1].endswith(", sched_util_min=0, sched_util_max=1024}, 80, 0")
    assert special(event("sched_getattr", (0, 0x1000, 40, 0), -22))[1] == ", 0x1000, 40, 0"
    assert special(event("sched_getattr", (0, 0x1000, 0, 0), -22))[1] == ", 0x1000, 0, 0"
    assert special(event("sched_getattr", (0, 0x1000, 56, 0), 0))[0] == "0"


def test_a_struct_the_kernel_writes_when_it_fails_is_copied_at_exit_whatever_it_returned():
    info = KINDS["iwstruct"]
    assert info.written == Written.ALWAYS and info.entry_text
    # JSON shows it as the caller gave it
    ev = event("sched_setattr", (0, 0x1000, 0), -7, {"uattr": attr(20)}, {"uattr": attr(56)})
    f = ev.info.args[1]
    value, _ = json_value(f, 0x1000, ev)
    assert json.loads(json.dumps(value))["size"] == 20


def test_process_vm_readv_remote_iovecs_are_addresses_and_lengths():
    remote = {"rvec": Slot(struct.pack("<QQ", 0x7000, 12) + struct.pack("<QQ", 0, 4), 0)}
    text = line("process_vm_readv", (42, 0, 0, 0x6000, 2, 0), -14, remote)
    assert text == "42, NULL, 0, [{iov_base=0x7000, iov_len=12}, {iov_base=NULL, iov_len=4}], 2, 0"


READ = "LANDLOCK_ACCESS_FS_READ_FILE|LANDLOCK_ACCESS_FS_READ_DIR"


def test_landlock_ruleset_as_far_as_strace_knows_it():
    rights = {"attr": Slot(struct.pack("<QQ", 0xC, 0), 0)}
    ev = event("landlock_create_ruleset", (0x1000, 8, 0), 3, rights)
    assert special(ev) == (f"{{handled_access_fs={READ}}}, 8, 0", "", None)
    assert special(event("landlock_create_ruleset", (0x1000, 16, 0), 3, rights))[0].startswith(
        f"{{handled_access_fs={READ}, ...}}, 16")
    assert special(event("landlock_create_ruleset", (0x1000, 4, 0), -22, rights))[0] == "0x1000, 4, 0"
    # asked for the ABI version: the return is a number, not a descriptor
    ev = event("landlock_create_ruleset", (0, 0, 1), 7)
    assert special(ev) == ("NULL, 0, LANDLOCK_CREATE_RULESET_VERSION", "", "7")
    assert special(event("landlock_create_ruleset", (0x1000, 8, 2), -22, rights))[0].endswith(
        ", 8, 0x2 /* LANDLOCK_CREATE_RULESET_??? */")


def test_landlock_rule_by_its_type():
    rule = {"rule_attr": Slot(struct.pack("<Qi", 0x4, 5), 0)}
    assert special(event("landlock_add_rule", (3, 1, 0x1000, 0), 0, rule))[0] == \
        "3, LANDLOCK_RULE_PATH_BENEATH, {allowed_access=LANDLOCK_ACCESS_FS_READ_FILE, parent_fd=5}, 0"
    assert special(event("landlock_add_rule", (3, 7, 0x1000, 0x10), -22, rule))[0] == \
        "3, 0x7 /* LANDLOCK_RULE_??? */, 0x1000, 0x10"
    assert line("landlock_restrict_self", (3, 0x80), -22) == "3, 0x80"


def test_a_negative_descriptor_is_not_annotated():
    """strace's printfd finds nothing under /proc for a negative number: AT_FDCWD where an argument that
    is not a directory descriptor holds it prints bare, under -y too."""
    fds = FdPaths()
    assert fds.annotate(1, -100) == "-100" and fds.annotate(1, -1) == "-1"


def test_futex_waitv_waiters():
    waiters = {"waiters": Slot(struct.pack("<QQII", 4, 0x5000, 0x82, 0) + struct.pack("<QQII", 0, 0, 0x40, 1), 0)}
    ts = {"timeout": Slot(struct.pack("<qQ", 1, 500), 0)}
    assert line("futex_waitv", (0x1000, 2, 0, 0x2000, 1), -11, {**waiters, **ts}) == (
        "[{val=0x4, uaddr=0x5000, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, {val=0, uaddr=NULL, "
        "flags=0x40 /* FUTEX_??? */, __reserved=0x1}], 2, 0, {tv_sec=1, tv_nsec=500}, CLOCK_MONOTONIC")
    assert line("futex_waitv", (0, 0, 1, 0, 77), -22) == "NULL, 0, 0x1, NULL, 0x4d /* CLOCK_??? */"


def test_move_pages_arrays_and_status():
    pages = {"pages": Slot(struct.pack("<QQ", 0x7000, 0), 0), "nodes": Slot(struct.pack("<ii", 0, 1), 0)}
    status = {"status": Slot(struct.pack("<ii", 0, -14), 0)}
    ev = event("move_pages", (0, 2, 0x1000, 0x2000, 0x3000, 2), 0, pages, status)
    assert ", ".join(render(f, v, ev, None, Style()) for f, v in visible(ev)) == \
        "0, 2, [0x7000, NULL], [0, 1], [0, -EFAULT], MPOL_MF_MOVE"
    assert render(ev.info.args[4], 0x3000, ev, None, RAW) == "[0, -14]"
    assert render(ev.info.args[4], 0x3000, ev, None, VERBOSE) == "[0, -14 /* -EFAULT */]"


def timex(modes: int, status: int) -> Slot:
    data = bytearray(208)
    struct.pack_into("<I", data, 0, modes)
    struct.pack_into("<qqqq", data, 8, -5, 7, 16000000, 16000000)
    struct.pack_into("<i", data, 40, status)
    struct.pack_into("<qqqqq", data, 48, 2, 1, 32768000, 1700000000, 123456)
    struct.pack_into("<q", data, 88, 10000)
    struct.pack_into("<i", data, 160, 37)
    return Slot(bytes(data), 0)


def test_timex_written_back_and_the_clock_state():
    ev = event("adjtimex", (0x1000,), 5, exit={"txc_p": timex(0xA001, 0x40 | 0x2000)})
    assert line("adjtimex", (0x1000,), 5, {"txc_p": timex(0xA001, 0x40 | 0x2000)}) == (
        "{modes=ADJ_OFFSET_SS_READ, offset=-5, freq=7, maxerror=16000000, esterror=16000000, "
        "status=STA_UNSYNC|STA_NANO, constant=2, precision=1, tolerance=32768000, "
        "time={tv_sec=1700000000, tv_usec=123456}, tick=10000, ppsfreq=0, jitter=0, shift=0, stabil=0, jitcnt=0, "
        "calcnt=0, errcnt=0, stbcnt=0, tai=37}")
    assert ev.info.ret == "clockstate"
    # the state by name whatever -X says (strace's RVAL_STR); a failure or an unknown state as usual
    assert [ret_text(5, "clockstate", s) for s in (Style(), RAW, VERBOSE)] == ["5 (TIME_ERROR)"] * 3
    assert ret_text(9, "clockstate") == "9" and ret_text(-14, "clockstate").startswith("-1 EFAULT")
    assert line("adjtimex", (0x1000,), -14) == "0x1000"  # (the decoder keeps no copy the kernel did not write)
    assert line("clock_adjtime", (1, 0x1000), -95) == "CLOCK_MONOTONIC, 0x1000"


def handle(size: int, kind: int = 1, data: bytes = b"") -> Slot:
    return Slot(struct.pack("<Ii", size, kind) + data.ljust(128, b"\0"), 0)


def test_file_handle_asked_for_and_written_back():
    path = {"name": Slot(b"/d", 0)}
    ev = event("name_to_handle_at", (-100, 0x1000, 0x2000, 0x3000, 0), 0, {**path, "handle": handle(128)},
               {"handle": handle(8, 1, b"\x0a\xe0\x20\x00\x17\x1e\x1a\xf5"), "mnt_id": Slot(b"\x1b\0\0\0", 0)})
    assert ", ".join(render(f, v, ev, None, Style()) for f, v in visible(ev)) == (
        'AT_FDCWD, "/d", {handle_bytes=128 => 8, handle_type=1, f_handle="\\x0a\\xe0\\x20\\x00\\x17\\x1e\\x1a\\xf5"}, '
        "[27], 0")
    assert json_value(ev.info.args[2], 0x2000, ev)[0] == {"handle_bytes": 8, "handle_type": 1,
                                                          "f_handle": "0ae02000171e1af5"}  # as the kernel made it
    # too small: the size the kernel needs, written back with EOVERFLOW; other errors: the size asked for
    ev = event("name_to_handle_at", (3, 0x1000, 0x2000, 0x3000, 0x1000), -75, {"handle": handle(0)},
               {"handle": handle(8)})
    assert render(ev.info.args[2], 0x2000, ev, None, Style()) == "{handle_bytes=0 => 8}"
    ev = event("name_to_handle_at", (3, 0x1000, 0x2000, 0x3000, 0x1000), -22, {"handle": handle(0)},
               {"handle": handle(8)})
    assert render(ev.info.args[2], 0x2000, ev, None, Style()) == "{handle_bytes=0}"
    value, _ = json_value(ev.info.args[2], 0x2000, ev)  # JSON: the size asked for when it failed
    assert value == {"handle_bytes": 0, "handle_type": 1, "f_handle": ""}
    ev = event("open_by_handle_at", (3, 0x2000, 0x80000), 4, {"handle": handle(2, 1, b"\1\2")})
    assert json_value(ev.info.args[1], 0x2000, ev)[0] == {"handle_bytes": 2, "handle_type": 1, "f_handle": "0102"}
    assert ", ".join(render(f, v, ev, None, Style()) for f, v in visible(ev)) == \
        '3, {handle_bytes=2, handle_type=1, f_handle="\\x01\\x02"}, O_RDONLY|O_CLOEXEC'


def ptrace_text(args: tuple, ret: int = 0, entry: dict | None = None, exit: dict | None = None,
                style: Style = Style()) -> str:
    return "".join(special(event("ptrace", args, ret, entry, exit), style)[:2])


def word(value: int, size: int = 512) -> dict:
    return {"data": Slot(value.to_bytes(8, "little").ljust(size, b"\0"), 0)}


def test_ptrace_prints_what_each_request_uses():
    assert ptrace_text((0, 5, 7, 9)) == "PTRACE_TRACEME"
    assert ptrace_text((0x10, 42, 7, 9), -1) == "PTRACE_ATTACH, 42"
    assert ptrace_text((0x4206, 42, 0, 0x41)) == "PTRACE_SEIZE, 42, NULL, PTRACE_O_TRACESYSGOOD|PTRACE_O_TRACEEXIT"
    assert ptrace_text((7, 42, 0, 10)) == "PTRACE_CONT, 42, NULL, SIGUSR1"
    assert ptrace_text((0x11, 42, 0, 0)) == "PTRACE_DETACH, 42, NULL, 0"
    assert ptrace_text((0x4321, 42, 0, 0), -5) == "0x4321 /* PTRACE_??? */, 42, NULL, NULL"
    # what the kernel wrote, once it succeeded: a word, an event message; the address when it failed
    assert ptrace_text((2, 42, 0x1000, 0x2000), 0, exit=word(0x1122)) == "PTRACE_PEEKDATA, 42, 0x1000, [0x1122]"
    assert ptrace_text((0x4201, 42, 0, 0x2000), 0, exit=word(7)) == "PTRACE_GETEVENTMSG, 42, NULL, [7]"
    assert ptrace_text((1, 42, 8, 0x2000), -5, exit=word(7)) == "PTRACE_PEEKTEXT, 42, 0x8, 0x2000"
    # signal masks of a size the kernel takes; registers in the address's place
    assert ptrace_text((0x420b, 42, 8, 0x2000), 0, word(1 << 9)) == "PTRACE_SETSIGMASK, 42, 8, [USR1]"
    assert ptrace_text((0x420b, 42, 4, 0x2000), -22, word(1 << 9)) == "PTRACE_SETSIGMASK, 42, 4, 0x2000"
    regs = ptrace_text((0xC, 42, 0, 0x2000), 0, exit=word(0x7f))
    assert regs.startswith("PTRACE_GETREGS, 42, {r15=0x7f, r14=0, ") and regs.endswith(", fs=0, gs=0}")
    fp = ptrace_text((0xF, 42, 0, 0x2000), 0, word(0x37f))
    assert fp.startswith("PTRACE_SETFPREGS, 42, {cwd=0x37f, swd=0, ftw=0, fop=0, rip=0, rdp=0, mxcsr=0, "
                         "mxcr_mask=0, st_space=[0, ") and fp.count(", ") == 2 + 8 + 31 + 1 + 32 + 1 + 23
    assert ", ...], padding=[" in fp  # xmm_space's 64 words abbreviated as print_array does, unless -v
    assert ", ...]" not in ptrace_text((0xF, 42, 0, 0x2000), 0, word(0x37f), style=Style(verbose=True))


def test_ptrace_register_set_iovec_and_its_length():
    iov = {"data": Slot(struct.pack("<QQ", 0x5000, 280).ljust(512, b"\0"), 0)}
    back = {"data": Slot(struct.pack("<QQ", 0x5000, 216).ljust(512, b"\0"), 0)}
    assert ptrace_text((0x4204, 42, 1, 0x2000), 0, iov, back) == \
        "PTRACE_GETREGSET, 42, NT_PRSTATUS, {iov_base=0x5000, iov_len=280 => 216}"
    assert special(event("ptrace", (0x4205, 42, 0x202, 0x2000), 0, iov, iov))[:2] == \
        ("PTRACE_SETREGSET, 42, NT_X86_XSTATE, {iov_base=0x5000, iov_len=280", "}")


def test_struct_user_offsets_by_name():
    assert user_offset_text(120, Style()) == "8*ORIG_RAX"
    assert user_offset_text(168, Style()) == "8*SS+8"
    assert user_offset_text(856, Style()) == "offsetof(struct user, u_debugreg)+8"
    assert user_offset_text(912, Style()) == "sizeof(struct user)"
    assert user_offset_text(4096, Style()) == "0x1000"  # beyond struct user
    assert user_offset_text(120, RAW) == "0x78" and user_offset_text(120, VERBOSE) == "0x78 /* 8*ORIG_RAX */"
    assert [off for off, _ in USER_OFFSETS] == sorted(off for off, _ in USER_OFFSETS)


def perm(mode: int, key: int = 0) -> bytes:
    return struct.pack("<iIIIII", key, 0, 0, 0, 0, mode).ljust(48, b"\0")


def test_system_v_ipc_structs_by_command():
    shm = perm(0o600, -1) + struct.pack("<QqqqiiQ", 4096, 0, 0, 1700000000, 42, 0, 1)
    ev = event("shmctl", (5, 2, 0x1000), 0, exit={"buf": Slot(shm.ljust(120, b"\0"), 0)})
    assert "".join(special(ev)[:2]) == (
        "5, IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=4294967295, cuid=0, cgid=0}, shm_segsz=4096, "
        "shm_cpid=42, shm_lpid=0, shm_nattch=1, shm_atime=0, shm_dtime=0, shm_ctime=1700000000}")
    # IPC_SET: at entry, only what the kernel takes
    ev = event("shmctl", (5, 1, 0x1000), 0, {"buf": Slot(perm(0o640).ljust(120, b"\0"), 0)})
    assert special(ev) == ("5, IPC_SET, {shm_perm={uid=0, gid=0, mode=0640}}", "")
    msq = perm(0o600) + struct.pack("<qqqQQQii", 0, 0, 0, 0, 0, 8192, 0, 0)
    ev = event("msgctl", (5, 0x100 | 1, 0x1000), 0, {"buf": Slot(msq.ljust(120, b"\0"), 0)})
    assert special(ev)[0] == "5, IPC_64|IPC_SET, {msg_perm={uid=0, gid=0, mode=0600}, msg_qbytes=8192}"
    assert special(event("msgctl", (5, 0, 0), 0))[0] == "5, IPC_RMID, NULL"
    assert special(event("shmctl", (5, 2, 0x1000), -22))[:2] == ("5, IPC_STAT", ", 0x1000")
    info = struct.pack("<10i", *range(1, 11))
    ev = event("semctl", (3, 0, 19, 0x1000), 3, exit={"arg": Slot(info.ljust(120, b"\0"), 0)})
    assert special(ev)[1] == (", {semmap=1, semmni=2, semmns=3, semmnu=4, semmsl=5, semopm=6, semume=7, semusz=8, "
                              "semvmx=9, semaem=10}")
    assert special(event("semctl", (3, 1, 12, 0), 0))[0] == "3, 1, GETVAL, NULL"


def test_keyrings_by_name_and_other_ids_in_decimal():
    strings = {"_type": Slot(b"user", 0), "_description": Slot(b"k", 0), "_payload": Slot(b"ab", 0)}
    assert line("add_key", (1, 2, 3, 2, 0xFFFFFFFE), 5, strings) == '"user", "k", "ab", 2, KEY_SPEC_PROCESS_KEYRING'
    assert line("add_key", (1, 2, 3, 2, 12345), -126, strings).endswith(", 12345")
    assert line("add_key", (1, 2, 3, 2, -3), 5, strings, RAW).endswith(", -3")
    assert line("add_key", (1, 2, 3, 2, -3), 5, strings, VERBOSE).endswith(", -3 /* KEY_SPEC_SESSION_KEYRING */")
    assert line("request_key", (1, 2, 0, -42), -22, strings).endswith(", NULL, -42")  # no name: decimal
    f = syscall_infos(("add_key",))["add_key"].args[4]
    assert value_names(-1, f) == ["KEY_SPEC_THREAD_KEYRING"] and value_names(7, f) == []


def test_printers_of_their_own_modules_load_when_first_needed():
    """The printers in modules of their own are imported the first time a trace holds their syscall; each
    name resolves to the function that prints it, and each takes the style."""
    import importlib
    import sys

    from tracespec.format import special as sp
    for name, where in sp.LAZY_PRINTERS.items():
        module, _, attr = where.partition(":")
        assert callable(getattr(importlib.import_module(f"tracespec.format.{module}"), attr or name)), name
        assert name in sp.STYLED and name in sp.OWN_WAY
    code = ("import sys, tracespec.format.text; "
            "print(sorted(m for m in sys.modules if m in ('tracespec.format.ptrace', 'tracespec.format.sysvipc')))")
    import subprocess
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_open_how_semop_and_process_madvise():
    how = {"filename": Slot(b"/d", 0), "how": Slot(struct.pack("<QQQ", 0x80000, 0, 0x4), 0)}
    assert line("openat2", (-100, 0x1000, 0x2000, 24), 3, how) == \
        'AT_FDCWD, "/d", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS}, 24'
    # the mode only with O_CREAT or O_TMPFILE, or when it is not zero; a size smaller than the struct
    created = {"filename": Slot(b"/d", 0), "how": Slot(struct.pack("<QQQ", 0x41, 0o644, 0), 0)}
    assert "mode=0644, resolve=0}" in line("openat2", (-100, 0x1000, 0x2000, 24), 3, created)
    assert line("openat2", (-100, 0x1000, 0x2000, 8), -22, how).endswith(", 0x2000, 8")
    ops = {"tsops": Slot(struct.pack("<Hhh", 0, -1, 0x1000) + struct.pack("<Hhh", 1, 2, 0x4800), 0)}
    assert line("semop", (7, 0x1000, 2), 0, ops) == \
        "7, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}, {sem_num=1, sem_op=2, sem_flg=IPC_NOWAIT|0x4000}], 2"
    vec = {"vec": Slot(struct.pack("<QQ", 0x7000, 4096), 0)}
    assert line("process_madvise", (3, 0x1000, 1, 20, 0), 4096, vec) == \
        "3, [{iov_base=0x7000, iov_len=4096}], 1, MADV_COLD, 0"
