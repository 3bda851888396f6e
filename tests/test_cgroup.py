"""Which paths name a cgroup v2 group (runtime.cgroup.resolve_cgroup): only directories on cgroup2,
absolute or relative to its mount, never leading out of it. No BPF; creating a group needs root."""

from __future__ import annotations

import os
import uuid

import pytest

from tracespec.errors import TracespecError
from tracespec.runtime.cgroup import cgroup2_mounts, resolve_cgroup

MOUNTS = cgroup2_mounts()
needs_cgroup2 = pytest.mark.skipif(not MOUNTS, reason="cgroup v2 is not mounted")


def _refused(path: str) -> str:
    with pytest.raises(TracespecError) as e:
        resolve_cgroup(path)
    text = e.value.render()
    assert "Traceback" not in text
    assert MOUNTS[0] in text  # names where groups are
    return e.value.message


@needs_cgroup2
def test_a_directory_elsewhere_is_refused():
    # /dev has an inode number like any directory: taken as a cgroup id, it traced the root group
    assert "not on the cgroup v2 file system" in _refused("/dev")


@needs_cgroup2
def test_a_cgroup_v1_hierarchy_is_refused():
    v1 = [line.split()[4] for line in open("/proc/self/mountinfo")
          if line.partition(" - ")[2].split()[:1] == ["cgroup"]]
    if not v1:
        pytest.skip("no cgroup v1 hierarchy mounted")
    assert "not on the cgroup v2 file system" in _refused(v1[0])


@needs_cgroup2
def test_a_regular_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    assert "not a directory" in _refused(str(f))
    assert "not a directory" in _refused("cgroup.procs")  # a file of the root group, relative to the mount


@needs_cgroup2
def test_a_path_that_does_not_exist_is_refused():
    assert "no such directory" in _refused(f"/nonexistent-{uuid.uuid4().hex}")
    assert "no such directory" in _refused(f"no-such-group-{uuid.uuid4().hex}")


@needs_cgroup2
def test_a_relative_path_leading_out_of_the_mount_is_refused(tmp_path, monkeypatch):
    # relative to the working directory (a plain directory here), "../.." was a directory too
    monkeypatch.chdir(tmp_path)
    assert "leads out of the cgroup v2 mount" in _refused("../..")
    assert "leads out of the cgroup v2 mount" in _refused("a/../../../dev")


@needs_cgroup2
def test_an_empty_path_is_refused():
    with pytest.raises(TracespecError, match="an empty path"):
        resolve_cgroup("")


@needs_cgroup2
@pytest.mark.skipif(os.geteuid() != 0, reason="creating a cgroup needs root")
def test_a_group_is_found_absolute_relative_and_as_proc_shows_it():
    name = f"tracespec-test-{uuid.uuid4().hex[:8]}"
    group = os.path.join(MOUNTS[0], name)
    os.mkdir(group)
    try:
        want = (group, os.stat(group).st_ino)
        assert resolve_cgroup(group) == want
        assert resolve_cgroup(name) == want
        assert resolve_cgroup("/" + name) == want  # as /proc/PID/cgroup shows it
        assert resolve_cgroup(f"{name}/../{name}") == want  # `..` that stays inside is fine
    finally:
        os.rmdir(group)
