"""What tracing needs from the machine, each missing piece reported as one line with its remedy."""

from __future__ import annotations

import os

from tracespec.errors import TracespecError

CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 21, 38, 39


def _capabilities() -> int | None:
    """The effective capability set, None when /proc does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return None


def check_privileges() -> None:
    # judged by the capabilities, not the uid: root under `capsh --drop=...` or `setpriv` has lost them
    caps = _capabilities()
    if caps is None:
        if os.geteuid() == 0:
            return
        caps = 0
    if caps & (1 << CAP_SYS_ADMIN):
        return
    if caps & (1 << CAP_BPF) and caps & (1 << CAP_PERFMON):
        return
    lacking = "" if os.geteuid() != 0 else " (this root process has had them dropped)"
    raise TracespecError("loading BPF programs needs root (or CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)" + lacking,
                         hint="run tracespec with sudo, with its capabilities")


def kernel_headers_dir() -> str | None:
    release = os.uname().release
    for sub in ("build", "source"):
        d = os.path.join("/lib/modules", release, sub)
        if os.path.exists(os.path.join(d, "include", "linux", "kconfig.h")):
            return d
    return None


def check_headers() -> None:
    if kernel_headers_dir() is None:
        release = os.uname().release
        raise TracespecError(
            f"no kernel headers for {release}: BCC compiles its programs against /lib/modules/{release}/build",
            hint=f"install linux-headers-{release}, or run ./setup, which links the distribution's generic "
                 "headers when no package matches this kernel")


def check_tracefs(tracefs: str | None) -> None:
    if tracefs is None:
        raise TracespecError("tracefs is not mounted, so the kernel's tracepoints are out of reach",
                             hint="mount -t tracefs tracefs /sys/kernel/tracing (./setup does this)")


def check_bcc() -> None:
    """BCC's Python module is there (found, not imported: only the compile's child process imports it,
    and a program from the cache needs no compile)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("bcc") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise TracespecError(
            "BCC's Python module is missing",
            hint="install python3-bpfcc (Debian/Ubuntu) and run tracespec from a venv made with "
                 "--system-site-packages, as ./setup does; PyPI's 'bcc' is an unrelated project")


def memory_bytes() -> int:
    """The machine's memory (0 when unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


def check_all(tracefs: str | None) -> None:
    """Everything `tracespec run` needs."""
    check_privileges()
    check_tracefs(tracefs)
    check_headers()
    check_bcc()
