"""`tracespec serve`: load the specs, listen, and on SIGTERM or SIGINT take everything out of the kernel."""

from __future__ import annotations

import grp
import os
import signal
import threading

from tracespec.errors import TracespecError
from tracespec.kernel import find_tracefs
from tracespec.runtime import preflight
from tracespec.serve.daemon import Daemon, load_specs, notice
from tracespec.serve.http import make_server

DEFAULT_SOCKET = "/run/tracespec.sock"


def _group_id(name: str | None) -> int | None:
    if name is None:
        return None
    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise TracespecError(f"no group {name!r}", hint="--socket-group takes a group name or number") from None


def _dump_dir(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as e:
        raise TracespecError(f"cannot make the dump directory {path}: {e.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise TracespecError(f"cannot write into the dump directory {path}")
    return os.path.realpath(path)


def serve(specs: list[str], socket_path: str, socket_group: str | None, dump_dir: str | None, keep: int,
          dump_format: str, max_recorders: int, default_size: int, kernel: str | None = None) -> int:
    group = _group_id(socket_group)
    dump_dir = _dump_dir(dump_dir)
    preflight.check_all(find_tracefs())
    stop = threading.Event()
    said: list[int] = []

    def on_signal(signum, frame):
        said.append(signum)
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    loaded = load_specs(specs, max_recorders, kernel)
    daemon = Daemon(loaded, dump_dir, keep, dump_format, notice, default_size)
    try:
        server = make_server(socket_path, daemon, group)
    except BaseException:
        daemon.shutdown()
        raise
    threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True),
               threading.Thread(target=daemon.watch, daemon=True)]
    for t in threads:
        t.start()
    notice(f"serving {', '.join(s.name for s in loaded)} on {socket_path} (pid {os.getpid()})")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        try:
            os.unlink(socket_path)
        except OSError:
            pass
        daemon.stopping.set()
        threads[1].join(2)
        daemon.shutdown()
        for s, h in old.items():
            signal.signal(s, h)
    notice(f"stopped by {signal.Signals(said[0]).name if said else 'request'}: recorders closed, probes detached")
    return 0
