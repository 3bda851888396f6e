"""Which tracespec is measured: an installed executable (by default the repository's .venv, which runs
the work tree, uncommitted edits included), or the tracespec of one commit, unpacked from git into the
temp dir, so that edits in progress in the work tree do not end up in the numbers.

Only read-only git commands are used (rev-parse, archive, and status without taking the index lock).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field

from errors import BenchError


@dataclass
class Subject:
    executable: str  # what the benchmark runs as `tracespec`
    specs_dir: str  # where specs/all.yaml and specs/fileio.yaml are read from
    env: dict = field(default_factory=dict)  # for helpers that import tracespec (PYTHONPATH)
    description: dict = field(default_factory=dict)  # for the report


def attach_line(subject: Subject, spec: str) -> str:
    """What the program tracespec generates for spec attaches to, from the header of `tracespec emit`
    (its " * attach:" line), or why it could not be read."""
    r = subprocess.run([subject.executable, "emit", os.path.join(subject.specs_dir, spec)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        return "unknown (tracespec emit failed: " + (lines[-1] if lines else f"exit {r.returncode}") + ")"
    for line in r.stdout.splitlines()[:40]:
        if line.lstrip(" *").startswith("attach:"):
            return line.lstrip(" *")[len("attach:"):].strip()
    return "unknown (no attach line in the header of `tracespec emit`)"


def _git(repo: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--no-optional-locks", "-C", repo, *args], capture_output=True)


def _work_tree_state(repo: str) -> dict:
    head = _git(repo, "rev-parse", "HEAD")
    if head.returncode != 0:
        return {}
    status = _git(repo, "status", "--porcelain", "--", "tracespec", "specs")
    changed = [ln[3:] for ln in status.stdout.decode(errors="replace").splitlines() if ln.strip()]
    return {"commit": head.stdout.decode().strip(), "uncommitted_changes": changed}


def installed(executable: str, repo: str) -> Subject:
    desc = {"source": "executable", "path": executable}
    if os.path.realpath(executable).startswith(os.path.realpath(repo) + os.sep):
        desc["source"] = "work tree"
        desc.update(_work_tree_state(repo))
    return Subject(executable, os.path.join(repo, "specs"), {}, desc)


def _build_c(repo: str, sha: str, src: str) -> None:
    """A commit with C modules (setup.py's ext_modules: the ring buffer walker) has them built into its
    snapshot, as ./setup builds them into the work tree: else it would run their slower Python twins."""
    setup_py = _git(repo, "show", f"{sha}:setup.py")
    if setup_py.returncode != 0:
        return  # before there was any C
    with open(os.path.join(src, "setup.py"), "wb") as f:
        f.write(setup_py.stdout)
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=src,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError(f"cannot build the C modules of {sha[:12]}: {r.stderr.strip().splitlines()[-1:]}")


def from_commit(rev: str, repo: str, workdir: str) -> Subject:
    r = _git(repo, "rev-parse", "--verify", "--quiet", rev + "^{commit}")
    if r.returncode != 0:
        raise BenchError(f"--rev {rev}: no such commit in {repo}")
    sha = r.stdout.decode().strip()
    archive = _git(repo, "archive", "--format=tar", sha, "tracespec", "specs")
    if archive.returncode != 0:
        raise BenchError(f"--rev {rev}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    src = os.path.join(workdir, "tracespec-" + sha[:12])
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(src)
    _build_c(repo, sha, src)
    # byte-compiled as ./setup does for the work tree: else every start of the snapshot compiles all of
    # tracespec's modules again, and its start-up is measured with that in it
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(src, "tracespec")],
                   stdout=subprocess.DEVNULL, check=False)
    # -c and an explicit sys.path entry, not -m: -m would put the current directory (the work tree's
    # own tracespec/, when run from the repository) ahead of the snapshot.
    wrapper = os.path.join(workdir, "tracespec")
    with open(wrapper, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n"
                f"exec {sys.executable} -c 'import sys; sys.path.insert(0, \"{src}\"); "
                "from tracespec.cli import main; sys.exit(main())' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    return Subject(wrapper, os.path.join(src, "specs"), {"PYTHONPATH": src},
                   {"source": "commit", "commit": sha, "rev": rev})
