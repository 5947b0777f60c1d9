"""AlertSink: Slack-style webhooks and SMTP mail become Alerts, on asyncio and uvloop."""

from __future__ import annotations

import asyncio
import json
import smtplib
import socket
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import uvloop

from readiness.alert_sink import RAW_CAP, Alert, AlertSink

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
Run = Callable[[Callable[[AlertSink], Awaitable[None]]], None]


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Run:
    """Run a test body with a started sink, on the parametrized event loop, with a deadline."""

    def runner(body: Callable[[AlertSink], Awaitable[None]]) -> None:
        async def main() -> None:
            async with AlertSink() as sink:
                await body(sink)

        with asyncio.Runner(loop_factory=LOOPS[request.param]) as loop_runner:
            loop_runner.run(asyncio.wait_for(main(), 30))

    return runner


async def post(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(url, **kwargs)


def send_mail(sink: AlertSink, message: EmailMessage) -> Awaitable[None]:
    """Send `message` through the sink's SMTP server from a worker thread."""

    def send() -> None:
        with smtplib.SMTP(sink.smtp_host, sink.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)

    return asyncio.to_thread(send)


def mail(subject: str, body: str, html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "lead-router@agent.test"
    message["To"] = "oncall@ops.test"
    message["Subject"] = subject
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def test_env_points_at_both_servers(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        env = sink.env("OPS_HOOK")
        assert env == {
            "OPS_HOOK": sink.webhook_url,
            "ALERT_SMTP_HOST": "127.0.0.1",
            "ALERT_SMTP_PORT": str(sink.smtp_port),
        }
        assert sink.webhook_url.startswith("http://127.0.0.1:")
        assert sink.env()["ALERT_WEBHOOK_URL"] == sink.webhook_url

    run(body)


def test_slack_json_becomes_an_alert(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        response = await post(sink.webhook_url, json={"text": "  The CRM is down.  "})
        assert (response.status_code, response.text) == (200, "ok")
        assert response.headers["content-type"].startswith("text/plain")
        [alert] = sink.alerts()
        assert (alert.seq, alert.channel, alert.text) == (1, "webhook", "The CRM is down.")
        assert alert.subject is None and alert.problem is None
        assert json.loads(alert.raw) == {"text": "  The CRM is down.  "}
        assert sink.last_seq == 1

    run(body)


def test_any_path_is_accepted_and_get_is_refused(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        base = sink.webhook_url.removesuffix("/alerts")
        assert (await post(f"{base}/services/T0/B0/x", json={"text": "a"})).status_code == 200
        async with httpx.AsyncClient() as client:
            refused = await client.get(sink.webhook_url)
        assert refused.status_code == 405
        assert [a.text for a in sink.alerts()] == ["a"]

    run(body)


def test_non_json_body_is_recorded_with_a_problem(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        response = await post(sink.webhook_url, content=b"CRM down!")
        assert (response.status_code, response.text) == (400, "invalid_payload")
        [alert] = sink.alerts()
        assert alert.problem == "the body is not JSON"
        assert alert.text == alert.raw == "CRM down!"

    run(body)


@pytest.mark.parametrize(
    ("payload", "problem", "reply"),
    [
        ({"message": "CRM down"}, "no 'text' field", "no_text"),
        ({"text": ""}, "'text' is empty", "no_text"),
        ({"text": 3}, "'text' is a int, not a string", "invalid_payload"),
        (["CRM down"], "the body is JSON but not an object (list)", "invalid_payload"),
    ],
)
def test_payloads_slack_rejects(run: Run, payload: object, problem: str, reply: str) -> None:
    async def body(sink: AlertSink) -> None:
        response = await post(sink.webhook_url, json=payload)
        assert (response.status_code, response.text) == (400, reply)
        [alert] = sink.alerts()
        assert alert.problem == problem
        assert json.loads(alert.text) == payload  # the body, so evidence shows what was sent

    run(body)


def test_blocks_only_payload_joins_block_texts(run: Run) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Lead routing stopped"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "The AI model fails."},
         "fields": [{"type": "mrkdwn", "text": "Call Priya Raman"}]},
        {"type": "divider"},
    ]

    async def body(sink: AlertSink) -> None:
        assert (await post(sink.webhook_url, json={"blocks": blocks})).status_code == 200
        [alert] = sink.alerts()
        assert alert.problem is None
        assert alert.text == "Lead routing stopped\nThe AI model fails.\nCall Priya Raman"

    run(body)


def test_slack_form_encoded_payload(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        form = {"payload": json.dumps({"text": "CRM down"})}
        assert (await post(sink.webhook_url, data=form)).status_code == 200
        assert [a.text for a in sink.alerts()] == ["CRM down"]

    run(body)


def test_raw_is_capped(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await post(sink.webhook_url, json={"text": "x" * (2 * RAW_CAP)})
        [alert] = sink.alerts()
        assert len(alert.raw) == RAW_CAP and len(alert.text) == 2 * RAW_CAP

    run(body)


def test_plain_mail_arrives_with_subject_and_body(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await send_mail(sink, mail("lead-router: leads not routed", "The CRM is down.\n"))
        [alert] = await sink.wait_for(lambda a: a.channel == "email", timeout=10)
        assert (alert.subject, alert.text, alert.problem) == (
            "lead-router: leads not routed", "The CRM is down.", None)
        assert "Subject: lead-router: leads not routed" in alert.raw

    run(body)


def test_multipart_mail_prefers_plain_text(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await send_mail(sink, mail("Outage", "Plain: CRM down.", "<p>HTML: <b>CRM</b> down</p>"))
        [alert] = await sink.wait_for(lambda a: True, timeout=10)
        assert alert.text == "Plain: CRM down."

    run(body)


def test_html_only_mail_is_stripped_of_tags(run: Run) -> None:
    message = mail("Outage – CRM", "")
    message.set_content(
        "<html><head><style>p {color: red}</style></head><body><h1>CRM down</h1>"
        "<p>Call Priya &amp; Sam.<br>Runbook: step 3</p></body></html>",
        subtype="html",
    )

    async def body(sink: AlertSink) -> None:
        await send_mail(sink, message)
        [alert] = await sink.wait_for(lambda a: True, timeout=10)
        assert alert.subject == "Outage – CRM"
        assert alert.text == "CRM down\nCall Priya & Sam.\nRunbook: step 3"

    run(body)


def test_seq_spans_both_channels_and_since_seq_is_exclusive(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await post(sink.webhook_url, json={"text": "first"})
        await send_mail(sink, mail("second", "second"))
        await post(sink.webhook_url, json={"text": "third"})
        await sink.wait_for(lambda a: True, timeout=10, count=3)
        assert [(a.seq, a.channel) for a in sink.alerts()] == [
            (1, "webhook"), (2, "email"), (3, "webhook")]
        assert [a.text for a in sink.alerts(since_seq=1)] == ["second", "third"]

    run(body)


def test_wait_for_wakes_on_arrival(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await post(sink.webhook_url, json={"text": "before"})
        since = sink.last_seq
        waiter = asyncio.create_task(
            sink.wait_for(lambda a: "CRM" in a.text, timeout=10, count=2, since_seq=since))
        for text in ("unrelated", "CRM down", "CRM still down"):
            await post(sink.webhook_url, json={"text": text})
        matches = await waiter
        assert [a.text for a in matches] == ["CRM down", "CRM still down"]

    run(body)


def test_wait_for_times_out_with_a_clear_message(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        with pytest.raises(TimeoutError, match=r"^0 of 1 expected alerts arrived within 0.05 s$"):
            await sink.wait_for(lambda a: True, timeout=0.05)
        await post(sink.webhook_url, json={"text": "noise"})
        with pytest.raises(TimeoutError) as raised:
            await sink.wait_for(lambda a: "CRM" in a.text, timeout=0.05, count=2)
        assert str(raised.value) == (
            "0 of 2 expected alerts arrived within 0.05 s"
            " (1 other alert arrived that did not match)"
        )

    run(body)


def test_quiet_returns_when_nothing_arrives(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        await post(sink.webhook_url, json={"text": "straggler"})
        loop = asyncio.get_running_loop()
        started = loop.time()
        await sink.quiet(for_s=0.05, timeout=5)
        assert loop.time() - started < 5
        await sink.quiet(for_s=10, timeout=0.05)  # bounded by timeout

    run(body)


def test_quiet_waits_out_an_alert_arriving_meanwhile(run: Run) -> None:
    async def body(sink: AlertSink) -> None:
        quieting = asyncio.create_task(sink.quiet(for_s=0.2, timeout=10))
        await post(sink.webhook_url, json={"text": "late straggler"})
        await quieting
        [straggler] = sink.alerts()
        assert time.time() - straggler.received_at >= 0.2 - 0.01  # timer granularity

    run(body)


def test_close_frees_the_ports() -> None:
    async def main() -> tuple[int | None, int]:
        sink = AlertSink()
        await sink.start()
        # an idle SMTP client and a kept-alive webhook client must not keep the sink open
        smtp = await asyncio.open_connection(sink.smtp_host, sink.smtp_port)
        await smtp[0].readline()  # the 220 greeting
        async with httpx.AsyncClient() as client:
            await client.post(sink.webhook_url, json={"text": "x"})
            ports = (httpx.URL(sink.webhook_url).port, sink.smtp_port)
            await sink.close()
        assert await smtp[0].read() == b""  # the server hung up
        smtp[1].close()
        await sink.close()  # idempotent
        return ports

    for port in asyncio.run(asyncio.wait_for(main(), 30)):
        with socket.socket() as sock:  # a new server could listen there (as asyncio's would)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()


def test_alert_is_frozen() -> None:
    alert = Alert(1, "webhook", "x", None, 0.0, "x", None)
    with pytest.raises(AttributeError):
        alert.text = "y"  # type: ignore[misc]
