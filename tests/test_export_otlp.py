"""--otlp (format/otlp.py): syscalls sent as OpenTelemetry log records to a receiver on 127.0.0.1 that
decodes them with the OpenTelemetry protobuf schema, compared record for record with the JSON output;
summaries as metrics; a collector that does not answer costs a line, never the local output."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (ExportMetricsServiceRequest,
                                                                          ExportMetricsServiceResponse)

sys.path.insert(0, str(Path(__file__).with_name("unit")))
from synthetic import close, enter, items, jsonl, opened, proc_exit, read_, schema  # noqa: E402

from tracespec.decode.events import Lost  # noqa: E402
from tracespec.format import otlp as O  # noqa: E402
from tracespec.format.jsonl import JsonWriter  # noqa: E402

OFFSET = 1_700_000_000_000_000_000


def any_value(v):
    """An OTLP AnyValue back as the JSON value it was made from."""
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "bytes_value":  # a string that is not UTF-8, as the JSON output has it
        return v.bytes_value.decode("utf-8", "surrogateescape")
    return getattr(v, which)


class Collector:
    """An OTLP/HTTP receiver: what it was sent, decoded with opentelemetry-proto's schema."""

    def __init__(self):
        self.logs: list[ExportLogsServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.headers["Content-Type"] == "application/x-protobuf"
                if self.path == "/v1/logs":
                    collector.logs.append(ExportLogsServiceRequest.FromString(body))
                    answer = ExportLogsServiceResponse()
                else:
                    assert self.path == "/v1/metrics"
                    collector.metrics.append(ExportMetricsServiceRequest.FromString(body))
                    answer = ExportMetricsServiceResponse()
                data = answer.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def records(self) -> list[tuple[dict, object]]:
        """(resource attributes, log record) of everything received, in order."""
        out = []
        for req in self.logs:
            for rl in req.resource_logs:
                res = {kv.key: any_value(kv.value) for kv in rl.resource.attributes}
                for sl in rl.scope_logs:
                    out.extend((res, r) for r in sl.log_records)
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.close()


def as_json(record) -> dict:
    """A log record as the JSON object it stands for."""
    obj = {"ts_ns": record.time_unix_nano}
    obj.update({kv.key: any_value(kv.value) for kv in record.attributes})
    return obj


def send(batch, url, lost=0, notices=None, **kw) -> str:
    out = io.StringIO()
    tee = O.OtlpTee(JsonWriter(out, OFFSET), url, OFFSET, notice=(notices if notices is not None else []).append, **kw)
    tee.write(batch)
    tee.finish(lost)
    return out.getvalue()


RAWS = (opened(100, 1000, b"/etc/hostname", 3, dur=2417) + read_(100, 5000, 3, b"hello")
        + opened(100, 9000, b"/nonexistent", -2) + [enter("read", 101, 9500, (4, 0x5000, 10), tgid=100)]
        + [proc_exit(100, 20_000, 3 << 8)])


def test_each_json_object_is_one_log_record(collector):
    batch = items(RAWS)
    batch.insert(2, Lost(4000, 2))
    notices: list[str] = []
    local = [json.loads(line) for line in send(batch, collector.url, lost=2, notices=notices,
                                               host="box1", cgroup="/system.slice/x.service").splitlines()]
    got = collector.records()
    assert [as_json(r) for _, r in got] == local[:-1]  # all but the closing {"lost": ...} count
    assert notices == []
    assert all(res["host.name"] == "box1" and res["tracespec.cgroup"] == "/system.slice/x.service"
               and res["service.name"] == "tracespec" for res, _ in got)
    kinds = [(r.event_name, r.body.string_value) for _, r in got]
    assert kinds == [("tracespec.syscall", "openat"), ("tracespec.syscall", "read"), ("tracespec.lost", "lost"),
                     ("tracespec.syscall", "openat"), ("tracespec.exit", "exit"),
                     ("tracespec.syscall", "read")]  # unfinished: said when the trace ends
    failed = [r for _, r in got if r.severity_number == 13]  # WARN
    assert [as_json(r)["errno"] for r in failed] == ["ENOENT"]


def test_an_unsigned_64_bit_value_goes_as_its_decimal_string_and_bytes_that_are_not_utf8_as_bytes():
    assert O.attribute(2**64 - 1) == "18446744073709551615"
    assert O.attribute("a\udcff") == b"a\xff"
    assert O.attribute({"a": [1, None, -5]}) == {"a": [1, None, -5]}


def test_an_unreachable_collector_costs_one_line_and_no_output(monkeypatch):
    monkeypatch.setattr(O, "FLUSH_TIMEOUT_S", 2.0)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    notices: list[str] = []
    began = time.monotonic()
    out = send(items(RAWS), f"http://127.0.0.1:{port}", notices=notices)
    assert time.monotonic() - began < 6
    assert out.count("\n") == 6  # the local output, whole
    assert len(notices) == 1, notices
    assert notices[0].startswith(f"OTLP: 5 of 5 log records could not be sent to http://127.0.0.1:{port}/v1/logs")


def test_the_standard_variables_say_where_without_a_url(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    send(items(close(100, 1000, 3)), None)
    assert [as_json(r)["syscall"] for _, r in collector.records()] == ["close"]


def test_a_summary_becomes_metrics(collector):
    from tracespec.format.summary import SummaryJsonWriter
    from tracespec.wire.summary import SummaryEntry, SummarySnapshot
    hist = (0,) * 10 + (3, 2)  # 3 calls in [1024, 2048) ns, 2 in [2048, 4096)
    entry = SummaryEntry(257, 0, 0, "", 5, 2, 9000, 1100, 4000, hist, ((2, 2),))
    tee = O.OtlpTee(SummaryJsonWriter(io.StringIO(), schema(), "syscall", OFFSET), collector.url, OFFSET,
                    schema=schema(), notice=print)
    tee.summary(SummarySnapshot(1000, 11_000, (entry,)))
    tee.finish(0)
    (req,) = collector.metrics
    metrics = {m.name: m for m in req.resource_metrics[0].scope_metrics[0].metrics}
    (calls,) = metrics["tracespec.syscall.calls"].sum.data_points
    assert (calls.as_int, calls.start_time_unix_nano, calls.time_unix_nano) == (5, OFFSET + 1000, OFFSET + 11_000)
    (errors,) = metrics["tracespec.syscall.errors"].sum.data_points
    assert errors.as_int == 2 and {kv.key: any_value(kv.value) for kv in errors.attributes} == \
        {"syscall": "openat", "errno": "ENOENT"}
    (h,) = metrics["tracespec.syscall.duration"].histogram.data_points
    assert (h.count, h.sum, h.min, h.max) == (5, 9000, 1100, 4000)
    assert list(h.explicit_bounds[:11]) == [float(1 << i) for i in range(1, 12)]
    assert list(h.bucket_counts[:12]) == list(hist) and sum(h.bucket_counts) == 5


def test_bin_and_otlp_do_not_go_together():
    from conftest import run_tracespec
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "-o", "/dev/null", "--otlp", "--", "true")
    assert r.returncode == 2 and "--otlp sends decoded syscalls" in r.stderr


@pytest.mark.bpf
def test_a_recorded_trace_sends_what_its_json_says(build_dir, tmp_path, collector):
    from conftest import compile_workload, decode_without_bcc, run_tracespec
    workload = compile_workload("fileio_workload", build_dir)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    trace = tmp_path / "t.tsb"
    r = run_tracespec("run", "specs/fileio.yaml", "--format", "bin", "-o", str(trace), "--", str(workload),
                      str(scratch), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    decode_without_bcc(trace, tmp_path / "t.jsonl", "--format", "json")
    r = decode_without_bcc(trace, tmp_path / "again.jsonl", "--format", "json", "--otlp", collector.url)
    assert "OTLP" not in r.stderr
    local = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "t.jsonl").read_text()
    got = collector.records()
    assert [as_json(rec) for _, rec in got] == local[:-1]
    header = json.loads(run_tracespec("decode", str(trace), "--header").stdout)
    assert {res["host.name"] for res, _ in got} == {header["host"]}
