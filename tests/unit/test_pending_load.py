"""The background compile (runtime/loader.PendingLoad): its error comes out of result() as BCC said it,
cancel() waits and releases, abandon() does not wait (and kills the compile's process), and what was loaded
is released exactly once whichever of the compile's end and abandon() comes first. The compile's child
process and the kernel are replaced by stand-ins that block until the test lets them go."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import pytest

from tracespec.errors import TracespecError
from tracespec.runtime import loader
from tracespec.runtime.bcc_compile import CompileError


class FakeInstance:
    def __init__(self):
        self.tracepoint_fds: dict = {}
        self.raw_tracepoint_fds: dict = {}
        self.cleaned = 0

    def cleanup(self) -> None:
        self.cleaned += 1


class FakeCompile:
    made: list[FakeInstance] = []
    jobs: list["FakeCompile"] = []
    go = threading.Event()
    fail = False
    late = False  # the child had finished when it was killed
    def __init__(self, c_source: str, kernel_helpers: tuple[str, ...] = ()):
        self.killed = False
        FakeCompile.jobs.append(self)

    def result(self):
        FakeCompile.go.wait(10)
        if self.killed and not FakeCompile.late:
            raise CompileError("", died=True)
        if FakeCompile.fail:
            raise CompileError("<stdin>:3:1: error: unknown type name 'bogus'\n", died=False)
        return "object"

    def kill(self) -> None:
        self.killed = True


def _instantiate(obj, plan):
    inst = FakeInstance()
    FakeCompile.made.append(inst)
    return inst


@pytest.fixture
def bcc(monkeypatch):
    FakeCompile.made, FakeCompile.jobs, FakeCompile.go = [], [], threading.Event()
    FakeCompile.fail = FakeCompile.late = False
    monkeypatch.setattr(loader, "member_offsets", lambda want: {})
    monkeypatch.setattr(loader.objcache, "get", lambda c: None)
    monkeypatch.setattr(loader.objcache, "put", lambda c, obj: None)
    monkeypatch.setattr(loader, "Compile", FakeCompile)
    monkeypatch.setattr(loader, "instantiate", _instantiate)
    return FakeCompile


PLAN = SimpleNamespace(params=[], read_kernel="bpf_probe_read_kernel")


def _wait_for(cond, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_compile_error_comes_out_of_result_with_bccs_words(bcc):
    FakeCompile.fail = True
    pending = loader.PendingLoad(PLAN, "int x;", {})
    FakeCompile.go.set()
    with pytest.raises(TracespecError) as e:
        pending.result()
    assert "BCC could not compile the generated program" in str(e.value)
    assert "unknown type name 'bogus'" in str(e.value)
    pending.cancel()  # after result(): nothing left to do


def test_cancel_waits_for_the_compile_and_releases_it(bcc):
    pending = loader.PendingLoad(PLAN, "int x;", {})
    threading.Timer(0.2, FakeCompile.go.set).start()
    started = time.monotonic()
    pending.cancel()
    assert time.monotonic() - started >= 0.15
    assert [b.cleaned for b in FakeCompile.made] == [1]
    pending.cancel()
    pending.abandon()
    assert [b.cleaned for b in FakeCompile.made] == [1]


def test_abandon_does_not_wait_and_the_thread_releases_what_it_compiles(bcc):
    FakeCompile.late = True
    pending = loader.PendingLoad(PLAN, "int x;", {})
    started = time.monotonic()
    pending.abandon()
    assert time.monotonic() - started < 0.5
    assert FakeCompile.made == []
    FakeCompile.go.set()
    assert _wait_for(lambda: FakeCompile.made and FakeCompile.made[0].cleaned == 1)
    time.sleep(0.05)
    assert [b.cleaned for b in FakeCompile.made] == [1]


def test_abandon_after_the_compile_releases_at_once(bcc):
    FakeCompile.go.set()
    pending = loader.PendingLoad(PLAN, "int x;", {})
    assert _wait_for(lambda: pending._done.is_set())
    pending.abandon()
    assert [b.cleaned for b in FakeCompile.made] == [1]


def test_abandon_kills_the_compile_and_descriptor_2_stays_the_terminals(bcc):
    before = os.fstat(2)
    pending = loader.PendingLoad(PLAN, "int x;", {})
    assert _wait_for(lambda: FakeCompile.jobs)
    during = os.fstat(2)
    pending.abandon()
    assert FakeCompile.jobs[0].killed
    FakeCompile.go.set()
    assert _wait_for(lambda: pending._done.is_set())
    assert FakeCompile.made == []  # killed: nothing was loaded
    assert (during.st_dev, during.st_ino) == (before.st_dev, before.st_ino)  # the child has its own stderr
