"""The pairer (decode/events.py) on synthetic records: entries and exits paired by thread, in record order."""

from __future__ import annotations

import pytest

from synthetic import (AT_FDCWD, ERESTARTSYS, FAULT, O_RDONLY_CLOEXEC, close, decode, enter, exit_, fork, items,
                       proc_exit, read_, retry, schema)
from tracespec.decode.events import (KILL_WAIT_NS, Finished, Forked, Lost, Pairer, ProcessExit, Started,
                                     Unfinished)
from tracespec.wire.records import LostRecord
from tracespec.wire.layout import FLAG_DEFERRED


def summary(out) -> list[tuple]:
    """Each item as (type, syscall or what, tid, detail): enough to see pairing and order at a glance."""
    rows = []
    for it in out:
        t = type(it).__name__
        if isinstance(it, Finished):
            rows.append((t, it.event.name, it.event.tid, "whole" if it.whole else it.event.ret))
        elif isinstance(it, Unfinished):
            rows.append((t, it.event.name, it.event.tid, "killed" if it.killed else None))
        elif isinstance(it, Started):
            rows.append((t, it.event.name, it.event.tid, None))
        elif isinstance(it, ProcessExit):
            rows.append((t, it.tgid, it.tid, it.code))
        elif isinstance(it, Forked):
            rows.append((t, it.parent, it.child, None))
        elif isinstance(it, Lost):
            rows.append((t, it.count, None, None))
    return rows


CASES = {
    "entry then exit is one whole item": (
        read_(100, 1000, 3, b"hi"),
        [("Finished", "read", 100, "whole")]),
    "another thread between: started, then finished": (
        [enter("read", 100, 1000, (3, 0, 10))] + close(101, 2000, 4) + [exit_("read", 100, 5000, 0)],
        [("Started", "read", 100, None), ("Finished", "close", 101, "whole"), ("Finished", "read", 100, 0)]),
    "a second entry of the same thread: the first never returned": (
        [enter("read", 100, 1000, (3, 0, 10))] + close(100, 2000, 4),
        [("Started", "read", 100, None), ("Unfinished", "read", 100, None), ("Finished", "close", 100, "whole")]),
    "an exit without its entry began before tracing: dropped": (
        [exit_("read", 100, 1000, 5)] + close(100, 2000, 3),
        [("Finished", "close", 100, "whole")]),
    "an exit of another syscall: the pending one is unfinished, the exit dropped": (
        [enter("read", 100, 1000, (3, 0, 10)), exit_("close", 100, 2000, 0)],
        [("Started", "read", 100, None), ("Unfinished", "read", 100, None)]),
    "in flight at the end of the trace: unfinished": (
        [enter("read", 100, 1000, (3, 0, 10))],
        [("Started", "read", 100, None), ("Unfinished", "read", 100, None)]),
    "a thread exits inside a syscall: unfinished, then its exit": (
        [enter("exit_group", 100, 1000, (0,)), proc_exit(100, 2000, 0)],
        [("Started", "exit_group", 100, None), ("Unfinished", "exit_group", 100, None),
         ("ProcessExit", 100, 100, 0)]),
    "a fork is reported with parent and child": (
        [fork(100, 1000, 101)] + close(101, 2000, 3),
        [("Forked", 100, 101, None), ("Finished", "close", 101, "whole")]),
    "unfinished ones at the end come oldest first": (
        [enter("read", 102, 3000, (3, 0, 1)), enter("read", 101, 1000, (3, 0, 1))],
        [("Started", "read", 101, None), ("Started", "read", 102, None),
         ("Unfinished", "read", 101, None), ("Unfinished", "read", 102, None)]),
}


@pytest.mark.parametrize("raws,expected", CASES.values(), ids=CASES.keys())
def test_pairing(raws, expected):
    assert summary(items(raws)) == expected


def test_paired_event_carries_both_records_and_the_entry_slots():
    (item,) = items(read_(100, 1000, 3, b"hello", dur=2500))
    ev = item.event
    assert (ev.enter.ts, ev.exit.ts, ev.duration_ns, ev.ret) == (1000, 3500, 2500, 5)
    assert ev.args == (3, 0x5000, 4096)
    assert ev.slots["buf"].data == b"hello"
    assert "buf" not in ev.entry_slots  # read's buffer is copied at exit, not at entry


def test_signed_arguments_are_sign_extended_to_their_c_type():
    (item,) = items([enter("openat", 100, 1000, (AT_FDCWD & 0xFFFFFFFF, 1, O_RDONLY_CLOEXEC, 0),
                           {"filename": (b"/x", 0)}), exit_("openat", 100, 2000, 3)])
    assert item.event.args[0] == -100  # the 32-bit dfd, as the kernel's int holds it


def test_deferred_entry_is_started_only_at_its_exit():
    """An enter record held back by an exit-time filter comes out with its exit: no line breaks in two."""
    raws = [enter("read", 100, 1000, (3, 0, 10), flags=FLAG_DEFERRED)] + close(101, 2000, 4) + \
        [exit_("read", 100, 5000, 0)]
    assert summary(items(raws)) == [("Finished", "close", 101, "whole"), ("Started", "read", 100, None),
                                    ("Finished", "read", 100, 0)]


def test_deferred_entry_directly_followed_by_its_exit_is_not_whole():
    raws = [enter("read", 100, 1000, (3, 0, 10), flags=FLAG_DEFERRED), exit_("read", 100, 2000, 0)]
    assert summary(items(raws)) == [("Started", "read", 100, None), ("Finished", "read", 100, 0)]


def test_retry_mends_a_faulted_entry_copy():
    raws = [enter("openat", 100, 1000, (AT_FDCWD, 0x7FFD0000, 0, 0), {"filename": (b"", FAULT)}),
            retry("openat", 100, 1500, {0: b"/etc/hostname"}), exit_("openat", 100, 2000, 3)]
    (started, finished) = items(raws)
    assert started.event.slots["filename"].fault  # as it was at entry
    assert finished.event.slots["filename"].data == b"/etc/hostname"
    assert not finished.event.slots["filename"].fault


def test_retry_of_another_syscall_changes_nothing():
    raws = [enter("openat", 100, 1000, (AT_FDCWD, 0x7FFD0000, 0, 0), {"filename": (b"", FAULT)}),
            retry("read", 100, 1500, {}), exit_("openat", 100, 2000, 3)]
    assert items(raws)[-1].event.slots["filename"].fault


def _pairer():
    return Pairer(schema())


def test_restart_return_is_held_until_the_thread_shows_how_it_ended():
    p = _pairer()
    first = p.feed(decode([enter("read", 100, 1000, (3, 0, 10)), exit_("read", 100, 2000, ERESTARTSYS)]
                          + close(101, 3000, 4)))
    assert summary(first) == [("Started", "read", 100, None)]  # the rest waits behind the restart return
    second = p.feed(decode(close(100, 4000, 5)))  # the thread goes on: no SIGKILL ended it
    # while a return is held, entries are not made whole (their items queue behind it one by one)
    assert summary(second) == [("Finished", "read", 100, ERESTARTSYS), ("Started", "close", 101, None),
                               ("Finished", "close", 101, 0), ("Finished", "close", 100, "whole")]
    assert not p.held


def test_sigkill_after_a_restart_return_makes_it_unfinished():
    raws = [enter("read", 100, 1000, (3, 0, 10)), exit_("read", 100, 2000, ERESTARTSYS), proc_exit(100, 3000, 9)]
    assert summary(items(raws)) == [("Started", "read", 100, None), ("Unfinished", "read", 100, "killed"),
                                    ("ProcessExit", 100, 100, 9)]


def test_other_signal_after_a_restart_return_keeps_it_finished():
    raws = [enter("read", 100, 1000, (3, 0, 10)), exit_("read", 100, 2000, ERESTARTSYS), proc_exit(100, 3000, 15)]
    assert summary(items(raws))[1] == ("Finished", "read", 100, ERESTARTSYS)


@pytest.mark.parametrize("later,released", [(KILL_WAIT_NS + 2000, True), (KILL_WAIT_NS, False)],
                         ids=["after-the-wait", "within-the-wait"])
def test_held_restart_return_is_let_go_after_the_wait(later, released):
    p = _pairer()
    p.feed(decode([enter("read", 100, 1000, (3, 0, 10)), exit_("read", 100, 2000, ERESTARTSYS)]))
    out = p.release_held(2000 + later)
    assert summary(out) == ([("Finished", "read", 100, ERESTARTSYS)] if released else [])
    assert bool(p.held) is not released


def test_lost_records_are_an_item_in_place():
    p = _pairer()
    out = p.feed(decode(close(100, 1000, 3)) + [LostRecord(1500, 0, 7)] + decode(close(100, 2000, 4)))
    assert summary(out) == [("Finished", "close", 100, "whole"), ("Lost", 7, None, None),
                            ("Finished", "close", 100, "whole")]


def test_unknown_syscall_number_is_named_by_its_number():
    raw = enter("close", 100, 1000, (3,))
    raw = raw[:16] + (999).to_bytes(4, "little") + raw[20:]  # a number the schema does not know
    (started,) = _pairer().feed(decode([raw]))
    assert started.event.name == "syscall_0x3e7" and started.event.info is None


def test_rt_sigreturn_is_complete_at_its_entry(tmp_path):
    """No exit tracepoint fires for rt_sigreturn (the signal frame's orig_ax is -1): its entry is all the
    trace has, and the thread's next syscall must not make it unfinished."""
    from tracespec.pipeline import compile_spec
    from tracespec.wire.records import EnterRecord, ExitRecord

    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nsyscalls:\n  - rt_sigreturn\n  - read\n")
    sch = compile_spec(str(spec), kernel="6.1").plan.schema
    nrs = {s.name: s.nr for s in sch.syscalls}
    records = [EnterRecord(1000, 100, 100, nrs["rt_sigreturn"], 0, 0, b"t", (0,) * 6, ()),
               EnterRecord(2000, 100, 100, nrs["read"], 0, 0, b"t", (3, 0, 4, 0, 0, 0), ()),
               ExitRecord(3000, 100, 100, nrs["read"], 0, 0, 1, ())]
    out = Pairer(sch).feed(records)
    assert summary(out) == [("Started", "rt_sigreturn", 100, None), ("Unfinished", "rt_sigreturn", 100, None),
                            ("Finished", "read", 100, "whole")]
    from tracespec.format.text import TextWriter
    import io
    buf = io.StringIO()
    w = TextWriter(buf)
    w.write(out)
    w.finish()
    assert buf.getvalue().splitlines()[0] == "100 rt_sigreturn() = ?"
