"""`tracespec ctl`: the daemon's client, over its Unix socket (what curl --unix-socket does)."""

from __future__ import annotations

import http.client
import socket
import sys
from urllib.parse import urlencode

from tracespec.errors import ExitStatus, TracespecError

TIMEOUT = 60  # seconds: a dump of a large recorder takes a while to decode


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=TIMEOUT)
        self.socket_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.socket_path)
        except OSError as e:
            s.close()
            raise TracespecError(f"cannot reach tracespec serve on {self.socket_path}: {e.strerror}",
                                 hint="is it running? (tracespec serve SPEC --socket PATH)",
                                 exit_code=ExitStatus.CANNOT_TRACE) from None
        self.sock = s


def request(socket_path: str, endpoint: str, params: dict[str, str]) -> tuple[int, bytes]:
    conn = _UnixConnection(socket_path)
    query = urlencode({k: v for k, v in params.items() if v is not None})
    try:
        conn.request("GET", endpoint + ("?" + query if query else ""))
        answer = conn.getresponse()
        return answer.status, answer.read()
    except (OSError, http.client.HTTPException) as e:
        if isinstance(e, TracespecError):
            raise
        raise TracespecError(f"tracespec serve on {socket_path} did not answer: {e}",
                             exit_code=ExitStatus.CANNOT_TRACE) from None
    finally:
        conn.close()


def ctl(args) -> int:
    """Send one request; the answer goes to standard output, a refusal (4xx/5xx) to standard error."""
    if args.action == "add":
        endpoint, params = "/add", {"name": args.name, "cgrouppath": args.cgroup, "unit": args.unit,
                                    "pid": None if args.pid is None else str(args.pid), "size": args.size,
                                    "spec": args.spec}
    elif args.action == "list":
        endpoint, params = ("/v1/list" if args.json else "/list"), {}
    elif args.action == "status":
        endpoint, params = "/v1/status", {"id": args.id}
    elif args.action == "metrics":
        endpoint, params = "/metrics", {}
    elif args.action in ("dump", "close"):
        key = "id" if args.target.isdigit() else "name"
        if args.action == "dump" and (args.format != "text" or key == "id"):
            endpoint = "/v1/dump" if key == "id" else "/dump-by-name"
        else:
            endpoint = f"/{args.action}" if key == "id" else f"/{args.action}-by-name"
        params = {key: args.target}
        if endpoint == "/v1/dump":
            params["format"] = args.format
        elif args.action == "dump" and args.format != "text":
            raise TracespecError("--format json or bin needs the recorder's id", hint="tracespec ctl list")
    else:
        raise TracespecError(f"unknown action {args.action}")
    status, body = request(args.socket, endpoint, params)
    if status >= 400:
        message = body.decode("utf-8", "replace").strip() or f"HTTP {status}"
        raise TracespecError(f"tracespec serve refused: {message}", exit_code=ExitStatus.ERROR)
    out = sys.stdout.buffer
    out.write(body)
    out.flush()
    return ExitStatus.OK
