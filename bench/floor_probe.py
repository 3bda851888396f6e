"""The floor: hold empty BPF programs on the raw tracepoints sys_enter and sys_exit, the attach points
tracespec uses for specs/all.yaml, until standard input closes.

    python floor_probe.py [--unrelated]

Prints "ready" on standard output once both are attached; on end of input (or SIGTERM/SIGINT) it
detaches them with BCC's cleanup() and exits 0. Any failure is one line on standard error, exit 1.

The programs return at once: no map lookup, no filter, no output. What a syscall costs with them
attached, minus what it costs untraced, is what the kernel charges for running any BPF program at each
syscall's entry and exit, the part of a raw-tracepoint tracer's overhead no code generator can remove.
They are system-wide, as tracespec's are (it filters by process inside its programs).
"""

from __future__ import annotations

import signal
import sys

PROGRAM = b"""
RAW_TRACEPOINT_PROBE(sys_enter) { return 0; }
RAW_TRACEPOINT_PROBE(sys_exit) { return 0; }
"""
# --unrelated: the same on the per-syscall tracepoints of a syscall no loop makes (sync). Enabling any
# per-syscall tracepoint sends every syscall of the machine through the kernel's tracing path; what that
# costs a syscall nobody traces is the floor for a spec's unselected syscalls.
UNRELATED = b"""
TRACEPOINT_PROBE(syscalls, sys_enter_sync) { return 0; }
TRACEPOINT_PROBE(syscalls, sys_exit_sync) { return 0; }
"""


def _stop(signum, frame):
    raise SystemExit(0)


def main() -> int:
    try:
        from bcc import BPF
    except ImportError as e:
        print(f"floor_probe: cannot import BCC ({e}): install python3-bpfcc", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        bpf = BPF(text=UNRELATED if sys.argv[1:] == ["--unrelated"] else PROGRAM)  # attached as they load
    except Exception as e:  # BCC raises bare Exceptions
        print(f"floor_probe: cannot load the no-op programs: {e}", file=sys.stderr)
        return 1
    try:
        print("ready", flush=True)
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        bpf.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
