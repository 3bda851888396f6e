"""Stage 3: ValidatedSpec -> Plan (attach points, output buffer, record layouts, filter placement)."""

from tracespec.plan.model import Attach, Output, Placement, Plan, Schema, Target, TargetKind
from tracespec.plan.planner import make_plan

__all__ = ["Attach", "Output", "Placement", "Plan", "Schema", "Target", "TargetKind", "make_plan"]
