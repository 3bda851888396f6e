"""End to end, with real BPF: classes of arguments strace decodes by rules of their own, each a group of
tests/workloads/rules6_workload.c compared line for line with strace -f: pselect6's signal mask, read
through the struct its sixth argument points to; socket addresses shorter than their family, printed
as pointers."""

from __future__ import annotations

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

SOCKETS = ["sendto", "connect", "bind", "getsockname", "getpeername", "recvfrom", "sendmsg", "recvmsg"]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = ()) -> list[str]:
    return compare_group("rules6_workload", group, syscalls, build_dir, tmp_path, options)


def test_pselect6_signal_masks_agree_with_strace(build_dir, tmp_path):
    lines = _compare("sigmask", ["pselect6"], build_dir, tmp_path)
    assert lines[0] == "pselect6(4, [3], NULL, NULL, NULL, {sigmask=[USR1], sigsetsize=8}) = 1 (in [3])"
    assert "pselect6(4, [3], NULL, NULL, NULL, {sigmask=~[RTMIN RT_1], sigsetsize=8}) = 1 (in [3])" in lines
    assert "pselect6(4, [3], NULL, NULL, NULL, {sigmask=NULL, sigsetsize=8}) = 1 (in [3])" in lines
    assert "pselect6(4, [3], NULL, NULL, NULL, NULL) = 1 (in [3])" in lines
    assert ("pselect6(4, [3], NULL, NULL, NULL, {sigmask=0xADDR, sigsetsize=4}) = -1 EINVAL "
            "(Invalid argument)") in lines
    assert "pselect6(4, [3], NULL, NULL, NULL, {sigmask=0x8, sigsetsize=8}) = -1 EFAULT (Bad address)" in lines
    assert "pselect6(4, [3], NULL, NULL, NULL, 0x8) = -1 EFAULT (Bad address)" in lines


def test_addresses_shorter_than_their_family_agree_with_strace(build_dir, tmp_path):
    lines = _compare("sockaddr", SOCKETS, build_dir, tmp_path)
    assert lines[0] == 'sendto(3, "hi", 2, 0, 0xADDR, 0) = -1 EINVAL (Invalid argument)'
    assert 'sendto(3, "hi", 2, 0, 0xADDR, -1) = -1 EINVAL (Invalid argument)' in lines
    assert "connect(3, 0xADDR, 1) = -1 EINVAL (Invalid argument)" in lines
    assert "bind(3, {sa_family=AF_INET}, 2) = -1 EINVAL (Invalid argument)" in lines
    assert "getsockname(3, 0xADDR, [0 => 16]) = 0" in lines
    assert "getpeername(5, 0xADDR, [1 => 2]) = 0" in lines
    assert 'recvfrom(5, "a", 1, 0, 0xADDR, [110 => 0]) = 1' in lines
    assert any(line.startswith("recvmsg(5, {msg_name=0xADDR, msg_namelen=1 => 0,") for line in lines)


@pytest.mark.parametrize("options", [("-X", "raw"), ("-X", "verbose")], ids=["Xraw", "Xverbose"])
@pytest.mark.parametrize("group,syscalls", [("sigmask", ["pselect6"])], ids=["sigmask"])
def test_the_classes_follow_the_xlat_options(group, syscalls, options, build_dir, tmp_path):
    """-X raw|verbose: the masks' signals as numbers, or with their names in comments."""
    _compare(group, syscalls, build_dir, tmp_path, options)
