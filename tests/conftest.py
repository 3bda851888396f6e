"""Shared test set-up. Tests that load BPF need root and the machine ./setup prepares (CI has both)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ROOT / "tests" / "workloads"
TRACESPEC = str(Path(sys.executable).with_name("tracespec"))


# No example database: the property tests fix their examples, and the user running the unit tests may
# not be able to write .hypothesis/ into the work tree.
settings.register_profile("tracespec", database=None)
settings.load_profile("tracespec")


def pytest_configure(config):
    """The suite's own program cache (runtime/objcache), empty at its start: what it loads does not depend
    on what this machine compiled before, and both the compile and the cache's path are taken. A
    TRACESPEC_CACHE given by the caller (off, or a directory) is kept."""
    if "TRACESPEC_CACHE" not in os.environ:
        import tempfile

        os.environ["TRACESPEC_CACHE"] = tempfile.mkdtemp(prefix="tracespec-test-cache-")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current code generator instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build")


def compile_workload(name: str, build_dir: Path) -> Path:
    """Compile tests/workloads/NAME.c with the system compiler."""
    src = WORKLOADS / f"{name}.c"
    out = build_dir / name
    if not out.exists():
        cc = shutil.which("cc") or shutil.which("gcc")
        assert cc, "a C compiler is needed (./setup installs gcc)"
        subprocess.run([cc, "-O1", "-Wall", "-o", str(out), str(src)], check=True)
    return out


def run_tracespec(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([TRACESPEC, *args], text=True, timeout=timeout, cwd=ROOT, **kw)


def decode_without_bcc(trace: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """`tracespec decode` in a process where importing bcc fails: decoding must not need it."""
    poison = out.parent / "no-bcc"
    poison.mkdir(exist_ok=True)
    (poison / "bcc.py").write_text("raise ImportError('tracespec decode imported bcc')\n")
    env = dict(os.environ, PYTHONPATH=str(poison))
    r = run_tracespec("decode", str(trace), "-o", str(out), *options, env=env)
    assert r.returncode == 0, r.stderr
    return r


def pytest_collection_finish(session):
    """Say plainly why BPF tests cannot work here, once, rather than failing each obscurely.

    Only the tests still selected count: `-m "not bpf"` runs the unit tests as any user.
    """
    if os.geteuid() == 0 or session.config.option.collectonly:
        return
    if any(item.get_closest_marker("bpf") for item in session.items):
        pytest.exit('tests marked bpf load BPF programs: run them as root, after ./setup '
                    '(or select only the others with -m "not bpf")', returncode=4)
