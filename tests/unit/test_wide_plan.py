"""Wide programs (validate.widened, plan/restrict.py, pipeline.compile_for_run) without a kernel: one C for
every selection with the same options and attach mode, and a restricted plan that attaches, calls and
writes rows for the selection's syscalls only."""

from __future__ import annotations

import pytest

from tracespec.pipeline import check, compile_for_run, compile_spec, compile_wide
from tracespec.plan import Attach
from tracespec.plan.restrict import restricted
from tracespec.runtime import objcache


def _spec(tmp_path, *names: str, extra: str = "") -> str:
    path = tmp_path / ("_".join(names).replace("%", "") + ".yaml")
    path.write_text("version: 1\nsyscalls:\n" + "".join(f"  - '{n}'\n" for n in names) + extra)
    return str(path)


def _wide(path: str, kernel: str = "6.1"):
    own = compile_spec(path, kernel)
    return (own, *compile_wide(own))


def test_one_wide_program_per_attach_mode_and_options(tmp_path):
    few = [_wide(_spec(tmp_path, *names)) for names in (("execve",), ("openat", "read"), ("readv", "stat"))]
    assert {own.plan.attach for own, _, _ in few} == {Attach.SYSCALL_TP}
    assert len({objcache.key(c) for _, _, c in few}) == 1
    many = [_wide(_spec(tmp_path, *names)) for names in (("%file",), ("%network", "%process"))]
    assert {own.plan.attach for own, _, _ in many} == {Attach.RAW_TP}
    assert len({objcache.key(c) for _, _, c in many}) == 1
    other = _wide(_spec(tmp_path, "%file", extra="strings:\n  max: 64\n"))  # other options: another program
    assert objcache.key(other[2]) != objcache.key(many[0][2])


def test_the_restricted_plan_names_only_the_selection(tmp_path):
    own, wide, _ = _wide(_spec(tmp_path, "execve", "openat", "readv", "close"))
    plan = restricted(wide, own.plan)
    events = {a.target for a in plan.attachments if a.target.startswith("syscalls:")}
    assert events == {f"syscalls:sys_{phase}_{name}" for phase in ("enter", "exit")
                      for name in ("execve", "openat", "readv", "close")} | {"syscalls:sys_enter_execveat"}
    assert [a.program for a in plan.attachments if a.target == "syscalls:sys_enter_execveat"] == ["ts_tp_arm"]
    assert [e.names for e in plan.table.entries] == [("openat",)]
    assert [i.name for i in plan.generic] == ["close"] and plan.exec_arm_events == ("execveat",)
    assert plan.schema == wide.schema  # the records are the wide program's
    # every program it loads is the wide program's, and fewer than it has
    programs = {a.program for a in plan.attachments} | {t.program for t in plan.tail_calls}
    wide_programs = {a.program for a in wide.attachments} | {t.program for t in wide.tail_calls} | {"ts_tp_arm"}
    assert programs < wide_programs


def test_raw_tracepoints_tail_call_only_the_selection(tmp_path):
    own, wide, _ = _wide(_spec(tmp_path, "%file"))
    plan = restricted(wide, own.plan)
    selected = {i.nr for i in own.plan.schema.syscalls}
    assert {t.index for t in plan.tail_calls if t.table in ("ts_enter_progs", "ts_exit_progs")} <= selected
    assert {nr for e in plan.table.entries for nr in e.nrs} <= selected
    assert {i.nr for i in plan.generic} <= selected
    assert len(wide.schema.syscalls) > 2 * len(selected)
    exec_args = "tracepoint__sched__sched_process_exec"
    assert any(a.program == exec_args for a in plan.attachments)  # %file has execve
    own2, wide2, _ = _wide(_spec(tmp_path, "%network"))
    assert not any(a.program == exec_args for a in restricted(wide2, own2.plan).attachments)


def test_descriptor_bookkeeping_is_noted_not_printed(tmp_path):
    own, wide, _ = _wide(_spec(tmp_path, "read", extra="fd_paths: true\n"))
    noted = {i.name for i in own.plan.schema.syscalls if i.bookkeeping}
    assert {"openat", "close", "dup2"} <= noted  # what -y's table learns from, read alone selected
    plan = restricted(wide, own.plan)
    assert {i.name for i in plan.schema.syscalls if i.bookkeeping} == noted
    assert not any(i.bookkeeping for i in wide.schema.syscalls)
    called = {t.index for t in plan.tail_calls if t.table == "ts_enter_progs"}
    served = called | {i.nr for i in plan.generic}
    assert own.plan.attach == Attach.RAW_TP and {i.nr for i in own.plan.schema.syscalls} == served


@pytest.mark.parametrize("extra", ["filter: failed\n", "  - name: read\n    filter: failed\n"])
def test_what_is_c_keeps_its_own_program(tmp_path, monkeypatch, extra):
    monkeypatch.setenv("TRACESPEC_WIDE", "1")
    path = _spec(tmp_path, "openat", extra=extra)  # a filter: the global one, or a syscall's own
    assert compile_for_run(path, "6.1").c_source == compile_spec(path, "6.1").c_source


def test_a_run_takes_the_wide_program_only_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACESPEC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TRACESPEC_WIDE", raising=False)
    path = _spec(tmp_path, "execve", "openat")
    own = compile_spec(path, "6.1")
    assert compile_for_run(path, "6.1").c_source == own.c_source  # nothing cached: its own, to compile
    monkeypatch.setenv("TRACESPEC_WIDE", "1")
    wide = compile_for_run(path, "6.1")
    assert wide.c_source != own.c_source and wide.validated == own.validated
    monkeypatch.setattr(objcache, "has", lambda c: c == wide.c_source)
    monkeypatch.delenv("TRACESPEC_WIDE")
    assert compile_for_run(path, "6.1").c_source == wide.c_source  # cached wide: taken
    monkeypatch.setattr(objcache, "has", lambda c: True)
    assert compile_for_run(path, "6.1").c_source == own.c_source  # its own cached: its own
    monkeypatch.setenv("TRACESPEC_WIDE", "0")
    monkeypatch.setattr(objcache, "has", lambda c: c == wide.c_source)
    assert compile_for_run(path, "6.1").c_source == own.c_source
    assert check(path, "6.1").syscalls == own.validated.syscalls


def test_a_limit_only_the_wide_spec_reaches_leaves_the_spec_its_own(tmp_path, monkeypatch):
    """Buffers of 4 KiB are fine for getdents, but make another syscall's record too big: no wide program."""
    monkeypatch.setenv("TRACESPEC_WIDE", "1")
    path = _spec(tmp_path, "getdents64", "close", extra="buffers: {max: 4096}\n")
    assert compile_for_run(path, "6.1").c_source == compile_spec(path, "6.1").c_source


def test_looking_into_the_cache_says_nothing(tmp_path, monkeypatch, capsys):
    """A run looks for two programs before its preflight: a cache it may not use is said once, by the
    run's own use of it, after the preflight's word on privileges."""
    from tracespec.kernel import cachedir
    where = tmp_path / "open-to-all"
    where.mkdir(mode=0o777)
    where.chmod(0o777)
    monkeypatch.setenv("TRACESPEC_CACHE", str(where))
    monkeypatch.setattr(cachedir, "_warned", False)
    assert not objcache.has("int a;")
    assert capsys.readouterr().err == ""
