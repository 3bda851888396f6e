"""The ring buffer's walkers: the C module (wire/_ring.c) and its Python twin (wire/ring.py) give the same
answers on every stretch, and the C one is what this installation runs."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from tracespec.wire import ring
from tracespec.wire.ring import BUSY, DISCARD, committed_py, split_stretch_py

built = pytest.mark.skipif(ring.WALKER != "c", reason="the C walker was not built")


def frame(payload: bytes, flags: int = 0, length: int | None = None) -> bytes:
    n = len(payload) if length is None else length
    return struct.pack("<II", n | flags, 0) + payload.ljust((len(payload) + 7) & ~7, b"\0")


def test_the_installed_walker_is_the_c_one():
    # ./setup builds it (pip install -e, setup.py): a build that fell back to Python unnoticed would make
    # system-wide binary traces lose records (bench/system_wide.py), so the suite says so
    assert ring.WALKER == "c", "tracespec/wire/_ring.c was not built: run ./setup (it needs gcc and python3-dev)"
    from tracespec.wire import _ring
    assert ring.committed is _ring.committed and ring.split_stretch is _ring.split


records = st.lists(st.tuples(st.binary(max_size=40), st.sampled_from([0, 0, 0, DISCARD, BUSY])), max_size=12)


def stretch(recs) -> bytes:
    return b"".join(frame(p, f) for p, f in recs)


@built
@settings(max_examples=300, deadline=None)
@given(records, st.integers(0, 600))
def test_split_agrees_with_python_even_cut_anywhere(recs, cut):
    data = stretch(recs)
    for piece in (data, data[:cut], b"\0" * 3 + data):
        assert ring.split_stretch(piece) == split_stretch_py(piece)


@built
@settings(max_examples=300, deadline=None)
@given(records, st.integers(0, 600), st.integers(0, 600), st.sampled_from([0, 8, 16]))
def test_committed_agrees_with_python(recs, available, limit, start):
    data = bytearray(start) + stretch(recs)
    available = min(available, len(data) - start)
    assert ring.committed(bytes(data), start, available, limit) == committed_py(bytes(data), start, available, limit)


@built
def test_committed_stops_at_a_busy_record_and_after_the_limit():
    data = frame(b"A" * 24) + frame(b"B" * 8) + frame(b"C" * 8, BUSY) + frame(b"D")
    assert ring.committed(data, 0, len(data), 1 << 30) == 32 + 16
    assert ring.committed(data, 0, len(data), 1) == 32  # at least the first record
    assert ring.committed(data, 0, 40, 1 << 30) == 32  # the second is not all below the producer


@built
@pytest.mark.parametrize("start,available", [(-8, 8), (0, 999), (2, 8)])
def test_committed_refuses_a_stretch_outside_the_buffer(start, available):
    with pytest.raises(ValueError):
        ring.committed(b"\0" * 64, start, available, 64)
    with pytest.raises(ValueError):
        committed_py(b"\0" * 64, start, available, 64)
