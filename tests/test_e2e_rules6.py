"""End to end, with real BPF: classes of arguments strace decodes by rules of their own, each a group of
tests/workloads/rules6_workload.c compared line for line with strace -f: pselect6's signal mask, read
through the struct its sixth argument points to; socket addresses shorter than their family, printed
as pointers; the NUMA memory policy calls (modes, flags, node masks, the policy returned)."""

from __future__ import annotations

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

MEMPOLICY = ["get_mempolicy", "set_mempolicy", "mbind", "migrate_pages", "set_mempolicy_home_node"]
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


def test_memory_policies_agree_with_strace(build_dir, tmp_path):
    """Where NUMA is off the calls fail (ENOSYS) and their failing lines are compared. The comparison
    masks numbers of five hex digits and more as addresses (0xADDR): a mask's non-zero longs too, whose
    digits tests/unit/test_rules_classes.py checks."""
    lines = _compare("mempolicy", MEMPOLICY, build_dir, tmp_path)
    assert lines[0] in ("get_mempolicy(NULL, NULL, 0, NULL, 0) = 0",
                        "get_mempolicy(NULL, NULL, 0, NULL, 0) = -1 ENOSYS (Function not implemented)")
    if lines[0].endswith("= 0"):
        assert "get_mempolicy([MPOL_DEFAULT], [0000000000000000], 64, NULL, 0) = 0" in lines
        assert "set_mempolicy(MPOL_BIND, [0xADDR], 2) = 0" in lines
        assert "get_mempolicy([MPOL_BIND], [0xADDR, 0000000000000000], 128, NULL, 0) = 0" in lines
        assert "get_mempolicy([0x8001 /* MPOL_??? */], [0xADDR], 64, NULL, 0) = 0" in lines
        assert ("set_mempolicy(MPOL_BIND, [0xADDR, 0xADDR, 0xADDR], 130) = 0"
                in lines)
    assert any(line.startswith("set_mempolicy(MPOL_BIND, [0xADDR, " + "0000000000000000, " * 31 + "...], 2560)")
               for line in lines)
    assert any(line.startswith("set_mempolicy(MPOL_F_STATIC_NODES|0x7, [0xADDR], 64) = -1 ") for line in lines)
    assert any(line.startswith("set_mempolicy(MPOL_BIND, [], 0) = -1 ") for line in lines)
    assert any(line.startswith("mbind(0xADDR, 8192, MPOL_BIND, [0xADDR], 64, MPOL_MF_MOVE_ALL|0x28) = -1")
               for line in lines)
    assert any(line.startswith("get_mempolicy(0xADDR, 0xADDR, 64, NULL, 0x10 /* MPOL_??? */) = -1 ") for line in lines)
    assert any(line.startswith("set_mempolicy_home_node(0xADDR, 8192, 5, 0x1) = -1 ") for line in lines)
    assert any(line.startswith("migrate_pages(0, 2, [0xADDR], 0x8) = -1 ") for line in lines)


def test_a_node_mask_shows_as_many_longs_as_s_says(build_dir, tmp_path):
    lines = _compare("mempolicy", MEMPOLICY, build_dir, tmp_path, ("-s", "4"))
    assert any(line.startswith("set_mempolicy(MPOL_BIND, [0xADDR, " + "0000000000000000, " * 3 + "...], 2560)")
               for line in lines)


@pytest.mark.parametrize("options", [("-X", "raw"), ("-X", "verbose")], ids=["Xraw", "Xverbose"])
@pytest.mark.parametrize("group,syscalls", [("sigmask", ["pselect6"]), ("mempolicy", MEMPOLICY)],
                         ids=["sigmask", "mempolicy"])
def test_the_classes_follow_the_xlat_options(group, syscalls, options, build_dir, tmp_path):
    """-X raw|verbose: the masks' signals, the modes and flags as numbers, or with their names in comments."""
    _compare(group, syscalls, build_dir, tmp_path, options)
