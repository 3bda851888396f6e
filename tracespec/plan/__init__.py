"""Stage 3: ValidatedSpec -> Plan (attach points, output buffer, record layouts, filter placement)."""

from tracespec.plan.model import Plan, Schema, Target
from tracespec.plan.planner import make_plan

__all__ = ["Plan", "Schema", "Target", "make_plan"]
