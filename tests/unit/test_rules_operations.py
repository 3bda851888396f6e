"""strace's per-operation arguments (futex by command, prctl by option, arch_prctl by code) on the
printers of format/special.py, for the cases the end-to-end test cannot compare: arguments strace reads
from memory that tracespec does not copy (their address shows, as strace prints when it cannot read)."""

from __future__ import annotations

from schemas import syscall_infos
from tracespec.decode.events import SyscallEvent
from tracespec.format.special import special
from tracespec.format.values import Style, constants
from tracespec.wire.records import EnterRecord, ExitRecord

C = constants().values
VERBOSE = Style(xlat="verbose")


def infos() -> dict:
    return syscall_infos(("futex", "prctl", "arch_prctl"))


def call(name: str, args: tuple, ret: int) -> SyscallEvent:
    info = infos()[name]
    full = tuple(args) + (0,) * (len(info.args) - len(args))
    enter = EnterRecord(0, 1, 1, info.nr, 0, 0, b"t", full, ())
    exit_ = ExitRecord(1, 1, 1, info.nr, 0, 0, ret, ())
    return SyscallEvent(info, info.nr, 1, 1, "t", enter, exit_, full, {}, {})


def test_futex_wait_without_a_copy_of_its_timeout_shows_its_address_and_drops_unused_arguments():
    ev = call("futex", (0x5000, C["FUTEX_WAIT_PRIVATE"], 3, 0x7000, 0x9000, 0xFF), -11)
    assert special(ev)[0] == "0x5000, FUTEX_WAIT_PRIVATE, 3, 0x7000"


def test_futex_lock_pi_shows_only_its_timeout():
    ev = call("futex", (0x5000, C["FUTEX_LOCK_PI"], 3, 0, 0x9000, 0xFF), 0)
    assert special(ev)[0] == "0x5000, FUTEX_LOCK_PI, NULL"


def test_futex_bitset_styles():
    ev = call("futex", (0x5000, C["FUTEX_WAKE_BITSET"], 1, 0, 0, 0xFFFFFFFF), 0)
    assert special(ev, VERBOSE)[0] == "0x5000, 0xa /* FUTEX_WAKE_BITSET */, 1, 0xffffffff /* FUTEX_BITSET_MATCH_ANY */"


def test_prctl_set_name_shows_the_uncopied_string_by_address():
    ev = call("prctl", (C["PR_SET_NAME"], 0x6000, 5, 6, 7), 0)
    assert special(ev)[0] == "PR_SET_NAME, 0x6000"


def test_prctl_get_dumpable_return_is_named_unless_it_fails():
    assert special(call("prctl", (C["PR_GET_DUMPABLE"],), 2))[2] == "2 (SUID_DUMP_ROOT)"
    assert special(call("prctl", (C["PR_GET_DUMPABLE"],), -22))[2] is None


def test_arch_prctl_get_fs_shows_its_address():
    ev = call("arch_prctl", (C["ARCH_GET_FS"], 0), 0)
    assert special(ev)[0] == "ARCH_GET_FS, NULL"
    assert special(call("arch_prctl", (C["ARCH_SET_FS"], 0x7F00), 0))[0] == "ARCH_SET_FS, 0x7f00"
