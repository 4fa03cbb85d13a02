"""GET /metrics for Prometheus: requests and their latency by route and status, store errors,
and figures read from the store when scraped (open and overdue cases, the e-mail outbox,
unread notifications).

Two kinds of numbers, kept apart on purpose:
- What a process sees (requests, latency, store errors) is counted by that process, in metric
  objects that belong to its application (`Metrics`, one per make_app, so tests build as many
  apps as they like). With several processes (`server.py --processes N`), prometheus-client's
  multiprocess mode keeps each process's values in files under PROMETHEUS_MULTIPROC_DIR, and a
  scrape, whichever process answers it, sums them all (MultiProcessCollector).
- What the store knows (cases, mail, notifications) is counted once per scrape by the process
  that answers it: never kept per process, so never summed N times.

Closed by default, since the figures say how the city's cases stand: on the public port
/metrics answers 404 unless FORUM_METRICS_TOKEN is set, and then only requests with
`Authorization: Bearer <token>` (401 otherwise). `server.py serve --metrics-port N` opens a
second listener on 127.0.0.1 that serves /metrics alone, without a token (forum.app.
make_metrics_app), for a Prometheus on the same machine.
"""

from __future__ import annotations

import glob
import hmac
import os
from typing import Iterable

import prometheus_client.values
import tornado.web
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from forum.errors import StoreUnavailable
from forum.services import operations
from forum.web.base import ApiHandler, route_name

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# generate_latest writes the classic text format, which every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; web requests of this site take milliseconds, uploads and searches up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Methods Tornado serves; anything else a client sends is counted as "other", so a client cannot
# grow the label set.
METHODS = frozenset({"GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"})


def multiprocess_dir() -> str | None:
    """The folder of prometheus-client's multiprocess mode, when this process is in it."""
    return os.environ.get(MULTIPROC_ENV) or None


def use_multiprocess_dir(path: str) -> None:
    """Put this process, and the processes it forks afterwards, into multiprocess mode, with
    `path` emptied of earlier runs' files.

    prometheus-client chooses how metric values are kept (in memory, or in files shared through
    PROMETHEUS_MULTIPROC_DIR) once, when it is imported, in its module-level `values.ValueClass`:
    the one piece of module state this application relies on, and the library's, not ours. The
    server only learns from --processes that it needs files after forum.app (and so the
    library) has been imported, so the choice is made again here, before any metric exists and
    before the fork."""
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    os.environ[MULTIPROC_ENV] = path
    prometheus_client.values.ValueClass = prometheus_client.values.get_value_class()


def process_ended(pid: int) -> None:
    """Bookkeeping for a server process that ended (prometheus-client's mark_process_dead). It
    drops only live gauges, which this application does not use; counters and histograms of an
    ended process stay in the sums, as they must for counters never to go down."""
    path = multiprocess_dir()
    if path and os.path.isdir(path):
        multiprocess.mark_process_dead(pid, path)


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


class Metrics:
    """The metric objects of one application."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        # In multiprocess mode this registry is never scraped (the files are); it only keeps the
        # metric names of this application unique.
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "forum_http_requests",
            "HTTP requests answered, by route (handler), method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "forum_http_request_duration_seconds",
            "Time from a request's arrival to its last byte, by route (handler), method and status",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "forum_store_errors",
            "Store outages met (answered 503, or a background job that failed), by operation: "
            "the route, or housekeeping, mail",
            ["operation"],
            registry=self.registry,
        )
        # Each label set's counter and histogram, looked up once (labels() takes a lock and
        # builds its key on every call). As bounded as the labels: routes, methods, statuses.
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        if not self.multiprocess:
            # CPU, memory, open files of this process (figures that do not add up over processes,
            # so left out in multiprocess mode).
            ProcessCollector(registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method_label(method), str(status))
        children = self._children.get(labels)
        if children is None:
            children = self._children[labels] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        children[0].inc()
        children[1].observe(seconds)

    def store_error(self, operation: str) -> None:
        self.store_errors.labels(operation).inc()

    def exposition(self, figures: operations.Figures | None) -> bytes:
        """The text format of every metric: this application's (summed over the processes in
        multiprocess mode) and the store's figures (None when the store did not answer)."""
        if self.multiprocess:
            # A fresh registry per scrape, as prometheus-client's multiprocess mode asks.
            source = CollectorRegistry()
            multiprocess.MultiProcessCollector(source)
        else:
            source = self.registry
        return generate_latest(_Joined(source, _FiguresCollector(figures)))


class _Joined:
    """Several collectors read as one registry."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


class _FiguresCollector:
    def __init__(self, figures: operations.Figures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "forum_store_figures_up",
            "1 when the store answered this scrape's counts, 0 when it did not",
        )
        up.add_metric([], 0 if self.figures is None else 1)
        yield up
        if self.figures is None:
            return
        cases = GaugeMetricFamily(
            "forum_cases_open",
            "Cases not yet closed or rejected, by board and status",
            labels=["board", "status"],
        )
        for (board, status), count in sorted(self.figures.open_cases.items()):
            cases.add_metric([board, status], count)
        yield cases
        overdue = GaugeMetricFamily(
            "forum_cases_overdue",
            "Routed cases past their due time without a reply, by board",
            labels=["board"],
        )
        for board, count in sorted(self.figures.overdue_cases.items()):
            overdue.add_metric([board], count)
        yield overdue
        yield GaugeMetricFamily(
            "forum_mail_outbox",
            "E-mails waiting in the outbox (not yet sent, not given up)",
            value=self.figures.mail_waiting,
        )
        yield GaugeMetricFamily(
            "forum_notifications_unread",
            "Unread notifications, everyone's",
            value=self.figures.notifications_unread,
        )


class MetricsHandler(ApiHandler):
    """GET /metrics. On the loopback listener, open; on the public port, only with the bearer
    token FORUM_METRICS_TOKEN, and not at all (404) when none is set."""

    async def prepare(self) -> None:
        # No session lookup: the bearer token here is the metrics token, and metrics must answer
        # while the store does not.
        if self.settings.get("metrics_listener"):
            return
        expected = self.config.metrics_token
        if expected is None:
            raise tornado.web.HTTPError(404)
        given = self.bearer_token() or ""
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
            self.set_header("WWW-Authenticate", 'Bearer realm="metrics"')
            self.respond(
                401,
                {
                    "error": {
                        "code": "not_logged_in",
                        "message": "需要指标令牌（FORUM_METRICS_TOKEN）",
                    }
                },
            )

    async def get(self) -> None:
        metrics: Metrics = self.settings["metrics"]
        try:
            figures = await operations.figures(self.store)
        except StoreUnavailable:
            metrics.store_error(route_name(self))
            figures = None
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(metrics.exposition(figures))
