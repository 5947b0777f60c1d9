"""The harness's alert sink (item 4): a Slack-style webhook receiver and an SMTP server.

The harness runs both on its own event loop and hands their addresses to the agent
through the environment; every alert that arrives becomes an `Alert`, in arrival order.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html
import json
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.smtp import SMTP, Envelope, Session

from readiness.chaos.messages import Request, Response
from readiness.chaos.server import HttpServer

RAW_CAP = 64 * 1024  # bytes of each raw body or message kept as evidence
MAX_MESSAGE = 1024 * 1024  # a larger webhook body gets 413, a larger mail 552


@dataclass(frozen=True)
class Alert:
    """One alert as an operator would have received it."""

    seq: int  # 1, 2, ... in arrival order across channels
    channel: str  # "webhook" | "email"
    text: str  # what an operator reads; the decoded body when `problem` is set
    subject: str | None  # the mail's Subject ("" when missing); None for webhooks
    received_at: float  # time.time()
    raw: str  # the body or message as received, decoded with errors="replace", capped
    problem: str | None  # why the alert could not be read as sent; None when fine


class AlertSink:
    """Receive the agent's alerts: a webhook (any path, POST) and an SMTP server.

    ```python
    async with AlertSink() as sink:
        start_agent(env=sink.env())
        alerts = await sink.wait_for(lambda a: "CRM" in a.text, timeout=30)
    ```

    Both servers listen on free ports of `host` and run on the loop that called
    `start()`; every other method must be called on that loop too, so arrivals wake
    waiters without locks or polling. The webhook answers as Slack does: 200 `ok` for a
    message, 400 `invalid_payload` / `no_text` for a body Slack would reject (recorded
    anyway, with `problem` set), 405 for other methods.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._alerts: list[Alert] = []
        self._http = HttpServer(self._receive_webhook, host, max_body=MAX_MESSAGE)
        self._smtp: asyncio.Server | None = None
        self._smtp_port: int | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrival = asyncio.Event()
        self._last_arrival = 0.0  # loop.time() of the last arrival (or of start())

    async def start(self) -> None:
        """Bind both servers to free ports."""
        if self._loop is not None:
            raise RuntimeError("AlertSink.start() called twice")
        self._loop = asyncio.get_running_loop()
        self._last_arrival = self._loop.time()
        await self._http.start()
        self._smtp = await self._loop.create_server(self._new_smtp_session, self._host, 0)
        self._smtp_port = int(self._smtp.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop both servers and close every open connection."""
        await self._http.close()
        if self._smtp is None:
            return
        server, self._smtp = self._smtp, None
        server.close()
        sessions = list(self._sessions)
        for session in sessions:
            if session.transport is not None:
                session.transport.close()
        # closing the transport cancels the session's task: let it finish here
        tasks = [s._handler_coroutine for s in sessions if s._handler_coroutine is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def __aenter__(self) -> AlertSink:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def webhook_url(self) -> str:
        return f"{self._http.url}/alerts"

    @property
    def smtp_host(self) -> str:
        return self._host

    @property
    def smtp_port(self) -> int:
        if self._smtp_port is None:
            raise RuntimeError("AlertSink.smtp_port read before start()")
        return self._smtp_port

    def env(self, webhook_env: str = "ALERT_WEBHOOK_URL") -> dict[str, str]:
        """The environment variables that point an agent at this sink."""
        return {
            webhook_env: self.webhook_url,
            "ALERT_SMTP_HOST": self.smtp_host,
            "ALERT_SMTP_PORT": str(self.smtp_port),
        }

    def alerts(self, since_seq: int = 0) -> list[Alert]:
        """Alerts with `seq > since_seq`, in arrival order."""
        return self._alerts[max(since_seq, 0) :]

    @property
    def last_seq(self) -> int:
        """The seq of the latest alert (0 before any): pass it as `since_seq` later."""
        return len(self._alerts)

    async def wait_for(
        self, predicate: Callable[[Alert], bool], timeout: float, *,
        count: int = 1, since_seq: int = 0,
    ) -> list[Alert]:
        """Every alert after `since_seq` matching `predicate`, once `count` of them arrived.

        Raises `TimeoutError` naming how many matched when `timeout` seconds pass first.
        """
        matches: list[Alert] = []
        seen = max(since_seq, 0)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    fresh, seen = self._alerts[seen:], len(self._alerts)
                    matches += [alert for alert in fresh if predicate(alert)]
                    if len(matches) >= count:
                        return matches
                    await self._next_arrival()
        except TimeoutError:
            others = len(self._alerts) - max(since_seq, 0) - len(matches)
            noun = "alert" if others == 1 else "alerts"
            unmatched = f" ({others} other {noun} arrived that did not match)" if others else ""
            raise TimeoutError(
                f"{len(matches)} of {count} expected alerts arrived within {timeout:g} s"
                + unmatched
            ) from None

    async def quiet(self, for_s: float, timeout: float) -> None:
        """Return once no alert has arrived for `for_s` seconds, or after `timeout` seconds."""
        loop = self._own_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            wait = min(self._last_arrival + for_s, deadline) - now
            if wait <= 0:
                return
            try:
                async with asyncio.timeout(wait):
                    await self._next_arrival()
            except TimeoutError:
                pass

    async def _next_arrival(self) -> None:
        self._own_loop()
        await self._arrival.wait()

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        """The sink's loop; waiting from another loop would never wake."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            raise RuntimeError("AlertSink waited on before start()")
        if loop is not self._loop:
            raise RuntimeError("AlertSink used outside the event loop that started it")
        return loop

    def _record(
        self, channel: str, text: str, subject: str | None, raw: bytes, problem: str | None
    ) -> None:
        """Store one alert and wake every waiter."""
        raw_text = raw[:RAW_CAP].decode(errors="replace")
        seq, now = len(self._alerts) + 1, time.time()
        self._alerts.append(Alert(seq, channel, text.strip(), subject, now, raw_text, problem))
        assert self._loop is not None  # servers run only after start()
        self._last_arrival = self._loop.time()
        woken, self._arrival = self._arrival, asyncio.Event()
        woken.set()

    async def _receive_webhook(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, [("Allow", "POST"), _TEXT], b"method not allowed")
        content_type = request.header("content-type") or ""
        text, problem, reply = _read_webhook(request.body, content_type)
        self._record("webhook", text, None, request.body, problem)
        return Response(200 if problem is None else 400, [_TEXT], reply)

    def _receive_mail(self, data: bytes) -> None:
        text, subject, problem = _read_mail(data)
        self._record("email", text, subject, data, problem)

    def _new_smtp_session(self) -> SMTP:
        session = SMTP(
            _MailHandler(self._receive_mail),
            hostname="localhost",  # the default, socket.getfqdn(), may block on DNS
            enable_SMTPUTF8=True,
            data_size_limit=MAX_MESSAGE,
            loop=self._loop,  # without it aiosmtpd looks the loop up itself
        )
        self._sessions.add(session)
        return session


_TEXT = ("Content-Type", "text/plain; charset=utf-8")


class _MailHandler:
    """aiosmtpd handler: every accepted message becomes an alert."""

    def __init__(self, receive: Callable[[bytes], None]) -> None:
        self._receive = receive

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._receive(envelope.original_content or b"")
        return "250 OK"


def _read_webhook(body: bytes, content_type: str) -> tuple[str, str | None, bytes]:
    """What Slack would show for this body, why it would reject it (or None), and its reply."""
    fallback = body[:RAW_CAP].decode(errors="replace")
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        body = "".join(parse_qs(fallback).get("payload", [""])).encode()  # Slack's form post
    try:
        payload = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return fallback, "the body is not JSON", b"invalid_payload"
    if not isinstance(payload, dict):
        kind = type(payload).__name__
        return fallback, f"the body is JSON but not an object ({kind})", b"invalid_payload"
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        kind = type(text).__name__
        return fallback, f"'text' is a {kind}, not a string", b"invalid_payload"
    if not text:
        text = "\n".join(_block_texts([payload.get("blocks"), payload.get("attachments")]))
    if not text.strip():
        problem = "no 'text' field" if "text" not in payload else "'text' is empty"
        return fallback, problem, b"no_text"
    return text, None, b"ok"


def _block_texts(node: Any) -> list[str]:
    """Every "text" string inside Slack blocks or attachments, depth first."""
    if isinstance(node, list):
        return [text for item in node for text in _block_texts(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if isinstance(node.get("text"), str) else []
    return found + [text for value in node.values() for text in _block_texts(value)]


def _read_mail(data: bytes) -> tuple[str, str, str | None]:
    """A mail's readable body (plain text preferred, else HTML without tags), subject, problem."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # what policy.default builds
    subject = str(message.get("subject") or "").strip()
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", subject, "no text/plain or text/html body"
    try:
        content = str(part.get_content())
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode(errors="replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        content = _strip_tags(content)
    return content.strip(), subject, None if content.strip() else "the body is empty"


def _strip_tags(markup: str) -> str:
    """The visible text of an HTML mail, one line per block element."""
    text = html.unescape(_TAG.sub(" ", _LINE_BREAK.sub("\n", _HIDDEN.sub(" ", markup))))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_LINE_BREAK = re.compile(r"<(?:br|/?p|/?div|/?li|/?tr|/?h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
