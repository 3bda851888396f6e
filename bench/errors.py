"""The one exception the benchmark reports as a single line, and the guard every bench command runs in."""

from __future__ import annotations

import signal
import sys
import traceback


class BenchError(Exception):
    pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def guarded(prog: str, body, debug: bool, interrupted: str = "nothing written") -> int:
    """Run body() and return its exit status. A BenchError, or a bug, is one line on standard error
    (the traceback too with --debug), exit 1; ^C or SIGTERM, exit 130. The child processes it started
    never outlive it."""
    import proc  # after the caller's path set-up: bench modules import each other by name

    signal.signal(signal.SIGTERM, _interrupt)  # clean up on kill as on ^C
    try:
        return body()
    except BenchError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; {interrupted}", file=sys.stderr)
        return 130
    except Exception as e:  # one line, not a traceback, unless asked
        if debug:
            traceback.print_exc()
        print(f"{prog}: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
    finally:
        proc.kill_all()
