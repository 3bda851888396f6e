"""The background compile (runtime/loader.PendingLoad): its error comes out of result() as BCC said it,
cancel() waits and releases, abandon() does not wait, and what was compiled is released exactly once
whichever of the compile's end and abandon() comes first. BCC is replaced by a stand-in that blocks
until the test lets it go."""

from __future__ import annotations

import os
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from tracespec.errors import TracespecError
from tracespec.runtime import loader


class FakeBPF:
    made: list["FakeBPF"] = []
    go = threading.Event()
    fail = False

    def __init__(self, text: bytes, cflags: list[str]):
        FakeBPF.go.wait(10)
        if FakeBPF.fail:
            os.write(2, b"<stdin>:3:1: error: unknown type name 'bogus'\n")
            raise Exception("Failed to compile BPF module <text>")
        self.tracepoint_fds: dict = {}
        self.raw_tracepoint_fds: dict = {}
        self.cleaned = 0
        FakeBPF.made.append(self)

    def cleanup(self) -> None:
        self.cleaned += 1


@pytest.fixture
def bcc(monkeypatch):
    FakeBPF.made, FakeBPF.go, FakeBPF.fail = [], threading.Event(), False
    monkeypatch.setattr(loader, "member_offsets", lambda want: {})
    return SimpleNamespace(BPF=FakeBPF)


PLAN = SimpleNamespace(params=[])


def _wait_for(cond, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_compile_error_comes_out_of_result_with_bccs_words(bcc):
    FakeBPF.fail = True
    pending = loader.PendingLoad(bcc, PLAN, "int x;", {})
    FakeBPF.go.set()
    with pytest.raises(TracespecError) as e:
        pending.result()
    assert "BCC could not compile the generated program" in str(e.value)
    assert "unknown type name 'bogus'" in str(e.value)
    pending.cancel()  # after result(): nothing left to do


def test_cancel_waits_for_the_compile_and_releases_it(bcc):
    pending = loader.PendingLoad(bcc, PLAN, "int x;", {})
    threading.Timer(0.2, FakeBPF.go.set).start()
    started = time.monotonic()
    pending.cancel()
    assert time.monotonic() - started >= 0.15
    assert [b.cleaned for b in FakeBPF.made] == [1]
    pending.cancel()
    pending.abandon()
    assert [b.cleaned for b in FakeBPF.made] == [1]


def test_abandon_does_not_wait_and_the_thread_releases_what_it_compiles(bcc):
    pending = loader.PendingLoad(bcc, PLAN, "int x;", {})
    started = time.monotonic()
    pending.abandon()
    assert time.monotonic() - started < 0.5
    assert FakeBPF.made == []
    FakeBPF.go.set()
    assert _wait_for(lambda: FakeBPF.made and FakeBPF.made[0].cleaned == 1)
    time.sleep(0.05)
    assert [b.cleaned for b in FakeBPF.made] == [1]


def test_abandon_after_the_compile_releases_at_once(bcc):
    FakeBPF.go.set()
    pending = loader.PendingLoad(bcc, PLAN, "int x;", {})
    assert _wait_for(lambda: pending._done.is_set())
    pending.abandon()
    assert [b.cleaned for b in FakeBPF.made] == [1]


def test_descriptor_2_is_given_back_once_cancel_returns(bcc):
    before = os.fstat(2)
    pending = loader.PendingLoad(bcc, PLAN, "int x;", {})
    time.sleep(0.05)
    during = os.fstat(2)
    FakeBPF.go.set()
    pending.cancel()
    after = os.fstat(2)
    sys.stderr.flush()
    assert (during.st_dev, during.st_ino) != (before.st_dev, before.st_ino)  # BCC's capture meanwhile
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
