"""Prometheus metrics: :class:`Metrics` is the :class:`bot.core.ports.Telemetry` that counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core.models import FeedRefresh

__all__ = ["CONTENT_TYPE", "Metrics", "Snapshot"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_SLOW = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Gauges read from the store and the services when metrics are scraped."""

    outbox_depth: int
    outbox_oldest_age_seconds: float
    stories: int
    database_bytes: int


class Metrics:
    """Counters and histograms in a registry of their own (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._polls = Counter(
            "newsbot_polls",
            "Feed polls by outcome (new, seen, not_modified, error) and error kind.",
            ("outcome", "error"),
            registry=registry,
        )
        self._items = Counter(
            "newsbot_items_ingested", "New articles stored by polling.", registry=registry
        )
        self._fetch = Histogram(
            "newsbot_fetch_seconds", "Time to fetch a feed.", buckets=_FAST, registry=registry
        )
        self._parse = Histogram(
            "newsbot_parse_seconds", "Time to parse a feed.", buckets=_FAST, registry=registry
        )
        self._deliveries = Counter(
            "newsbot_deliveries",
            "Outbox rows handled, by kind and outcome (sent, held, retry, failed, empty).",
            ("kind", "outcome"),
            registry=registry,
        )
        self._alert_latency = Histogram(
            "newsbot_alert_latency_seconds",
            "From an alert's item being seen to its message being sent.",
            buckets=_SLOW,
            registry=registry,
        )
        self._commands = Histogram(
            "newsbot_command_seconds",
            "Time to answer a command, by command and outcome (ok, error).",
            ("command", "outcome"),
            buckets=_FAST,
            registry=registry,
        )
        self._outbox_depth = Gauge(
            "newsbot_outbox_depth", "Outbox rows waiting to be sent.", registry=registry
        )
        self._outbox_age = Gauge(
            "newsbot_outbox_oldest_age_seconds",
            "Age of the oldest outbox row waiting to be sent (0 when none).",
            registry=registry,
        )
        self._stories = Gauge(
            "newsbot_stories", "Open stories held by story clustering.", registry=registry
        )
        self._database = Gauge("newsbot_database_bytes", "Size of the database.", registry=registry)

    def polled(self, refreshes: Sequence[FeedRefresh]) -> None:
        """Count one polling round."""
        for refresh in refreshes:
            outcome = refresh.status.replace(" ", "_")
            self._polls.labels(outcome, refresh.error_kind or "").inc()
            if refresh.new_articles:
                self._items.inc(refresh.new_articles)
            if refresh.fetch_seconds is not None:
                self._fetch.observe(refresh.fetch_seconds)
            if refresh.parse_seconds is not None:
                self._parse.observe(refresh.parse_seconds)

    def delivered(
        self, kind: str, outcome: str, *, queued_at: datetime | None, at: datetime
    ) -> None:
        """Count one outbox row; a sent alert also records its latency."""
        self._deliveries.labels(kind, outcome).inc()
        if outcome == "sent" and kind == "alert" and queued_at is not None:
            self._alert_latency.observe(max((at - queued_at).total_seconds(), 0.0))

    def command_done(self, command: str, seconds: float, *, outcome: str) -> None:
        """Record one answered command."""
        self._commands.labels(command, outcome).observe(max(seconds, 0.0))

    def exposition(self, snapshot: Snapshot) -> bytes:
        """The Prometheus text format, with the gauges set from ``snapshot``."""
        self._outbox_depth.set(snapshot.outbox_depth)
        self._outbox_age.set(snapshot.outbox_oldest_age_seconds)
        self._stories.set(snapshot.stories)
        self._database.set(snapshot.database_bytes)
        return generate_latest(self.registry)
