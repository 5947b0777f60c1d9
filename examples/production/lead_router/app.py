"""The HTTP surface: the readiness ops contract (DESIGN.md section 3) on Starlette.

`create_app(settings)` builds everything; tests pass their own `http` client (whose
transport reaches fake upstreams in-process) and a `clock` whose sleep does not sleep.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lead_router import __version__
from lead_router.alerts import AlertMonitor
from lead_router.components import Components, load_components
from lead_router.metrics import CONTENT_TYPE_LATEST, Metrics
from lead_router.service import Conflict, LeadRouter, NotFound, UpstreamUnavailable
from lead_router.settings import Settings, load_settings
from lead_router.store import Store, rfc3339
from lead_router.upstream import Clock, RetryPolicy, UpstreamClient
from lead_router.validation import (
    MAX_BODY_BYTES,
    InvalidRequest,
    approver,
    header_id,
    invoke_request,
    json_object,
    mode_request,
    traceparent,
)

log = logging.getLogger("lead_router.http")

Scope = Literal["invoke", "operator"]
Handler = Callable[[Request], Awaitable[Response]]
MAX_AUDIT_LIMIT = 1000


def error(status: int, message: str, **headers: str) -> JSONResponse:
    """Every error body has one shape: {"error": "..."}."""
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def guarded(handler: Handler) -> Handler:
    """Turn the service's exceptions into their statuses, and anything else into a plain 500."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except InvalidRequest as exc:
            return error(exc.status, str(exc))
        except NotFound as exc:
            return error(404, str(exc))
        except Conflict as exc:
            return error(409, str(exc))
        except UpstreamUnavailable as exc:
            return error(502, str(exc))
        except Exception as exc:
            # The type name only: an exception's message may quote request data.
            log.error("unhandled error", extra={"fields": {
                "path": request.url.path, "why": type(exc).__name__}})
            return error(500, "internal error; the request was not processed")

    return run


def requires(scope: Scope) -> Callable[[Handler], Handler]:
    """Bearer-token check: 401 without a valid token, 403 with the other scope's token."""

    def decorate(handler: Handler) -> Handler:
        inner = guarded(handler)

        async def checked(request: Request) -> Response:
            router: LeadRouter = request.app.state.router
            tokens = {
                "invoke": router.settings.invoke_token,
                "operator": router.settings.operator_token,
            }
            header = request.headers.get("authorization", "")
            kind, _, presented = header.partition(" ")
            if kind.lower() != "bearer" or not presented:
                return error(401, "missing bearer token", **{"WWW-Authenticate": "Bearer"})
            # Compare against both in constant time; which one matched decides the scope.
            matches = {
                name: hmac.compare_digest(presented.encode(), token.encode())
                for name, token in tokens.items()
            }
            if matches[scope]:
                return await inner(request)
            if any(matches.values()):
                return error(403, f"this token may not call {request.url.path}; "
                                  f"it needs the {scope} token")
            return error(401, "invalid bearer token", **{"WWW-Authenticate": "Bearer"})

        return checked

    return decorate


def correlation(request: Request, request_id: str | None = None) -> dict[str, str]:
    """Headers forwarded on every upstream call, so each call traces back to its invocation.

    The traceparent is forwarded unchanged: this agent does not emit spans, and an
    unchanged header lets the caller match its upstream calls exactly.
    """
    headers: dict[str, str] = {}
    rid = header_id(request.headers.get("x-request-id")) or request_id
    if rid:
        headers["X-Request-ID"] = rid
    headers["traceparent"] = traceparent(request.headers.get("traceparent")) or (
        f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    )
    return headers


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object body, read no further than the size limit."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", 413)
    return json_object(bytes(body))


# -- handlers ---------------------------------------------------------------------------


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def version(request: Request) -> Response:
    components: Components = request.app.state.router.components
    return JSONResponse({"version": __version__, "components": components.hashes})


async def metrics(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    return Response(router.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@requires("invoke")
async def invoke(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    call = invoke_request(await body_of(request))
    decision = await router.invoke(call, correlation(request, call.request_id))
    return JSONResponse(decision.answer())


@requires("operator")
async def audit_record(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    decision = router.store.get(request.path_params["decision_id"])
    if decision is None:
        return error(404, "no decision with that id")
    return JSONResponse(decision.record())


@requires("operator")
async def audit_list(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    since_raw = request.query_params.get("since")
    since = datetime.min.replace(tzinfo=UTC)
    if since_raw:
        try:
            since = datetime.fromisoformat(since_raw.replace(" ", "+"))
        except ValueError:
            raise InvalidRequest("since must be an RFC 3339 time, e.g. 2026-11-20T09:00:00Z",
                                 400) from None
        if since.tzinfo is None:
            raise InvalidRequest("since needs a time zone, e.g. 2026-11-20T09:00:00Z", 400)
    limit_raw = request.query_params.get("limit", "100")
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= MAX_AUDIT_LIMIT:
        raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_AUDIT_LIMIT}", 400)
    records = router.store.since(rfc3339(since), int(limit_raw))
    return JSONResponse({"records": [d.record() for d in records]})


@requires("operator")
async def control(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    if request.method == "PUT":
        router.set_mode(mode_request(await body_of(request)))
    return JSONResponse({"mode": router.mode})


@requires("operator")
async def review_list(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    pending = [
        {"decision_id": d.decision_id, "request_id": d.request_id, "timestamp": d.timestamp,
         "input": d.input, "action": d.action, "confidence": d.confidence,
         "reasoning": d.reasoning}
        for d in router.store.pending_review()
    ]
    return JSONResponse({"pending": pending})


@requires("operator")
async def review_approve(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    name = approver(await body_of(request))
    decision_id = request.path_params["decision_id"]
    decision = await router.approve(decision_id, name, correlation(request))
    return JSONResponse({"decision_id": decision.decision_id, "status": decision.status})


@requires("operator")
async def revert(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    decision = await router.revert(request.path_params["decision_id"], correlation(request))
    return JSONResponse({"decision_id": decision.decision_id, "status": "reverted"})


@requires("operator")
async def manual_queue(request: Request) -> Response:
    router: LeadRouter = request.app.state.router
    return JSONResponse({"queued": router.manual_queue()})


async def on_http(request: Request, exc: Exception) -> Response:
    """Routing errors (unknown path 404, wrong method 405) in the same JSON shape."""
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        return error(500, "internal error; the request was not processed")
    return error(exc.status_code, str(exc.detail), **dict(exc.headers or {}))


def create_app(
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    components: Components | None = None,
) -> Starlette:
    """Build the agent. `http`, `clock` and `rng` are injectable for tests."""
    clock = clock or Clock()
    http = http or httpx.AsyncClient(
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
    )
    components = components or load_components()
    metrics_ = Metrics()
    store = Store(settings.data_dir / "lead-router.sqlite3")
    alerts = AlertMonitor(
        components.escalation, metrics_, http=http, monotonic=clock.monotonic,
        webhook_url=settings.alert_webhook_url, smtp_host=settings.alert_smtp_host,
        smtp_port=settings.alert_smtp_port, email_to=settings.alert_email_to,
        email_from=settings.alert_email_from, after_failures=settings.alert_after_failures,
        after_s=settings.alert_after_s, timeout_s=settings.alert_timeout_s,
    )
    upstream = UpstreamClient(
        http, metrics_, clock=clock, rng=rng, on_failure=alerts.failure,
        policy=RetryPolicy(settings.max_attempts, settings.backoff_base_s, settings.backoff_cap_s),
    )
    router = LeadRouter(settings, components, store, upstream, alerts, metrics_, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        cutoff = clock.now() - timedelta(days=settings.retention_days)
        purged = store.purge(rfc3339(cutoff))
        log.info("started", extra={"fields": {
            "version": __version__, "mode": router.mode, "purged_decisions": purged}})
        yield
        await alerts.drain()
        await http.aclose()
        store.close()

    app = Starlette(
        routes=[
            Route("/health", guarded(health), methods=["GET"]),
            Route("/version", guarded(version), methods=["GET"]),
            Route("/metrics", guarded(metrics), methods=["GET"]),
            Route("/invoke", invoke, methods=["POST"]),
            Route("/audit", audit_list, methods=["GET"]),
            Route("/audit/{decision_id}", audit_record, methods=["GET"]),
            Route("/control", control, methods=["GET", "PUT"]),
            Route("/review", review_list, methods=["GET"]),
            Route("/review/{decision_id}/approve", review_approve, methods=["POST"]),
            Route("/decisions/{decision_id}/revert", revert, methods=["POST"]),
            Route("/manual", manual_queue, methods=["GET"]),
        ],
        exception_handlers={HTTPException: on_http},
        lifespan=lifespan,
    )
    app.state.router = router
    return app


_app_from_env: Starlette | None = None


def __getattr__(name: str) -> Starlette:
    """`lead_router.app:app` for in-process runners: built from the environment on first use.

    Lazy, because importing this module (tests, tools) must not require the tokens.
    """
    global _app_from_env
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app_from_env is None:
        _app_from_env = create_app(load_settings())
    return _app_from_env
