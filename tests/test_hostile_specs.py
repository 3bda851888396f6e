"""Specs written to do harm, and faults while tracing.

A spec may come from anyone's repository, and tracespec runs it as root, in the kernel. So:
- what a spec must not say is refused by `tracespec check` with one located message (file:line:col, a
  hint, exit status 1), never a traceback;
- what a spec may say (a filter's string literal holds any bytes) reaches the generated C only as numbers,
  and in comments only defused: stripping comments and literals from the C leaves nothing of it, and BCC
  compiles and the kernel loads the result;
- tracespec killed with SIGKILL, or its -p target exiting, leaves no program, map or perf event behind.

(tests/bad_specs/ is the corpus of ordinary mistakes; test_e2e_binary.py damages binary traces.)
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, TRACESPEC, compile_workload, run_tracespec
from tracespec import cli
from tracespec.codegen.decoder import render_decoder
from tracespec.pipeline import compile_spec

INJECTED = "tracespec_injected"  # a word that must never become C (or Python) code


def _write(tmp_path, body: str | bytes, name: str = "spec.yaml") -> str:
    p = tmp_path / name
    if isinstance(body, str):
        body = body.encode()
    p.write_bytes(body)
    return str(p)


# -- refused, with one located message ----------------------------------------------------------------

def _long(n: int) -> str:
    return "a" * n


# name -> (spec text after "version: 1\n", expected "line:col", a fragment of the message)
REFUSED = {
    "quote_in_syscall_name": ('syscalls: [\'openat"); ' + INJECTED + '(); ("\']\n', "2:12", "is not a syscall name"),
    "comment_end_in_syscall_name": ("syscalls: ['read */ " + INJECTED + "(); /*']\n", "2:12", "is not a syscall glob"),
    "include_as_class": ("syscalls:\n  - class: '#include <linux/sched.h>'\n", "3:12", "is not a class name"),
    "newline_in_name": ('syscalls:\n  - name: "openat\\n#define ts_emit ' + INJECTED + '"\n', "3:11",
                        "is not a syscall name"),
    "backslash_in_glob": ("syscalls:\n  - glob: 'open\\*'\n", "3:11", "is not a syscall glob"),
    "c_keyword_as_syscall": ("syscalls: [while]\n", "2:12", "unknown syscall 'while'"),
    "c_keyword_as_argument": ("syscalls:\n  - name: openat\n    args:\n      int: {max: 4}\n", "5:7",
                              "openat has no argument 'int'"),
    "code_as_argument_name": ("syscalls:\n  - name: openat\n    args:\n      'filename); " + INJECTED + "(': {max: 4}\n",
                              "5:7", "is not an argument name"),
    "code_as_size_argument": ("syscalls:\n  - name: read\n    args:\n      buf: {size: 'count; " + INJECTED + "'}\n",
                              "5:19", "must name an argument or 'ret'"),
    "c_keyword_as_filter_field": ("syscalls: [openat]\nfilter: 'return == 0'\n", "3:10", "unknown field 'return'"),
    "preprocessor_in_filter": ("syscalls: [openat]\nfilter: '#include <stdio.h>'\n", "3:10", "unexpected character '#'"),
    "comment_in_filter": ("syscalls: [openat]\nfilter: 'pid == 1 /* x */'\n", "3:19", "unexpected character '/'"),
    "raw_newline_in_filter_string": ('syscalls: [openat]\nfilter: "filename == \\"a\\nb\\""\n', "3:22",
                                     "unexpected character"),
    "filter_string_too_long": ("syscalls: [openat]\nfilter: 'filename == \"" + _long(300) + "\"'\n", "3:22",
                               "string literal of 300 bytes"),
    "filter_too_long": ("syscalls: [openat]\nfilter: '" + " or ".join(["failed"] * 1000) + "'\n", "3:10",
                        "filter of 9996 characters"),
    "syscall_name_very_long": ("syscalls: [" + _long(100_000) + "]\n", "2:12", "unknown syscall"),
    "number_huge": ("syscalls: [openat]\npaths: {max: 99999999999999999999999999999}\n", "3:14", "a number of 29 digits, outside 1..4096"),
    "number_negative": ("syscalls: [openat]\nstrings: {max: -1}\n", "3:16", "is -1, outside 1..4096"),
    "number_of_5000_digits": ("syscalls: [openat]\npaths: {max: " + "9" * 5000 + "}\n", "3:14", "reads as a YAML int"),
    "filter_number_over_64_bits": ("syscalls: [openat]\nfilter: 'flags == 0x10000000000000000'\n", "3:19",
                                   "does not fit in 64 bits"),
    "filter_number_under_64_bits": ("syscalls: [openat]\nfilter: 'ret == -9223372036854775809'\n", "3:17",
                                    "does not fit in 64 bits"),
    "filter_duration_over_64_bits": ("syscalls: [openat]\nfilter: 'duration > 18446744073709551616ns'\n", "3:21",
                                     "does not fit in 64 bits"),
    "filter_nested_2000_levels": ("syscalls: [openat]\nfilter: '" + "!" * 2000 + "failed'\n", "3:42",
                                  "nested deeper than 32 levels"),
    "filter_parentheses_and_not": ("syscalls: [openat]\nfilter: '" + "not (failed or " * 100 + "failed" + ")" * 100 +
                                   "'\n", "3:250", "nested deeper than 32 levels"),
    "filter_of_40_conditions": ("syscalls: [openat]\nfilter: '" + " or ".join(f"pid == {i}" for i in range(40)) +
                                "'\n", "3:416", "more than 32 conditions"),
    "filter_conditions_global_and_own": (
        "syscalls:\n  - name: openat\n    filter: '" + " or ".join(f"tid == {i}" for i in range(12)) + "'\n"
        "filter: '" + " or ".join(f"pid == {i}" for i in range(24)) + "'\n", "4:110", "with the global filter's 24"),
    "recorder_size_of_400_digits": ("syscalls: [openat]\nrecorder: {size: '" + "9" * 400 + "'}\n", "3:18",
                                    "recorder.size must be a size"),
    "impossible_date": ("syscalls: [openat]\ndescription: 2001-02-30\n", "3:14", "reads as a YAML timestamp"),
    "impossible_hex": ("syscalls: [openat]\ndescription: 0x_\n", "3:14", "reads as a YAML int"),
    "alias_billion_laughs": ("syscalls: &a [read, read]\nexclude: [*a, *a, *a]\n", "2:11", "anchors and aliases"),
    "merge_key": ("syscalls: [openat]\npaths: &p {max: 10}\nstrings:\n  <<: *p\n", "3:8", "anchors and aliases"),
    "duplicate_nested_key": ("syscalls:\n  - name: openat\n    args:\n      filename: {max: 4, max: 5}\n", "5:26",
                             "duplicate key 'max'"),
    "python_tag": ("syscalls: [openat]\ndescription: !!python/object/apply:os.system ['true']\n", "3:14",
                   "YAML tag"),
    "nul_in_description": ('syscalls: [openat]\ndescription: "a\\0b"\n', "3:14", "contains a NUL character"),
    "non_utf8_in_comment": (b"syscalls: [openat]\n# caf\xe9\n", "3:6", "not valid UTF-8"),
}


def _refused_spec(tmp_path, name: str) -> tuple[str, str, str]:
    body, where, fragment = REFUSED[name]
    head = b"version: 1\n"
    return _write(tmp_path, head + (body if isinstance(body, bytes) else body.encode())), where, fragment


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_spec_is_refused_with_one_located_message(tmp_path, capsys, name):
    """Through the command line's own entry point (in-process: 35 interpreter start-ups would cost more
    than the rest of this file); the real process is run once below."""
    path, where, fragment = _refused_spec(tmp_path, name)
    code = cli.main(["check", path])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert err.startswith(f"{path}:{where}: error: "), err[:500]
    assert fragment in err, err[:500]
    assert err.count(": error: ") == 1 and "hint: " in err, err[:500]
    assert "Traceback" not in err and "internal error" not in err
    assert out == ""


def test_check_process_refuses_every_hostile_spec(tmp_path):
    paths = []
    for name in sorted(REFUSED):
        d = tmp_path / name
        d.mkdir()
        paths.append(_refused_spec(d, name)[0])
    r = run_tracespec("check", *paths)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert [p for p in paths if f"{p}:" in r.stderr] == paths
    assert r.stdout == ""


# -- accepted: values reach the C only as numbers -----------------------------------------------------

# Bytes that mean something to C, the preprocessor or a comment, and bytes that are not UTF-8.
HOSTILE_BYTES = (b'/x" */ #include "/etc/shadow"\n' + INJECTED.encode() +
                 b"(); /* \\ ??/ \xff\xfe' \r\t")


def _literal(value: bytes) -> str:
    """A filter string literal standing for `value`."""
    out = []
    for b in value:
        ch = chr(b)
        if ch in "\\\"":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def _strip_comments_and_literals(c: str) -> str:
    """The C that remains as code: comments, string and character literals removed, lines spliced as
    the preprocessor does first (a backslash at a line's end would pull the next line into a comment)."""
    c = c.replace("\\\n", "")
    out, i, n = [], 0, len(c)
    while i < n:
        if c.startswith("/*", i):
            end = c.find("*/", i + 2)
            assert end >= 0, "an unterminated comment"
            i = end + 2
            out.append(" ")
        elif c.startswith("//", i):
            end = c.find("\n", i)
            i = n if end < 0 else end
        elif c[i] in "\"'":
            quote, j = c[i], i + 1
            while c[j] != quote:
                assert c[j] != "\n", "a literal runs past its line"
                j += 2 if c[j] == "\\" else 1
            i = j + 1
            out.append('""')
        else:
            out.append(c[i])
            i += 1
    return "".join(out)


def _hostile_spec_text() -> str:
    def yq(text: str) -> str:  # a YAML single-quoted scalar
        return "'" + text.replace("'", "''") + "'"

    lit = _literal(HOSTILE_BYTES)
    nul = _literal(b"*/\x00" + INJECTED.encode() + b"\x00/*")
    comm = f"comm == {_literal(b'*/#inc' + bytes([92, 34]))} or comm startswith {_literal(b'??/')}"
    return ("version: 1\n"
            f"description: {yq('*/ ' + INJECTED + '(); /*')}\n"
            "syscalls:\n"
            "  - name: openat\n"
            f"    filter: {yq('filename == ' + lit)}\n"
            "  - name: unlink\n"
            f"    filter: {yq(f'pathname startswith {lit} or pathname endswith {lit} or pathname contains {nul}')}\n"
            "  - name: execve\n"
            f"    filter: {yq(comm)}\n")


def _hostile_spec_path(tmp_path) -> str:
    """The file's own name is hostile too: it is quoted in the C's comments and the decoder's docstring."""
    d = tmp_path / ('*/ ' + INJECTED + '(); /* """ \\')  # "/" makes it three directories
    d.mkdir(parents=True)
    return _write(d, _hostile_spec_text(), 'x\n#include "evil.h"\n.yaml')


def test_filter_literal_reaches_c_only_as_numbers(tmp_path):
    path = _hostile_spec_path(tmp_path)
    c = compile_spec(path).c_source
    code = _strip_comments_and_literals(c)
    assert INJECTED not in code and "shadow" not in code and "evil" not in code
    assert "#include \"" not in code
    # the literal's bytes reach the C only as numbers: compared a byte at a time, or (strings copied to
    # scratch) as little-endian 64-bit words at offsets into the string, the last one overlapping
    compared = [int(b, 16) for b in re.findall(r"== (0x[0-9a-f]{2})", code)]
    by_bytes = any(compared[i:i + len(HOSTILE_BYTES)] == list(HOSTILE_BYTES) for i in range(len(compared)))
    by_words = []
    for body in re.findall(r"u64 diff = (.*?);", code):
        text = bytearray(len(HOSTILE_BYTES) + 8)
        for at, word in re.findall(r"\(p \+ (\d+)\) \^ (0x[0-9a-f]+)LL", body):
            text[int(at):int(at) + 8] = int(word, 16).to_bytes(8, "little")
        by_words.append(bytes(text[:len(HOSTILE_BYTES)]))
    assert by_bytes or HOSTILE_BYTES in by_words, by_words
    # and the spec's text is in the comments only as printable ASCII, never closing one early
    for comment in re.findall(r"/\*.*?\*/", c, flags=re.S):
        assert all(" " <= ch <= "~" or ch in "\n" for ch in comment)


def test_hostile_spec_path_is_only_text_in_the_decoder(tmp_path):
    path = _hostile_spec_path(tmp_path)
    source = render_decoder(compile_spec(path).plan.schema)
    names = {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    calls = {n.func.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert INJECTED not in names | calls
    assert ast.get_docstring(ast.parse(source)).count("Record decoder") == 1


# A binary trace carries its record layouts; the decoder is rendered from them. A crafted trace must not
# get code into it, nor crash decoding: each of these is refused as a corrupt header.
BAD_LAYOUTS = {
    "kind_as_code": lambda s: s["layouts"][0].update(kind="1; import os"),
    "name_as_code": lambda s: s["layouts"][0].update(name="f0\nimport os"),
    "slot_arg_as_code": lambda s: s["layouts"][0]["slots"][0].update(arg="filename\nimport os"),
    "slot_count_as_text": lambda s: s["layouts"][0]["slots"][0].update(count="4; import os"),
    "slot_inline_as_text": lambda s: s["layouts"][0]["slots"][0].update(inline="True; import os"),
    "unknown_field": lambda s: s["layouts"][0]["slots"][0].update(evil=1),
}


@pytest.mark.parametrize("name", sorted(BAD_LAYOUTS))
def test_crafted_trace_layout_is_refused_not_run(tmp_path, capsys, name):
    from tracespec.format.binary import BinWriter

    spec = _write(tmp_path, "version: 1\nsyscalls: [openat]\n")
    schema = compile_spec(spec).plan.schema.to_json()
    BAD_LAYOUTS[name](schema)
    trace = tmp_path / "t.tsb"
    with open(trace, "wb") as f:
        BinWriter(f, schema, spec, "", 0).finish(0, 0)
    code = cli.main(["decode", str(trace)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"tracespec: error: {trace}: its header has no usable record layout"), err
    assert "internal error" not in err


def test_trace_header_that_is_not_an_object(tmp_path, capsys):
    trace = tmp_path / "t.tsb"
    trace.write_bytes(b"TSPECBIN" + (1).to_bytes(4, "little") + (2).to_bytes(4, "little") + b"[]")
    for extra in ([], ["--header"]):
        assert cli.main(["decode", str(trace), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"tracespec: error: {trace}: its header is not a JSON object"), err


@pytest.fixture(scope="module")
def loop(build_dir):
    return str(compile_workload("loop_workload", build_dir))


@pytest.mark.bpf
def test_hostile_literal_loads_and_matches_exactly_its_bytes(tmp_path, loop):
    """The spec above, loaded for real (BCC compiles it, the verifier accepts it), traces opens of the
    hostile path and of two near misses: the filter matches the very bytes, and only them."""
    path = _hostile_spec_path(tmp_path)
    out = tmp_path / "t.jsonl"
    misses = [HOSTILE_BYTES[:-1], HOSTILE_BYTES + b"x"]
    r = subprocess.run([TRACESPEC, "run", path, "--format", "json", "-o", str(out), "--", "sh", "-c",
                        'w=$0; for p in "$@"; do printf g | "$w" later "$p" 1; done', loop,
                        misses[0], HOSTILE_BYTES, misses[1]],
                       capture_output=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    events = [json.loads(line) for line in out.read_text().splitlines()]
    opened = [e["args"]["filename"].encode("utf-8", "surrogateescape") for e in events if e.get("syscall") == "openat"]
    assert opened == [HOSTILE_BYTES], opened


# -- faults: nothing left in the kernel ---------------------------------------------------------------

def _bpf_ids(pid: int) -> tuple[set[int], set[int]]:
    """The ids of the BPF programs and maps a process holds open (from its fdinfo: exact, whatever other
    tracers run on the machine at the same time)."""
    progs, maps = set(), set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                text = f.read()
        except OSError:
            continue
        if m := re.search(r"^prog_id:\s*(\d+)", text, re.M):
            progs.add(int(m.group(1)))
        if m := re.search(r"^map_id:\s*(\d+)", text, re.M):
            maps.add(int(m.group(1)))
    return progs, maps


def _bpftool(*what: str) -> list[dict]:
    r = subprocess.run(["bpftool", "-j", *what], capture_output=True, text=True, check=True)
    return json.loads(r.stdout or "[]")


def _assert_gone(progs: set[int], maps: set[int], timeout: float = 30) -> None:
    """Freeing is asynchronous (RCU, and tracespec's detached releaser): wait for it, then check."""
    deadline = time.monotonic() + timeout
    while True:
        left_progs = progs & {p["id"] for p in _bpftool("prog", "show")}
        left_maps = maps & {m["id"] for m in _bpftool("map", "show")}
        left_perf = [p for p in _bpftool("perf", "show") if p.get("prog_id") in progs]
        if not (left_progs or left_maps or left_perf):
            return
        assert time.monotonic() < deadline, f"left in the kernel: progs {left_progs}, maps {left_maps}, {left_perf}"
        time.sleep(0.5)


def _wait_attached(proc: subprocess.Popen, out, timeout: float = 90) -> tuple[set[int], set[int]]:
    """Once the trace has output, the programs are attached: their ids then."""
    deadline = time.monotonic() + timeout
    while not out.exists() or out.stat().st_size == 0:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "no trace output"
        time.sleep(0.1)
    progs, maps = _bpf_ids(proc.pid)
    assert progs and maps
    return progs, maps


def _marker() -> str:
    return f"/nonexistent/tracespec-test-{uuid.uuid4().hex[:12]}"


def _tick_spec(tmp_path, marker: str) -> str:
    return _write(tmp_path, f"version: 1\nsyscalls:\n  - name: openat\n    filter: 'filename == \"{marker}\"'\n")


@pytest.mark.bpf
def test_tracespec_killed_with_sigkill_leaves_nothing_and_its_trace_decodes(tmp_path, loop):
    """SIGKILL gives tracespec no chance to clean up: the kernel must, when its descriptors close. The
    command it started goes on (as under strace) and must hold none of them. The binary trace written so far
    decodes, and says it was cut short."""
    marker = _marker()
    trace = tmp_path / "t.tsb"
    proc = subprocess.Popen([TRACESPEC, "run", _tick_spec(tmp_path, marker), "--format", "bin", "-o", str(trace),
                             "--", loop, "tick", marker], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    command = None
    try:
        _wait_attached(proc, trace)
        time.sleep(0.5)  # a few more ticks into the file
        progs, maps = _bpf_ids(proc.pid)
        children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
        command = int(children[0])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert os.path.exists(f"/proc/{command}"), "the command goes on"
        held = [os.readlink(f"/proc/{command}/fd/{fd}") for fd in os.listdir(f"/proc/{command}/fd")]
        assert not [h for h in held if "bpf" in h or "perf_event" in h], held
        _assert_gone(progs, maps)
    finally:
        proc.kill()
        if command is not None:
            try:
                os.kill(command, signal.SIGKILL)
            except ProcessLookupError:
                pass
    r = run_tracespec("decode", str(trace), "--format", "json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "without its final record" in r.stderr or "cut short" in r.stderr, r.stderr
    opens = [json.loads(line) for line in r.stdout.splitlines()]
    assert sum(1 for e in opens if e.get("args", {}).get("filename") == marker) >= 2


@pytest.mark.bpf
def test_pid_target_exiting_mid_trace_ends_the_trace_and_leaves_nothing(tmp_path, loop):
    marker = _marker()
    target = subprocess.Popen([loop, "tick", marker])
    out = tmp_path / "t.txt"
    proc = subprocess.Popen([TRACESPEC, "run", _tick_spec(tmp_path, marker), "-o", str(out), "-p", str(target.pid)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        progs, maps = _wait_attached(proc, out)
        target.send_signal(signal.SIGTERM)
        target.wait(timeout=30)
        _, err = proc.communicate(timeout=60)
    finally:
        target.kill()
        proc.kill()
    assert proc.returncode == 0, err
    assert re.search(r"tracespec: \d+ syscalls traced, 0 records lost", err), err
    text = out.read_text()
    assert f'openat(AT_FDCWD, "{marker}", O_RDONLY) = -1 ENOENT' in text
    assert text.rstrip().endswith("+++ killed by SIGTERM +++"), text[-300:]
    _assert_gone(progs, maps)
