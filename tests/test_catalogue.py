"""The catalogue's facts, checked against the running kernel and the system headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracespec.catalogue import load_catalogue
from tracespec.catalogue.kinds import parse_kind
from tracespec.kernel import running_profile

UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def formats():
    p = running_profile()
    assert p.syscall_formats, "tracefs must be mounted (./setup does it)"
    return p.syscall_formats


@pytest.mark.bpf
def test_argument_names_and_types_match_the_running_kernel(catalogue, formats):
    mismatches = []
    for sc in catalogue.syscalls:
        if sc.event is None or sc.event not in formats:
            continue
        live = formats[sc.event]
        ours = tuple((a.name, a.ctype.spelling) for a in sc.args)
        if ours != live:
            mismatches.append((sc.name, ours, live))
    assert not mismatches


@pytest.mark.bpf
def test_every_syscall_tracepoint_of_the_kernel_is_catalogued(catalogue, formats):
    events = {sc.event for sc in catalogue.syscalls if sc.event}
    assert set(formats) - events == set()


def test_numbers_match_the_system_headers(catalogue):
    if not UNISTD.exists():
        pytest.skip("no asm/unistd_64.h on this machine (linux-libc-dev)")
    nrs = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR_(\w+) (\d+)", UNISTD.read_text())}
    for sc in catalogue.syscalls:
        if sc.name in nrs:
            assert nrs[sc.name] == sc.nr, sc.name
    assert len([s for s in catalogue.syscalls if s.name in nrs]) > 300


def test_kinds_parse_and_reject():
    assert str(parse_kind("obuf(count)")) == "obuf(count)"
    for bad in ("nonsense", "flags", "int(x)", "obuf()", "path(x)"):
        with pytest.raises(ValueError):
            parse_kind(bad)


def test_classes_follow_strace(catalogue):
    assert "openat" in [s.name for s in catalogue.in_class("file")]
    assert {s.name for s in catalogue.in_class("stat")} == {"stat"}
    assert {"fstat", "newfstatat", "statx"} <= {s.name for s in catalogue.in_class("fstat")}
    assert "getpid" in [s.name for s in catalogue.in_class("pure")]


def test_well_known_arguments(catalogue):
    openat = catalogue.get("openat")
    assert [(a.name, str(a.kind)) for a in openat.args] == [
        ("dfd", "dirfd"), ("filename", "path"), ("flags", "flags(open_flags)"), ("mode", "omode")]
    assert str(catalogue.get("read").arg("buf").kind) == "obuf(count)"
    assert catalogue.get("exit_group").ret == "none"
    assert catalogue.get("mmap").ret == "hex"
