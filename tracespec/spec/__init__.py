"""Stage 1: spec text -> Spec (the YAML schema, with filters parsed by the lark grammar)."""

from tracespec.spec.model import ArgOptions, FetchOptions, Rule, Selector, Spec
from tracespec.spec.parse import load_spec, parse_spec_text

__all__ = ["ArgOptions", "FetchOptions", "Rule", "Selector", "Spec", "load_spec", "parse_spec_text"]
