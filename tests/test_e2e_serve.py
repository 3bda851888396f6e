"""tracespec serve, end to end: real BPF, real HTTP over the Unix socket (curl and `tracespec ctl`), real
cgroups made under the cgroup2 mount with workloads moved in through cgroup.procs."""

from __future__ import annotations

import json
import re
import os
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import TRACESPEC, decode_without_bcc
from tracespec.runtime.cgroup import cgroup2_mounts
from tracespec.serve.client import request

pytestmark = pytest.mark.bpf

SPEC = "version: 1\nsyscalls: [openat, getppid, close]\nrecorder:\n  trigger: 'syscall == \"openat\" && errno == EACCES'\n"
FD_SPEC = "version: 1\nsyscalls: [openat, write]\nfd_paths: true\nrecorder: {}\n"  # /add?spec=fdpaths


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    mounts = cgroup2_mounts()
    if not mounts:
        pytest.skip("no cgroup v2 mount")
    tmp = tmp_path_factory.mktemp("serve")
    spec = tmp / "serve.yaml"
    spec.write_text(SPEC)
    (tmp / "fdpaths.yaml").write_text(FD_SPEC)
    sock = tmp / "ts.sock"
    proc = subprocess.Popen([TRACESPEC, "serve", str(spec), str(tmp / "fdpaths.yaml"), "--socket", str(sock),
                             "--dump-dir", str(tmp / "dumps"),
                             "--keep", "2"], stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if sock.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert sock.exists(), proc.stderr.read() if proc.poll() is not None else "no socket"
    groups = []
    for tag in ("a", "b"):
        g = os.path.join(mounts[0], f"ts-serve-{tag}-{uuid.uuid4().hex[:6]}")
        os.mkdir(g)
        groups.append(g)
    yield {"proc": proc, "sock": str(sock), "groups": groups, "dumps": tmp / "dumps", "spec": spec}
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    for g in groups:
        try:
            os.rmdir(g)
        except OSError:
            pass


def curl(d, endpoint: str) -> tuple[int, str]:
    r = subprocess.run(["curl", "-s", "-g", "-w", "\n%{http_code}", "--unix-socket", d["sock"], "http://localhost" + endpoint],
                       capture_output=True, text=True, timeout=60)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body.removesuffix("\n")


def ctl(d, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TRACESPEC, "ctl", "--socket", d["sock"], *args], capture_output=True, text=True, timeout=60)


def in_group(group: str, script: str) -> subprocess.CompletedProcess:
    """A shell moved into the group before it runs the script."""
    return subprocess.run(["sh", "-c", f"echo $$ > {group}/cgroup.procs && {script}"], capture_output=True,
                          text=True, timeout=30)


def test_add_list_dump_isolated_and_close(daemon):
    a, b = daemon["groups"]
    code, body = curl(daemon, f"/add?name=alpha&cgrouppath={a}")
    assert (code, body) == (200, "added as id 0")
    r = ctl(daemon, "add", "--name", "beta", "--cgroup", os.path.basename(b))
    assert r.returncode == 0 and r.stdout == "added as id 1\n", r.stderr
    code, body = curl(daemon, "/list")
    assert body.splitlines() == [f"0: [alpha] {a}", f"1: [beta] {b}"]
    in_group(a, "cat /etc/alpha-only-file 2>/dev/null; true")
    in_group(b, "cat /etc/beta-only-file 2>/dev/null; true")
    code, dump_a = curl(daemon, "/dump-by-name?name=alpha")
    assert code == 200 and "/etc/alpha-only-file" in dump_a and "beta-only" not in dump_a
    dump_b = ctl(daemon, "dump", "beta").stdout
    assert "/etc/beta-only-file" in dump_b and "alpha-only" not in dump_b
    code, by_cgroup = curl(daemon, f"/dump-by-cgroup?cgroup={b}")
    assert "/etc/beta-only-file" in by_cgroup
    r = ctl(daemon, "dump", "1", "--format", "json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0]["recorder"] == 1 and any("beta-only-file" in json.dumps(x) for x in lines[1:])
    assert curl(daemon, "/close-by-name?name=beta") == (200, "closed")
    assert curl(daemon, "/close?id=0") == (200, "closed")
    assert curl(daemon, "/list") == (200, "")
    assert curl(daemon, "/dump?id=0")[0] == 404


def test_adding_misses_nothing_after_it_returns_and_metrics_agree(daemon):
    a = daemon["groups"][0]
    # a process already running in the group: every getppid after the add is recorded and counted
    proc = subprocess.Popen(["sh", "-c", f"echo $$ > {a}/cgroup.procs; read x; "
                             "i=0; while [ $i -lt 40 ]; do cat /proc/self/stat >/dev/null; i=$((i+1)); done"],
                            stdin=subprocess.PIPE, text=True)
    time.sleep(0.3)
    code, body = curl(daemon, f"/add?name=m&cgrouppath={a}")
    assert code == 200
    rid = body.split()[-1]
    proc.communicate("go\n", timeout=30)
    status = json.loads(ctl(daemon, "status", rid).stdout)
    code, text = curl(daemon, "/metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    calls = {s.labels["id"]: s.value for s in families["tracespec_recorder_syscalls"].samples
             if s.name.endswith("_total")}
    # each cat opens /proc/self/stat (and its libraries): at least 40 openat, and the counts agree with status
    assert calls[rid] == status["syscalls"] >= 40
    dump = curl(daemon, f"/dump?id={rid}")[1]
    assert dump.count('"/proc/self/stat"') == 40
    assert curl(daemon, f"/close?id={rid}")[0] == 200


def test_kill_by_signal_and_trigger_dump_that_group(daemon, tmp_path):
    a, b = daemon["groups"]
    curl(daemon, f"/add?name=crash&cgrouppath={a}")
    curl(daemon, f"/add?name=calm&cgrouppath={b}")
    in_group(b, "cat /etc/calm-file 2>/dev/null; true")
    in_group(a, "cat /etc/crash-file 2>/dev/null; kill -SEGV $$")
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0)
    # EACCES needs an unprivileged opener: root ignores the mode
    in_group(b, f"setpriv --reuid=65534 --regid=65534 --clear-groups cat {secret} 2>/dev/null; true")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(list(daemon["dumps"].glob("*.txt"))) < 2:
        time.sleep(0.1)
    crash = [p.read_text() for p in daemon["dumps"].glob("*-crash.*.txt")]
    calm = [p.read_text() for p in daemon["dumps"].glob("*-calm.*.txt")]
    assert len(crash) == 1 and "killed by SIGSEGV" in crash[0] and "/etc/crash-file" in crash[0]
    assert re.search(r"^\d+ \+\+\+ killed by SIGSEGV \+\+\+$", crash[0], re.M), crash[0]
    assert "calm-file" not in crash[0]
    assert len(calm) == 1 and "trigger: openat = -1 EACCES" in calm[0] and "crash-file" not in calm[0]
    for name in ("crash", "calm"):
        assert curl(daemon, f"/close-by-name?name={name}")[0] == 200


@pytest.mark.parametrize("endpoint, code", [
    ("/add?cgrouppath=../../../etc", 400),
    ("/add?cgrouppath=/etc", 400),
    ("/add?name=x", 400),
    ("/add?cgrouppath=" + "a" * 5000, 400),
    ("/dump?id=abc", 400),
    ("/dump?id=99999", 404),
    ("/dump-by-name?name=nobody", 404),
    ("/close?id=", 400),
    ("/nope", 404),
    ("/../../etc/passwd", 404),
    ("/list?x=1", 400),
    ("/add?unit=../x", 400),
    ("/add?pid=-1", 400),
    ("/add?cgrouppath=%00", 400),
    ("/v1/dump?id=0&format=xml", 400),
])
def test_hostile_requests_get_one_line_4xx(daemon, endpoint, code):
    got, body = curl(daemon, endpoint)
    assert got == code and len(body.splitlines()) == 1 and body, (got, body)


def _group(mount: str, tag: str) -> str:
    g = os.path.join(mount, f"ts-serve-{tag}-{uuid.uuid4().hex[:6]}")
    os.mkdir(g)
    return g


def _rmdir_all(groups: list[str]) -> None:
    for g in groups:
        try:
            os.rmdir(g)
        except OSError:
            pass


def test_adding_a_recorder_loads_no_program(daemon):
    """No compile at /add: map updates and perf buffers only; the daemon holds the same programs after
    nine adds as before (how long an add takes is bench/serve_cost.py's to measure)."""
    groups = [_group(cgroup2_mounts()[0], f"t{i}") for i in range(9)]
    before = _prog_ids_held_by(daemon["proc"].pid)
    try:
        for i, g in enumerate(groups):
            status, body = request(daemon["sock"], "/add", {"name": f"timed{i}", "cgrouppath": g})
            assert status == 200, body
            assert _prog_ids_held_by(daemon["proc"].pid) == before
            assert request(daemon["sock"], "/close", {"id": body.split()[-1].decode()})[0] == 200
    finally:
        _rmdir_all(groups)
    assert before


def test_64_recorders_at_once_each_dump_holds_its_own_group_only(daemon):
    mount = cgroup2_mounts()[0]
    groups = []
    ids = []
    try:
        for i in range(64):
            groups.append(_group(mount, f"m{i}"))
            status, body = request(daemon["sock"], "/add", {"name": f"many{i}", "cgrouppath": groups[-1],
                                                            "size": "64K"})
            assert status == 200, body
            ids.append(body.split()[-1].decode())
        assert len(curl(daemon, "/list")[1].splitlines()) == 64
        busy = (0, 17, 42, 63)
        for i in busy:
            in_group(groups[i], f"cat /etc/many-{i}-only 2>/dev/null; true")
        for i in busy:
            code, dump = curl(daemon, f"/dump?id={ids[i]}")
            assert code == 200 and f'"/etc/many-{i}-only"' in dump
            others = [j for j in busy if j != i and f"/etc/many-{j}-only" in dump]
            assert others == [], f"recorder {i} holds the syscalls of {others}"
        quiet = curl(daemon, f"/dump?id={ids[1]}")[1]
        assert "/etc/many-" not in quiet and "0 syscalls" in quiet
    finally:
        for rid in ids:
            curl(daemon, f"/close?id={rid}")
        _rmdir_all(groups)
    assert curl(daemon, "/list") == (200, "")


def test_a_client_gone_mid_dump_a_burst_and_a_removed_group_do_not_stop_the_daemon(daemon):
    g = _group(cgroup2_mounts()[0], "gone")
    status, body = request(daemon["sock"], "/add", {"name": "gone", "cgrouppath": g})
    assert status == 200, body
    rid = body.split()[-1].decode()
    in_group(g, "cat /etc/hostname >/dev/null")
    # a client that asks for a dump and hangs up after the first bytes
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(daemon["sock"])
        c.sendall(f"GET /dump?id={rid} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        c.recv(16)
    # a burst of requests at once
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: request(daemon["sock"], "/list", {})[0], range(64)))
    assert answers == [200] * 64
    # the recorded group removed while recorded: still listed, dumped and closed
    os.rmdir(g)
    code, listing = curl(daemon, "/list")
    assert code == 200 and "gone" in listing
    code, dump = curl(daemon, f"/dump?id={rid}")
    assert code == 200 and '"/etc/hostname"' in dump
    assert curl(daemon, f"/close?id={rid}")[0] == 200
    assert daemon["proc"].poll() is None


def test_clients_holding_connections_get_the_daemon_to_say_busy_not_to_start_threads_without_end(daemon):
    """Each connection is a thread until its request comes (or REQUEST_TIMEOUT): at most 32 at once; the
    next client is told 503 at once, and the daemon answers again when they leave."""
    idle = []
    try:
        for _ in range(32):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(daemon["sock"])
            idle.append(c)
        time.sleep(0.3)  # the daemon took them all
        code, body = curl(daemon, "/list")
        assert (code, body) == (503, "busy: 32 requests are being answered; try again in a second")
    finally:
        for c in idle:
            c.close()
    deadline = time.monotonic() + 10
    while curl(daemon, "/list")[0] != 200:
        assert time.monotonic() < deadline, "the daemon should answer once the idle clients left"
        time.sleep(0.1)
    assert daemon["proc"].poll() is None


def test_stale_socket_replaced_live_one_refused(daemon, tmp_path):
    r = subprocess.run([TRACESPEC, "serve", str(daemon["spec"]), "--socket", daemon["sock"]], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "in use by a live daemon" in r.stderr
    assert oct(os.stat(daemon["sock"]).st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("fmt", ["text", "bin"])
def test_dumps_name_what_processes_had_open_before_the_recorder_was_added(daemon, fmt, tmp_path):
    """-y (fd_paths: true): a process already in the group when it is added writes to the stdout it had
    then and opens a path relative to the directory it was in; by the dump it is gone, so /proc cannot
    say what they were: the dump names them from what the add saw, as `record -y` names a running
    process's (in a bin dump, its header carries them to decode)."""
    g = daemon["groups"][1]
    work = tmp_path / "cwd-before-add"
    work.mkdir()
    proc = subprocess.Popen(["sh", "-c", f"echo $$ > {g}/cgroup.procs; cd {work}; exec 2>/dev/null; read x; "
                             "echo from-before; true < relative-missing; exit 0"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    pipe = os.fstat(proc.stdout.fileno()).st_ino
    time.sleep(0.3)  # in the group, in its directory, reading
    code, body = curl(daemon, f"/add?name=fds&cgrouppath={g}&spec=fdpaths")
    assert code == 200, body
    rid = body.split()[-1]
    try:
        out, _ = proc.communicate(b"go\n", timeout=30)
        assert (out, proc.returncode) == (b"from-before\n", 0)
        assert not os.path.exists(f"/proc/{proc.pid}"), "gone before the dump: only the add's view can name them"
        if fmt == "text":
            code, dump = curl(daemon, f"/dump?id={rid}")
            assert code == 200, dump
        else:
            trace = tmp_path / "dump.tsb"
            r = subprocess.run(["curl", "-s", "-f", "-o", str(trace), "--unix-socket", daemon["sock"],
                                f"http://localhost/v1/dump?id={rid}&format=bin"], timeout=60)
            assert r.returncode == 0
            decoded = tmp_path / "decoded.txt"
            assert decode_without_bcc(trace, decoded).returncode == 0
            dump = decoded.read_text()
    finally:
        assert curl(daemon, f"/close?id={rid}")[0] == 200
    lines = [line.split(" ", 1)[1] for line in dump.splitlines() if line.startswith(f"{proc.pid} ")]
    assert [line for line in lines if line.startswith(("write(1", "openat("))] == [
        f'write(1<pipe:[{pipe}]>, "from-before\\n", 12) = 12',
        f'openat(AT_FDCWD<{work}>, "relative-missing", O_RDONLY) = -1 ENOENT (No such file or directory)'], dump


def test_sigterm_leaves_nothing_in_the_kernel(daemon):
    curl(daemon, f"/add?name=last&cgrouppath={daemon['groups'][0]}")
    own = _map_ids_held_by(daemon["proc"].pid)  # this daemon's maps: other tracers may run beside it
    assert own and own <= _live_map_ids()
    daemon["proc"].send_signal(signal.SIGTERM)
    assert daemon["proc"].wait(20) == 0
    deadline = time.monotonic() + 5
    while own & _live_map_ids() and time.monotonic() < deadline:  # tracepoint fds close in the background
        time.sleep(0.1)
    assert not own & _live_map_ids()
    assert not os.path.exists(daemon["sock"])


def _bpf_ids_held_by(pid: int, kind: str) -> set[int]:
    """The ids of the BPF maps or programs (kind: map or prog) a process has descriptors of (their
    fdinfo names them)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != f"anon_inode:bpf-{kind}":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                ids |= {int(line.split()[1]) for line in f if line.startswith(f"{kind}_id:")}
        except OSError:
            continue
    return ids


def _map_ids_held_by(pid: int) -> set[int]:
    return _bpf_ids_held_by(pid, "map")


def _prog_ids_held_by(pid: int) -> set[int]:
    return _bpf_ids_held_by(pid, "prog")


def _live_map_ids() -> set[int]:
    out = subprocess.run(["bpftool", "map", "show", "--json"], capture_output=True, text=True).stdout
    return {m["id"] for m in json.loads(out or "[]")}
