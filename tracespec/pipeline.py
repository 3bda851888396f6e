"""The stages in order, for the commands that need several of them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tracespec.catalogue import load_catalogue
from tracespec.codegen.decoder import render_decoder
from tracespec.codegen.lower import render_c
from tracespec.kernel import KernelProfile, profile_for_version, running_profile
from tracespec.plan import Plan, Target, make_plan
from tracespec.plan.model import ServePlan, SummaryPlan
from tracespec.spec import load_spec
from tracespec.spec.model import Spec
from tracespec.validate import ValidatedSpec, validate


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


def decoder_source(plan: Plan) -> str:
    return render_decoder(plan.schema)
