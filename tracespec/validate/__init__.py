"""Stage 2: Spec + catalogue + kernel profile -> ValidatedSpec (names resolved, fetches decided, filters typed)."""

from tracespec.validate.model import ArgPlan, Fetch, SelectedSyscall, ValidatedSpec
from tracespec.validate.validator import validate, widened

__all__ = ["ArgPlan", "Fetch", "SelectedSyscall", "ValidatedSpec", "validate", "widened"]
