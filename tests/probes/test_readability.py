"""Readability of alerts: Flesch-Kincaid grade, machine text, first sentence."""

from __future__ import annotations

import json
import traceback

import httpx
import pytest

from readiness.probes._readability import first_sentence, grade_level, machine_text

PLAIN_ALERT = (
    "lead-router: leads are not being routed. The AI model service has failed every attempt "
    "for 12 seconds; it answers with server errors, likely an outage on its side. "
    "Call Priya Raman at priya.raman@example.com."
)


def python_traceback() -> str:
    try:
        json.loads("{")
    except ValueError:
        return traceback.format_exc()
    raise AssertionError("json.loads('{') parsed")


def httpx_error() -> str:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    try:
        httpx.Response(503, request=request).raise_for_status()
    except httpx.HTTPStatusError as exc:
        return str(exc)
    raise AssertionError("503 did not raise")


@pytest.mark.parametrize(
    "text",
    [
        PLAIN_ALERT,
        "Error: the CRM is down.",
        "Timeout: the CRM has not answered for 30 seconds. Error rates are rising.",
        "Recovered: leads are routed again since 10:42 UTC (2026-11-20 10:42:00).",
        "Leads are stuck at 10:30:15 today. Call +1 415 867 5309 or @priya.",
        "The CRM fails. See https://runbook.test/crm#ConnectTimeout for the steps.",
        "",
    ],
)
def test_plain_english_has_no_machine_text(text: str) -> None:
    assert machine_text(text) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (python_traceback(), "a stack trace: Traceback (most recent call last):"),
        ('Failed:\n  File "lead_router/app.py", line 12, in route', 'a stack trace: File "'),
        ("\tat com.acme.Crm.call(Crm.java:12)", "a stack trace: at com.acme.Crm.call(Crm.java:12)"),
        ("Failed\n    at route (/app/router.js:41:7)", "a stack trace: at route (/app/router.js"),
        (json.dumps({"error": "upstream", "status": 503}), 'a JSON dump: {"error": "upstream"'),
        ('[{"attempt": 1}]', 'a JSON dump: [{"attempt": 1}]'),
        ('Alert {"error": "upstream failed", "code": 503', 'a JSON or dict dump: Alert {"error"'),
        ("Upstream failed: {'status': 503}", "a JSON or dict dump: Upstream failed: {'status'"),
        ("The CRM raised HTTPStatusError.", "exception class names: HTTPStatusError"),
        ("ConnectTimeout, then ValueError", "exception class names: ConnectTimeout, ValueError"),
        ("java.net.SocketTimeoutException: Read timed out",
         "exception class names: java.net.SocketTimeoutException"),
        ("requests.exceptions.Timeout", "exception class names: requests.exceptions.Timeout"),
        ("A RuntimeException happened", "exception class names: RuntimeException"),
        ("See `HTTPStatusError` in the client", "exception class names: HTTPStatusError"),
        ("ERROR:root:upstream failed", "a log line: ERROR:root:upstream failed"),
        ("2026-11-20 10:00:00,123 ERROR upstream failed", "a log line: 2026-11-20 10:00:00,123"),
        ("2026-11-20 10:00:00,123 - lead_router - ERROR - failed", "a log line: 2026-11-20"),
        ("[ERROR] upstream failed", "a log line: [ERROR] upstream failed"),
        ('ts=2026-11-20 level=error msg="failed"', "a log line: ts=2026-11-20 level=error"),
        (httpx_error(), "an HTTP client error message: Server error '503 Service Unavailable'"),
        ("503 Server Error: Service Unavailable for url: http://crm.test/leads",
         "an HTTP client error message: 503 Server Error"),
    ],
)
def test_machine_text_is_named_with_an_excerpt(text: str, reason: str) -> None:
    reasons = machine_text(text)
    assert any(r.startswith(reason) for r in reasons), reasons
    assert all(len(r.split(": ", 1)[1]) <= 80 for r in reasons)


def test_a_traceback_names_both_the_trace_and_the_exception() -> None:
    kinds = [reason.split(":")[0] for reason in machine_text(python_traceback())]
    assert kinds == ["a stack trace", "exception class names"]


def test_long_lines_are_clipped_around_the_offence() -> None:
    text = "The router reports " + "a lot of context " * 10 + "then ValueError and more " * 4
    [reason] = machine_text(text)
    assert reason == "exception class names: ValueError"
    [reason] = machine_text("x " * 60 + "ERROR:root:boom " + "y " * 60)
    excerpt = reason.removeprefix("a log line: ")
    assert len(excerpt) == 80 and excerpt.startswith("…") and "ERROR:root:boom" in excerpt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 6 words, 1 sentence, 6 syllables: 0.39 * 6 + 11.8 * 1 - 15.59
        ("The cat sat on the mat.", 0.39 * 6 + 11.8 - 15.59),
        # 9 words, 2 sentences, 11 syllables (pyphen: sat-ur-day, two hyphenation points)
        ("The cat sat. It was Saturday on the mat!", 0.39 * 9 / 2 + 11.8 * 11 / 9 - 15.59),
    ],
)
def test_known_grades(text: str, expected: float) -> None:
    assert grade_level(text) == pytest.approx(expected)


def test_polysyllabic_prose_grades_higher() -> None:
    simple = grade_level("The cat sat on the mat.")
    dense = grade_level(
        "Notwithstanding considerable organizational complexity, the infrastructure's "
        "authentication subsystem unexpectedly deteriorated during reconfiguration."
    )
    assert simple is not None and dense is not None and dense > simple + 10


def test_plain_alert_reads_at_most_at_grade_12() -> None:
    grade = grade_level(PLAIN_ALERT)
    assert grade is not None and grade <= 12


@pytest.mark.parametrize(
    "text",
    ["", "   ", "https://status.test/crm priya@example.com @priya +1 415 867 5309", "`x` 503"],
)
def test_no_words_no_grade(text: str) -> None:
    assert grade_level(text) is None


def test_addresses_and_code_are_not_prose() -> None:
    assert grade_level("Call Priya at priya.raman@example.com.") == grade_level("Call Priya at.")
    assert grade_level("See `ReconfigurationAuthenticator` now.") == grade_level("See now.")
    assert grade_level("Open https://status.example.com/incidents/crm now.") == grade_level(
        "Open now."
    )


def test_each_line_reads_as_a_sentence() -> None:
    assert grade_level("CRM down\nCall Priya") == grade_level("CRM down. Call Priya.")


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (PLAIN_ALERT, "lead-router: leads are not being routed."),
        ("CRM down\nThe CRM has failed every call. Call Priya.", "CRM down"),
        ("Down. Call Priya\nnow", "Down."),
        ("  Is the CRM down?! Yes.", "Is the CRM down?!"),
        ("No full stop at all", "No full stop at all"),
        ("Version 1.2 failed. Roll back.", "Version 1.2 failed."),
        ("", ""),
    ],
)
def test_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first
