"""Fixtures for the reference agents: the agent in-process, its upstreams faked in-process.

Nothing here opens a socket or really sleeps: the agent's outbound client routes by host
to a scripted LLM, the real example CRM (as an ASGI app) and a recording alert webhook,
and the agent's clock advances when the agent "sleeps".
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
for _path in (EXAMPLES / "production", EXAMPLES / "demo", EXAMPLES / "crm"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from crm_api import CrmStore  # noqa: E402  (needs the sys.path entries above)
from crm_api import create_app as create_crm  # noqa: E402
from lead_router.app import create_app  # noqa: E402
from lead_router.settings import Settings  # noqa: E402
from lead_router.upstream import Clock  # noqa: E402

INVOKE_TOKEN = "test-invoke-token"
OPERATOR_TOKEN = "test-operator-token"
LEAD = {
    "name": "Ada Quill",
    "email": "ada.quill@northwind-freight.example",
    "company": "Northwind Freight",
    "message": "We run 400 trucks in Germany and want a demo of route planning.",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock(Clock):
    """Monotonic time that only moves when the agent sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        super().__init__(monotonic=lambda: self.t, now=self._now, sleep=self._sleep)

    def _now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def tool_call(
    rep_id: str = "rep-emea-midmarket",
    confidence: float = 0.82,
    reason: str = "German company with 400 trucks: EMEA mid-market.",
    *,
    name: str = "assign_lead",
    arguments: str | None = None,
) -> httpx.Response:
    """A chat-completions answer calling one tool."""
    args = arguments if arguments is not None else json.dumps(
        {"rep_id": rep_id, "confidence": confidence, "reason": reason}
    )
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "model": "sim",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": name, "arguments": args}}]}}],
    })


Script = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class Upstreams:
    """Scripted answers per host; an empty script means the normal answer."""

    crm_app: Any
    llm_script: list[httpx.Response | Script] = field(default_factory=list)
    crm_script: list[httpx.Response | Script] = field(default_factory=list)
    llm_requests: list[httpx.Request] = field(default_factory=list)
    crm_requests: list[httpx.Request] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    alert_status: int = 200

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if request.url.host == "llm.test":
            self.llm_requests.append(request)
            return await self._scripted(self.llm_script, request) or tool_call()
        if request.url.host == "crm.test":
            self.crm_requests.append(request)
            scripted = await self._scripted(self.crm_script, request)
            if scripted is not None:
                return scripted
            crm = httpx.ASGITransport(app=self.crm_app)
            return await crm.handle_async_request(request)
        if request.url.host == "alerts.test":
            self.alerts.append(json.loads(request.content)["text"])
            return httpx.Response(self.alert_status)
        raise AssertionError(f"unexpected upstream {request.url}")

    @staticmethod
    async def _scripted(
        script: list[httpx.Response | Script], request: httpx.Request
    ) -> httpx.Response | None:
        if not script:
            return None
        step = script.pop(0)
        return step if isinstance(step, httpx.Response) else await step(request)

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every CRM write that reached the fake network."""
        return [(r.method, r.url.path) for r in self.crm_requests if r.method != "GET"]


@dataclass
class Rig:
    """One agent under test with its upstreams and clock."""

    app: Any
    client: httpx.AsyncClient
    upstreams: Upstreams
    crm: CrmStore
    clock: FakeClock
    settings: Settings

    @property
    def router(self) -> Any:
        return self.app.state.router

    async def invoke(
        self, request_id: str = "req-1", lead: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            "/invoke", json={"request_id": request_id, "input": lead or LEAD},
            headers={"Authorization": f"Bearer {INVOKE_TOKEN}", **(headers or {})},
        )

    async def op(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        )


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "invoke_token": INVOKE_TOKEN,
        "operator_token": OPERATOR_TOKEN,
        "llm_base_url": "http://llm.test/v1",
        "crm_base_url": "http://crm.test",
        "data_dir": data_dir,
        "alert_webhook_url": "http://alerts.test/hook",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """Build a rig; keyword arguments override Settings fields."""
    built: list[Rig] = []

    def build(**overrides: Any) -> Rig:
        store = CrmStore()
        upstreams = Upstreams(crm_app=create_crm(store))
        clock = FakeClock()
        outbound = httpx.AsyncClient(transport=httpx.MockTransport(upstreams.handle))
        settings = make_settings(tmp_path / "data", **overrides)
        app = create_app(settings, http=outbound, clock=clock, rng=Random(7))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent")
        rig = Rig(app, client, upstreams, store, clock, settings)
        built.append(rig)
        return rig

    yield build
    for rig in built:
        rig.router.store.close()


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()
