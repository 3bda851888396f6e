"""The compile's child process (runtime/bcc_compile): the /proc/kallsyms it gives BCC names only the
helpers it is told of, the machine's stays whole, and the object BCC makes is the same either way."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT
from tracespec.pipeline import compile_spec
from tracespec.runtime import bpfobject
from tracespec.runtime.bcc_compile import KALLSYMS_NAMES, Compile
from tracespec.runtime.loader import kernel_helpers

pytestmark = pytest.mark.bpf

_CHILD = """
import sys
from tracespec.runtime.bcc_compile import private_kallsyms
print(private_kallsyms(sys.argv[1:]))
print(open("/proc/kallsyms").read(), end="")
"""


def _mounts() -> str:
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return f.read()


def test_the_child_sees_only_the_named_helpers_and_the_machine_all_of_its_symbols():
    before = _mounts()
    r = subprocess.run([sys.executable, "-c", _CHILD, *KALLSYMS_NAMES], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    done, *symbols = r.stdout.splitlines()
    assert done == "True"
    assert [line.split() for line in symbols] == [["ffffffff80000000", "T", n] for n in KALLSYMS_NAMES]
    with open("/proc/kallsyms", encoding="utf-8") as f:
        assert sum(1 for _ in f) > 1000  # this process's: the kernel's own
    assert _mounts() == before  # the bind mount stayed in the child's namespace


def test_a_name_other_than_the_helpers_is_refused():
    r = subprocess.run([sys.executable, "-c", _CHILD, "commit_creds"], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    assert r.stdout.splitlines()[0] == "False"
    assert len(r.stdout.splitlines()) > 1000


def test_the_object_is_the_same_with_the_kernels_list_or_the_childs():
    compiled = compile_spec(os.path.join(ROOT, "specs", "fileio.yaml"))
    helpers = kernel_helpers(compiled.plan)
    assert helpers == KALLSYMS_NAMES  # this kernel has both (5.5 and later)
    own = bpfobject.dumps(Compile(compiled.c_source, helpers).result())
    kernels = bpfobject.dumps(Compile(compiled.c_source, ()).result())
    assert own == kernels
