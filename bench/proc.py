"""Run child processes so that none outlives the benchmark: each in its own process group, killed as a
group on timeout or interrupt (a tracer's children, e.g. the workload under strace, go with it)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

_live: set[subprocess.Popen] = set()


@dataclass
class Finished:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float  # from just before the fork to the child's exit


def start(argv: list[str], **kwargs) -> subprocess.Popen:
    """Popen in a new session, remembered until reap() so kill_all() can end it."""
    try:
        p = subprocess.Popen(argv, start_new_session=True, text=True, **kwargs)
    except OSError as e:
        raise OSError(f"cannot run {argv[0]}: {e.strerror}") from None
    _live.add(p)
    return p


def reap(p: subprocess.Popen) -> None:
    _live.discard(p)


def kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    reap(p)


def kill_all() -> None:
    """End every child still running (on interrupt or a fatal error)."""
    for p in list(_live):
        kill_group(p)


def run(argv: list[str], timeout: float, env: dict | None = None) -> Finished:
    """Run argv to completion with stdout and stderr captured (env: variables to add); a timeout kills
    its whole group and is reported as exit code -9 with a note on stderr."""
    t0 = time.monotonic()
    p = start(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
              env={**os.environ, **env} if env else None)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        err += f"\n(killed after {timeout:.0f} s timeout)"
    finally:
        reap(p)
    return Finished(argv, p.returncode, out, err, time.monotonic() - t0)


def last_line(text: str) -> str:
    """The last non-empty line of a child's stderr: what it said when it failed."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no message)"
