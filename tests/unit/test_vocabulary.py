"""The typed vocabulary: each choice the catalogue or the planner makes is a member of one str-enum, which
reads as its plain value wherever it ends up (f-strings, Jinja, JSON), on every Python version."""

from __future__ import annotations

import json
import os

import jinja2
import pytest

from conftest import ROOT
from tracespec.catalogue.kinds import KINDS, NAMED_CAPTURES, Capture, Phase
from tracespec.format.traceheader import CAPTURES, PHASES, check_schema
from tracespec.pipeline import compile_spec
from tracespec.spec.parse import parse_spec_text
from tracespec.plan.model import Attach, Output, Placement, Schema, Target, TargetKind

ENUMS = (Capture, Phase, Attach, Output, TargetKind, Placement)
MEMBERS = [m for e in ENUMS for m in e]
SPECS = sorted(p.name for p in (ROOT / "specs").glob("*.yaml"))


def _plan(spec: str, kernel: str, **options):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_spec(f"specs/{spec}", kernel, **options).plan
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_a_member_reads_as_its_value_everywhere(member):
    value = member.value
    assert member == value and hash(member) == hash(value)
    assert str(member) == value and format(member) == value and f"{member}" == value and f"{member:>1}" == value
    assert json.dumps(member) == json.dumps(value) and json.dumps({member: 1}) == json.dumps({value: 1})
    assert jinja2.Template("{{ m }}|{{ m == v }}").render(m=member, v=value) == f"{value}|True"


def test_the_catalogue_captures_and_phases_are_exactly_the_enums():
    # fdinode, sockends and dirents are no argument's: the planner adds them to the exits of socket,
    # bind ... for fd_paths, and of getdents beside its buffer
    assert {info.capture for info in KINDS.values()} == set(Capture) - NAMED_CAPTURES
    assert {info.at for info in KINDS.values()} == set(Phase)
    assert all(type(info.capture) is Capture and type(info.at) is Phase for info in KINDS.values())


def test_a_trace_header_accepts_the_captures_a_slot_can_have_and_the_phases_a_record_can_have():
    assert CAPTURES == {c.value for c in Capture} - {Capture.NONE.value}
    assert PHASES == {Phase.ENTER.value, Phase.EXIT.value}


def _planned_words(plan):
    """Every vocabulary value a plan holds, with the enum it should be a member of."""
    yield Attach, plan.attach
    yield Output, plan.output
    yield TargetKind, plan.target.kind
    yield Placement, plan.generic_enter_buffer
    yield Placement, plan.generic_exit_buffer
    for fam in plan.families:
        yield Placement, fam.enter_buffer
        yield Placement, fam.exit_buffer
    for lay in plan.schema.layouts:
        yield Phase, lay.phase
        for slot in lay.slots:
            yield Capture, slot.capture


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("kernel", ("4.19", "6.1"))
def test_the_planner_produces_members_only(spec, kernel):
    for enum, word in _planned_words(_plan(spec, kernel)):
        assert type(word) is enum, (enum, word)


def test_the_planner_uses_every_attach_output_and_placement():
    """The enums hold nothing the planner cannot produce: across kernels and targets, each member shows up."""
    plans = [_plan(spec, kernel) for spec in SPECS for kernel in ("4.14", "4.19", "6.1")]
    plans.append(compile_spec(parse_spec_text("version: 1\nsyscalls: [socket, bind]\nfd_paths: true\n", "fd.yaml"),
                              "6.1").plan)  # fd_paths: the inodes of new descriptors, sockets' endpoints
    seen = {word for plan in plans for _, word in _planned_words(plan)}
    assert set(Attach) | set(Output) | set(Placement) <= seen
    assert {lay.phase for plan in plans for lay in plan.schema.layouts} == {Phase.ENTER, Phase.EXIT}
    assert {sl.capture for plan in plans for lay in plan.schema.layouts for sl in lay.slots} == \
        set(Capture) - {Capture.NONE}


def test_a_schema_read_back_from_json_holds_members_again():
    schema = _plan("failed.yaml", "6.1").schema
    data = json.loads(json.dumps(schema.to_json()))
    check_schema(data)
    back = Schema.from_json(data)
    assert back == schema
    for lay in back.layouts:
        assert type(lay.phase) is Phase
        assert all(type(sl.capture) is Capture for sl in lay.slots)


def test_a_target_kind_given_by_its_word_becomes_a_member_and_a_wrong_word_is_refused():
    assert Target(kind="pids").kind is TargetKind.PIDS
    assert Target().kind is TargetKind.COMMAND
    with pytest.raises(ValueError):
        Target(kind="everyone")
