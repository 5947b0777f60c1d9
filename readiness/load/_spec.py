"""What a load campaign runs (CampaignSpec) and what it measured (CampaignResult)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CampaignSpec:
    """One Locust campaign against the agent's invoke endpoint.

    `scenario` says how the Locust processes make inputs: the keys of
    `ScenarioConfig` (`source`, `fields`, `seed`, `locale`) plus `root`, the
    directory relative file sources start at. Each process builds its own
    record stream (Faker seeds are offset per worker; file records are dealt
    round-robin across workers), so workers never send identical records.

    `record_pool`: records a process generates before the test starts and then
    cycles through, JSON-encoded once. Making a Faker record per request costs
    8-15 µs, a sixth of what one Locust process spends per request against a fast
    agent, so Faker sources default to a pool of 16,384 (distinct records until a
    process has sent that many, then the same ones again in order); file sources
    default to 0, streaming every record (and starting over at the end of the file).

    `rate_per_user`: None is a closed model (each user sends its next request as
    soon as the previous one is answered); a number paces each user to that many
    requests per second (Locust's `constant_throughput`).

    Locust takes whole seconds: `duration_s` and `stop_timeout_s` are rounded up.
    """

    host: str
    invoke_method: str = "POST"
    invoke_path: str = "/invoke"
    token: str | None = None
    scenario: Mapping[str, Any] = field(default_factory=lambda: {"source": "faker"})
    users: int
    spawn_rate: float
    duration_s: float
    workers: int = 0
    out_dir: Path
    request_timeout_s: float = 30.0
    stop_timeout_s: float = 10.0
    rate_per_user: float | None = None
    record_pool: int | None = None

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be {rule}, got {value!r}"
            for name, value, ok, rule in (
                ("host", self.host, self.host.startswith(("http://", "https://")),
                 "an http:// or https:// URL"),
                ("users", self.users, self.users >= 1, "at least 1"),
                ("spawn_rate", self.spawn_rate, self.spawn_rate > 0, "positive"),
                ("duration_s", self.duration_s, self.duration_s > 0, "positive"),
                ("workers", self.workers, self.workers >= 0, "0 or more"),
                ("request_timeout_s", self.request_timeout_s, self.request_timeout_s > 0,
                 "positive"),
                ("stop_timeout_s", self.stop_timeout_s, self.stop_timeout_s >= 0, "0 or more"),
                ("rate_per_user", self.rate_per_user,
                 self.rate_per_user is None or self.rate_per_user > 0, "None or positive"),
                ("record_pool", self.record_pool,
                 self.record_pool is None or self.record_pool >= 0, "None or 0 or more"),
            )
            if not ok
        ]
        if problems:
            raise ValueError("CampaignSpec: " + "; ".join(problems))

    @property
    def run_time_s(self) -> int:
        """The duration as Locust's -t takes it (whole seconds)."""
        return max(1, math.ceil(self.duration_s))

    @property
    def stop_time_s(self) -> int:
        """The stop timeout as Locust's --stop-timeout takes it (whole seconds)."""
        return math.ceil(self.stop_timeout_s)

    def wire(self) -> str:
        """The JSON the Locust processes read from the environment (see locustfile.py)."""
        return json.dumps({
            "host": self.host, "method": self.invoke_method.upper(), "path": self.invoke_path,
            "token": self.token,  # Locust runs in out_dir: relative file sources need a root
            "scenario": {**self.scenario,
                         "root": str(Path(self.scenario.get("root", ".")).resolve())},
            "rate_per_user": self.rate_per_user, "request_timeout_s": self.request_timeout_s,
            "record_pool": self.record_pool, "out_dir": str(self.out_dir.resolve()),
        })


@dataclass(frozen=True)
class HistoryPoint:
    """One row of Locust's per-second history (the "Aggregated" row).

    `rps` and `failures_per_s` are the counts since the previous row divided by
    the time between rows; `p50_ms`/`p95_ms` are Locust's current percentiles
    (a sliding window of about 10 s), None before the first answer.
    """

    t: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class CampaignResult:
    """What a campaign measured, with the files it left in `out_dir` as evidence.

    `duration_s` is the span Locust measured, from the start of the test to its
    last request (requests / rps). `incomplete` means the campaign was cancelled,
    a Locust process died or it overran its time bound; `problem` says why, or
    why the campaign could not run at all (then `requests` is 0).
    """

    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    error_rate: float
    history: tuple[HistoryPoint, ...]
    failures_by_kind: Mapping[str, int]
    acknowledged: Path
    acknowledged_count: int
    duration_s: float
    incomplete: bool
    problem: str | None
    command: tuple[str, ...]
