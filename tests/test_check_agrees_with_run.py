"""`check` accepts exactly the specs that `run` loads, where a filter's string matches approach the
kernel's limits (the verifier's budget of processed instructions; see contains_cost in plan/planner.py).

Generated specs filter openat's filename (copied up to 4095 bytes) with k OR'ed matches of n bytes. The
grid crosses the limits on both sides; a filter's text is at most 4096 characters, so long patterns
come in fewer terms.
"""

from __future__ import annotations

import pytest

from conftest import run_tracespec
from tracespec.errors import SpecError
from tracespec.pipeline import compile_spec

pytestmark = pytest.mark.bpf

GRID = [  # (op, bytes, terms)
    ("contains", 1, 1), ("contains", 8, 1), ("contains", 22, 1), ("contains", 35, 1), ("contains", 36, 1),
    ("contains", 64, 1), ("contains", 150, 1), ("contains", 200, 1), ("contains", 255, 1),
    ("contains", 8, 2), ("contains", 22, 2), ("contains", 8, 8), ("contains", 22, 32), ("contains", 1, 16),
    ("==", 8, 32), ("==", 255, 1), ("startswith", 36, 8), ("startswith", 255, 15),
    # OR'ed whole-string matches that passed check and failed to load until the filter lost its branches
    ("==", 32, 32), ("==", 30, 30), ("==", 64, 16), ("==", 100, 32), ("startswith", 100, 32),
    ("endswith", 64, 16),
]


def _pattern(i: int, n: int) -> str:
    return (f"/x{i:02d}" + "abcdefghijklmnopqrstuvwxyz0123456789" * 8)[:n]


def _spec(op: str, n: int, k: int) -> str:
    terms = " or ".join(f'filename {op} "{_pattern(i, n)}"' for i in range(k))
    return f"version: 1\nsyscalls:\n  - name: openat\n    filter: {terms}\n"


@pytest.mark.parametrize("op,n,k", GRID, ids=lambda v: str(v))
def test_check_accepts_exactly_what_run_loads(tmp_path, op, n, k):
    path = tmp_path / "limits.yaml"
    path.write_text(_spec(op, n, k))
    try:
        compile_spec(str(path))  # what `check` does, in process
        checked = None
    except SpecError as e:
        checked = e.render()
    r = run_tracespec("run", str(path), "-o", "/dev/null", "--", "/bin/true", timeout=300)
    assert "Traceback" not in r.stderr
    if checked is None:
        assert r.returncode == 0, f"check passed a spec run cannot load:\n{r.stderr}"
    else:
        assert r.returncode != 0 and r.stderr.strip() == checked.strip(), \
            f"run behaved otherwise than check said:\ncheck: {checked}\nrun: {r.stderr}"
