"""The stages in order, for the commands that need several of them."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from tracespec.catalogue import load_catalogue
from tracespec.codegen.decoder import render_decoder
from tracespec.codegen.lower import render_c
from tracespec.errors import TracespecError
from tracespec.kernel import KernelProfile, profile_for_version, running_profile
from tracespec.plan import Attach, Plan, Target, make_plan
from tracespec.plan.model import ServePlan, SummaryPlan
from tracespec.plan.restrict import restricted
from tracespec.runtime import objcache
from tracespec.spec import load_spec
from tracespec.spec.model import Spec
from tracespec.validate import ValidatedSpec, validate, widened


TABLE_CHOICES = {"1": True, "0": False}  # TRACESPEC_TABLE: for comparing the two ways on one workload


@dataclass(frozen=True)
class Compiled:
    validated: ValidatedSpec
    plan: Plan
    c_source: str


_running: list[KernelProfile] = []  # the running kernel's profile, read once (its tracefs formats: ~10 ms)


def profile(kernel: str | None) -> KernelProfile:
    if kernel:
        return profile_for_version(kernel)
    if not _running:
        _running.append(running_profile())
    return _running[0]


def check(spec: str | Spec, kernel: str | None = None) -> ValidatedSpec:
    """spec: a path, or a spec the caller has loaded already (and read once)."""
    loaded = load_spec(spec) if isinstance(spec, str) else spec
    return validate(loaded, load_catalogue(), profile(kernel))


def compile_spec(spec: str | Spec, kernel: str | None = None, target: Target = Target(),
                 buffer_bytes: int | None = None, ring_cap: int = 0, summary: SummaryPlan | None = None,
                 recorder_bytes: int | None = None, cpus: int = 1, serve: ServePlan | None = None,
                 table: bool | None = None) -> Compiled:
    """table: the planner's choice of table-driven families (plan.planner.make_plan); None takes it from
    TRACESPEC_TABLE (1: every family the table can describe, 0: none) or leaves it to the planner."""
    v = check(spec, kernel)
    if table is None:
        table = TABLE_CHOICES.get(os.environ.get("TRACESPEC_TABLE", ""))
    plan = make_plan(v, target, buffer_bytes, ring_cap=ring_cap, summary=summary, recorder_bytes=recorder_bytes,
                     cpus=cpus, serve=serve, table=table)
    return Compiled(v, plan, render_c(plan))


# TRACESPEC_WIDE: 1 runs a selection on the wide program (compiled if it must be: ./setup and the tests), 0
# never; unset, a run takes it when the spec's own program is not in the cache and the wide one is
WIDE_CHOICES = {"1": True, "0": False}


def compile_for_run(spec: str | Spec, kernel: str | None = None, target: Target = Target(),
                    buffer_bytes: int | None = None, ring_cap: int = 0, summary: SummaryPlan | None = None,
                    ) -> Compiled:
    """compile_spec's program, or the wide program that records the same syscalls (plan/restrict.py): a
    spec that only selects syscalls, with the options of one whose wide program is in the cache, starts
    without a compile."""
    own = compile_spec(spec, kernel, target, buffer_bytes, ring_cap=ring_cap, summary=summary)
    choice = WIDE_CHOICES.get(os.environ.get("TRACESPEC_WIDE", ""))
    if choice is False or not _widenable(own):
        return own
    if choice is None and objcache.has(own.c_source):
        return own
    try:
        plan, c_source = compile_wide(own, target, buffer_bytes, ring_cap, summary)
    except TracespecError:  # a limit only the wide spec reaches (another syscall's record over 8 KiB...)
        return own
    if choice is None and not objcache.has(c_source):
        return own
    return Compiled(own.validated, restricted(plan, own.plan), c_source)


def compile_wide(own: Compiled, target: Target = Target(), buffer_bytes: int | None = None,
                 ring_cap: int = 0, summary: SummaryPlan | None = None) -> tuple[Plan, str]:
    """The wide plan of own's spec (as compile_spec made it, with these options) and its C."""
    attach = own.plan.attach
    # rt_sigreturn's frame is read by the dispatchers when it is traced: only when the spec selects it;
    # on syscall tracepoints, only the syscalls that have one
    keep = (lambda sc: sc.name != "rt_sigreturn" and (sc.event is not None or attach != Attach.SYSCALL_TP))
    v = replace(widened(own.validated, load_catalogue(), keep), bookkeeping=())  # (-y's: all are selected)
    plan = make_plan(v, target, buffer_bytes, ring_cap=ring_cap, summary=summary,
                     table=TABLE_CHOICES.get(os.environ.get("TRACESPEC_TABLE", "")), wide_attach=attach)
    return plan, render_c(plan)


def _widenable(c: Compiled) -> bool:
    """A spec whose program differs from its wide one only in what it selects: no filter (compiled into
    each program), no recorder or serve."""
    v, p = c.validated, c.plan
    return (v.filter is None and v.trigger is None and all(s.filter is None for s in v.syscalls)
            and p.recorder is None and p.serve is None)


def decoder_source(plan: Plan) -> str:
    return render_decoder(plan.schema)
