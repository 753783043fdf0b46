"""Prometheus metrics of one Kanbot process (``GET /metrics``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from bot.delivery import OutboxDelivery
    from bot.runtime import UpdateGate
    from crm_core.services.followups import TickReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _DeliveryCollector(Collector):
    """Messages the outbox delivery sent, retried, was rate-limited on, and gave up."""

    def __init__(self) -> None:
        self.delivery: OutboxDelivery | None = None

    def collect(self) -> Iterator[Metric]:
        stats = self.delivery.stats if self.delivery is not None else None
        for name, doc, value in (
            ("kanbot_messages_sent", "Notifications sent to Telegram.", stats.sent if stats else 0),
            (
                "kanbot_telegram_429",
                "Times Telegram answered 429 Too Many Requests.",
                stats.rate_limited if stats else 0,
            ),
            (
                "kanbot_messages_retried",
                "Notifications retried after a 5xx or network error.",
                stats.retried if stats else 0,
            ),
            (
                "kanbot_messages_failed",
                "Notifications given up (refused, or the user blocked the bot).",
                stats.failed if stats else 0,
            ),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        by_kind = CounterMetricFamily(
            "kanbot_notifications_sent",
            "Notifications sent to Telegram, by kind (stage reminders, escalations, digests, pop-ups...).",
            labels=["kind"],
        )
        for kind, value in sorted(stats.sent_by_kind.items() if stats else []):
            by_kind.add_metric([kind], value)
        yield by_kind


class _UpdatesCollector(Collector):
    """Updates being handled now, the most at once so far, and the limit (KANBOT_MAX_CONCURRENT_UPDATES)."""

    def __init__(self) -> None:
        self.gate: UpdateGate | None = None

    def collect(self) -> Iterator[Metric]:
        gate = self.gate
        for name, doc, value in (
            (
                "kanbot_updates_in_flight",
                "Telegram updates being handled now.",
                gate.in_flight if gate else 0,
            ),
            (
                "kanbot_updates_in_flight_max",
                "The most Telegram updates handled at once since the start.",
                gate.most_in_flight if gate else 0,
            ),
            (
                "kanbot_updates_in_flight_limit",
                "How many Telegram updates may be handled at once (0: no limit of Kanbot's).",
                (gate.limit or 0) if gate else 0,
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "kanbot_updates",
            "Telegram updates handled, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "kanbot_update_seconds",
            "Time to handle one update.",
            ["kind"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outbox_depth = Gauge("kanbot_outbox_pending", "Notifications waiting in the outbox.", registry=r)
        self.outbox_oldest = Gauge(
            "kanbot_outbox_oldest_pending_seconds", "Age of the oldest waiting notification.", registry=r
        )
        self.calls = Counter(
            "kanbot_calls_ingested",
            "Calls ingested, by provider and status.",
            ["provider", "status", "result"],
            registry=r,
        )
        self.followups = Counter(
            "kanbot_followups_queued",
            "Reminders, escalations, task notices, morning plans and digests queued.",
            ["kind"],
            registry=r,
        )
        self.db_errors = Counter(
            "kanbot_database_errors", "Requests that failed because the database was unavailable.", registry=r
        )
        self.leader = Gauge(
            "kanbot_worker_leader",
            "1 when this process runs the scheduler and the outbox delivery.",
            registry=r,
        )
        self._delivery = _DeliveryCollector()
        r.register(self._delivery)
        self._updates = _UpdatesCollector()
        r.register(self._updates)

    def count_followups(self, report: TickReport) -> None:
        for kind in ("reminders", "escalations", "tasks_due", "repeats", "morning_plans", "digests"):
            if value := getattr(report, kind):
                self.followups.labels(kind=kind).inc(value)

    def watch_delivery(self, delivery: OutboxDelivery) -> None:
        self._delivery.delivery = delivery

    def watch_updates(self, gate: UpdateGate) -> None:
        self._updates.gate = gate

    def render(self) -> bytes:
        return generate_latest(self.registry)
