"""What machine and which tool versions a result was measured with."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone


def _first_line(argv: list[str]) -> str:
    """A tool's version line, or why there is none."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "not installed"
    except subprocess.TimeoutExpired:
        return "no answer"
    text = (r.stdout or r.stderr).strip()
    return text.splitlines()[0] if text else f"exit {r.returncode}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _bcc_version() -> str:
    r = subprocess.run([sys.executable, "-c", "import bcc; print(bcc.__version__)"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "not importable"


def describe(subject) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "date": now.strftime("%Y-%m-%d"),
        "time_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "tracespec_source": subject.description,
        "versions": {
            "tracespec": _first_line([subject.executable, "--version"]),
            "strace": _first_line(["strace", "-V"]),
            "perf": _first_line(["perf", "version"]),
            "bpftrace": _first_line(["bpftrace", "--version"]),
            "bcc": _bcc_version(),
            "python": platform.python_version(),
            "gcc": _first_line(["gcc", "--version"]),
        },
    }
