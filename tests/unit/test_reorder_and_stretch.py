"""The reorder window (decode/order.py) and ring-buffer stretches cut into records (wire/ring.py)."""

from __future__ import annotations

import struct
from typing import NamedTuple

import pytest

from tracespec.decode.order import Reorder
from tracespec.wire.ring import BUSY, DISCARD, split_stretch


class R(NamedTuple):
    ts: int
    name: str


def test_release_gives_what_is_older_than_the_watermark_in_time_order():
    r = Reorder()
    r.push([R(30, "c"), R(10, "a"), R(50, "e")])
    r.push([R(20, "b"), R(40, "d")])
    assert [x.name for x in r.release(35)] == ["a", "b", "c"]
    assert len(r) == 2
    assert [x.name for x in r.release(35)] == []
    r.push([R(36, "late")])  # arrived after its time's watermark: goes out with the next batch
    assert [x.name for x in r.release(45)] == ["late", "d"]
    assert [x.name for x in r.release_all()] == ["e"]
    assert len(r) == 0


def test_watermark_is_exclusive_and_equal_stamps_keep_their_order():
    r = Reorder()
    r.push([R(5, "first"), R(7, "x"), R(5, "second"), R(5, "third")])
    assert [x.name for x in r.release(5)] == []
    assert [x.name for x in r.release(6)] == ["first", "second", "third"]


def test_release_all_sorts_what_is_left():
    r = Reorder()
    r.push([R(3, "c"), R(1, "a"), R(2, "b")])
    assert [x.name for x in r.release_all()] == ["a", "b", "c"]
    assert r.release(100) == []


def frame(payload: bytes, flags: int = 0, length: int | None = None) -> bytes:
    """A ring-buffer record: u32 length | flags, u32 page offset, the record padded to 8 bytes."""
    n = len(payload) if length is None else length
    return struct.pack("<II", n | flags, 0) + payload.ljust((len(payload) + 7) & ~7, b"\0")


A, B, C = b"A" * 24, b"B" * 13, b"C" * 8

STRETCHES = {
    "empty": (b"", [], None),
    "whole records": (frame(A) + frame(B) + frame(C), [A, B, C], None),
    "a discarded record is skipped": (frame(A) + frame(B, DISCARD) + frame(C), [A, C], None),
    "a busy record stops the walk there": (frame(A) + frame(B, BUSY) + frame(C), [A], 32),
    "a record cut short": (frame(A) + frame(B)[:20], [A], 32),
    "a header cut short": (frame(A) + frame(B)[:5], [A], 32),
    "a length past the end": (frame(A) + frame(B, length=64), [A], 32),
    "a busy first record": (frame(A, BUSY), [], 0),
}


@pytest.mark.parametrize("data,records,stop", STRETCHES.values(), ids=STRETCHES.keys())
def test_split_stretch(data, records, stop):
    assert split_stretch(data) == (records, stop)


def test_records_keep_their_length_not_their_padding():
    records, _ = split_stretch(frame(b"xyz") + frame(b"0123456789"))
    assert records == [b"xyz", b"0123456789"]
