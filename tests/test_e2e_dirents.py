"""getdents and getdents64 print how many entries the kernel wrote, as strace does without -v
(`getdents64(3, 0x7ffd... /* 796 entries */, 32768) = 32752`): counted by the BPF program where the entries
lie (catalogue/dirents.py), whatever the size of the copy of the buffer."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import compile_workload, run_tracespec
from groupcompare import compare_group, from_marker
from straceio import normalized
from tracespec.quote import quote

pytestmark = pytest.mark.bpf


def _compare(build_dir, tmp_path, options: tuple = ()) -> list[str]:
    # the workload makes, fills and removes the directory: the same path for both runs
    return compare_group("dirents_workload", "dirents", ["getdents", "getdents64", "openat", "lseek"], build_dir,
                         tmp_path, options, extra_argv=(str(tmp_path / "d"),))


def test_entry_counts_agree_with_strace(build_dir, tmp_path):
    lines = _compare(build_dir, tmp_path)
    counts = [int(m.group(1)) for line in lines for m in [re.search(r"/\* (\d+) entries \*/", line)] if m]
    assert sum(counts[:-1]) > 1500 and counts  # every entry, "." and ".." too, then "0 entries" at the end
    assert any(line.startswith("getdents(3, 0x") and "entries */, 200) = " in line for line in lines)
    assert any(line.endswith("= -1 EINVAL (Invalid argument)") and "entries" not in line for line in lines)
    assert "getdents64(3, 0x8, 32768) = -1 EFAULT (Bad address)" in lines


def test_the_count_does_not_depend_on_how_much_of_the_buffer_is_copied(build_dir, tmp_path):
    _compare(build_dir, tmp_path, ("-s", "4"))


# -v: the entries themselves. The directory is made here, once, and read by both runs (group "read"):
# its entries' inodes and offsets are then the same for strace and tracespec.

NAMES = [b'q"uote', b"tab\tx", b"nl\nx", b"\xff\x01", b"back\\slash", b"n" * 255, b"averyveryverylongname"]
COPY = 4096  # the bytes of each call's buffer copied by default (catalogue/dirents.py DIRENTS_COPY)


def _names_dir(tmp_path) -> Path:
    d = tmp_path / "names"
    d.mkdir()
    for name in NAMES:
        open(os.path.join(os.fsencode(d), name), "w").close()
    (d / "sub").mkdir()
    os.mkfifo(d / "fifo")
    os.symlink("nowhere", d / "link")
    return d


def _big_dir(tmp_path, n: int = 1500) -> Path:
    """n entries of 24 bytes each in both layouts (4-character names), "." and ".." too."""
    d = tmp_path / "big"
    d.mkdir()
    for i in range(n):
        (d / f"{'abcdefghij'[i // 1000]}{i % 1000:03d}").touch()
    return d


def _read(build_dir, tmp_path, d: Path, options: tuple, spec_extra: str = "") -> list[str]:
    out = tmp_path / "cmp"
    out.mkdir(exist_ok=True)
    return compare_group("dirents_workload", "read", ["getdents", "getdents64", "openat", "lseek"], build_dir,
                         out, options, spec_extra=spec_extra, extra_argv=(str(d),))


def test_v_prints_the_entries_as_strace_does(build_dir, tmp_path):
    lines = _read(build_dir, tmp_path, _names_dir(tmp_path), ("-v",))
    text = "\n".join(lines)
    for shown in ('d_name="q\\"uote"', 'd_name="tab\\tx"', 'd_name="nl\\nx"', 'd_name="\\377\\1"',
                  'd_name="back\\\\slash"', 'd_name="' + "n" * 255 + '"', "d_type=DT_FIFO", "d_type=DT_LNK",
                  "d_type=DT_DIR"):
        assert shown in text, shown
    assert any(line.startswith("getdents(3, [{d_ino=") and ', d_name="sub", d_type=DT_DIR}' in line for line in lines)
    assert "getdents64(3, [], 32768) = 0" in lines


def test_v_names_are_not_cut_by_s(build_dir, tmp_path):
    lines = _read(build_dir, tmp_path, _names_dir(tmp_path), ("-v", "-s", "4"))
    assert any('d_name="averyveryverylongname"' in line for line in lines)


def test_v_with_x_and_X_decoded_from_a_recorded_trace(build_dir, tmp_path):
    d = _names_dir(tmp_path)
    lines = _read(build_dir, tmp_path, d, ("-v", "-x", "-X", "verbose"), spec_extra="abbrev: false\n")
    assert any('d_name="\\xff\\x01"' in line and "d_type=0x8 /* DT_REG */" in line for line in lines)


def _cut(line: str, entries: int) -> str:
    """strace's line of a getdents whose buffer holds more than the copy, as strace prints it had the
    memory ended after `entries` whole entries, with less than a header after them: those entries,
    then "... /* ADDRESS */"."""
    head, _, rest = line.partition("[")
    body, _, tail = rest.rpartition("]")
    items = body.split("}, {")
    assert len(items) > entries
    return head + "[" + "}, {".join(items[:entries]) + "}, ... /* 0xADDR */]" + tail


def test_v_of_a_directory_larger_than_the_copy(build_dir, tmp_path):
    lines = _compare_cut(build_dir, tmp_path, ("-v",), "", COPY)
    assert sum(1 for want, got in lines if want != got) >= 2  # getdents64 and getdents, 32 KiB each


def test_v_with_a_copy_bound_by_the_spec_that_ends_inside_a_name(build_dir, tmp_path):
    # 10 entries of 24 bytes, then the header of the 11th and the first two bytes of its name
    extra = "abbrev: false\nsyscalls:\n" + "".join(
        f"  - name: {name}\n    args: {{dirent: {{max: {10 * 24 + 19 + 2}}}}}\n" for name in ("getdents", "getdents64"))
    d = _big_dir(tmp_path, 40)
    argv = [str(compile_workload("dirents_workload", build_dir)), "read", str(d)]
    want = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-v", "-o", str(want), "-e", "trace=getdents64,close", *argv], check=True)
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\n" + extra + "  - close\n")
    got = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), "-o", str(got), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    [want_lines], [got_lines] = (normalized(f.read_text()) for f in (want, got))
    first = next(line for line in from_marker(got_lines) if line.startswith("getdents64("))
    full = next(line for line in from_marker(want_lines) if line.startswith("getdents64("))
    items = full.partition("[")[2].rpartition("]")[0].split("}, {")
    assert first == (full.partition("[")[0] + "[" + "}, {".join(items[:10]) + "}, {"
                     + items[10].partition("d_name=")[0] + "d_name=0xADDR}, ...]" + full.rpartition("]")[2])


def _compare_cut(build_dir, tmp_path, options: tuple, spec_extra: str, copy: int) -> list[tuple[str, str]]:
    """The read group on a big directory: each line tracespec prints is strace's, the calls that wrote
    more than the copy holds cut after its whole entries of 24 bytes (the header of the next is not whole).
    Returns the pairs (strace's, tracespec's)."""
    d = _big_dir(tmp_path)
    argv = [str(compile_workload("dirents_workload", build_dir)), "read", str(d)]
    want = tmp_path / "strace.txt"
    traced = "trace=getdents,getdents64,close"
    subprocess.run(["strace", "-f", "-q", *options, "-o", str(want), "-e", traced, *argv], check=True)
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nsyscalls: [getdents, getdents64, close]\n" + spec_extra)
    got = tmp_path / "tracespec.txt"
    r = run_tracespec("run", str(spec), *options, "-o", str(got), "--", *argv, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    want_lines, got_lines = (from_marker(p[0]) for p in (normalized(f.read_text()) for f in (want, got)))
    assert len(want_lines) == len(got_lines)
    pairs = []
    for w, g in zip(want_lines, got_lines):
        returned = int(w.rpartition("= ")[2].split()[0]) if w.startswith("getdents") else 0
        assert g == (_cut(w, copy // 24) if returned > copy else w)
        pairs.append((w, g))
    return pairs


def test_a_trace_recorded_with_v_decodes_as_with_v(build_dir, tmp_path):
    d = _names_dir(tmp_path)
    argv = [str(compile_workload("dirents_workload", build_dir)), "read", str(d)]
    trace = tmp_path / "t.tsb"
    r = run_tracespec("run", "-v", "-e", "trace=getdents64", "--format", "bin", "-o", str(trace), "--", *argv,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    r = run_tracespec("decode", str(trace))
    assert r.returncode == 0, r.stderr
    assert 'd_name="back\\\\slash"' in r.stdout and "getdents64(3, [], 32768) = 0" in r.stdout


_ENTRY = re.compile(r'\{d_ino=(\d+), d_off=(\d+), d_reclen=(\d+), d_type=(\w+), d_name=("(?:[^"\\]|\\.)*")\}')


def test_json_gives_the_entries_strace_v_prints(build_dir, tmp_path):
    """--format json: each getdents64's entries as objects, the same entries strace -v prints (its d_name
    quoted as strace quotes a path; d_off as strace prints it, unsigned)."""
    d = _names_dir(tmp_path)
    argv = [str(compile_workload("dirents_workload", build_dir)), "read", str(d)]
    want = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-q", "-v", "-o", str(want), "-e", "trace=getdents64", *argv], check=True,
                   stdout=subprocess.DEVNULL)
    got = tmp_path / "tracespec.jsonl"
    r = run_tracespec("run", "-v", "-e", "trace=getdents64", "--format", "json", "-o", str(got), "--", *argv,
                      stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    calls = [obj for obj in map(json.loads, got.read_text().splitlines()) if obj.get("syscall") == "getdents64"]
    [want_lines] = normalized(want.read_text())
    strace_calls = [line for line in want_lines if line.startswith("getdents64(")]
    assert len(calls) == len(strace_calls) >= 2
    for obj, line in zip(calls, strace_calls):
        returned = int(line.rpartition("= ")[2].split()[0])
        assert obj["ret"] == returned or (obj["ret"] < 0 and returned == -1)
        if obj["ret"] < 0:  # the pointer's number, where strace prints the address
            assert type(obj["args"]["dirent"]) is int and obj["errno"] in line and "d_ino" not in line
            continue
        shown = [(int(ino), int(off), int(reclen), dtype, name) for ino, off, reclen, dtype, name in _ENTRY.findall(line)]
        mine = [(e["d_ino"], e["d_off"] & (2 ** 64 - 1), e["d_reclen"], e["d_type_names"][0],
                quote(e["d_name"].encode("utf-8", "surrogateescape"))) for e in obj["args"]["dirent"]]
        assert mine == shown and "truncated" not in obj
    names = {e["d_name"] for obj in calls if obj["ret"] > 0 for e in obj["args"]["dirent"]}
    assert names == {n.decode("utf-8", "surrogateescape") for n in NAMES} | {"sub", "fifo", "link", ".", ".."}
