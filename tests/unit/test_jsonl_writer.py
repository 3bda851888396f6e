"""The JSON Lines writer (format/jsonl.py) on synthetic records: one object per syscall, as documented."""

from __future__ import annotations

import json

import pytest

from synthetic import ERESTARTSYS, TRUNCATED, close, enter, exit_, jsonl, opened, proc_exit, read_

OFFSET = 1_700_000_000_000_000_000


def objects(raws, **kw) -> list[dict]:
    return [json.loads(line) for line in jsonl(raws, **kw).splitlines()]


def test_a_whole_syscall():
    (obj, last) = objects(opened(4242, 1000, b"/etc/hostname", 3, dur=2417), offset=OFFSET)
    assert obj == {"ts_ns": OFFSET + 1000, "ts": exact(OFFSET + 1000), "pid": 4242, "tid": 4242, "comm": "cat",
                   "syscall": "openat",
                   "args": {"dfd": -100, "dfd_names": ["AT_FDCWD"], "filename": "/etc/hostname", "flags": 0o2000000,
                            "flags_names": ["O_RDONLY", "O_CLOEXEC"], "mode": 0},
                   "ret": 3, "errno": None, "duration_ns": 2417}
    assert last == {"lost": 0, "syscalls": 1, "unfinished": 0}


def test_a_failure_names_its_errno():
    (obj, _) = objects(opened(1, 1000, b"/nonexistent", -2))
    assert (obj["ret"], obj["errno"]) == (-2, "ENOENT")


def test_resumed_syscalls_are_one_object_stamped_at_entry_in_order_of_return():
    raws = [enter("read", 100, 1000, (3, 0x5000, 4096))] + close(101, 2000, 4) + \
        [exit_("read", 100, 9000, 5, {"buf": (b"hello", 0)})]
    objs = objects(raws)
    assert [(o["syscall"], o["tid"], o["ts_ns"], o["duration_ns"]) for o in objs[:2]] == \
        [("close", 101, 2000, 1000), ("read", 100, 1000, 8000)]
    assert objs[1]["args"] == {"fd": 3, "buf": "hello", "count": 4096}


def test_unfinished_has_no_return_and_is_counted():
    objs = objects([enter("read", 100, 1000, (3, 0x5000, 4096))], lost=4)
    assert (objs[0]["ret"], objs[0]["errno"], objs[0]["duration_ns"]) == (None, None, None)
    assert objs[-1] == {"lost": 4, "syscalls": 1, "unfinished": 1}


def test_sigkill_in_a_restarted_syscall():
    raws = [enter("read", 100, 1000, (3, 0x5000, 10)), exit_("read", 100, 2000, ERESTARTSYS), proc_exit(100, 3000, 9)]
    objs = objects(raws)
    assert objs[0]["ret"] is None
    assert objs[1] == {"ts_ns": 3000, "ts": "0.000003000", "pid": 100, "tid": 100, "killed": "SIGKILL"}


def test_process_ends():
    objs = objects([proc_exit(100, 1000, 3 << 8), proc_exit(101, 2000, 0x80 | 6), proc_exit(102, 3000, -1)])
    assert objs[:2] == [{"ts_ns": 1000, "ts": "0.000001000", "pid": 100, "tid": 100, "exited": 3},
                        {"ts_ns": 2000, "ts": "0.000002000", "pid": 101, "tid": 101, "killed": "SIGABRT",
                         "core_dumped": True}]
    assert len(objs) == 3  # an unknown exit code is not an object


def test_cut_buffer_lists_its_full_length():
    raws = [enter("read", 100, 1000, (3, 0x5000, 4096)), exit_("read", 100, 2000, 40, {"buf": (b"a" * 32, TRUNCATED)})]
    (obj, _) = objects(raws)
    assert obj["args"]["buf"] == "a" * 32
    assert obj["truncated"] == {"buf": 40}


def test_bytes_that_are_not_utf8_round_trip_as_surrogates():
    (obj, _) = objects(read_(100, 1000, 3, b"\xff\xfeok"))
    assert obj["args"]["buf"].encode("utf-8", "surrogateescape") == b"\xff\xfeok"


def exact(ts_ns: int) -> str:
    return f"{ts_ns // 10**9}.{ts_ns % 10**9:09d}"


def test_ts_keeps_every_nanosecond_where_a_json_number_cannot():
    ts_ns = 1_700_000_000_123_456_789  # beyond 2**53: as a double it is 1700000000123456768
    (obj, _) = objects(opened(1, 789, b"/x", 3), offset=ts_ns - 789)
    assert obj["ts"] == "1700000000.123456789"
    assert float(obj["ts_ns"]) != ts_ns  # what a double-only reader (jq, JavaScript) would see instead


@pytest.mark.parametrize("flags,held,names", [
    (0, 0, ["O_RDONLY"]),
    (0o100 | 0o1, 0o101, ["O_WRONLY", "O_CREAT"]),
    (0x80000000 | 0o2, -0x7FFFFFFE, ["O_RDWR", "0x80000000"]),  # a 32-bit int: never sign-extended in names
])
def test_flags_have_their_names_beside_the_number(flags, held, names):
    (obj, _) = objects(opened(1, 1000, b"/x", 4, flags=flags))
    assert obj["args"]["flags"] == held  # the number as its C type (int) holds it
    assert obj["args"]["flags_names"] == names
    assert obj["args"]["dfd_names"] == ["AT_FDCWD"]
