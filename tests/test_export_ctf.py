"""--format ctf (format/ctf.py): CTF written through babeltrace2's sink.ctf.fs, read back by the
`babeltrace2` command and by babeltrace2's Python reader, event for event against the JSON output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

bt2 = pytest.importorskip("bt2", reason="./setup installs python3-bt2")
sys.path.insert(0, str(Path(__file__).with_name("unit")))
from synthetic import close, enter, exit_, fork, items, jsonl, opened, proc_exit, read_  # noqa: E402

from tracespec.format.jsonl import NAMES_SUFFIX
from tracespec.decode.events import Lost  # noqa: E402
from tracespec.errors import TracespecError  # noqa: E402
from tracespec.format.ctf import CtfWriter  # noqa: E402

OFFSET = 1_700_000_000_000_000_000
BABELTRACE = shutil.which("babeltrace2")


def write_ctf(path: Path, batches, lost: int = 0) -> Path:
    w = CtfWriter(str(path), OFFSET)
    for batch in batches:
        w.write(batch)
    w.finish(lost)
    return path


def read_ctf(path: Path) -> list[tuple[str, int, dict]]:
    """(event name, ns since the epoch, payload) of each event, read by babeltrace2's own CTF source."""
    out = []
    for msg in bt2.TraceCollectionMessageIterator(str(path)):
        if type(msg) is bt2._EventMessageConst:
            payload = {k: (str(v) if isinstance(v, bt2._StringFieldConst) else bytes(int(b) for b in v)
                           if isinstance(v, bt2._ArrayFieldConst) else int(v))
                       for k, v in msg.event.payload_field.items()
                       if not k.startswith("__")}  # the length fields sink.ctf.fs adds for arrays
            out.append((msg.event.name, msg.default_clock_snapshot.ns_from_origin, payload))
    return out


def command_names(path: Path) -> list[tuple[int, str]]:
    """(timestamp, event name) of each line the babeltrace2 command prints."""
    r = subprocess.run([BABELTRACE, "--clock-cycles", str(path)], capture_output=True, text=True, check=True)
    return [(int(m[1]), m[2]) for m in (re.match(r"\[(\d+)\] \(\+[?\d.]+\) (\w+): ", line)
                                        for line in r.stdout.splitlines())]


RAWS = (opened(100, 1000, b"/etc/hostname", 3, dur=2417) + read_(100, 5000, 3, b"he\xffllo")
        + [enter("read", 101, 6000, (4, 0x5000, 10), tgid=100)] + opened(100, 9000, b"/nonexistent", -2)
        + [fork(100, 9500, 102), proc_exit(100, 20_000, 3 << 8)])


def expected_arg(name: str, v, got):
    """What the CTF field of an argument whose JSON value is v must hold (got: what it holds, for its
    type only: a memory argument's string field holds the JSON text of a pointer that was not read)."""
    if name == "buf":  # read's and write's buffers: bytes
        return v.encode("utf-8", "surrogateescape") if isinstance(v, str) else b""
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(v, int) and not isinstance(got, str):
        return v
    return json.dumps(v)


def expected_exit(o: dict, payload: dict) -> dict:
    # the JSON's NAME_names are derived from the numbers, which CTF keeps as typed integers
    args = {k: expected_arg(k, v, payload.get(k)) for k, v in o["args"].items() if not k.endswith(NAMES_SUFFIX)}
    return {"pid": o["pid"], "tid": o["tid"], "comm": o["comm"], **args,
            "ret": o["ret"], "errno": -o["ret"] if o["errno"] else 0, "duration_ns": o["duration_ns"]}


def test_events_match_the_json_output(tmp_path):
    batch = items(RAWS)
    batch.insert(3, Lost(5500, 2))
    events = read_ctf(write_ctf(tmp_path / "t", [batch[:3], batch[3:]], lost=2))
    objs = [json.loads(line) for line in jsonl(RAWS, OFFSET, lost=2).splitlines()]
    ends = [e for e in events if not e[0].startswith("syscall_entry_")]
    calls = [o for o in objs if "syscall" in o]
    finished = list(zip([o for o in calls if o["ret"] is not None], [e for e in ends if e[0].startswith("syscall_exit_")]))
    assert len(finished) == 3
    assert [e[0] for e in ends] == ["syscall_exit_openat", "syscall_exit_read", "lost", "fork",
                                    "syscall_exit_openat", "process_exit", "syscall_unfinished_read", "trace_end"]
    for o, (name, ts, payload) in finished:
        assert ts == o["ts_ns"] + o["duration_ns"]
        assert payload == expected_exit(o, payload)
    assert ends[1][2]["buf"] == b"he\xffllo"
    assert ends[6][2] == {"pid": 100, "tid": 101, "comm": "cat", "fd": 4, "buf": b"", "count": 10}
    assert ends[3][2] == {"parent": 100, "child": 102}
    assert ends[5][2] == {"pid": 100, "tid": 100, "exited": 3, "signal": 0, "core_dumped": 0}
    assert ends[-1][2] == {"lost": 2, "syscalls": 4, "unfinished": 1} == {k: objs[-1][k] for k in ("lost", "syscalls", "unfinished")}
    failed = next(e for e in ends if e[0] == "syscall_exit_openat" and e[2]["ret"] < 0)
    assert failed[2]["errno"] == 2
    entries = [(name, ts) for name, ts, _ in events if name.startswith("syscall_entry_")]
    assert entries == sorted((("syscall_entry_" + o["syscall"], o["ts_ns"]) for o in calls), key=lambda e: e[1])
    assert [ts for _, ts, _ in events] == sorted(ts for _, ts, _ in events)  # the clock never goes back


@pytest.mark.skipif(BABELTRACE is None, reason="./setup installs babeltrace2")
def test_the_babeltrace2_command_reads_every_event(tmp_path):
    path = write_ctf(tmp_path / "t", [items(RAWS)])
    assert command_names(path) == [(ts, name) for name, ts, _ in read_ctf(path)]
    assert len(command_names(path)) == 11  # 4 entries, 3 exits, an unfinished, a fork, an exit, the end


def test_an_entry_shows_what_was_there_at_entry(tmp_path):
    raws = [enter("read", 100, 1000, (3, 0x5000, 4096)), exit_("read", 100, 2000, 5, {"buf": (b"hello", 0)})]
    (entry, done, _) = read_ctf(write_ctf(tmp_path / "t", [items(raws)]))
    assert (entry[0], entry[2]["buf"], done[2]["buf"]) == ("syscall_entry_read", b"", b"hello")


def test_a_directory_that_holds_something_is_refused(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "keep").write_text("x")
    with pytest.raises(TracespecError, match="exists and is not an empty directory"):
        CtfWriter(str(tmp_path / "t"))


def test_the_command_line_wants_a_directory(tmp_path):
    from conftest import run_tracespec
    r = run_tracespec("decode", str(tmp_path / "none.tsb"), "--format", "ctf", "-o", "-")
    assert r.returncode == 2 and "--format ctf writes a directory, not a stream" in r.stderr


@pytest.mark.bpf
@pytest.mark.skipif(BABELTRACE is None, reason="./setup installs babeltrace2")
def test_a_recorded_trace_decodes_to_the_same_events_as_its_json(build_dir, tmp_path):
    from conftest import compile_workload, decode_without_bcc, run_tracespec
    workload = compile_workload("fileio_workload", build_dir)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    trace = tmp_path / "t.tsb"
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "-o", str(trace), "--", str(workload),
                      str(scratch), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    decode_without_bcc(trace, tmp_path / "t.jsonl", "--format", "json")
    decode_without_bcc(trace, tmp_path / "ctf", "--format", "ctf")
    objs = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    events = read_ctf(tmp_path / "ctf")
    assert command_names(tmp_path / "ctf") == [(ts, name) for name, ts, _ in events]
    exits = sorted(((ts, payload["tid"], name, payload) for name, ts, payload in events
                    if name.startswith("syscall_exit_")), key=lambda e: e[:2])
    calls = sorted((o for o in objs if "syscall" in o and o["ret"] is not None),
                   key=lambda o: (o["ts_ns"] + o["duration_ns"], o["tid"]))
    assert [(ts, name) for ts, _, name, _ in exits] == \
        [(o["ts_ns"] + o["duration_ns"], "syscall_exit_" + o["syscall"]) for o in calls]
    for (_, _, _, payload), o in zip(exits, calls):
        assert payload == expected_exit(o, payload)


@pytest.mark.bpf  # compiles the spec for the running kernel first
def test_a_summary_is_not_written_as_ctf(tmp_path):
    from conftest import run_tracespec
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "ctf", "-c", "-o", str(tmp_path / "t"), "--", "true")
    assert r.returncode == 2 and "--format ctf records events" in r.stderr
    assert "calls" not in r.stderr and not (tmp_path / "t").exists()


def test_a_signals_delivery_is_an_event_with_its_siginfo(tmp_path):
    """None dropped: a signal a traced task took is signal_deliver, between the syscalls around it."""
    from tracespec.decode.events import Signalled
    from tracespec.decode.siginfo import Siginfo

    info = Siginfo(*([0] * len(Siginfo._fields)))._replace(signo=10, code=0, pid=100, uid=0)
    batch = items(close(100, 1000, 3) + close(100, 3000, 4))
    from tracespec.decode.events import Finished

    first_return = next(i for i, item in enumerate(batch) if type(item) is Finished)
    batch.insert(first_return + 1, Signalled(2500, 100, 100, 10, info))
    events = read_ctf(write_ctf(tmp_path / "t", [batch]))
    names = [e[0] for e in events]
    assert names == ["syscall_entry_close", "syscall_exit_close", "signal_deliver", "syscall_entry_close",
                     "syscall_exit_close", "trace_end"]
    name, ts, payload = events[2]
    assert ts == OFFSET + 2500
    assert {k: payload[k] for k in ("pid", "tid", "sig", "name", "code")} == \
        {"pid": 100, "tid": 100, "sig": 10, "name": "SIGUSR1", "code": 0}
    assert json.loads(payload["siginfo"]) == {"si_signo": 10, "si_signo_names": ["SIGUSR1"], "si_code": 0,
                                              "si_code_names": ["SI_USER"], "si_pid": 100, "si_uid": 0}
