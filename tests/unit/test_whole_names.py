"""Names are matched whole: Python's `$` also matches before a final newline, so a pattern anchored with
it let "openat\n" through as a name (and so towards generated code)."""

from __future__ import annotations

import pytest

from tracespec.catalogue.kinds import parse_kind
from tracespec.errors import TracespecError
from tracespec.spec import load_spec


def test_a_kind_with_a_final_newline_is_refused():
    assert str(parse_kind("obuf(count)")) == "obuf(count)"
    with pytest.raises(ValueError):
        parse_kind("obuf(count)\n")


@pytest.mark.parametrize("entry", ['{name: "openat\\n"}', '"open*\\n"', '{glob: "open*\\n"}'])
def test_a_syscall_name_or_glob_with_a_final_newline_is_a_located_error(tmp_path, entry):
    path = tmp_path / "s.yaml"
    path.write_text(f"version: 1\nsyscalls:\n  - {entry}\n")
    with pytest.raises(TracespecError) as e:
        load_spec(str(path))
    assert e.value.loc is not None and e.value.loc.line == 3
