"""GET /metrics: the recorders' in-kernel counts in the Prometheus exposition format (prometheus_client
renders it; the values are read from ts_serve_counts at each scrape)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from tracespec.format.values import constants

LABELS = ["id", "name", "cgroup", "spec"]


class RecorderCollector:
    def __init__(self, daemon):
        self.daemon = daemon

    def collect(self):
        c = constants()
        syscalls = CounterMetricFamily("tracespec_recorder_syscalls", "Syscalls recorded (returned)", labels=LABELS)
        errors = CounterMetricFamily("tracespec_recorder_errors", "Recorded syscalls that failed, by errno",
                                     labels=LABELS + ["errno"])
        failed = CounterMetricFamily("tracespec_recorder_failed_syscalls", "Recorded syscalls that failed",
                                     labels=LABELS)
        lost = CounterMetricFamily("tracespec_recorder_records_lost", "Records the buffer could not take",
                                   labels=LABELS)
        dumps = CounterMetricFamily("tracespec_recorder_dumps", "Dumps taken", labels=LABELS)
        size = GaugeMetricFamily("tracespec_recorder_buffer_bytes", "The recorder's buffer, all CPUs", labels=LABELS)
        used = GaugeMetricFamily("tracespec_recorder_buffer_used_bytes", "Bytes the buffer holds", labels=LABELS)
        recorders = self.daemon.list()
        for r in recorders:
            labels = [str(r.id), r.name, r.cgroup, r.spec.name]
            counts = r.spec.program.read_counts(r.slot)
            syscalls.add_metric(labels, counts.syscalls)
            failed.add_metric(labels, counts.errors)
            for errno, n in sorted(counts.errnos.items()):
                errors.add_metric(labels + [c.errno_name(errno)], n)
            lost.add_metric(labels, counts.lost)
            dumps.add_metric(labels, r.dumps)
            size.add_metric(labels, r.buffer_bytes)
            used.add_metric(labels, r.spec.program.fill(r.slot)[0])
        count = GaugeMetricFamily("tracespec_recorders", "Recorders running")
        count.add_metric([], len(recorders))
        return [count, syscalls, failed, errors, lost, dumps, size, used]


def exposition(daemon) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RecorderCollector(daemon))
    return generate_latest(registry), CONTENT_TYPE_LATEST
