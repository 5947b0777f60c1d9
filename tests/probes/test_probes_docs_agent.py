"""Item 8 against a real in-process agent: check_route and the docs observer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from probes_support import in_context, write_tree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from readiness.config import Config, load_config
from readiness.context import RunContext
from readiness.probes import docs
from readiness.results import Outcome

T = TypeVar("T")
TOKEN = "op-token"
MODES = ("active", "review_only", "disabled")
CONFIG = f"""
[agent]
name = "t"
app = "x:y"
[auth]
operator_token = "{TOKEN}"
[docs]
runbook = "runbook.md"
"""


def operator_only(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
    """Answer 401 JSON unless the operator token is sent."""

    async def guarded(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "operator token required"}, 401)
        return await handler(request)

    return guarded


@operator_only
async def control(request: Request) -> Response:
    if request.method == "GET":
        return JSONResponse({"mode": "active"})
    body = await request.json()
    if not isinstance(body, dict) or body.get("mode") not in MODES:
        return JSONResponse({"error": f"mode must be one of {', '.join(MODES)}"}, 400)
    return JSONResponse({"mode": body["mode"]})


@operator_only
async def revert(request: Request) -> Response:
    return JSONResponse({"error": f"unknown decision {request.path_params['decision_id']}"}, 404)


def agent(**options: Any) -> Starlette:
    """A tiny operator API: GET/PUT /control and POST /decisions/{id}/revert."""
    return Starlette(routes=[Route("/control", control, methods=["GET", "PUT"]),
                             Route("/decisions/{decision_id}/revert", revert, methods=["POST"])],
                     **options)


async def echo_not_found(request: Request, exc: Exception) -> Response:
    """Express-style 404 that names the request, so every missing route answers differently."""
    return PlainTextResponse(f"Cannot {request.method} {request.url.path}", 404)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    write_tree(tmp_path, {"readiness.toml": CONFIG})
    return load_config(tmp_path / "readiness.toml")


def with_agent(config: Config, transport: httpx.AsyncBaseTransport,
               body: Callable[[RunContext], Awaitable[T]], down: str | None = None) -> T:
    """Run `body` against the agent behind `transport`; check_route reads the token from config."""
    return in_context(config, body, transport=transport, down=down)


def check(config: Config, route: str, app: Starlette | None = None) -> docs.RouteCheck:
    """check_route for "METHOD /path" against `app` (the tiny agent by default)."""
    method, path = route.split()
    transport = httpx.ASGITransport(app or agent())
    return with_agent(config, transport, lambda ctx: docs.check_route(ctx, method, path))


@pytest.mark.parametrize(("route", "exists"), [
    ("PUT /control", True),
    ("GET /control", True),
    ("POST /decisions/{decision_id}/revert", True),
    ("POST /decisions/<id>/revert", True),
    ("POST /decisions/:id/revert", True),
    ("POST /decisions/$ID/revert", True),
    ("POST /pause", False),
    ("DELETE /control", False),
    ("GET /decisions/{decision_id}/revert", False),
])
def test_check_route(config: Config, route: str, exists: bool) -> None:
    result = check(config, route)
    assert (result.route, result.exists) == (route, exists)
    assert set(result.evidence) == {"request", "nonexistent_route"}
    assert result.evidence["nonexistent_route"]["status"] == 404


def test_check_route_fills_parameters_and_sends_the_operator_token(config: Config) -> None:
    result = check(config, "POST /decisions/{decision_id}/revert")
    request = result.evidence["request"]
    assert request["status"] == 404
    assert request["request"].startswith("POST /decisions/readiness-probe-")
    assert "unknown decision readiness-probe-" in request["body"]


def test_check_route_sends_an_empty_json_body(config: Config) -> None:
    result = check(config, "PUT /control")
    assert result.evidence["request"]["status"] == 400
    assert "mode must be one of" in result.evidence["request"]["body"]


def test_check_route_when_the_agent_does_not_answer(config: Config) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = with_agent(config, httpx.MockTransport(refuse),
                        lambda ctx: docs.check_route(ctx, "PUT", "/control"))
    assert (result.route, result.exists) == ("PUT /control", None)
    assert "ConnectError" in result.evidence["request"]["error"]


def test_absent_route_on_an_agent_whose_404_names_the_path(config: Config) -> None:
    app = agent(exception_handlers={404: echo_not_found})
    assert check(config, "POST /pause", app).exists is False


def test_routes_still_found_on_an_agent_whose_404_names_the_path(config: Config) -> None:
    app = agent(exception_handlers={404: echo_not_found})
    assert check(config, "PUT /control", app).exists is True


# --- the observer and the probe it feeds ---------------------------------------------------


def observe(config: Config, runbook: str, down: str | None = None) -> docs.DocsObservations:
    """Write the runbook beside the config and run the docs observer against the tiny agent."""
    (config.root / "runbook.md").write_text(runbook, encoding="utf-8")
    return with_agent(config, httpx.ASGITransport(agent()), docs.observe, down)


def test_runbook_naming_real_routes_passes(config: Config) -> None:
    runbook = ("# Stop\nPUT /control with disabled.\n# Revert\n"
               "curl -X POST -H 'Authorization: Bearer $TOKEN' "
               "http://agent.local/decisions/<id>/revert\n")
    observations = observe(config, runbook)
    assert [r.route for r in observations.routes] == [
        "PUT /control", "POST /decisions/<id>/revert"]
    assert docs.runbook_actions_exist(observations).outcome is Outcome.PASS


def test_runbook_naming_an_absent_route_fails(config: Config) -> None:
    observations = observe(config, "# Stop\nPOST /pause stops it. PUT /control also works.\n")
    finding = docs.runbook_actions_exist(observations)
    assert finding.outcome is Outcome.FAIL
    assert finding.message.endswith("do not exist on the agent: POST /pause")
    assert set(finding.evidence["routes"]) == {"POST /pause", "PUT /control"}


def test_observer_reads_every_declared_document(config: Config) -> None:
    observations = observe(config, "# Runbook\nSee [faq](faq.md).\n")
    assert observations.documents["runbook"].text == "# Runbook\nSee [faq](faq.md).\n"
    assert observations.documents["faq"].problem == "[docs] faq is not declared"
    assert dict(observations.broken_links) == {"runbook": ["faq.md"]}
    assert observations.routes == ()


def test_observer_does_not_call_a_down_agent(config: Config) -> None:
    observations = observe(config, "PUT /control\n", down="exited with code 3")
    assert (observations.routes, observations.agent_down) == ((), "exited with code 3")
    finding = docs.runbook_actions_exist(observations)
    assert (finding.outcome, finding.message) == (
        Outcome.ERROR, "the agent is down: exited with code 3")
