"""getdents and getdents64 print how many entries the kernel wrote, as strace does without -v
(`getdents64(3, 0x7ffd... /* 796 entries */, 32768) = 32752`): counted by the BPF program where the entries
lie (catalogue/dirents.py), whatever the size of the copy of the buffer."""

from __future__ import annotations

import re

import pytest

from groupcompare import compare_group

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
