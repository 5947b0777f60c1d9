"""What observers get: the configuration, the agent client and the upstream recording."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from readiness.alert_sink import AlertSink
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import FaultSchedule
from readiness.client import AgentClient, Reply, new_trace
from readiness.config import Config
from readiness.scenarios import records
from readiness.scenarios.canaries import Canary, make_canary, plant

T = TypeVar("T")


@dataclass
class RunContext:
    """Shared state of one run; observers read it, and memoise shared work with `once`."""

    config: Config
    out_dir: Path
    client: AgentClient
    recorder: Recorder
    upstream_env: dict[str, str] = field(default_factory=dict)
    previous: dict[str, Any] | None = None
    previous_path: Path | None = None
    today: dt.date = field(default_factory=dt.date.today)
    agent_log: Path | None = None
    notes: list[str] = field(default_factory=list)
    faults: FaultSchedule | None = None
    faults_unavailable: str | None = None
    alerts: AlertSink | None = None
    _memo: dict[str, Any] = field(default_factory=dict)
    _scenario: Any = None
    _canary: Any = None

    async def once(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """Compute a shared observation once per run (e.g. GET /version)."""
        if key not in self._memo:
            self._memo[key] = await compute()
        result: T = self._memo[key]
        return result

    def next_inputs(self, count: int = 1) -> list[dict[str, Any]]:
        """The next `count` scenario records."""
        if self._scenario is None:
            self._scenario = records(self.config.scenario, self.config.root)
        return list(itertools.islice(self._scenario, count))

    @property
    def canary(self) -> Canary:
        """This run's invented person, planted in inputs by `canary_input` (one per run)."""
        if self._canary is None:
            self._canary = make_canary(self.config.scenario.locale)
        canary: Canary = self._canary
        return canary

    def canary_input(self) -> dict[str, Any]:
        """The next scenario record with the run's canary personal data planted in it."""
        return plant(self.next_inputs(1)[0], self.canary, self.config.scenario.fields)

    async def invoke(self, payload: dict[str, Any] | None = None,
                     request_id: str | None = None) -> Reply:
        """POST one invocation with fresh correlation headers."""
        rid, traceparent = new_trace()
        rid = request_id or rid
        body = {"request_id": rid, "input": payload if payload is not None
                else self.next_inputs(1)[0]}
        return await self.client.call(
            self.config.agent.endpoints["invoke"], json_body=body,
            headers={"X-Request-ID": rid, "traceparent": traceparent})

    def field(self, name: str) -> str:
        """The agent's name for a contract field ([agent.fields] remaps them)."""
        return self.config.agent.fields.get(name, name)
