"""Every program the generated C declares with TRACEPOINT_PROBE or RAW_TRACEPOINT_PROBE is one the plan
attaches: the loader attaches what the plan lists (BCC used to attach such programs by their name,
whatever the plan said), so a probe the plan forgot would be loaded by nobody and silently missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cpp_lite import active
from tracespec.pipeline import compile_spec
from tracespec.plan.model import ServePlan, SummaryPlan, Target

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.yaml"))
PROBE = re.compile(r"^(RAW_)?TRACEPOINT_PROBE\((\w+)(?:, (\w+))?\)", re.M)

TARGETS = {
    "command": dict(target=Target()),
    "pids, no follow": dict(target=Target(kind="pids", follow=False)),
    "all": dict(target=Target(kind="all", follow=False)),
    "cgroup": dict(target=Target(kind="cgroup", follow=False, cgroup="/sys/fs/cgroup")),
    "record": dict(target=Target(), recorder_bytes=1 << 20, cpus=2),
    "serve": dict(target=Target(kind="cgroup", follow=False), recorder_bytes=0, cpus=2, serve=ServePlan(8, 2)),
    "summary": dict(target=Target(), summary=SummaryPlan()),
}


@pytest.mark.parametrize("how", TARGETS)
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_probe_in_the_c_is_attached_by_the_plan(spec, how):
    try:
        c = compile_spec(str(spec), None, **TARGETS[how])
    except Exception as e:  # a combination the validator refuses is no concern here
        pytest.skip(f"not a valid combination: {e}")
    declared = {f"raw_tracepoint__{m[1]}" if m[0] else f"tracepoint__{m[1]}__{m[2]}"
                for m in PROBE.findall(active(c.c_source))}
    attached = {a.program for a in c.plan.attachments}
    assert declared <= attached, declared - attached


EXIT_PROBE = re.compile(r"^TRACEPOINT_PROBE\(sched, sched_process_exit\)\n\{\n(.*?)^\}", re.M | re.S)


@pytest.mark.parametrize("how", ["command", "pids, no follow", "cgroup", "comm", "serve"])
def test_a_main_thread_ending_first_has_its_line_kept_for_its_process_end_under_every_target(how):
    """A main thread that ends before its other threads (pthread_exit, the raw exit) waits in ts_leaders
    and shows last, with the process's status, under a --cgroup, --comm or serve target as under a
    command or pids (strace -f's order); the C that does it has the task_struct reads it needs."""
    extra = {"comm": dict(target=Target(kind="comm", follow=False, comm=b"sh"))}
    c = compile_spec(str(SPECS[0]), None, **(TARGETS | extra)[how])
    source = active(c.c_source)
    [probe] = EXIT_PROBE.findall(source)
    assert "ts_leader_keep(args, tgid, code, signal)" in probe and "ts_leader_end(args, tgid, signal)" in probe
    assert "static __always_inline s32 ts_task_s32(" in source
    assert "tracepoint__sched__sched_process_exit" in {a.program for a in c.plan.attachments}
