"""What the planner decides for each shipped spec and kernel profile: attach mode, output buffer,
families, where each record is built, which helpers of tracespec.bpf.h the program calls. These replace
most byte-for-byte C goldens: a change of decision shows here, by name."""

from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT
from cpp_lite import active
from tracespec.codegen.lower import HEADER_END_MARK, TASKS_END_MARK
from tracespec.pipeline import compile_spec
from tracespec.plan.model import (FIXED_PARAMS, TARGET_TASK_CGROUP_MEMBERS, TARGET_TASK_COMM_MEMBERS, ParamIndex,
                                  ServePlan, SummaryPlan, Target, TargetKind)

SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.yaml"))
PROFILES = ("4.19", "6.1")
# TS_NEED_<name> -> the C function it selects
HELPER_FUNCTIONS = {"PPID": "ts_ppid", "FAILED": "ts_failed", "LOG2": "ts_log2", "PUT_STR": "ts_put_str",
                    "PUT_STR_RET": "ts_put_str_ret", "PUT_BUF": "ts_put_buf", "USER_INT": "ts_user_int",
                    "PUT_PTRCOUNT": "ts_put_ptrcount", "TASK_S32": "ts_task_s32", "TABLE": "ts_table_slot",
                    "USER_U64": "ts_user_u64", "DIRENTS": "ts_put_dirents"}
IMPLIED = {"PUT_STR_RET": {"PUT_STR"}, "TABLE": {"PUT_STR", "PUT_BUF", "USER_INT"}}  # helpers that call others
# the header's code the program calls that is not an optional helper itself: the summary's accounting
# and the array copiers the preamble instantiates
CALLS_IMPLYING = {r"ts_account\(": {"LOG2", "FAILED"}, r"ts_put_strv_\d+_\d+\(": {"PUT_STR"},
                  r"ts_put_iov_\d+_\d+\(": {"PUT_BUF"}, r"ts_put_elems_\d+_\d+\(": {"PUT_BUF"}}


def _compile(spec: str, kernel: str, **options):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_spec(spec if os.path.isabs(spec) else f"specs/{spec}", kernel, **options)
    finally:
        os.chdir(cwd)


# (spec, profile) -> attach, output, families, generic syscalls, helpers
DECISIONS = {
    ("all.yaml", "4.19"): ("raw_tp", "perfbuf", 0, 335, {"TASK_S32"}),
    ("all.yaml", "6.1"): ("raw_tp", "ringbuf", 0, 362, {"TASK_S32"}),
    ("fileio.yaml", "6.1"): ("syscall_tp", "ringbuf", 10, 1, {"PUT_BUF", "PUT_STR", "TABLE", "TASK_S32", "USER_INT"}),
    ("failed.yaml", "6.1"): ("raw_tp", "ringbuf", 149, 145, {"DIRENTS", "FAILED", "PUT_BUF", "PUT_PTRCOUNT", "PUT_STR",
                                                           "TABLE", "TASK_S32", "USER_INT", "USER_U64"}),
    ("failed.yaml", "4.19"): ("raw_tp", "perfbuf", 138, 134, {"FAILED", "PUT_BUF", "PUT_PTRCOUNT", "PUT_STR",
                                                            "PUT_STR_RET", "TASK_S32", "USER_INT", "USER_U64"}),
    ("network.yaml", "4.19"): ("raw_tp", "perfbuf", 12, 6, {"PUT_BUF", "TASK_S32", "USER_INT", "USER_U64"}),
}


@pytest.mark.parametrize("spec,kernel", sorted(DECISIONS))
def test_plan_decisions(spec, kernel):
    p = _compile(spec, kernel).plan
    attach, output, families, generic, helpers = DECISIONS[spec, kernel]
    assert (p.attach, p.output, len(p.families), len(p.generic), set(p.helpers)) == \
        (attach, output, families, generic, helpers)


def test_all_yaml_records_go_straight_into_the_ring_where_there_is_one():
    """Raw-argument records with no copies and no filter are built in place in the ring buffer; perf
    buffers take them from the stack."""
    assert _compile("all.yaml", "6.1").plan.generic_enter_buffer == "ring"
    assert _compile("all.yaml", "4.19").plan.generic_enter_buffer == "stack"


@pytest.mark.parametrize("spec", SPECS)
def test_records_with_copies_are_built_in_scratch(spec):
    for fam in _compile(spec, "6.1").plan.families:
        if fam.table:  # the table-driven programs build every record in scratch
            assert (fam.enter_buffer, fam.exit_buffer) == ("scratch", "scratch"), fam.name
            continue
        if any(not s.inline for s in fam.enter.slots) or fam.stash:
            assert fam.enter_buffer == "scratch", fam.name
        if not fam.enter.slots and fam.filter is None:
            assert fam.enter_buffer == "ring", fam.name


def test_a_summary_builds_no_record_in_the_ring():
    p = _compile("fileio.yaml", "6.1", summary=SummaryPlan(by="process")).plan
    assert {"LOG2", "FAILED"} <= p.helpers
    assert "ring" not in {f.enter_buffer for f in p.families} | {f.exit_buffer for f in p.families}


def test_filter_fields_select_their_helpers(tmp_path):
    filtered, plain = tmp_path / "filtered.yaml", tmp_path / "plain.yaml"
    filtered.write_text('version: 1\nsyscalls:\n  - openat\nfilter: "ppid == 1 || errno == 2"\n')
    plain.write_text("version: 1\nsyscalls:\n  - openat\n")
    assert {"PPID", "FAILED"} <= _compile(str(filtered), "6.1").plan.helpers
    assert not {"PPID", "FAILED"} & _compile(str(plain), "6.1").plan.helpers


def test_fixed_parameters_are_named_once():
    p = _compile("all.yaml", "6.1").plan
    assert [(q.index, q.name) for q in p.params[:len(ParamIndex)]] == [(int(i), FIXED_PARAMS[i]) for i in ParamIndex]


def _called(c: str) -> set[str]:
    """Optional helpers the program calls, outside tracespec.bpf.h's own text (after the preprocessor's
    choices: tasks.bpf.h has code for every target)."""
    program = active(c).split(HEADER_END_MARK, 1)[1]
    out = {need for need, fn in HELPER_FUNCTIONS.items() if re.search(rf"\b{fn}\(", program)}
    for call, needs in CALLS_IMPLYING.items():
        if re.search(rf"\b{call}", program):
            out |= needs
    for need in list(out):
        out |= IMPLIED.get(need, set())
    return out


MODES = [{}, {"summary": SummaryPlan(by="thread")}, {"recorder_bytes": 0, "cpus": 2}]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("kernel", PROFILES)
@pytest.mark.parametrize("mode", range(len(MODES)))
def test_the_planned_helpers_are_the_called_ones(spec, kernel, mode):
    """No render-and-grep loop: the plan's helper set is exactly what the rendered program calls."""
    c = _compile(spec, kernel, **MODES[mode])
    assert set(c.plan.helpers) == _called(c.c_source)
    for need in c.plan.helpers:
        assert f"#define TS_NEED_{need} 1" in c.c_source


@pytest.mark.parametrize("kind", ["command", "pids", "all", "cgroup", "comm", "serve"])
def test_signals_sent_are_recorded_for_every_target(kind):
    """signal_generate runs in the sender: a target known by its tasks' ids is looked up by the receiver's;
    a cgroup's, serve's or a name's is tested on the receiver's task_struct, at offsets from BTF."""
    options = {"command": dict(target=Target()), "pids": dict(target=Target(kind=TargetKind.PIDS)),
               "all": dict(target=Target(kind=TargetKind.ALL)),
               "cgroup": dict(target=Target(kind=TargetKind.CGROUP, cgroup="/sys/fs/cgroup/x")),
               "comm": dict(target=Target(kind=TargetKind.COMM, comm=b"sh")),
               "serve": dict(target=Target(kind=TargetKind.CGROUP, follow=False), recorder_bytes=0, cpus=2,
                             serve=ServePlan(8, 2))}[kind]
    compiled = _compile("all.yaml", "6.1", **options)
    p = compiled.plan
    assert p.signals and p.signals_sent
    assert "raw_tracepoint__signal_generate" in {a.program for a in p.attachments}
    c = active(compiled.c_source)
    assert "RAW_TRACEPOINT_PROBE(signal_generate)" in c
    walked = {"cgroup": TARGET_TASK_CGROUP_MEMBERS, "serve": TARGET_TASK_CGROUP_MEMBERS,
              "comm": TARGET_TASK_COMM_MEMBERS}.get(kind, ())
    params = [prm.name for prm in p.params]
    if not walked:
        assert p.target_task_param is None and "#define TS_P_TT_" not in c and "ts_task_cgroup_id(" not in c
        return
    at = p.target_task_param
    assert params[at:at + len(walked)] == [f"btf:{m}" for m in walked]
    for i, member in enumerate(walked):
        assert f"#define TS_P_TT_{member.split('.')[1].upper()} {at + i}" in c
    receiver = {"cgroup": "return ts_task_cgroup_id(task) == ts_param(TS_P_TARGET_CGROUP_ID);",
                "serve": "return ts_serve_slot_of(ts_task_cgroup_id(task)) >= 0;",
                "comm": "return ts_task_comm_is(task);"}[kind]
    assert receiver in c
    if kind == "serve":  # to the receiver's recorder, not the sender's
        assert "ts_serve_output_to(ctx, r, TS_HEADER_SIZE + TS_SIGINFO_SIZE, ts_serve_slot_of(ts_task_cgroup_id(task)))" in c


def test_a_summary_records_no_signals_and_counts_rt_sigreturn_at_its_exit():
    compiled = _compile("all.yaml", "6.1", summary=SummaryPlan(by="syscall"))
    p = compiled.plan
    assert not p.signals and not p.signals_sent and p.sigreturn_exit and not p.sigreturn_frame
    assert "(nr) = TS_NR_RT_SIGRETURN" in active(compiled.c_source)
    assert "(nr) = TS_NR_RT_SIGRETURN" not in active(_compile("all.yaml", "6.1").c_source)


def test_ring_wakeups_are_batched_by_the_rings_size():
    """Each CPU wakes the reader once it wrote 1/64 of the ring (at most 1 MiB, at least a page), and
    every submit of the ring buffer passes that rule's flags; perf buffers and recorders keep theirs."""
    c = _compile("fileio.yaml", "6.1")
    assert c.plan.wakeup_batch == 1 << 20
    assert "#define TS_WAKE_BYTES 1048576" in c.c_source
    body = c.c_source.split(HEADER_END_MARK, 1)[1]
    for call in re.findall(r"ringbuf_(?:submit|output)\([^;]*;", body):
        assert "ts_wake_flags(" in call, call
    assert _compile("fileio.yaml", "6.1", buffer_bytes=16 << 20).plan.wakeup_batch == 256 << 10
    assert _compile("fileio.yaml", "6.1", buffer_bytes=64 << 10).plan.wakeup_batch == 4096
    assert _compile("fileio.yaml", "4.19").plan.wakeup_batch == 0  # perf buffers
    assert _compile("fileio.yaml", "6.1", recorder_bytes=0, cpus=2).plan.wakeup_batch == 0


def test_an_exit_tests_the_retry_bit_before_the_hash():
    """Where the kernel has atomic bit operations, an exit looks ts_retry up only when the thread's bit
    says an entry stored something there."""
    c = _compile("fileio.yaml", "6.1")
    assert c.plan.retry and c.plan.retry_bitmap
    handlers = c.c_source.split(TASKS_END_MARK, 1)[1]
    lookups = [ln for ln in handlers.splitlines() if "ts_retry.lookup(" in ln]
    assert lookups and all("ts_retry_take(" in ln for ln in lookups), lookups
    assert "ts_retry_mark(rtid);\n        ts_retry.update(&rtid, &rt);" in handlers
    old = _compile("fileio.yaml", "4.19")
    assert old.plan.retry and not old.plan.retry_bitmap
    assert "#define ts_retry_take(tid) 1" in active(old.c_source)
    assert "#define ts_retry_take(tid) 1" not in active(c.c_source)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("kernel", PROFILES)
def test_no_call_names_a_helper_bcc_looks_up_in_kallsyms(spec, kernel):
    """BCC's rewriter looks up each call of bpf_probe_read_user(_str) in /proc/kallsyms, and bcc 0.26
    rebuilds its table of every kernel symbol per lookup (tens of ms a call site): the C calls the helpers
    under tracespec.bpf.h's own names."""
    c = re.sub(r"/\*.*?\*/", "", _compile(spec, kernel).c_source, flags=re.S)
    assert not re.search(r"\bbpf_probe_read_user(_str)?\s*\(", c)
    if kernel == "6.1":
        assert "#define TS_READ_USER ts_probe_read_user\n" in c and "#define TS_READ_USER_STR ts_probe_read_user_str\n" in c


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("follow", (True, False))
def test_a_started_command_and_processes_given_by_pid_share_one_program(spec, follow):
    """-p's program is the started command's (never armed), so the compile ./setup keeps in the cache for
    each shipped spec serves both targets."""
    for kernel in PROFILES:
        command = _compile(spec, kernel, target=Target(TargetKind.COMMAND, follow=follow)).c_source
        pids = _compile(spec, kernel, target=Target(TargetKind.PIDS, follow=follow)).c_source
        assert command == pids
