"""A corpus of bad specs (tests/bad_specs/): each must be refused with one located message.

Every file's first line says what is expected:  # expect: LINE:COL fragment | fragment ...
(`kernel: X.Y` as a fragment checks against that kernel profile instead of the running one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_tracespec
from tracespec.errors import SpecError
from tracespec.pipeline import compile_spec

CORPUS = sorted((ROOT / "tests" / "bad_specs").glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, list[str], str | None]:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    where, _, rest = first[len("# expect: "):].partition(" ")
    fragments = [f.strip() for f in rest.split(" | ") if f.strip()]
    kernel = None
    for f in list(fragments):
        if f.startswith("kernel: "):
            kernel = f[len("kernel: "):]
            fragments.remove(f)
    return where, fragments, kernel


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_bad_spec_is_refused_with_a_located_message(path):
    where, fragments, kernel = _expectation(path)
    with pytest.raises(SpecError) as info:
        compile_spec(str(path), kernel)
    message = info.value.render()
    assert f"{path}:{where}: error:" in message, message
    for f in fragments:
        assert f in message, message
    assert "Traceback" not in message


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("name", ["unknown_syscall", "yaml_syntax", "not_utf8", "deep_nesting"])
def test_check_command_exits_1_with_one_message(name):
    r = run_tracespec("check", f"tests/bad_specs/{name}.yaml")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(f"tests/bad_specs/{name}.yaml:")
    assert r.stderr.count(": error: ") == 1, r.stderr
    assert "\n  hint: " in r.stderr, r.stderr


def test_a_long_contains_fits_under_a_lower_max(tmp_path):
    """The cost of a contains grows with the string it searches: the refused 150-byte pattern of
    bad_specs/filter_contains_too_costly.yaml fits when paths are copied up to 1024 bytes."""
    spec = (ROOT / "tests" / "bad_specs" / "filter_contains_too_costly.yaml").read_text()
    path = tmp_path / "ok.yaml"
    path.write_text(spec.replace("syscalls:", "paths:\n  max: 1024\nsyscalls:"))
    compile_spec(str(path))
