"""strace's rules for constants, 32-bit arguments and strings, on the formatter functions alone."""

from __future__ import annotations

from tracespec.quote import quote
from tracespec.format.special import ioctl_request_text
from tracespec.format.values import Style, constants, enum_text, flags_text, scalar_text
from tracespec.plan.model import ArgField

C = constants()
RAW, VERBOSE = Style(xlat="raw"), Style(xlat="verbose")


def test_flags_known_then_unknown_rest_in_hex():
    assert flags_text(0x14, C.sets["access_mode"], C) == "R_OK|0x10"


def test_flags_with_no_known_bit_get_the_sets_comment():
    assert flags_text(0x8, C.sets["access_mode"], C) == "0x8 /* ?_OK */"
    assert flags_text(0x8, C.sets["close_range_flags"], C) == "0x8 /* CLOSE_RANGE_??? */"


def test_flags_zero_and_leading_enum():
    assert flags_text(0, C.sets["access_mode"], C) == "F_OK"
    assert flags_text(0x80000000, C.sets["open_flags"], C) == "O_RDONLY|0x80000000"


def test_futex_operations_are_one_value_with_the_combinations_strace_names():
    """strace's futexops is printed by printxval: FUTEX_CLOCK_REALTIME only in the combinations it lists,
    any other value the number with FUTEX_???, under -X verbose one comment for the whole."""
    ops = C.sets["futex_op"]
    assert enum_text(0x189, ops) == "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
    assert enum_text(0x189, ops, VERBOSE) == "0x189 /* FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME */"
    assert enum_text(0x101, ops) == "0x101 /* FUTEX_??? */"
    assert enum_text(0x101, ops, VERBOSE) == "0x101 /* FUTEX_??? */"
    assert enum_text(0x63, ops) == "0x63 /* FUTEX_??? */"
    assert enum_text(0x82, ops) == "FUTEX_FD|FUTEX_PRIVATE_FLAG"
    assert enum_text(0x81, ops, RAW) == "0x81"


def test_socket_types_print_the_kind_and_the_flags_as_two_values():
    """strace's tprint_sock_type: a named kind, then | and the flags, each its own number under -X; a
    kind without a name makes the whole value print as the flags, with SOCK_???."""
    st = C.sets["socket_type"]
    assert flags_text(0x80802, st, C) == "SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK"
    assert flags_text(0x80002, st, C, RAW) == "0x2|0x80000"
    assert flags_text(0x80805, st, C, VERBOSE) == "0x5 /* SOCK_SEQPACKET */|0x80800 /* SOCK_CLOEXEC|SOCK_NONBLOCK */"
    assert flags_text(0x1, st, C, VERBOSE) == "0x1 /* SOCK_STREAM */"
    assert flags_text(0x80040, st, C) == "SOCK_CLOEXEC|0x40"
    assert flags_text(0x80040, st, C, VERBOSE) == "0x80040 /* SOCK_CLOEXEC|0x40 */"
    assert flags_text(0xf, st, C) == "0xf /* SOCK_??? */"
    assert flags_text(0, st, C) == "0"
    assert flags_text(0, st, C, RAW) == "0"
    assert flags_text(0, st, C, VERBOSE) == "0"


def test_statx_flags_print_the_sync_type_then_the_at_flags():
    """strace's statx: printflags of the sync type (both bits named as flags), then | and the AT_ flags,
    neither with a default comment; under -X raw a sync type of 0 prints nothing."""
    sf = C.sets["at_statx_flags"]
    assert flags_text(0, sf, C) == "AT_STATX_SYNC_AS_STAT"
    assert flags_text(0, sf, C, RAW) == ""
    assert flags_text(0, sf, C, VERBOSE) == "0 /* AT_STATX_SYNC_AS_STAT */"
    assert flags_text(0x900, sf, C) == "AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT"
    assert flags_text(0x900, sf, C, RAW) == "|0x900"
    assert flags_text(0x900, sf, C, VERBOSE) == \
        "0 /* AT_STATX_SYNC_AS_STAT */|0x900 /* AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT */"
    assert flags_text(0x6000, sf, C) == "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC"
    assert flags_text(0x10006100, sf, C, RAW) == "0x6000|0x10000100"
    assert flags_text(0x10006100, sf, C) == "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW|0x10000000"
    assert flags_text(0x10000000, sf, C, VERBOSE) == "0 /* AT_STATX_SYNC_AS_STAT */|0x10000000"
    assert flags_text(0x4100, sf, C, VERBOSE) == "0x4000 /* AT_STATX_DONT_SYNC */|0x100 /* AT_SYMLINK_NOFOLLOW */"


def test_enum_unknown_value_gets_the_sets_comment():
    assert enum_text(0x52, C.sets["socket_options"]) == "0x52 /* SO_??? */"
    assert enum_text(9, C.sets["socket_options"]) == "SO_KEEPALIVE"


def test_xlat_styles_raw_and_verbose():
    assert flags_text(0x14, C.sets["access_mode"], C, RAW) == "0x14"
    assert flags_text(0x14, C.sets["access_mode"], C, VERBOSE) == "0x14 /* R_OK|0x10 */"
    assert enum_text(0, C.sets["fcntl_cmd"], VERBOSE) == "0 /* F_DUPFD */"
    assert enum_text(0x52, C.sets["socket_options"], VERBOSE) == "0x52 /* SO_??? */"


def test_32_bit_arguments_are_never_sign_extended():
    flags = ArgField("mode", 2, "flags(access_mode)", 4, True)
    assert scalar_text(-0x80000000, flags) == "0x80000000 /* ?_OK */"
    max_fd = ArgField("max_fd", 1, "uint", 4, False)
    assert scalar_text(-1, max_fd) == "4294967295"


def test_ioctl_requests_by_name_or_ioc():
    assert ioctl_request_text(0x5401) == "TCGETS"
    assert ioctl_request_text(0x40049409) == "BTRFS_IOC_CLONE or FICLONE"
    assert ioctl_request_text(0x80045499) == "_IOC(_IOC_READ, 0x54, 0x99, 0x4)"
    assert ioctl_request_text(0xc0109409) == "_IOC(_IOC_READ|_IOC_WRITE, 0x94, 0x9, 0x10)"


def test_hex_strings_as_strace_x_and_xx():
    assert quote(b"ab\0", hex_strings=1) == '"\\x61\\x62\\x00"'
    assert quote(b"ab\n", hex_strings=1) == '"ab\\n"'
    assert quote(b"ab", hex_strings=2) == '"\\x61\\x62"'
    assert quote(b"\0\1", hex_strings=0) == '"\\0\\1"'


def test_value_names_are_what_the_text_shows_split_into_a_list():
    """JSON's NAME_names: the same names as the text form, as a list (unknown bits last, in hex)."""
    from tracespec.format.values import value_names

    def f(kind: str, size: int = 4) -> ArgField:
        return ArgField("x", 0, kind, size, True)

    assert value_names(0x14, f("flags(access_mode)")) == ["R_OK", "0x10"]
    assert value_names(0, f("flags(access_mode)")) == ["F_OK"]
    assert value_names(0, f("flags(mmap_prot)")) == ["PROT_NONE"]
    assert value_names(0x8, f("flags(close_range_flags)")) == ["0x8"]
    assert value_names(1, f("enum(seek_whence)")) == ["SEEK_CUR"]
    assert value_names(0x52, f("enum(seek_whence)")) == []
    assert value_names(9, f("sig")) == ["SIGKILL"]
    assert value_names(-100, f("dirfd")) == ["AT_FDCWD"]
    assert value_names(3, f("dirfd")) is None and value_names(3, f("int")) is None
