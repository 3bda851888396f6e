"""End to end, with real BPF: sendmmsg's and recvmmsg's arrays of struct mmsghdr, each group of
tests/workloads/mmsg_workload.c compared line for line with strace -f: the entries sent (each one's
msg_len once the call returns), the entries received (only as many as it returns, iovecs holding each
one's msg_len bytes, names given => written), descriptors passed, MSG_WAITFORONE, recvmmsg's timeout
and the time left, more messages than -s shows, and the failures (the array's address, or sendmmsg's
entries without msg_len; an array running into unreadable memory: its readable entries, then where)."""

from __future__ import annotations

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

MMSG = ["sendmmsg", "recvmmsg"]


def _compare(group: str, build_dir, tmp_path, options: tuple = (), keep=None) -> list[str]:
    return compare_group("mmsg_workload", group, MMSG, build_dir, tmp_path, options, keep=keep)


def _entry(data: str, length: int, sent: int | None, flags: str = "0", iovs: str | None = None) -> str:
    iov = iovs if iovs is not None else f'[{{iov_base={data}, iov_len={length}}}]'
    n = iov.count("iov_base")
    text = (f"{{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov={iov}, msg_iovlen={n}, msg_controllen=0, "
            f"msg_flags={flags}}}")
    return text + (f", msg_len={sent}}}" if sent is not None else "}")


MSG1 = '"message 01 of the many sent at o"...'


def test_messages_over_a_socket_pair_agree_with_strace(build_dir, tmp_path):
    lines = _compare("unix", build_dir, tmp_path)
    assert lines[0] == (f'sendmmsg(3, [{_entry(chr(34) + "me" + chr(34), 2, 2)}, {_entry(MSG1, 35, 35)}], 2, 0) = 2')
    # 2 queued, 1 taken: the timeout of 0 ends the call after the first; only what it returns shows
    assert lines[1] == ('recvmmsg(4, [' + _entry('"me"', 64, 2) + '], 3, MSG_DONTWAIT, {tv_sec=0, tv_nsec=0}) '
                        '= 1 (left {tv_sec=0, tv_nsec=0})')
    # each entry's iovecs hold its msg_len bytes; an entry the program left empty shows as it is
    assert lines[3].startswith('recvmmsg(4, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="mes", '
                               'iov_len=3}, {iov_base="sage 01 of", iov_len=10}], msg_iovlen=2, msg_controllen=0, '
                               'msg_flags=MSG_TRUNC}, msg_len=13}, {msg_hdr={msg_name=NULL, msg_namelen=0, '
                               'msg_iov=[{iov_base="me", iov_len=3}, {iov_base="", iov_len=10}]')
    assert lines[3].endswith("], 5, MSG_WAITFORONE, NULL) = 4")
    assert "cmsg_type=SCM_RIGHTS, cmsg_data=[3]}], msg_controllen=24, msg_flags=0}, msg_len=35}], 2, 0) = 2" \
        in lines[4]
    assert "msg_flags=MSG_CMSG_CLOEXEC}, msg_len=35}], 2, MSG_DONTWAIT|MSG_CMSG_CLOEXEC, NULL) = 2" in lines[5]


def test_names_given_and_written_agree_with_strace(build_dir, tmp_path):
    lines = _compare("inet", build_dir, tmp_path)
    assert lines[0].startswith('sendmmsg(3, [{msg_hdr={msg_name={sa_family=AF_INET, sin_port=htons(PORT), '
                               'sin_addr=inet_addr("127.0.0.1")}, msg_namelen=16, ')
    assert "msg_namelen=128 => 16, " in lines[1] and "msg_namelen=8 => 16, " in lines[1]


def test_more_messages_than_s_shows_agree_with_strace(build_dir, tmp_path):
    """-s 4: four entries, then "..." (strace's print_array), for the 40 sent and received; the calls of 4
    whole."""
    lines = [line for line in _compare("many", build_dir, tmp_path, ("-s", "4")) if "mmsg(" in line]
    assert len(lines) == 4 and all(line.count("{msg_hdr=") == 4 for line in lines)
    assert [", ...], " in line for line in lines] == [True, True, False, False]
    assert lines[0].endswith("...], 40, 0) = 40")


def test_a_verbose_trace_shows_every_entry_copied(build_dir, tmp_path):
    """-v: no abbreviation, every entry while they are no more than tracespec copies (the calls of 4; of
    the 40, tracespec shows the first 4, then "...": tests/unit/test_mmsghdr.py)."""
    lines = _compare("many", build_dir, tmp_path, ("-v",), keep=lambda line: "], 4, " in line)
    assert len(lines) == 2 and all(line.count("{msg_hdr=") == 4 and "}, ...]" not in line for line in lines)


def test_failures_agree_with_strace(build_dir, tmp_path):
    lines = _compare("failed", build_dir, tmp_path)
    assert lines[0] == (f'sendmmsg(-1, [{_entry(chr(34) + "message 00 of the many sent at o" + chr(34) + "...", 35, None)}, '
                        f'{_entry(MSG1, 35, None)}], 2, 0) = -1 EBADF (Bad file descriptor)')
    assert lines[1:4] == ["sendmmsg(3, NULL, 2, 0) = -1 EFAULT (Bad address)",
                          "sendmmsg(3, 0x8, 2, 0) = -1 EFAULT (Bad address)", "sendmmsg(3, [], 0, 0) = 0"]
    assert lines[4] == "recvmmsg(4, 0xADDR, 2, MSG_DONTWAIT, NULL) = -1 EAGAIN (Resource temporarily unavailable)"
    assert lines[-5:-2] == ["recvmmsg(-1, NULL, 0, 0, NULL) = -1 EBADF (Bad file descriptor)",
                            "recvmmsg(4, [], 0, MSG_DONTWAIT, NULL) = 0 (Timeout)",
                            "recvmmsg(4, [], 0, MSG_DONTWAIT, {tv_sec=0, tv_nsec=0}) = 0 (Timeout)"]
    # the entries read, then where the array became unreadable
    assert lines[-2] == (f'sendmmsg(3, [{_entry(chr(34) + "message 00 of the many sent at o" + chr(34) + "...", 35, 35)}, '
                         '... /* 0xADDR */], 3, 0) = 1')


@pytest.mark.parametrize("options", [("-X", "raw"), ("-X", "verbose"), ("-x",)], ids=["Xraw", "Xverbose", "x"])
def test_the_messages_follow_the_xlat_options(options, build_dir, tmp_path):
    _compare("unix", build_dir, tmp_path, options)


def test_entries_in_pages_not_touched_yet_are_copied_at_exit_as_strace_shows_them(build_dir, tmp_path):
    """Each entry's name lies in a file's page mapped but never touched: BPF's copy at entry cannot fault
    it in, the kernel does as it sends, and the exit copies each faulted entry's name again (the entry
    loop's copies, by their fault bits: with none noted, the names print as addresses)."""
    lines = _compare("fresh", build_dir, tmp_path)
    assert lines[1:] == ["+++ exited with 0 +++"] and lines[0].startswith("sendmmsg(")
    assert lines[0].count('msg_name={sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, '
                          'msg_namelen=16, msg_iov=[{iov_base="hi", iov_len=2}]') == 3
