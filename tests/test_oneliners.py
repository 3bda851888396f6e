"""strace's command line without a spec: flags -> spec, SPEC forms, refused flags (no root, no BPF)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, TRACESPEC
from tracespec import cli
from tracespec.catalogue import load_catalogue
from tracespec.errors import TracespecError
from tracespec.format.text import PerThreadFiles, TextOptions
from tracespec.kernel import profile_for_version
from tracespec.spec.from_flags import StraceFlags, spec_text
from tracespec.spec.parse import parse_spec_text
from tracespec.validate import validate

CAT = load_catalogue()
PROFILE = profile_for_version("6.8")


def _validated(flags: StraceFlags):
    available = lambda sc: sc.since is None or sc.since <= PROFILE.version  # noqa: E731
    text = spec_text(flags, CAT, available, "tracespec test")
    return text, validate(parse_spec_text(text, "<flags>"), CAT, PROFILE)


def _names(v) -> set[str]:
    return {s.syscall.name for s in v.syscalls}


def test_trace_names_classes_and_regex():
    _, v = _validated(StraceFlags(expressions=["trace=openat,%net,/^fstat"]))
    names = _names(v)
    assert {"openat", "connect", "socket", "fstat", "fstatfs"} <= names
    assert "read" not in names and "stat" not in names


def test_negation_excludes_and_last_trace_wins():
    _, v = _validated(StraceFlags(expressions=["trace=openat", "trace=!read,write"]))
    names = _names(v)
    assert "read" not in names and "write" not in names and "openat" in names and "close" in names


def test_no_trace_flag_traces_everything_like_strace():
    _, v = _validated(StraceFlags(strsize=100))
    assert v.every_syscall


def test_status_and_z_flags_become_filters():
    text, _ = _validated(StraceFlags(failed_only=True))
    assert 'filter: "failed"' in text
    text, _ = _validated(StraceFlags(expressions=["status=successful"]))
    assert 'filter: "not failed"' in text
    with pytest.raises(TracespecError, match="status=unfinished"):
        _validated(StraceFlags(expressions=["status=unfinished"]))
    with pytest.raises(TracespecError, match="'faild' is not a status") as e:
        _validated(StraceFlags(expressions=["status=faild"]))
    assert "did you mean 'failed'" in e.value.hint


def test_strsize_and_fd_paths():
    _, v = _validated(StraceFlags(expressions=["trace=read"], strsize=200, fd_paths=1))
    assert v.spec.buffers.max == 200 and v.spec.strings.max == 200 and v.spec.fd_paths
    assert v.spec.paths.max == 4095  # paths stay whole, as strace prints them
    with pytest.raises(TracespecError, match="-s 5000"):
        _validated(StraceFlags(strsize=5000))
    _, v = _validated(StraceFlags(expressions=["trace=read"], fd_paths=2))  # -yy: the writer adds endpoints
    assert v.spec.fd_paths


def test_trace_path_filters_each_path_argument():
    text, v = _validated(StraceFlags(expressions=["trace=openat,renameat,read"], paths=['/tmp/a "b"\udcff']))
    assert _names(v) == {"openat", "renameat"}  # read has no path argument
    by_name = {s.syscall.name: s for s in v.syscalls}
    assert by_name["renameat"].filter is not None and by_name["openat"].filter is not None
    rule = next(r for r in v.spec.rules if r.selector.pattern == "renameat")
    assert repr(rule.filter).count("""b'/tmp/a "b"\\xff'""") == 2  # oldname and newname, byte for byte


def test_unknown_names_say_what_was_meant():
    with pytest.raises(TracespecError, match="unknown syscall 'opnat'") as e:
        _validated(StraceFlags(expressions=["trace=opnat"]))
    assert "did you mean 'openat'" in e.value.hint
    with pytest.raises(TracespecError, match="not a strace class"):
        _validated(StraceFlags(expressions=["trace=%filez"]))
    _, v = _validated(StraceFlags(expressions=["trace=openat,?nosuchcall"]))
    assert _names(v) == {"openat"}
    with pytest.raises(TracespecError, match="not implemented"):
        _validated(StraceFlags(expressions=["read=3"]))


def _run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("flags", list(cli.REFUSED_STRACE_FLAGS), ids=lambda f: f[0])
def test_every_refused_strace_flag_gets_its_hint(capsys, flags):
    nargs, instead = cli.REFUSED_STRACE_FLAGS[flags]
    for flag in flags:
        argv = ["run", flag] + (["x"] if nargs else []) + ["--", "true"]
        code, err = _run_cli(capsys, *argv)
        assert code == 2
        assert f"strace's {flag} is not implemented: {instead}" in err
        assert "usage: tracespec run" in err and "COMMAND" not in err
        assert err.count("error:") == 1


def test_unknown_option_gets_run_usage(capsys):
    code, err = _run_cli(capsys, "run", "--no-such-flag", "--", "true")
    assert code == 2 and "usage: tracespec run" in err and "unrecognized arguments: --no-such-flag" in err


@pytest.mark.parametrize("argv, spec, cmd", [
    (["run", "-f", "ls", "-l"], None, ["ls", "-l"]),
    (["run", "-e", "trace=openat", "-s", "64", "ls"], None, ["ls"]),
    (["run", "failed", "make", "-j2"], "failed", ["make", "-j2"]),
    (["run", "mine.yaml", "-p", "1"], "mine.yaml", []),
    (["run", "-o", "out.txt", "-", "cat", "x"], "-", ["cat", "x"]),
    (["run", "/dev/fd/63", "-T", "--", "ls", "--", "x"], "/dev/fd/63", ["ls", "--", "x"]),
    (["run", "-s200", "-ff", "ls"], None, ["ls"]),
])
def test_first_word_rule(argv, spec, cmd):
    parser = cli.build_parser()
    opts, got_cmd = cli._split_command(argv, parser.subparsers["run"])
    args = parser.parse_args(opts)
    assert (args.spec, got_cmd) == (spec, cmd)


@pytest.mark.parametrize("verb", ["run", "record"])
def test_a_bare_command_after_run_says_that_a_command_follows_the_dashes(capsys, verb):
    code, err = _run_cli(capsys, verb, "ls", "-l")
    assert code == 2
    assert err == (f"tracespec: error: a command to trace follows --: tracespec {verb} -- ls ...\n"
                   f"  hint: or give strace's flags first, as with strace: tracespec {verb} -f ls ...; or a spec: "
                   f"tracespec {verb} SPEC -- ls ...\n")


def test_shipped_specs_by_name_and_listed(capsys):
    assert cli._spec_path("failed").endswith("tracespec/specs/failed.yaml")
    assert cli.main(["list", "--specs"]) == 0
    out = capsys.readouterr().out
    assert "failed     only the syscalls that fail" in out and len(out.splitlines()) == len(cli.shipped_specs())


def _spec_command(*argv, **kw):
    return subprocess.run([TRACESPEC, "spec", *argv], text=True, capture_output=True, cwd=ROOT, **kw)


def test_spec_command_output_passes_check(tmp_path):
    r = _spec_command("-e", "trace=openat,%file,/stat", "-e", "status=failed", "-s", "200", "-y", "-P", "/etc")
    assert r.returncode == 0, r.stderr
    saved = tmp_path / "s.yaml"
    saved.write_text(r.stdout)
    c = subprocess.run([TRACESPEC, "check", str(saved)], text=True, capture_output=True)
    assert c.returncode == 0, c.stderr


def test_spec_from_standard_input_refined_by_flags():
    text = (ROOT / "specs" / "fileio.yaml").read_text()
    r = _spec_command("-", "-s", "100", "-Z", input=text)
    assert r.returncode == 0, r.stderr
    assert "max: 100" in r.stdout and "filter: failed" in r.stdout
    r = _spec_command("-", "-e", "trace=read", input=text)
    assert r.returncode == 2 and "chooses the syscalls" in r.stderr


def test_v_makes_the_spec_unabbreviated_and_abbrev_none_points_to_it():
    text, v = _validated(StraceFlags(expressions=["trace=getdents64"], no_abbrev=True))
    assert "abbrev: false  # -v" in text and not v.spec.abbrev and "-e trace=getdents64 -v" in v.spec.description
    _, v = _validated(StraceFlags(expressions=["trace=getdents64"]))
    assert v.spec.abbrev
    with pytest.raises(TracespecError) as e:
        _validated(StraceFlags(expressions=["abbrev=none"]))
    assert "-v" in str(e.value.hint)
    r = _spec_command("-", "-v", input=(ROOT / "specs" / "fileio.yaml").read_text())
    assert r.returncode == 0, r.stderr
    assert not parse_spec_text(r.stdout, "<refined>").abbrev


sys.path.insert(0, str(ROOT / "tests" / "unit"))  # synthetic records, built as the BPF program writes them
from synthetic import close, enter, exit_, proc_exit, text  # noqa: E402


def _synthetic_text(raws, **options) -> str:
    return text(raws, TextOptions(live=False, **options))


def test_per_thread_lines_are_never_split_by_another_thread(tmp_path):
    raws = [enter("read", 100, 1000, (3, 0x5000, 4096))] + close(101, 2000, 4) + \
        [exit_("read", 100, 5000, 5, {"buf": (b"hello", 0)}), proc_exit(101, 6000, 0), proc_exit(100, 7000, 0)]
    lines = _synthetic_text(raws, per_thread=True)
    assert "unfinished" not in lines and "resumed" not in lines
    files = PerThreadFiles(str(tmp_path / "out"))
    files.write(lines + "tracespec: 2 records lost here\n")
    files.close()
    assert (tmp_path / "out.100").read_text() == 'read(3, "hello", 4096) = 5\n+++ exited with 0 +++\n'
    assert (tmp_path / "out.101").read_text() == "close(4) = 0\n+++ exited with 0 +++\n"
    assert files.written == [str(tmp_path / "out.101"), str(tmp_path / "out.100")]  # in order of first line


def test_system_wide_lines_name_their_process():
    raws = [enter("close", 100, 1000, (3,), comm=b"curl"), exit_("close", 100, 2000, 0),
            enter("close", 101, 3000, (4,), comm=b"a\x1b[2Jb"), exit_("close", 101, 4000, 0),
            proc_exit(100, 5000, 0)]
    assert _synthetic_text(raws, comm=True) == (
        "100 [curl] close(3) = 0\n"
        "101 [a\\33[2Jb] close(4) = 0\n"  # a terminal's escape sequence in a name is shown, not obeyed
        "100 [curl] +++ exited with 0 +++\n")
    assert _synthetic_text(raws[:2], comm=True, timestamps=3).startswith("100 [curl] 0.000001 close(3)")


def test_comm_shown_for_system_wide_targets_only():
    parser = cli.build_parser()
    for argv, shown in ((["run", "--all"], True), (["run", "--comm", "curl"], True),
                        (["run", "--cgroup", "/x"], True), (["run", "--all", "--no-comm"], False),
                        (["run", "-p", "1"], False), (["run", "--", "ls"], False),
                        (["record", "s.yaml", "--all"], True), (["record", "s.yaml", "--all", "--no-comm"], False)):
        assert cli._line_options(parser.parse_args(argv))["comm"] is shown, argv


class _Backlog:
    """A reader with a long backlog: chunk after chunk, each taking a while to decode and print."""

    def __init__(self, chunks: int):
        self.left = chunks

    def drain(self, limit: int):
        if not self.left:
            return None
        self.left -= 1
        return b"chunk"


def test_status_line_moves_while_a_backlog_drains():
    import time
    from types import SimpleNamespace

    from tracespec.session.run import STATUS_EVERY_S, TEXT_CHUNK_BYTES, Session

    updates: list[tuple[float, int]] = []
    writer = SimpleNamespace(raw=False, syscalls=0)

    def write(events):  # each chunk's lines take 20 ms to print
        time.sleep(0.02)
        writer.syscalls += len(events)

    writer.write = write
    session = Session.__new__(Session)
    session.plan = SimpleNamespace(ring_pages=40 * TEXT_CHUNK_BYTES // 4096)
    session.writer, session.status_at, session.lost_seen = writer, 0.0, 0
    session.loaded = SimpleNamespace(lost=lambda: 0)
    session.status = SimpleNamespace(update=lambda count, lost: updates.append((time.monotonic(), count)))
    session.stream = SimpleNamespace(push_records=lambda marks: None, push=lambda chunk: None,
                                     release=lambda watermark: ["event"] * 100)
    session._consume(_Backlog(30))  # one call: 30 chunks, about 0.6 s
    assert len(updates) >= 4, "the status line must be updated between chunks"
    assert [c for _, c in updates] == sorted(c for _, c in updates) and updates[-1][1] > updates[0][1]
    gaps = [b - a for (a, _), (b, _) in zip(updates, updates[1:])]
    assert min(gaps) >= STATUS_EVERY_S * 0.99, "at most ten updates a second"
