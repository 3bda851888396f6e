"""OpenTelemetry: each syscall (and each process end and loss mark) as a log record sent over OTLP/HTTP
(protobuf) to a collector, beside the local output; a summary (-c) as metrics.

A log record's attributes are the JSON writer's object (format/jsonl.py's contract) without ts_ns,
which is the record's timestamp: syscall, pid, tid, comm, args (a map), ret, errno, duration_ns and
truncated for a syscall; pid, tid and exited or killed for a process end; pid, tid, signal and siginfo (a
map) for a signal's delivery; lost_here for a loss mark.
A null is an empty value; a string that is not UTF-8 is its bytes (bytes_value); a number beyond int64 (an unsigned 64-bit argument) is sent as its decimal
string. The body is the syscall's name (the signal's, "exit", "lost" for the others), event_name says which kind
("tracespec.syscall", "tracespec.signal", "tracespec.exit", "tracespec.lost"), and a failed syscall has severity WARN.
The resource says where it was traced: host.name, service.name "tracespec", and tracespec.cgroup when
the target was a cgroup.

A summary becomes, per syscall (and process or thread when broken down so), delta sums
tracespec.syscall.calls and tracespec.syscall.errors (by errno too) and the histogram
tracespec.syscall.duration (ns, the summary's log2 buckets as explicit bounds 2, 4, ... 2^39).

The collector never holds the local output back: records go to the SDK's batch processor, which sends
them from its own thread with the exporter's retries and backoff, its queue bounded (when it is full
the oldest wait is dropped); at the end it gets FLUSH_TIMEOUT_S to send what is left. What could not
be sent is counted and said in one line.
"""

from __future__ import annotations

import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import (AggregationTemporality, Histogram, HistogramDataPoint, Metric,
                                              MetricExportResult, MetricsData, NumberDataPoint,
                                              ResourceMetrics, ScopeMetrics, Sum)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

import tracespec
from tracespec.decode.events import Finished, Lost, ProcessExit, Signalled, Unfinished
from tracespec.format.jsonl import JsonWriter, exact_seconds, process_end, signal_delivered
from tracespec.format.values import constants
from tracespec.plan.model import HIST_BUCKETS

FLUSH_TIMEOUT_S = 5.0
QUEUE_RECORDS = 16384  # records waiting for the collector, at most (the SDK drops the oldest beyond)
BATCH_RECORDS = 2048
SCHEDULE_DELAY_MS = 1000
INT64_MAX = (1 << 63) - 1
SCOPE = InstrumentationScope("tracespec", tracespec.__version__)


def endpoint_for(base: str | None, signal: str) -> str | None:
    """The URL of one signal (logs, metrics) under a collector's base URL; None: the exporter reads the
    standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT...)."""
    if not base:
        return None
    return f"{base.rstrip('/')}/v1/{signal}"


def attribute(value):
    """A JSON value as an OTLP attribute value (the encoder takes maps and lists, not int64 overflow)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:  # bytes that are not UTF-8 (lone surrogates): sent as those bytes
            return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -INT64_MAX - 1 <= value <= INT64_MAX else str(value)
    if isinstance(value, dict):
        return {k: attribute(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [attribute(v) for v in value]
    return str(value)


class CountingExporter(LogRecordExporter):
    """The OTLP exporter, counting the records it got through; the SDK's own warnings are kept as the
    reason to give (one line at the end, not one per failed batch)."""

    def __init__(self, inner: OTLPLogExporter):
        self.inner = inner
        self.sent = 0
        self.lock = threading.Lock()

    def export(self, batch):
        result = self.inner.export(batch)
        if result == LogRecordExportResult.SUCCESS:
            with self.lock:
                self.sent += len(batch)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class LastProblem(logging.Handler):
    """Keeps the OpenTelemetry SDK's last warning instead of printing each (they would flood stderr)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage().splitlines()[0][:200]


class OtlpTee:
    """A writer that writes to `local` first and then sends the same events to a collector."""

    def __init__(self, local, url: str | None, clock_offset_ns: int, *, host: str | None = None,
                 cgroup: str | None = None, schema=None, notice=print):
        self.local = local
        self.raw = False
        self.offset = clock_offset_ns
        self.json = JsonWriter(None, clock_offset_ns)
        self.notice = notice
        self.names_by_nr = {i.nr: i.name for i in schema.syscalls} if schema is not None else {}
        attrs = {"service.name": "tracespec", "host.name": host or socket.gethostname()}
        if cgroup:
            attrs["tracespec.cgroup"] = cgroup
        self.resource = Resource.create(attrs)
        self.problem = LastProblem()
        sdk_log = logging.getLogger("opentelemetry")
        sdk_log.addHandler(self.problem)
        self.sdk_log_propagated, sdk_log.propagate = sdk_log.propagate, False
        self.url = url
        self.exporter = CountingExporter(OTLPLogExporter(endpoint=endpoint_for(url, "logs")))
        self.shown_url = self.exporter.inner._endpoint
        self.provider = LoggerProvider(resource=self.resource, shutdown_on_exit=False)
        self.provider.add_log_record_processor(BatchLogRecordProcessor(
            self.exporter, schedule_delay_millis=SCHEDULE_DELAY_MS, max_export_batch_size=BATCH_RECORDS,
            max_queue_size=QUEUE_RECORDS))
        self.logger = self.provider.get_logger("tracespec", tracespec.__version__)
        self.emitted = 0
        self.metrics: OTLPMetricExporter | None = None
        self.metric_sender: ThreadPoolExecutor | None = None
        self.metric_points = 0
        self.metric_points_sent = 0

    @property
    def syscalls(self):
        return self.local.syscalls

    def _emit(self, ts_ns: int, body: str, kind: str, obj: dict, failed: bool = False) -> None:
        self.logger.emit(timestamp=ts_ns, body=body, event_name=f"tracespec.{kind}",
                         severity_number=SeverityNumber.WARN if failed else SeverityNumber.INFO,
                         attributes={k: attribute(v) for k, v in obj.items()})
        self.emitted += 1

    def write(self, items) -> None:
        self.local.write(items)
        for item in items:
            t = type(item)
            if t is Finished or t is Unfinished:
                obj = self.json.event(item.event, t is Finished)
                ts = obj.pop("ts_ns")
                self._emit(ts, obj["syscall"], "syscall", obj, failed=obj["errno"] is not None)
            elif t is ProcessExit and item.code >= 0:
                ts = item.ts + self.offset
                self._emit(ts, "exit", "exit", {"ts": exact_seconds(ts), **process_end(item)})
            elif t is Signalled:
                ts = item.ts + self.offset
                obj = {"ts": exact_seconds(ts), **signal_delivered(item)}
                self._emit(ts, str(obj["signal"]), "signal", obj)
            elif t is Lost:
                ts = item.ts + self.offset
                self._emit(ts, "lost", "lost", {"ts": exact_seconds(ts), "lost_here": item.count})

    # -- summaries as metrics ----------------------------------------------------------------------

    def summary(self, snap) -> None:
        self.local.summary(snap)
        if self.metrics is None:
            self.metrics = OTLPMetricExporter(endpoint=endpoint_for(self.url, "metrics"))
            self.metric_sender = ThreadPoolExecutor(1, thread_name_prefix="tracespec-otlp-metrics")
        data = self.metrics_data(snap)
        points = sum(len(m.data.data_points) for m in data.resource_metrics[0].scope_metrics[0].metrics)
        self.metric_points += points
        self.metric_sender.submit(self._send_metrics, data, points)

    def _send_metrics(self, data: MetricsData, points: int) -> None:
        if self.metrics.export(data) == MetricExportResult.SUCCESS:
            self.metric_points_sent += points

    def metrics_data(self, snap) -> MetricsData:
        start, end = snap.start_ns + self.offset, snap.end_ns + self.offset
        calls, errors, durations = [], [], []
        bounds = [float(1 << i) for i in range(1, HIST_BUCKETS)]
        for e in snap.entries:
            key = {"syscall": self.names_by_nr.get(e.nr) or f"syscall_{e.nr:#x}"}
            if e.tgid:
                key.update(pid=e.tgid, comm=e.comm)
            if e.tid:
                key["tid"] = e.tid
            calls.append(NumberDataPoint(key, start, end, e.calls))
            for errno, n in e.errnos:
                errors.append(NumberDataPoint(dict(key, errno=constants().errno_name(errno) or str(errno)),
                                              start, end, n))
            hist = list(e.hist) + [0] * (HIST_BUCKETS - len(e.hist))
            durations.append(HistogramDataPoint(key, start, end, e.calls, e.total_ns, hist, bounds,
                                                e.min_ns if e.calls else 0, e.max_ns))
        delta = AggregationTemporality.DELTA
        metrics = [Metric("tracespec.syscall.calls", "syscalls made", "{call}", Sum(calls, delta, True)),
                   Metric("tracespec.syscall.errors", "syscalls that failed, by errno", "{call}",
                          Sum(errors, delta, True)),
                   Metric("tracespec.syscall.duration", "time in the syscall, entry to exit", "ns",
                          Histogram(durations, delta))]
        scope = ScopeMetrics(SCOPE, metrics, "")
        return MetricsData([ResourceMetrics(self.resource, [scope], "")])

    # -- the end -----------------------------------------------------------------------------------

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        self.local.finish(lost, exit_code)
        self._flush_with_timeout()
        unsent = self.emitted - self.exporter.sent
        if unsent:
            why = f": {self.problem.message}" if self.problem.message else ""
            self.notice(f"OTLP: {unsent} of {self.emitted} log records could not be sent to {self.shown_url}{why}")
        if self.metric_points_sent < self.metric_points:
            self.notice(f"OTLP: {self.metric_points - self.metric_points_sent} of {self.metric_points} "
                        f"metric points could not be sent")
        sdk_log = logging.getLogger("opentelemetry")
        sdk_log.removeHandler(self.problem)
        sdk_log.propagate = self.sdk_log_propagated

    def _flush_with_timeout(self) -> None:
        """Give the batch processor (and the metrics) FLUSH_TIMEOUT_S to send what waits, then go:
        the process must not wait on a collector that does not answer."""
        done = threading.Event()

        def shut() -> None:
            try:
                if self.metric_sender is not None:
                    self.metric_sender.shutdown(wait=True)
                self.provider.shutdown()
            finally:
                done.set()

        threading.Thread(target=shut, name="tracespec-otlp-flush", daemon=True).start()
        done.wait(FLUSH_TIMEOUT_S)
