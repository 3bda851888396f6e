"""The HTTP API on a Unix socket: traceloop's endpoints, answered as traceloop answers them, and
tracespec's own JSON ones under /v1/, and /metrics.

traceloop (plain text):  /add?name=N&cgrouppath=P  -> "added as id K"
                         /list                     -> "K: [N] P" per recorder
                         /dump?id=K  /dump-by-name?name=N  /dump-by-cgroup?cgroup=P   -> the dump
                         /close?id=K  /close-by-name?name=N                           -> "closed"
tracespec (JSON):        /v1/add?name=N&(cgroup=P|unit=U|pid=PID)[&size=S][&spec=NAME]
                         /v1/list   /v1/status?id=K   /v1/close?id=K
                         /v1/dump?id=K[&format=text|json|bin]
/add takes unit=, pid=, size= and spec= too. A refused request gets a 4xx status and one line saying why.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import stat
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from tracespec.errors import TracespecError
from tracespec.serve import targets
from tracespec.serve.daemon import FORMATS, Daemon, Recorder, RequestError

MAX_VALUE = 4096  # longer than any cgroup path: PATH_MAX
MAX_PARAMS = 8
MAX_NAME = 128
REQUEST_TIMEOUT = 30  # seconds a client may take to send its request
RECORDER_MIN, RECORDER_MAX = 64 << 10, 1 << 30
CONTENT_TYPES = {"text": "text/plain; charset=utf-8", "json": "application/x-ndjson",
                 "bin": "application/octet-stream"}
PARAMS = {  # endpoint -> the parameters it takes
    "/add": {"name", "cgrouppath", "unit", "pid", "size", "spec"},
    "/list": set(), "/metrics": set(),
    "/dump": {"id"}, "/dump-by-name": {"name"}, "/dump-by-cgroup": {"cgroup"},
    "/close": {"id"}, "/close-by-name": {"name"},
    "/v1/add": {"name", "cgroup", "unit", "pid", "size", "spec"},
    "/v1/list": set(), "/v1/status": {"id"}, "/v1/close": {"id"}, "/v1/dump": {"id", "format"},
}


def is_decimal(text: str) -> bool:
    """ASCII digits only: str.isdigit also takes superscripts (which int() refuses) and other scripts'
    digits (which int() takes), neither of them a number a client means."""
    return text.isascii() and text.isdigit()


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = t[-1:] if t[-1:] in units and t[-1:] else ""
    digits = t[:-1] if unit else t
    if not is_decimal(digits) or len(digits) > 12:
        raise RequestError(f"not a size: {json.dumps(text)} (say e.g. 1M or 256K)")
    n = int(digits) * units[unit]
    if not RECORDER_MIN <= n <= RECORDER_MAX:
        raise RequestError(f"size {json.dumps(text)} out of range: 64K to 1G")
    return n


def pages_for(size: int, cpus: int) -> int:
    """Pages per CPU: the size spread over the CPUs, a power of two (as perf buffers need), 4 at least."""
    per_cpu = max(4, size // cpus // 4096)
    return 1 << (per_cpu.bit_length() - 1)


UNREAD_STATUSES = (400, 413, 414)  # refused with some of the request possibly unread
LINGER_SECONDS = 1.0
LINGER_BYTES = 1 << 20


class Handler(BaseHTTPRequestHandler):
    server_version = "tracespec-serve"
    protocol_version = "HTTP/1.0"  # one request per connection: nothing holds a thread between requests
    timeout = REQUEST_TIMEOUT
    daemon: Daemon  # set on the class the server makes

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        pass  # a request log is not this daemon's to keep; refusals go back to the client

    def address_string(self) -> str:
        return "unix"

    def send_error(self, code, message=None, explain=None):
        """What http.server refuses before a handler runs (an overlong or garbled request line, an
        unknown method, a bad version) gets one plain line too, not its HTML page."""
        self.close_connection = True
        self.request_version = self.protocol_version  # a garbled request line left HTTP/0.9: no status line
        reason = message or self.responses.get(code, ("error",))[0]
        self._answer(code, "text/plain; charset=utf-8", _line(f"{reason} (HTTP {code})"))

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self) -> None:
        try:
            path, params = self._parse()
            status, ctype, body = self._route(path, params)
        except RequestError as e:
            status, ctype, body = e.status, "text/plain; charset=utf-8", _line(e.message)
        except TracespecError as e:
            status, ctype, body = 400, "text/plain; charset=utf-8", _line(e.message)
        except Exception as e:  # noqa: BLE001 - one request's failure never ends the daemon
            status, ctype, body = 500, "text/plain; charset=utf-8", _line(f"internal error: {type(e).__name__}: {e}")
        self._answer(status, ctype, body)

    def _answer(self, status: int, ctype: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            if status in UNREAD_STATUSES:
                self._linger()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            pass  # the client left: its answer goes nowhere, the daemon goes on

    def _linger(self) -> None:
        """A refusal before the request was read whole (an overlong line, a body too large): closed at
        once, the rest of it unread would make the kernel reset the connection, and the client could get
        the reset before the answer. So the answer is sent with the end of the stream, and what the client
        still sends is read and dropped, for a moment and a bounded amount."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_SECONDS)
        left = LINGER_BYTES
        while left > 0 and (chunk := self.connection.recv(min(65536, left))):
            left -= len(chunk)

    def _parse(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        path = parts.path
        if path not in PARAMS:
            raise RequestError(f"unknown endpoint {json.dumps(path[:100])} (see /v1/list, /list, /metrics)", 404)
        query = parts.query
        if self.command == "POST":
            length = self.headers.get("Content-Length", "0")
            if not is_decimal(length) or int(length) > MAX_PARAMS * MAX_VALUE:
                raise RequestError("request body too large or its length unreadable", 413)
            body = self.rfile.read(int(length)).decode("utf-8", "replace") if int(length) else ""
            query = "&".join(q for q in (query, body) if q)
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query),
                              max_num_fields=MAX_PARAMS, errors="strict")
        except (ValueError, UnicodeDecodeError) as e:
            raise RequestError(f"malformed query: {e}") from None
        params: dict[str, str] = {}
        for k, v in pairs:
            if k not in PARAMS[path]:
                raise RequestError(f"{path} takes no parameter {json.dumps(k[:64])}"
                                   f" (it takes: {', '.join(sorted(PARAMS[path])) or 'none'})")
            if k in params:
                raise RequestError(f"parameter {k} given twice")
            if len(v) > MAX_VALUE or "\0" in v or any(ord(c) < 32 for c in v):
                raise RequestError(f"parameter {k}: too long or holding control characters")
            params[k] = v
        return path, params

    def _route(self, path: str, p: dict[str, str]) -> tuple[int, str, bytes]:
        d = self.daemon
        text = "text/plain; charset=utf-8"
        if path == "/metrics":
            from tracespec.serve.metrics import exposition

            body, ctype = exposition(d)
            return 200, ctype, body
        if path == "/list":
            return 200, text, "".join(f"{r.id}: [{r.name}] {r.cgroup}\n" for r in d.list()).encode("utf-8", "surrogateescape")
        if path == "/add":
            if not any(p.get(k) for k in ("cgrouppath", "unit", "pid")):
                raise RequestError("parameter cgrouppath missing")
            r = self._add(p, p.get("cgrouppath"))
            return 200, text, f"added as id {r.id}\n".encode()
        if path in ("/dump", "/dump-by-name", "/dump-by-cgroup"):
            r = self._which(path, p)
            dump = d.dump(r, "asked by a client")
            return 200, text, d.render(r, dump, "text")
        if path in ("/close", "/close-by-name"):
            d.close(self._which(path, p))
            return 200, text, b"closed\n"
        js = "application/json"
        if path == "/v1/list":
            return 200, js, _json({"recorders": [d.status(r) for r in d.list()], "specs": [s.name for s in d.specs]})
        if path == "/v1/add":
            if not any(p.get(k) for k in ("cgroup", "unit", "pid")):
                raise RequestError("say which group: cgroup=PATH, unit=NAME or pid=PID")
            return 200, js, _json(d.status(self._add(p, p.get("cgroup"))))
        if path == "/v1/status":
            return 200, js, _json(d.status(self._which(path, p)))
        if path == "/v1/close":
            r = self._which(path, p)
            d.close(r)
            return 200, js, _json({"closed": r.id})
        if path == "/v1/dump":
            fmt = p.get("format", "text")
            if fmt not in FORMATS:
                raise RequestError(f"format {json.dumps(fmt[:32])}: say text, json or bin")
            r = self._which(path, p)
            dump = d.dump(r, "asked by a client")
            return 200, CONTENT_TYPES[fmt], d.render(r, dump, fmt)
        raise RequestError(f"unknown endpoint {json.dumps(path)}", 404)

    def _which(self, path: str, p: dict[str, str]) -> Recorder:
        d = self.daemon
        if path.endswith("-by-name"):
            if "name" not in p:
                raise RequestError("parameter name missing")
            return d.find(name=p["name"])
        if path.endswith("-by-cgroup"):
            if not p.get("cgroup"):
                raise RequestError("parameter cgroup missing")
            return d.find(cgroup=p["cgroup"])
        if not p.get("id"):
            raise RequestError("parameter id missing")
        if not is_decimal(p["id"]) or len(p["id"]) > 9:
            raise RequestError(f"not a recorder id: {json.dumps(p['id'][:32])}")
        return d.get(int(p["id"]))

    def _add(self, p: dict[str, str], cgroup: str | None) -> Recorder:
        d = self.daemon
        given = [k for k in ("cgroup", "cgrouppath", "unit", "pid") if p.get(k)]
        if len(given) > 1:
            raise RequestError(f"say one of {' or '.join(given)}, not both")
        name = p.get("name", "")
        if len(name) > MAX_NAME:
            raise RequestError(f"name too long ({len(name)} characters; {MAX_NAME} at most)")
        spec = d.spec_named(p.get("spec"))
        if cgroup:
            group = targets.group_of_path(cgroup)
        elif p.get("unit"):
            group = targets.group_of_unit(p["unit"])
        else:
            group = targets.group_of_pid(p["pid"])
        size = parse_size(p["size"]) if p.get("size") else d.default_size
        cpus = len(d._cpus())
        return d.add(name, group, pages_for(size, cpus), spec)


def _line(message: str) -> bytes:
    return (message.splitlines()[0] if message else "error").encode("utf-8", "replace") + b"\n"


def _json(value) -> bytes:
    return (json.dumps(value) + "\n").encode()


MAX_REQUESTS = 32  # answered at once; a request beyond them gets 503 at once instead of a thread of its own
_BUSY_BODY = f"busy: {MAX_REQUESTS} requests are being answered; try again in a second\n".encode()
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
        b"Content-Length: %d\r\n\r\n" % len(_BUSY_BODY) + _BUSY_BODY)


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True  # a hung client never holds up the daemon's end
    request_queue_size = 64

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.slots = threading.BoundedSemaphore(MAX_REQUESTS)

    def process_request(self, request, client_address):
        """A thread per request, at most MAX_REQUESTS of them: clients that hold their connection open
        (each for up to REQUEST_TIMEOUT) cannot make the daemon start threads without end."""
        if not self.slots.acquire(blocking=False):
            try:
                request.settimeout(0.2)  # at most this long in the accept loop, and only when overloaded
                request.sendall(BUSY)
                request.shutdown(socket.SHUT_WR)
                request.recv(65536)  # what the client sent: closing on unread bytes would reset the answer
            except OSError:
                pass
            self.close_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def claim_socket(path: str) -> None:
    """A socket a live daemon answers on is refused; a stale one (nobody listening) is removed."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise TracespecError(f"{path} exists and is not a socket", hint="remove it, or give another --socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)  # stale: its daemon is gone
        return
    except OSError:
        pass
    finally:
        probe.close()
    raise TracespecError(f"{path} is in use by a live daemon", hint="stop it first, or give another --socket")


def make_server(path: str, daemon: Daemon, group: int | None) -> UnixHTTPServer:
    claim_socket(path)
    handler = type("BoundHandler", (Handler,), {"daemon": daemon})
    old = os.umask(0o177)  # the socket is born 0600: no moment when others could connect
    try:
        server = UnixHTTPServer(path, handler)
    except OSError as e:
        raise TracespecError(f"cannot listen on {path}: {e.strerror}", hint="give another --socket") from None
    finally:
        os.umask(old)
    if group is not None:
        os.chown(path, -1, group)
        os.chmod(path, 0o660)
    return server

