"""End to end, with real BPF: syscalls strace decodes whose arguments tracespec printed as bare numbers
(issue 19), each a group of tests/workloads/rules9_workload.c compared line for line with strace, in
each -X style: sigaltstack's stack_t, the ids getresuid and getresgid write back and the -1 of the
set*id calls, capget and capset's header and capability sets, personality's type and flags, and the
I/O priorities of ioprio_set and ioprio_get."""

from __future__ import annotations

import pytest

from groupcompare import compare_group

pytestmark = pytest.mark.bpf

STYLES = [(), ("-X", "raw"), ("-X", "verbose")]
STYLE_IDS = ["abbrev", "Xraw", "Xverbose"]


def _compare(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple) -> list[str]:
    return compare_group("rules9_workload", group, syscalls, build_dir, tmp_path, options)


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_sigaltstack_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("altstack", ["sigaltstack"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0] == "sigaltstack(NULL, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0"
        assert lines[1] == ("sigaltstack({ss_sp=0xADDR, ss_flags=0, ss_size=16384}, "
                            "{ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0")
        assert lines[4] == "sigaltstack(0x1, NULL) = -1 EFAULT (Bad address)"
        assert lines[5] == ("sigaltstack({ss_sp=0xADDR, ss_flags=0x10 /* SS_??? */, ss_size=16384}, 0x8) "
                            "= -1 EINVAL (Invalid argument)")


def test_ids_written_back_and_unchanged_ids_agree_with_strace(build_dir, tmp_path):
    lines = _compare("ids", ["getresuid", "getresgid", "setreuid", "setresuid", "setfsuid", "setresgid",
                             "setuid"], build_dir, tmp_path, ())
    assert lines[:2] == ["getresuid([0], [0], [0]) = 0", "getresgid([0], [0], [0]) = 0"]
    assert lines[2] == "getresuid(NULL, 0xADDR, 0xADDR) = -1 EFAULT (Bad address)"
    assert lines[3:7] == ["setreuid(-1, 0) = 0", "setresuid(-1, -1, 4294967294) = 0", "setresuid(-1, -1, 0) = 0",
                          "setfsuid(-1) = 0"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_capget_and_capset_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("caps", ["capget", "capset"], build_dir, tmp_path, options)
    if options == ():
        assert lines[0].startswith("capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|")
        # capabilities above the known ones have no names (0xfffffe00, masked as an address)
        assert lines[2].endswith(", inheritable=0xADDR /* CAP_??? */}) = 0")
        assert lines[5] == "capget({version=0xADDR /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, NULL) = 0"
        assert lines[6:9] == ["capget(NULL, 0xADDR) = -1 EFAULT (Bad address)",
                             "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, 0x8) = -1 EFAULT (Bad address)",
                             "capset(0x8, 0xADDR) = -1 EFAULT (Bad address)"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_personality_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare("persona", ["personality"], build_dir, tmp_path, options)
    if options == ():
        # (straceio masks numbers of five hex digits and more as addresses)
        assert lines[:6] == ["personality(0xADDR) = 0 (PER_LINUX)",
                             "personality(PER_LINUX|ADDR_NO_RANDOMIZE) = 0 (PER_LINUX)",
                             "personality(0xADDR) = 0xADDR (PER_LINUX|ADDR_NO_RANDOMIZE)",
                             "personality(0x1 /* PER_??? */|0xADDR) = 0xADDR (PER_LINUX|ADDR_NO_RANDOMIZE)",
                             "personality(PER_LINUX32) = 0xADDR (0x1 /* PER_??? */|0xADDR)",
                             "personality(PER_LINUX) = 0x8 (PER_LINUX32)"]


@pytest.mark.parametrize("options", STYLES, ids=STYLE_IDS)
def test_io_priorities_agree_with_strace(options, build_dir, tmp_path):
    lines = _compare("ioprio", ["ioprio_set", "ioprio_get"], build_dir, tmp_path, options)
    if options == ():
        assert lines[1] == "ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)) = 0"
        assert lines[2] == "ioprio_get(IOPRIO_WHO_PROCESS, 0) = 16388 (IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4))"
        assert lines[6] == ("ioprio_set(0x9 /* IOPRIO_WHO_??? */, 0, IOPRIO_PRIO_VALUE(0x5 /* IOPRIO_CLASS_??? */, "
                            "4)) = -1 EINVAL (Invalid argument)")
