"""End to end, with real BPF: arguments that are arrays whose element count is another argument or the
return value (issue 19), each group of tests/workloads/arrays_workload.c compared line for line with
strace -f: poll's and ppoll's struct pollfd with the revents they return, select's and pselect6's fd_sets
with the sets the kernel wrote back and the time left, getgroups' and setgroups' gids, and the remainder
nanosleep and clock_nanosleep write when a signal interrupts them."""

from __future__ import annotations

import re

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

# the time left and the remainder of an interrupted sleep differ from run to run: only their form counts
# (the seconds too: ppoll's 1 s 500 ns leaves 1 s when it returns within 500 ns, as it may under strace)
LEFT = re.compile(r"(left \{tv_sec=)\d+(, tv_[nu]sec=)\d+\}")
REMAINDER = re.compile(r"(, \{tv_sec=\d+, tv_nsec=)\d+(\}\) = \? ERESTART)")


def _scrub(line: str) -> str:
    return REMAINDER.sub(r"\1N\2", LEFT.sub(r"\1S\2N}", line))


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (), spec_extra: str = "") -> list[str]:
    return compare_group("arrays_workload", group, syscalls, build_dir, tmp_path, options, spec_extra, scrub=_scrub)


def test_poll_arrays_and_the_revents_returned_agree_with_strace(build_dir, tmp_path):
    lines = _compare("poll", ["poll", "ppoll", "write", "read"], build_dir, tmp_path)
    assert lines[0] == "poll([{fd=3, events=POLLIN}, {fd=6, events=POLLOUT}, {fd=-1}], 3, 0) = 1 ([{fd=6, revents=POLLOUT}])"
    assert "poll([{fd=3, events=POLLIN}], 1, 0) = 0 (Timeout)" in lines
    assert "poll(NULL, 0, 0) = 0 (Timeout)" in lines
    assert "poll(0x8, 1, 0) = -1 EFAULT (Bad address)" in lines
    many = next(line for line in lines if ", 40, 0) = 40 (" in line)
    assert many.count("events=") == 32 + 32 and ", ...], 40, 0)" in many and many.endswith(", ...])")
    assert ("ppoll([{fd=3, events=POLLIN}, {fd=6, events=POLLOUT}], 2, {tv_sec=1, tv_nsec=500}, NULL, 8) = 2 "
            "([{fd=3, revents=POLLIN}, {fd=6, revents=POLLOUT}], left {tv_sec=S, tv_nsec=N})") in lines
    assert "ppoll([{fd=3, events=POLLIN}], 1, NULL, NULL, 8) = 1 ([{fd=3, revents=POLLIN}])" in lines
    assert "ppoll([{fd=3, events=POLLIN}], 1, NULL, [USR1], 8) = 1 ([{fd=3, revents=POLLIN}])" in lines
    assert any(line.startswith("ppoll([{fd=3, events=POLLIN}], 1, NULL, 0x") and line.endswith(", 4) = -1 EINVAL "
                                                                                         "(Invalid argument)")
               for line in lines)  # a sigsetsize not the kernel's: the mask's address


def test_poll_with_a_count_of_its_own_shows_that_many(build_dir, tmp_path):
    """The spec's count of elements is strace's -s for arrays: -s 8 shows 8 pollfds, then "..."."""
    lines = _compare("poll", ["poll", "ppoll", "write", "read"], build_dir, tmp_path, ("-s", "8"))
    many = next(line for line in lines if ", 40, 0) = 40 (" in line)
    assert many.count("events=") == 8 + 8


def test_select_fd_sets_and_what_the_kernel_wrote_back_agree_with_strace(build_dir, tmp_path):
    lines = _compare("select", ["select", "pselect6", "write"], build_dir, tmp_path)
    assert lines[0] == "select(7, [3 5], [6], [], {tv_sec=1, tv_usec=0}) = 1 (out [6], left {tv_sec=S, tv_usec=N})"
    assert "select(4, [3], NULL, NULL, {tv_sec=0, tv_usec=100}) = 0 (Timeout)" in lines
    assert "select(7, [3 5], [6], NULL, NULL) = 2 (in [3], out [6])" in lines
    assert "select(3, 0x8, NULL, NULL, NULL) = -1 EFAULT (Bad address)" in lines
    assert "pselect6(6, [3 5], NULL, NULL, {tv_sec=2, tv_nsec=0}, NULL) = 1 (in [3], left {tv_sec=S, tv_nsec=N})" in lines
    assert "pselect6(6, [5], NULL, NULL, {tv_sec=0, tv_nsec=1000}, NULL) = 0 (Timeout)" in lines


def test_group_lists_agree_with_strace(build_dir, tmp_path):
    lines = _compare("groups", ["getgroups", "setgroups"], build_dir, tmp_path)
    assert "getgroups(0, NULL) = 0" in lines
    assert "setgroups(3, [0, 27, 100]) = 0" in lines
    assert "getgroups(64, [0, 27, 100]) = 3" in lines
    assert "getgroups(64, 0x8) = -1 EFAULT (Bad address)" in lines
    assert any(line.startswith("getgroups(1, 0x") and line.endswith("= -1 EINVAL (Invalid argument)") for line in lines)
    assert "setgroups(40, [" + ", ".join(str(1000 + i) for i in range(32)) + ", ...]) = 0" in lines
    assert "setgroups(2, 0x8) = -1 EFAULT (Bad address)" in lines


def test_the_remainder_of_an_interrupted_sleep_agrees_with_strace(build_dir, tmp_path):
    lines = _compare("sleep", ["nanosleep", "clock_nanosleep"], build_dir, tmp_path)
    assert ("nanosleep({tv_sec=5, tv_nsec=0}, {tv_sec=4, tv_nsec=N}) = ? ERESTART_RESTARTBLOCK "
            "(Interrupted by signal)") in lines
    assert ("clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0}, {tv_sec=4, tv_nsec=N}) = ? "
            "ERESTART_RESTARTBLOCK (Interrupted by signal)") in lines
    assert any(line.startswith("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=2000000000, tv_nsec=0}, 0x")
               for line in lines)
    assert any(line.startswith("nanosleep({tv_sec=0, tv_nsec=18446744073709551615}, 0x") for line in lines)


def test_epoll_events_returned_agree_with_strace(build_dir, tmp_path):
    """epoll_wait's events: as many as it returned, printed when it returns (strace's print_array of
    tcp->u_rval elements)."""
    lines = _compare("epoll", ["epoll_wait", "epoll_pwait", "epoll_pwait2", "write"], build_dir, tmp_path)
    assert lines[0] == "epoll_wait(7, [{events=EPOLLOUT, data={u32=7, u64=7}}], 4, 0) = 1"
    assert "epoll_wait(7, 0x8, 4, 0) = -1 EFAULT (Bad address)" in lines
    assert "epoll_wait(8, [], 4, 0) = 0" in lines
    assert "epoll_pwait(7, [{events=EPOLLIN, data={u32=4660, u64=4660}}], 4, 0, [TERM], 8) = 1" in lines
    assert ("epoll_pwait2(7, [{events=EPOLLIN, data={u32=4660, u64=4660}}], 4, {tv_sec=0, tv_nsec=1000}, NULL, 8)"
            " = 1") in lines


def test_message_headers_agree_with_strace(build_dir, tmp_path):
    """sendmsg's struct msghdr read at entry, recvmsg's when it returns (its name length given => written,
    its iovecs' bytes up to what it returned), control messages (SCM_RIGHTS), a failed recvmsg's
    {msg_namelen=N}: copied through the pointers inside the struct."""
    lines = _compare("msg", ["sendmsg", "recvmsg"], build_dir, tmp_path)
    assert lines[0] == ('sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="hello", iov_len=5}, '
                        '{iov_base=" world", iov_len=6}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 11')
    assert "recvmsg(4, {msg_namelen=0}, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)" in lines
    assert "sendmsg(3, 0x8, 0) = -1 EFAULT (Bad address)" in lines
    assert any("msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]" in line
               and line.startswith("recvmsg(") for line in lines)
    assert any('sun_path=@"tracespec-arrays-from"}, msg_namelen=110 => 24,' in line for line in lines)


@pytest.mark.parametrize("options", [("-X", "raw"), ("-X", "verbose"), ("-x",)], ids=["Xraw", "Xverbose", "x"])
@pytest.mark.parametrize("group,syscalls", [("poll", ["poll", "ppoll", "write", "read"]),
                                            ("epoll", ["epoll_wait", "epoll_pwait", "epoll_pwait2", "write"]),
                                            ("msg", ["sendmsg", "recvmsg"])], ids=["poll", "epoll", "msg"])
def test_arrays_follow_the_xlat_and_hex_options(group, syscalls, options, build_dir, tmp_path):
    """-X raw|verbose (the flags as numbers, or with their names in comments) and -x, in the elements too."""
    _compare(group, syscalls, build_dir, tmp_path, options)


# what varies from run to run in the control messages: the timestamps' values (their form stays) and the
# ports the sockets were bound to (straceio makes htons(N) htons(PORT); -X raw and verbose show the bytes)
TIMESTAMP = re.compile(r"(cmsg_type=(?:SO_TIMESTAMP\w*|0x(?:1d|23|25|3f|40|41)(?: /\* SO_TIMESTAMP\w* \*/)?), "
                       r"cmsg_data=)(\{[^}]*\}|\[[^\]]*\])")
PORT = re.compile(r'(?<=sin_port=)"(?:\\x[0-9a-f]{2}){2}"(?= /\* htons\(PORT\) \*/|, )')


def _scrub_cmsg(line: str) -> str:
    line = TIMESTAMP.sub(lambda m: m.group(1) + re.sub(r"=\d+", "=N", m.group(2)), line)
    return PORT.sub('"P"', line)


def _compare_cmsg(build_dir, tmp_path, options: tuple = ()) -> list[str]:
    return compare_group("arrays_workload", "cmsg", ["sendmsg", "recvmsg"], build_dir, tmp_path, options,
                         scrub=_scrub_cmsg)


def test_control_messages_beyond_descriptors_agree_with_strace(build_dir, tmp_path):
    """The control messages loopback datagrams bring (SOL_IP's packet info, TTL, TOS and original
    destination, SO_TIMESTAMP and its kin old and new, IP_RECVERR's extended error, SOL_IPV6's, which
    strace prints by number) and those a sender writes (unknown levels and types, 253 descriptors: 1028
    bytes, -s of them printed), line for line with strace."""
    lines = _compare_cmsg(build_dir, tmp_path)
    first = lines[0]
    assert ("{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, cmsg_data={tv_sec=N, tv_usec=N}}, "
            "{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=if_nametoindex(\"lo\"), "
            "ipi_spec_dst=inet_addr(\"127.0.0.1\"), ipi_addr=inet_addr(\"127.0.0.1\")}}, "
            "{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_TTL, cmsg_data=[64]}, "
            "{cmsg_len=17, cmsg_level=SOL_IP, cmsg_type=IP_TOS, cmsg_data=[0x10]}, "
            "{cmsg_len=32, cmsg_level=SOL_IP, cmsg_type=IP_ORIGDSTADDR, cmsg_data={sa_family=AF_INET, sin_port=htons(PORT), "
            "sin_addr=inet_addr(\"127.0.0.1\")}}]") in first
    assert any("msg_controllen=32, msg_flags=MSG_CTRUNC}" in line for line in lines)
    for name in ("SO_TIMESTAMPNS_OLD", "SO_TIMESTAMPING_OLD", "SO_TIMESTAMPNS_NEW", "SO_TIMESTAMPING_NEW"):
        assert any(f"cmsg_type={name}, cmsg_data=" in line for line in lines), name
    assert any("cmsg_type=IP_RECVERR, cmsg_data={ee_errno=111, ee_origin=2, ee_type=3, ee_code=3" in line
               for line in lines)
    assert any("{cmsg_len=36, cmsg_level=SOL_IPV6, cmsg_type=0x32}" in line for line in lines)
    assert any("{cmsg_len=19, cmsg_level=0x1234 /* SOL_??? */, cmsg_type=0x77}" in line
               and "cmsg_type=0x63 /* IP_??? */}" in line
               # negative ones, unsigned (straceio takes long hex numbers for addresses: the unit tests show them)
               and "cmsg_level=0xADDR /* SOL_??? */, cmsg_type=0xADDR}" in line for line in lines)
    many = lines[-2]  # before "+++ exited with 0 +++"
    assert re.search(r"cmsg_len=1028, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=\[(\d+, ){32}\.\.\.\]\}\], "
                     r"msg_controllen=1032,", many)


@pytest.mark.parametrize("options", [("-X", "raw"), ("-X", "verbose"), ("-x", "-x"), ("-s", "2"), ("-v", "-s", "2")],
                         ids=["Xraw", "Xverbose", "xx", "s2", "v"])
def test_control_messages_follow_the_xlat_hex_and_limit_options(options, build_dir, tmp_path):
    """-X raw|verbose (addresses and ports as their bytes), -xx (the names' text in hex), -s (the arrays'
    elements; not the bytes read), -v (every element)."""
    lines = _compare_cmsg(build_dir, tmp_path, options)
    if options == ("-s", "2"):
        assert any("cmsg_data=[0x1, 0x1, ...]" in line for line in lines)


def test_iovecs_in_pages_not_touched_yet_are_copied_again_at_exit_as_strace_shows_them(build_dir, tmp_path):
    """writev's buffers lie in a file's pages never touched: their copies at entry fault (the array itself
    is read), the slot says so (TS_SLOT_AGAIN), and the exit copies the iovecs again once the kernel has
    read them (before: `iov_base=...`)."""
    lines = _compare("fresh_iov", ["writev"], build_dir, tmp_path)
    assert lines[0] == 'writev(4, [{iov_base="aaaa", iov_len=4}, {iov_base="bbb", iov_len=3}], 2) = 7'


def test_iovecs_whose_buffers_cannot_be_read_show_the_pointer_as_strace_does(build_dir, tmp_path):
    """An element whose buffer cannot be read (iov_base 0x1) or is NULL: strace prints the pointer (its
    printstrn), at entry as at exit; an element past the bytes a readv returned shows "" as before."""
    lines = _compare("bad_iov", ["writev", "readv"], build_dir, tmp_path)
    assert any("{iov_base=0x1, iov_len=5}, {iov_base=NULL, iov_len=3}]" in line for line in lines), lines
    assert any(line.startswith("readv(") and "{iov_base=0x1, iov_len=4}" in line for line in lines), lines
