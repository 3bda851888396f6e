"""Properties over generated specs, filters and literals (hypothesis).

- The pipeline is total: any spec text, from well-formed to junk, gives either one SpecError located in
  that file (line and column within it) or BPF C and a decoder; never another exception.
- The filter parser is total too, over any text, and places its errors inside that text.
- Specs built to be valid compile, and a small sample of them is loaded into the kernel for real
  (BCC compiles the C, the verifier accepts every program, the probes attach and detach).
- cliteral: integers are read back by C as exactly themselves, byte lists as the same bytes, and a
  comment made of any text stays one comment (checked by gcc, one compile per example).

Example counts are small and fixed so that CI stays fast; failures print the spec that failed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_tracespec
from tracespec.catalogue import load_catalogue
from tracespec.codegen.cliteral import INT64_MIN, UINT64_MAX, c_bytes, c_comment, c_int
from tracespec.errors import Location, SpecError
from tracespec.pipeline import compile_spec, decoder_source
from tracespec.spec.filter import parse_filter

CATALOGUE = load_catalogue()
NAMES = sorted(CATALOGUE.names)
SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# -- strategies -----------------------------------------------------------------------------------

def _literal(value: bytes) -> str:
    """A filter string literal for any bytes (escaping what the grammar needs escaped)."""
    out = []
    for b in value:
        if b in b'"\\':
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Syscalls whose arguments the valid strategy knows: name -> (string arguments, number arguments).
KNOWN = {
    "openat": (("filename",), ("dfd", "flags")),
    "unlink": (("pathname",), ()),
    "mkdir": (("pathname",), ("mode",)),
    "read": ((), ("fd", "count")),
    "write": ((), ("fd", "count")),
    "close": ((), ("fd",)),
    "kill": ((), ("sig",)),
    "getppid": ((), ()),
}

numbers = st.one_of(st.integers(-5, 5000), st.sampled_from([0, -1, 2**31, 2**32 - 1, 2**63 - 1, -(2**63)]))
durations = st.tuples(st.integers(0, 10**6), st.sampled_from(["ns", "us", "ms", "s"])).map(lambda t: f"{t[0]}{t[1]}")
short_bytes = st.binary(min_size=1, max_size=12)


def valid_leaf(syscall: str):
    strs, nums = KNOWN[syscall]
    leaves = [
        st.tuples(st.sampled_from(["pid", "tid", "ppid", "uid", "gid", "ret"]),
                  st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), numbers).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.just("failed"),
        st.sampled_from(["ENOENT", "EPERM", "EAGAIN", "EINTR"]).map(lambda e: f"errno == {e}"),
        st.tuples(st.sampled_from([">", "<"]), durations).map(lambda t: f"duration {t[0]} {t[1]}"),
        st.tuples(st.sampled_from(["==", "startswith", "endswith", "contains", "!="]),
                  st.binary(min_size=1, max_size=15)).map(lambda t: f"comm {t[0]} {_literal(t[1])}"),
        st.lists(numbers, min_size=1, max_size=4).map(lambda v: f"pid in [{', '.join(map(str, v))}]"),
    ]
    if strs:
        leaves.append(st.tuples(st.sampled_from(strs), st.sampled_from(["==", "!=", "startswith", "endswith", "contains"]),
                                short_bytes).map(lambda t: f"{t[0]} {t[1]} {_literal(t[2])}"))
    if nums:
        leaves.append(st.tuples(st.sampled_from(nums), st.sampled_from(["==", "!=", ">", "<"]), numbers)
                      .map(lambda t: f"{t[0]} {t[1]} {t[2]}"))
        leaves.append(st.tuples(st.sampled_from(nums), st.integers(0, 2**64 - 1))
                      .map(lambda t: f"{t[0]} & {t[1]:#x}"))
    return st.one_of(leaves)


def boolean(leaf, max_leaves: int = 6):
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or", "&&", "||"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"not {e}"), inner.map(lambda e: f"!({e})")), max_leaves=max_leaves)


fetch = st.fixed_dictionaries({}, optional={"max": st.integers(1, 4095), "mode": st.sampled_from(["full", "inline"])}) \
    .filter(lambda d: not (d.get("mode") == "inline" and d.get("max", 0) > 255))


def _mapping(d: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"


@st.composite
def valid_specs(draw) -> str:
    chosen = draw(st.lists(st.sampled_from(sorted(KNOWN)), min_size=1, max_size=3, unique=True))
    lines = ["version: 1", "syscalls:"]
    for name in chosen:
        lines.append(f"  - name: {name}")
        if draw(st.booleans()):
            lines.append(f"    filter: {_yaml_quote(draw(boolean(valid_leaf(name))))}")
    if draw(st.booleans()):
        common = st.one_of(st.just("failed"), st.just("pid > 1"), st.just('comm != "x"'))
        lines.append(f"filter: {_yaml_quote(draw(boolean(common, 3)))}")
    for key in ("paths", "strings"):
        opts = draw(fetch)
        if opts:
            lines.append(f"{key}: {_mapping(opts)}")
    if draw(st.booleans()):
        lines.append(f"buffers: {{max: {draw(st.integers(0, 4096))}}}")
    if draw(st.booleans()):
        lines.append("fd_paths: true")
    return "\n".join(lines) + "\n"


junk_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
selectors = st.one_of(st.sampled_from(NAMES), st.sampled_from(["'*'", "'*stat*'", "'%file'", "'%network'", "'open*'"]),
                      junk_text.map(_yaml_quote))
junk_filters = st.one_of(
    junk_text,
    st.tuples(boolean(valid_leaf("openat")), junk_text).map(lambda t: t[0] + t[1]),
    st.tuples(junk_text, boolean(valid_leaf("read"))).map(lambda t: t[0] + t[1]),
    boolean(st.one_of(valid_leaf("openat"), valid_leaf("kill"), st.sampled_from(["O_CREAT", "flags & O_CREAT",
                                                                                  "args.pid == 1", "bogus"])), 8))
values = st.one_of(numbers.map(str), junk_text.map(_yaml_quote), st.sampled_from(["true", "null", "[]", "{}", "1.5",
                                                                                     "inline", "full", "-1"]))


@st.composite
def any_specs(draw) -> str:
    """Valid specs with parts replaced by junk: wrong names, values, keys and filters."""
    lines = draw(valid_specs()).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["selector", "filter", "value", "key", "line", "args"]))
        i = draw(st.integers(0, len(lines) - 1))
        if what == "selector":
            lines.insert(2, f"  - {draw(selectors)}")
        elif what == "filter":
            lines.append(f"filter: {_yaml_quote(draw(junk_filters))}")
        elif what == "value" and ": " in lines[i]:
            lines[i] = lines[i].split(": ", 1)[0] + ": " + draw(values)
        elif what == "key":
            lines.append(f"{draw(st.sampled_from(['raw', 'exclude', 'summary', 'recorder', 'nope', 'version']))}: "
                         f"{draw(values)}")
        elif what == "args":
            lines.insert(3, f"    args: {{{draw(st.sampled_from(['filename', 'buf', 'fd', 'x']))}: "
                            f"{{{draw(st.sampled_from(['max', 'mode', 'at', 'count', 'size', 'raw']))}: {draw(values)}}}}}")
        else:
            lines.insert(i, draw(junk_text))
    return "\n".join(lines) + "\n"


# -- the pipeline ---------------------------------------------------------------------------------

def _compile(text: str, directory: str):
    """compile_spec on the text as a file: the Compiled, or the SpecError (anything else propagates)."""
    path = str(Path(directory) / "spec.yaml")
    Path(path).write_text(text)
    try:
        c = compile_spec(path)
        decoder_source(c.plan)
        return path, c
    except SpecError as e:
        return path, e


def _assert_located(path: str, text: str, e: SpecError) -> None:
    loc = e.loc
    assert loc.file == path
    lines = text.split("\n")
    assert 1 <= loc.line <= len(lines) + 1 and loc.col >= 1, (loc, e.render())
    rendered = e.render()
    assert rendered.startswith(f"{path}:{loc.line}:{loc.col}: error: ")
    assert rendered.count(": error: ") == 1


@settings(max_examples=150, **SETTINGS)
@given(any_specs())
def test_any_spec_gives_located_error_or_c(text):
    with tempfile.TemporaryDirectory() as d:
        path, result = _compile(text, d)
        if isinstance(result, SpecError):
            _assert_located(path, text, result)
        else:
            assert "ts_enter_" in result.c_source or "ts_raw_enter" in result.c_source


@settings(max_examples=60, **SETTINGS)
@given(valid_specs())
def test_valid_specs_compile(text):
    with tempfile.TemporaryDirectory() as d:
        path, result = _compile(text, d)
        assert not isinstance(result, SpecError), result.render()


@settings(max_examples=300, **SETTINGS)
@given(st.one_of(junk_text, boolean(valid_leaf("openat"), 10), st.text(alphabet='()!"\\ &|<=>[],-.0x9aZ_\n', max_size=60)))
def test_filter_parser_is_total_and_locates_inside_the_text(text):
    def locate(line: int, col: int) -> Location:
        return Location("f", line, col)

    try:
        parse_filter(text, locate)
    except SpecError as e:
        lines = text.split("\n")
        assert 1 <= e.loc.line <= len(lines), (text, e.loc)
        assert 1 <= e.loc.col <= len(lines[e.loc.line - 1]) + 1, (text, e.loc)


@pytest.mark.bpf
@settings(max_examples=4, **SETTINGS)
@given(valid_specs())
def test_sample_of_valid_specs_loads_in_the_kernel(text):
    """BCC compiles, the verifier accepts, the probes attach; then the run ends and they are released."""
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "spec.yaml"
        spec.write_text(text)
        r = run_tracespec("run", str(spec), "-o", str(Path(d) / "out.txt"), "--", "true", timeout=300)
        assert r.returncode == 0, f"{text}\n{r.stderr}"
        assert "tracespec: " in r.stderr and " syscalls traced" in r.stderr, r.stderr


# -- cliteral, read back by a C compiler ----------------------------------------------------------

def _run_c(program: str, directory: str) -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    src, exe = Path(directory) / "t.c", Path(directory) / "t"
    src.write_text(program)
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-trigraphs", "-o", str(exe), str(src)], check=True,
                   capture_output=True, cwd=ROOT)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


@settings(max_examples=3, **SETTINGS)
@given(st.lists(st.integers(INT64_MIN, UINT64_MAX) | st.sampled_from([INT64_MIN, -(2**31), 2**31 - 1, 2**31, 2**63 - 1,
                                                                         2**63, UINT64_MAX, 0, -1]), min_size=1, max_size=40),
       st.lists(st.binary(max_size=40), min_size=1, max_size=10),
       st.lists(st.text(max_size=60), min_size=1, max_size=10))
def test_literals_read_back_by_c(ints, blobs, texts):
    """Each integer: its sign as C sees it and its value; each byte list: its bytes; each comment: one
    comment, after which the code goes on (a comment that ended early, or swallowed the next line, would
    not compile or would print something else)."""
    body = ['#include <stdio.h>', "int main(void)", "{"]
    for v in ints:
        lit = c_int(v)
        fmt, cast = ("%lld", "long long") if v < 0 else ("%llu", "unsigned long long")
        body.append(f'    printf("%d {fmt}\\n", ({lit}) < 0, ({cast})({lit}));')
    for i, b in enumerate(blobs):
        items = ", ".join(c_bytes(b)) or "0"
        body.append(f"    {{ static const unsigned char b{i}[] = {{{items}}}; "
                    f"for (unsigned k = 0; k < {len(b)}; k++) printf(\"%02x\", b{i}[k]); printf(\"\\n\"); }}")
    for i, t in enumerate(texts):
        body.append(f"    /* {c_comment(t)} */ printf(\"comment {i}\\n\");")
    body += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as d:
        out = _run_c("\n".join(body) + "\n", d).splitlines()
    expected = [f"{int(v < 0)} {v}" for v in ints] + [b.hex() for b in blobs] + [f"comment {i}" for i in range(len(texts))]
    assert out == expected


@settings(max_examples=200, **SETTINGS)
@given(st.text())
def test_comment_text_is_inert(text):
    s = c_comment(text)
    assert all(" " <= ch <= "~" for ch in s)
    assert "*/" not in s and "/*" not in s and "??" not in s
