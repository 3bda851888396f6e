"""fd_paths' descriptor bookkeeping (issue 19): with -y the planner records the syscalls that make, copy or
close descriptors that the spec does not trace, for the descriptor table alone. Which ones it adds, for
which specs and options; that they are unfiltered, outside the table-driven programs and uncounted in
the C; and that the pairer and the writers keep them out of every output but the table's knowledge."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest

from synthetic import AT_FDCWD, close, decoder, enter, exit_, opened, read_, schema as synthetic_schema
from tracespec.catalogue.descriptors import DESCRIPTOR_BOOKKEEPING, ENDPOINT_SYSCALLS
from tracespec.decode.events import Finished, Noted, Started, Unfinished
from tracespec.decode.stream import EventStream
from tracespec.format import fdpaths
from tracespec.format.jsonl import JsonWriter
from tracespec.format.text import TextOptions, TextWriter
from tracespec.pipeline import compile_spec
from tracespec.plan.model import ServePlan, SummaryPlan, Target, TargetKind
from tracespec.spec.parse import parse_spec_text


def _compiled(text: str, **options):
    return compile_spec(parse_spec_text("version: 1\n" + text, "<test>"), "6.1", **options)


def _kept(plan) -> set[str]:
    return {m.name for f in plan.families if f.bookkeeping for m in f.members}


def test_fd_paths_adds_every_descriptor_syscall_the_spec_leaves_out():
    plan = _compiled("fd_paths: true\nsyscalls: [read, write]\n").plan
    kept = _kept(plan)
    assert {"openat", "open", "close", "dup", "dup2", "dup3", "fcntl", "socket", "accept4", "pipe2", "socketpair",
            "memfd_create", "eventfd2", "epoll_create1", "close_range", "execve", "clone3", "chdir"} <= kept
    assert kept == {n for n in DESCRIPTOR_BOOKKEEPING if n in {i.name for i in plan.schema.syscalls}}
    assert "read" not in kept and "write" not in kept
    infos = {i.name: i for i in plan.schema.syscalls}
    assert not infos["read"].bookkeeping and infos["openat"].bookkeeping and infos["close"].bookkeeping


def test_syscalls_the_spec_traces_are_not_bookkeeping():
    plan = _compiled("fd_paths: true\nsyscalls: [read, openat, close]\n").plan
    kept = _kept(plan)
    assert "openat" not in kept and "close" not in kept and "dup" in kept
    infos = {i.name: i for i in plan.schema.syscalls}
    assert not infos["openat"].bookkeeping and not infos["close"].bookkeeping


@pytest.mark.parametrize("text,options", [
    ("syscalls: [read, write]\n", {}),  # no fd_paths
    ("fd_paths: true\nsyscalls: [read, write]\n", {"summary": SummaryPlan()}),  # a summary names no descriptor
])
def test_no_bookkeeping_without_descriptors_to_name(text, options):
    plan = _compiled(text, **options).plan
    assert not _kept(plan)
    assert not any(i.bookkeeping for i in plan.schema.syscalls)


def test_every_syscall_selected_leaves_nothing_to_add():
    assert not _kept(_compiled("fd_paths: true\nsyscalls: ['*']\n").plan)


def test_bookkeeping_escapes_the_filters():
    """A filter such as status=failed keeps a successful open from the trace, not from the table."""
    plan = _compiled("fd_paths: true\nsyscalls: [read, write]\nfilter: failed\n").plan
    for fam in plan.families:
        if fam.bookkeeping:
            assert fam.filter is None and not fam.stash and not fam.table
        else:
            assert fam.filter is not None
    assert not any(i.bookkeeping for i in plan.generic)  # the generic handler has the global filter


def test_bookkeeping_copies_only_what_the_table_reads_whatever_raw_says():
    plan = _compiled("fd_paths: true\nraw: true\nsyscalls: [read]\n").plan
    by_name = {m.name: f for f in plan.families for m in f.members}
    slots = lambda name: {(s.capture, s.index) for s in by_name[name].enter.slots + by_name[name].exit.slots}
    assert ("string", 1) in slots("openat")  # its path
    assert slots("execve") == set()  # neither argv nor the environment: exec only drops close-on-exec ones
    assert ("struct", 0) in slots("pipe2") and ("fdinode", 0) in slots("pipe2")
    assert slots("close") == set()
    assert not {s.capture for s in by_name["accept4"].exit.slots} & {"sockaddr", "struct"}


def test_bookkeeping_exits_are_neither_counted_nor_a_trigger():
    """serve counts each recorded syscall at its exit (ts_returned), a recorder tests its trigger there:
    neither for a bookkeeping family."""
    c = compile_spec(parse_spec_text("version: 1\nfd_paths: true\nsyscalls: [read, write]\n", "<test>"), "6.1",
                     target=Target(TargetKind.CGROUP), recorder_bytes=0, serve=ServePlan(4, 2))
    fams = {f.name: f for f in c.plan.families if not f.table}
    assert any(f.bookkeeping for f in fams.values()) and any(not f.bookkeeping for f in c.plan.families)
    for name, fam in fams.items():
        body = re.search(rf"int ts_exit_{name}\(.*?\n}}\n", c.c_source, re.S).group(0)
        assert ("ts_returned(ret)" in body) == (not fam.bookkeeping), name
    assert c.plan.table is None or not any(e.family in {n for n, f in fams.items() if f.bookkeeping}
                                           for e in c.plan.table.entries)


def test_the_bookkeeping_list_covers_what_the_table_learns_from():
    """Every syscall format/fdpaths.py changes the table for is bookkeeping, but those that move data
    (SCM_RIGHTS, -yy's endpoints), which -y resolves through /proc and sock_diag instead, and fork and vfork,
    which have no flags to learn."""
    assert {"bind", "listen", "connect"} <= set(ENDPOINT_SYSCALLS)
    learns = (set(fdpaths.OPENERS) | set(fdpaths.DUPS) | set(fdpaths.ANON) | fdpaths.EXECS | fdpaths.CLONES
              | set(fdpaths.UNLINKERS) | {"close", "close_range", "fcntl", "socket", "accept", "accept4", "pipe",
                                          "pipe2", "socketpair", "memfd_create", "chdir", "fchdir", "pidfd_getfd",
                                          "fsmount"})
    left_out = {"recvmsg", "recvmmsg", "fork", "vfork"} | (set(ENDPOINT_SYSCALLS) - {"accept", "accept4", "bind",
                                                                                      "listen", "connect"})
    assert learns - left_out <= set(DESCRIPTOR_BOOKKEEPING)
    assert not left_out & set(DESCRIPTOR_BOOKKEEPING)


# -- decoding: the synthetic schema (openat, read, write, close ...) with openat and close as bookkeeping --

def _kept_schema():
    s = synthetic_schema()
    return replace(s, syscalls=tuple(replace(i, bookkeeping=i.name in ("openat", "close")) for i in s.syscalls))


def _items(raws):
    stream = EventStream(decoder(), _kept_schema())
    stream.push(raws)
    return stream.finish()


def test_the_pairer_makes_only_noted_items_of_bookkeeping():
    raws = opened(100, 1000, b"/etc/hostname", 3) + read_(100, 5000, 3, b"hi") + close(100, 9000, 3)
    kinds = [(type(i).__name__, i.event.name) for i in _items(raws)]
    assert kinds == [("Noted", "openat"), ("Finished", "read"), ("Noted", "close")]


def test_bookkeeping_never_splits_a_line_nor_ends_unfinished():
    # another thread's untraced openat inside a read: strace prints the read whole
    raws = [enter("read", 100, 1000, (3, 0x5000, 10))] + opened(101, 2000, b"/etc/passwd", 4) + \
        [exit_("read", 100, 5000, 2, {"buf": (b"hi", 0)}), enter("close", 101, 6000, (4,))]  # in flight at the end
    items = _items(raws)
    assert [type(i) for i in items] == [Started, Noted, Finished, Noted]
    assert [i.done for i in items if type(i) is Noted] == [True, False]
    out = io.StringIO()
    w = TextWriter(out, TextOptions(fd_paths=True, live=False))
    w.write(items)
    w.finish(0)
    assert out.getvalue() == '100 read(3, "hi", 10) = 2\n'
    assert w.syscalls == 1
    assert not any(type(i) is Unfinished for i in items)


def test_the_table_learns_from_bookkeeping_and_nothing_else_shows_it():
    raws = opened(100, 1000, b"/etc/hostname", 3) + read_(100, 5000, 3, b"hi") + close(100, 9000, 3) + \
        read_(100, 12000, 3, b"")
    out = io.StringIO()
    w = TextWriter(out, TextOptions(fd_paths=True, live=False))
    w.write(_items(raws))
    w.finish(0)
    assert out.getvalue() == '100 read(3</etc/hostname>, "hi", 4096) = 2\n100 read(3, "", 4096) = 0\n'
    assert w.syscalls == 2
    plain = io.StringIO()
    p = TextWriter(plain, TextOptions(live=False))  # a writer without -y ignores them
    p.write(_items(raws))
    p.finish(0)
    assert plain.getvalue() == '100 read(3, "hi", 4096) = 2\n100 read(3, "", 4096) = 0\n'
    js = io.StringIO()
    j = JsonWriter(js, 0)
    j.write(_items(raws))
    j.finish(0)
    assert '"openat"' not in js.getvalue() and '"close"' not in js.getvalue() and j.syscalls == 2


def test_a_failed_bookkeeping_open_changes_nothing():
    raws = [enter("openat", 100, 1000, (AT_FDCWD, 0x7FFD0000, 0, 0), {"filename": (b"/nope", 0)}),
            exit_("openat", 100, 2000, -2)] + read_(100, 5000, 3, b"")
    out = io.StringIO()
    w = TextWriter(out, TextOptions(fd_paths=True, live=False, initial_fds={"100": {"3": "/etc/motd"}}))
    w.write(_items(raws))
    w.finish(0)
    assert out.getvalue() == '100 read(3</etc/motd>, "", 4096) = 0\n'
