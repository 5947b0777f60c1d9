"""Prometheus metrics. Labels carry statuses and upstream names only, never lead data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """One registry per app, so several apps (tests) never collide in the global registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.invocations = Counter(
            "lead_router_invocations", "Invocations answered, by decision status.", ["status"],
            registry=r,
        )
        self.invocation_seconds = Histogram(
            "lead_router_invocation_seconds", "Time to answer one invocation.", registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30),
        )
        self.upstream_requests = Counter(
            "lead_router_upstream_requests",
            "Upstream attempts by upstream and outcome (ok, rate_limited, server_error, "
            "timeout, unreachable, refused, rejected, bad_reply).",
            ["upstream", "outcome"], registry=r,
        )
        self.upstream_seconds = Histogram(
            "lead_router_upstream_seconds", "Duration of one upstream attempt.", ["upstream"],
            registry=r, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
        )
        self.retries = Counter(
            "lead_router_upstream_retries", "Upstream attempts that were retried.", ["upstream"],
            registry=r,
        )
        self.errors = Counter(
            "lead_router_errors", "Decisions that recorded an error, by kind.", ["kind"],
            registry=r,
        )
        self.alerts = Counter(
            "lead_router_alerts", "Operator alerts sent, by kind (incident, recovery).",
            ["kind"], registry=r,
        )
        self.mode = Gauge(
            "lead_router_mode", "1 for the current operating mode, 0 for the others.", ["mode"],
            registry=r,
        )

    def set_mode(self, mode: str) -> None:
        """Expose the current mode as a one-hot gauge."""
        for name in ("active", "review_only", "disabled"):
            self.mode.labels(name).set(1 if name == mode else 0)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
