"""Capture what native code writes to file descriptor 2 (BCC's compiler messages, where a test or a probe
compiles in its own process), and leave the process without the C library's exit handlers.

tracespec itself compiles in a child process (runtime/bcc_compile), where LLVM's exit() and BCC's messages
end with the child: no exit hook is needed here any more."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import NoReturn


def leave(code: int) -> NoReturn:
    """End the process now, after flushing the standard streams, skipping the C library's exit handlers
    and Python's own last flush (of a stream that cannot be written, it would turn the status into 120).
    Only the command line calls this, when it has flushed and closed what it writes."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


@contextlib.contextmanager
def captured_stderr():
    """Yields a list that receives the captured text when the block ends."""
    sink: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield sink
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            sink.append(tmp.read().decode("utf-8", "replace"))
