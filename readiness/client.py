"""The harness's client to the agent: every call bounded in time and size, never raising."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from readiness.contract import Endpoint

MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class Reply:
    """What the agent answered, or why it did not: probes judge this, it never raises."""

    method: str
    path: str
    status: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def summary(self, limit: int = 300) -> dict[str, Any]:
        """A compact, JSON-able description for evidence."""
        text = self.text
        return {"request": f"{self.method} {self.path}", "status": self.status,
                "error": self.error, "elapsed_s": round(self.elapsed_s, 3),
                "body": text if len(text) <= limit else text[:limit] + "…"}


def new_trace() -> tuple[str, str]:
    """A fresh X-Request-ID and W3C traceparent for one invocation."""
    trace_id = secrets.token_hex(16)
    return uuid.uuid4().hex, f"00-{trace_id}-{secrets.token_hex(8)}-01"


class AgentClient:
    """Calls the agent's ops endpoints over HTTP or in-process ASGI, bounded and safe."""

    def __init__(self, base_url: str, *, tokens: Mapping[str, str | None],
                 deadline_s: float, transport: httpx.AsyncBaseTransport | None = None,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = dict(tokens)
        self.deadline_s = deadline_s
        self.max_body = max_body
        self.down_reason: str | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url, transport=transport, trust_env=False,
            timeout=httpx.Timeout(deadline_s, connect=5.0), follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, endpoint: Endpoint, *, token: str | None = "scope",
                   json_body: Any = None, params: Mapping[str, str] | None = None,
                   headers: Mapping[str, str] | None = None, timeout_s: float | None = None,
                   **path_params: str) -> Reply:
        """Call `endpoint`; token="scope" sends the endpoint's scoped token, None sends none."""
        path = endpoint.render(**path_params)
        sent = dict(headers or {})
        bearer = self.tokens.get(endpoint.scope) if token == "scope" else token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        return await self.request(endpoint.method, path, json_body=json_body, params=params,
                                  headers=sent, timeout_s=timeout_s)

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      params: Mapping[str, str] | None = None,
                      headers: Mapping[str, str] | None = None,
                      timeout_s: float | None = None, raw_body: bytes | None = None) -> Reply:
        """One bounded exchange; transport errors, timeouts and oversize bodies -> Reply.error."""
        if self.down_reason:
            return Reply(method, path, None, error=f"agent is down: {self.down_reason}")
        limit = timeout_s if timeout_s is not None else self.deadline_s
        started = time.monotonic()
        request_id = (headers or {}).get("X-Request-ID")
        sent = dict(headers or {})
        content = raw_body  # bytes exactly as given (malformed bodies on purpose)
        if json_body is not None:
            # ASCII-escaped JSON: odd inputs (lone surrogates) stay valid JSON on the wire
            content = json.dumps(json_body, ensure_ascii=True).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            request = self._http.build_request(method, path, content=content, params=params,
                                               headers=sent,
                                               timeout=httpx.Timeout(limit, connect=min(5, limit)))
            # asyncio.timeout bounds slow-drip bodies that per-read timeouts miss
            async with asyncio.timeout(limit + 1.0):
                response = await self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    # a transport may hand back a body it already read (mock transports)
                    chunks = (_already(response) if response.is_stream_consumed
                              else response.aiter_raw())
                    async for chunk in chunks:
                        body += chunk
                        if len(body) > self.max_body:
                            return Reply(method, path, response.status_code, bytes(body[:4096]),
                                         dict(response.headers),
                                         f"response body exceeded {self.max_body} bytes",
                                         time.monotonic() - started, request_id)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Reply(method, path, None, error=f"no complete answer within {limit:g}s",
                         elapsed_s=time.monotonic() - started, request_id=request_id)
        except httpx.TimeoutException:
            return Reply(method, path, None, error=f"timed out after {limit:g}s",
                         elapsed_s=time.monotonic() - started, request_id=request_id)
        except httpx.HTTPError as exc:
            return Reply(method, path, None, error=f"{type(exc).__name__}: {exc}"[:300],
                         elapsed_s=time.monotonic() - started, request_id=request_id)
        except Exception as exc:  # an in-process ASGI agent may raise anything
            return Reply(method, path, None, error=f"the agent raised {type(exc).__name__}: "
                         f"{exc}"[:300], elapsed_s=time.monotonic() - started,
                         request_id=request_id)
        return Reply(method, path, response.status_code, bytes(body), dict(response.headers),
                     None, time.monotonic() - started, request_id)


async def _already(response: httpx.Response) -> AsyncIterator[bytes]:
    """A response body that was read before we got it, as one chunk."""
    yield response.content
