"""serve's HTTP handler without root or BPF: the real server on a Unix socket in a temp dir, in front of a
fake daemon that records what reached it. Checks that requests are parsed and routed as traceloop's
clients expect, and that hostile ones get a 4xx and one line, never a traceback, and never reach the
daemon."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import pytest

from tracespec.runtime import cgroup
from tracespec.serve import http, targets
from tracespec.serve.client import request
from tracespec.serve.daemon import RequestError


@dataclass
class FakeSpec:
    name: str


@dataclass
class FakeRecorder:
    id: int
    name: str
    cgroup: str
    spec: FakeSpec
    pages_per_cpu: int


@dataclass
class FakeDaemon:
    """What the handler calls on Daemon, answering from a dict; `calls` says what reached it."""

    specs: list = field(default_factory=lambda: [FakeSpec("fileio"), FakeSpec("net")])
    default_size: int = 1 << 20
    recorders: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)

    def _cpus(self) -> list[int]:
        return [0, 1]

    def spec_named(self, name):
        if not name:
            return self.specs[0]
        for s in self.specs:
            if s.name == name:
                return s
        raise RequestError(f"no spec named {name}", 404)

    def add(self, name, group, pages_per_cpu, spec):
        self.calls.append(("add", name, group, pages_per_cpu, spec.name))
        r = FakeRecorder(len(self.recorders), name, group[0], spec, pages_per_cpu)
        self.recorders[r.id] = r
        return r

    def get(self, rid):
        self.calls.append(("get", rid))
        if rid not in self.recorders:
            raise RequestError("invalid index", 404)
        return self.recorders[rid]

    def find(self, *, name=None, cgroup=None):
        self.calls.append(("find", name, cgroup))
        found = [r for r in self.recorders.values() if r.name == name or r.cgroup == cgroup]
        if not found:
            raise RequestError("prog not found", 404)
        return found[0]

    def list(self):
        return list(self.recorders.values())

    def close(self, r):
        self.calls.append(("close", r.id))
        self.recorders.pop(r.id, None)

    def status(self, r):
        return {"id": r.id, "name": r.name, "cgroup": r.cgroup}

    def dump(self, r, reason):
        self.calls.append(("dump", r.id))
        return "the dump"

    def render(self, r, dump, fmt):
        return f"{fmt}: {dump} of {r.id}\n".encode()


@pytest.fixture
def served(tmp_path):
    daemon = FakeDaemon()
    sock = str(tmp_path / "ts.sock")
    server = http.make_server(sock, daemon, None)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield sock, daemon
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_groups(monkeypatch):
    """Any cgroup path a test gives resolves to itself, with a made-up id; what was asked is kept."""
    asked = []

    def group_of_path(path):
        asked.append(path)
        return f"/sys/fs/cgroup/{path.lstrip('/')}", 1000 + len(asked)

    monkeypatch.setattr(targets, "group_of_path", group_of_path)
    return asked


def get(sock: str, target: str) -> tuple[int, str]:
    status, body = request(sock, target, {})
    return status, body.decode("utf-8", "replace")


def raw(sock: str, data: bytes) -> tuple[int, str]:
    """A request as bytes (what an HTTP library would refuse to send); the status and the body."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(data)
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    s.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def one_line(body: str) -> bool:
    return body.endswith("\n") and body.count("\n") == 1 and len(body) > 1 and "Traceback" not in body


# -- routing -------------------------------------------------------------------------------------------


def test_add_list_dump_close_reach_the_daemon_as_traceloop_words_them(served, fake_groups):
    sock, d = served
    assert get(sock, "/add?name=web&cgrouppath=system.slice/web.service") == (200, "added as id 0\n")
    assert d.calls[-1] == ("add", "web", ("/sys/fs/cgroup/system.slice/web.service", 1001), 128, "fileio")
    assert get(sock, "/list") == (200, "0: [web] /sys/fs/cgroup/system.slice/web.service\n")
    assert get(sock, "/dump?id=0") == (200, "text: the dump of 0\n")
    assert get(sock, "/dump-by-name?name=web") == (200, "text: the dump of 0\n")
    assert d.calls[-2] == ("find", "web", None)
    assert get(sock, "/dump-by-cgroup?cgroup=/sys/fs/cgroup/system.slice/web.service")[0] == 200
    assert get(sock, "/close?id=0") == (200, "closed\n")
    assert d.calls[-1] == ("close", 0) and get(sock, "/list") == (200, "")


def test_v1_endpoints_answer_json_and_take_size_and_spec(served, fake_groups):
    sock, d = served
    status, body = get(sock, "/v1/add?name=db&cgroup=db.slice&size=4M&spec=net")
    assert status == 200 and body == '{"id": 0, "name": "db", "cgroup": "/sys/fs/cgroup/db.slice"}\n'
    # 4 MiB over two CPUs: 512 pages each
    assert d.calls[-1] == ("add", "db", ("/sys/fs/cgroup/db.slice", 1001), 512, "net")
    assert get(sock, "/v1/dump?id=0&format=json") == (200, "json: the dump of 0\n")
    assert get(sock, "/v1/close?id=0") == (200, '{"closed": 0}\n')


def test_a_post_body_is_read_as_the_query(served, fake_groups):
    sock, d = served
    body = b"name=p&cgrouppath=p.slice"
    status, text = raw(sock, b"POST /add HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert (status, text) == (200, "added as id 0\n") and d.calls[-1][1] == "p"


def test_pages_per_cpu_are_a_power_of_two_and_four_at_least():
    assert http.pages_for(1 << 20, 2) == 128
    assert http.pages_for(3 << 20, 2) == 256  # 384 rounded down
    assert http.pages_for(64 << 10, 64) == 4


@pytest.mark.parametrize("text, size", [("64K", 64 << 10), ("1M", 1 << 20), ("1MiB", 1 << 20), ("2mb", 2 << 20),
                                        ("1G", 1 << 30), ("65536", 65536)])
def test_sizes_parse(text, size):
    assert http.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "1T", "-1M", "1.5M", "32K", "2G", "9" * 20, "1 M 2", "²M", "١M"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(RequestError):
        http.parse_size(text)


# -- hostile requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target, status", [
    ("/nope", 404),
    ("/../../etc/passwd", 404),
    ("/list/", 404),
    ("/LIST", 404),
    ("/list?x=1", 400),
    ("/list?=", 400),
    ("/dump", 400),
    ("/dump?id=", 400),
    ("/dump?id=abc", 400),
    ("/dump?id=-1", 400),
    ("/dump?id=1e3", 400),
    ("/dump?id=0x1", 400),
    ("/dump?id=%C2%B2", 400),  # a superscript two: str.isdigit says yes, int() says no
    ("/dump?id=%D9%A1", 400),  # an Arabic-Indic one: a digit to str.isdigit and int(), not an id
    ("/dump?id=1234567890", 400),
    ("/dump?id=7", 404),
    ("/dump?id=0&id=0", 400),
    ("/dump?id=%FF", 400),
    ("/dump-by-name", 400),
    ("/dump-by-name?name=nobody", 404),
    ("/dump-by-cgroup?cgroup=", 400),
    ("/close?id=99", 404),
    ("/add", 400),
    ("/add?name=x", 400),
    ("/add?cgrouppath=a&unit=b", 400),
    ("/add?cgrouppath=a&size=1T", 400),
    ("/add?cgrouppath=a&size=%C2%B2M", 400),
    ("/add?cgrouppath=a&spec=nothere", 404),
    ("/add?cgrouppath=a&name=" + "n" * 200, 400),
    ("/add?cgrouppath=" + "a" * 5000, 400),
    ("/add?cgrouppath=a%00b", 400),
    ("/add?cgrouppath=a%0Ab", 400),
    ("/add?cgrouppath=a%1B[31m", 400),
    ("/add?" + "&".join(f"name={i}" for i in range(20)), 400),
    ("/add?unit=../x", 400),
    ("/add?unit=a/b", 400),
    ("/add?pid=-1", 400),
    ("/add?pid=0", 400),
    ("/add?pid=%C2%B2", 400),
    ("/add?pid=99999999999", 400),
    ("/v1/add?name=x", 400),
    ("/v1/dump?id=0&format=xml", 400),
    ("/v1/status?id=x", 400),
])
def test_hostile_requests_get_one_line_4xx_and_never_reach_add(served, fake_groups, target, status):
    sock, d = served
    got, body = get(sock, target)
    assert got == status and one_line(body), (got, body)
    assert not any(c[0] == "add" for c in d.calls)


@pytest.mark.parametrize("data, status", [
    (b"GET /" + b"a" * 70000 + b" HTTP/1.0\r\n\r\n", 414),
    (b"DELETE /list HTTP/1.0\r\n\r\n", 501),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /list HTTP/9.9\r\n\r\n", 505),
    (b"POST /add HTTP/1.0\r\nContent-Length: 99999999\r\n\r\n", 413),
    (b"POST /add HTTP/1.0\r\nContent-Length: \xc2\xb2\r\n\r\n", 413),
])
def test_malformed_http_gets_one_line_too(served, data, status):
    sock, d = served
    got, body = raw(sock, data)
    assert got == status and one_line(body), (got, body)
    assert d.calls == []


@pytest.mark.parametrize("path, why", [
    ("../../../etc", "leads out of the cgroup v2 mount"),
    ("/etc", "not on the cgroup v2 file system"),
    ("nothere", "no such directory"),
])
def test_cgroup_paths_outside_the_mount_are_refused_before_the_daemon(served, monkeypatch, tmp_path, path, why):
    """The real resolver, with a temp dir standing in for the cgroup2 mount."""
    mount = tmp_path / "cgroup2"
    mount.mkdir()
    monkeypatch.setattr(cgroup, "cgroup2_mounts", lambda: [str(mount)])
    sock, d = served
    got, body = get(sock, f"/add?cgrouppath={path}")
    assert got == 400 and one_line(body) and why in body, body
    assert d.calls == []
