"""The start-up floor: what any BCC tracer written in Python pays before its first event, for startup.py.

    python startup_floor.py

Imports BCC, then has it compile and load a program that returns 0 on one tracepoint (attached as it
loads, as tracespec's are), and prints {"start_ns", "imported_ns", "loaded_ns"} (wall clock) as JSON
on standard output. No spec, no generated C, no decoder: tracespec's start-up minus this is what its
own work costs. Any failure is one line on standard error, exit 1.
"""

from __future__ import annotations

import time

START_NS = time.time_ns()  # before any import but the clock: Python's own start-up ends here

import json  # noqa: E402
import sys  # noqa: E402

PROGRAM = b"TRACEPOINT_PROBE(syscalls, sys_enter_sync) { return 0; }\n"


def main() -> int:
    try:
        from bcc import BPF
    except ImportError as e:
        print(f"startup_floor: cannot import BCC ({e}): install python3-bpfcc", file=sys.stderr)
        return 1
    imported_ns = time.time_ns()
    try:
        bpf = BPF(text=PROGRAM)
    except Exception as e:  # BCC raises bare Exceptions
        print(f"startup_floor: cannot load the empty program: {e}", file=sys.stderr)
        return 1
    loaded_ns = time.time_ns()
    bpf.cleanup()
    print(json.dumps({"start_ns": START_NS, "imported_ns": imported_ns, "loaded_ns": loaded_ns}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
