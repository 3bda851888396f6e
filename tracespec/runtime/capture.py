"""Capture what native code writes to file descriptor 2 (BCC's compiler and verifier messages), and
survive native code that gives up by calling exit() (LLVM does, for a program over the BPF stack)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from typing import NoReturn

from tracespec.errors import ExitStatus

# While armed: (the real stderr's fd, the capture file's fd). Read by the exit hook below.
_armed: tuple[int, int] | None = None
_hook = None
# The hook is a Python callback: the C library's exit() must never reach it after the interpreter has
# shut down. Only a process that promises to leave through leave() (tracespec's command line) gets it.
_allowed = False


def allow_exit_guard() -> None:
    global _allowed
    _allowed = True


def leave(code: int) -> NoReturn:
    """End the process now, skipping the C library's exit handlers: the exit hook, once installed, would
    be called by them after the interpreter is gone (a segfault). Only the command line calls this,
    when it has flushed and closed what it writes."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code)


def _on_native_exit() -> None:
    """Called by the C library's exit(), which LLVM calls from inside a compile: Python never regains
    control. Say what happened the way tracespec reports errors, then leave as when tracing cannot start."""
    if _armed is None:
        return
    real, captured = _armed
    try:
        os.lseek(captured, 0, os.SEEK_SET)
        said = os.read(captured, 1 << 16).decode("utf-8", "replace")
    except OSError:
        said = ""
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    why = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "no message")
    text = (f"tracespec: error: the BPF compiler gave up on the generated program: {why}\n"
            "  hint: this is a tracespec bug worth reporting with the output of `tracespec emit SPEC`; a "
            "smaller max for the spec's strings or buffers may avoid it\n")
    try:
        os.write(real, text.encode())
    finally:
        os._exit(ExitStatus.CANNOT_TRACE)


def _install_hook() -> None:
    global _hook
    if _hook is not None or not _allowed:
        return
    try:
        libc = ctypes.CDLL(None)
        # atexit() itself is not exported by glibc (a static wrapper provides it): register the way it does
        _hook = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda _: _on_native_exit())
        libc.__cxa_atexit(_hook, None, None)
    except (OSError, AttributeError):
        _hook = False  # no hook: such a failure then ends tracespec with LLVM's own status


@contextlib.contextmanager
def captured_stderr(guard_exit: bool = False):
    """Yields a list that receives the captured text when the block ends. With guard_exit, native code
    calling exit() inside the block ends tracespec with one clear error instead of silently."""
    global _armed
    sink: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        if guard_exit:
            _install_hook()
            _armed = (saved, tmp.fileno())
        try:
            yield sink
        finally:
            _armed = None
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            sink.append(tmp.read().decode("utf-8", "replace"))
