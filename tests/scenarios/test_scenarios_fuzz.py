"""Fuzzing the invoke endpoint: judged answers, shrunk failing examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from readiness.client import Reply
from readiness.scenarios.fuzz import STRICT, fuzz_invoke, judge

RECORD = {"name": "Ada Lovelace", "email": "ada@corp.io", "company": "Analytical",
          "message": "We need twenty engines."}


def _reply(status: int | None, body: Any = None, error: str | None = None) -> Reply:
    raw = json.dumps(body).encode() if body is not None else b""
    return Reply("POST", "/invoke", status, raw, error=error)


def strict_agent(body: Any) -> Reply:
    """Validates like the production reference agent."""
    if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
        return _reply(422, {"error": "body must be an object with a request_id"})
    data = body.get("input")
    if not isinstance(data, dict) or set(data) != set(RECORD):
        return _reply(422, {"error": "input must have exactly name, email, company, message"})
    if any(not isinstance(v, str) or len(v) > 5000 for v in data.values()):
        return _reply(422, {"error": "fields must be strings of at most 5000 characters"})
    return _reply(200, {"decision_id": "d1", "status": "executed"})


def crashes_on_wrong_types(body: Any) -> Reply:
    """Trusts its input: a non-string field blows up into a 500."""
    data = body.get("input") if isinstance(body, dict) else None
    if isinstance(data, dict) and any(not isinstance(v, str) for v in data.values()):
        return _reply(500, {"error": "Traceback (most recent call last): AttributeError"})
    return strict_agent(body)


def test_a_strict_validator_passes_every_generated_case() -> None:
    result = fuzz_invoke(strict_agent, RECORD, max_examples=80)
    assert result.failures == () and result.error is None
    assert result.count == 80
    assert set(result.kinds) >= STRICT - {"missing_request_id", "empty_input"}


def test_a_crash_on_wrong_types_is_found_and_shrunk() -> None:
    result = fuzz_invoke(crashes_on_wrong_types, RECORD, max_examples=80)
    (failure,) = result.failures
    assert failure.problem is not None and failure.problem.startswith("wrong_type: ")
    assert failure.status == 500 and "HTTP 500" in failure.problem
    wrong = [k for k, v in failure.input["input"].items() if not isinstance(v, str)]
    assert len(wrong) == 1
    assert failure.input["input"][wrong[0]] in (0, False, None, [], {}, 0.0)  # shrunk


def test_fuzzing_is_reproducible() -> None:
    first = fuzz_invoke(crashes_on_wrong_types, RECORD, max_examples=40, seed=3)
    second = fuzz_invoke(crashes_on_wrong_types, RECORD, max_examples=40, seed=3)
    assert first == second


@pytest.mark.parametrize(("kind", "reply", "problem"), [
    ("wrong_type", _reply(422, {"error": "x"}), None),
    ("wrong_type", _reply(200, {"status": "executed"}), "accepted input that breaks"),
    ("wrong_type", _reply(400, {"detail": "x"}), "without a JSON"),
    ("wrong_type", _reply(None, error="timed out after 30s"), "no answer"),
    ("missing_field", _reply(422, {"error": "Traceback (most recent call last): x"}),
     "stack trace"),
    ("odd_unicode", _reply(200, {"status": "manual"}), None),
    ("odd_unicode", _reply(200, {"ok": True}), "without a defined decision status"),
    ("extra_field", _reply(503, {"error": "x"}), "HTTP 503"),
])
def test_judge(kind: str, reply: Reply, problem: str | None) -> None:
    found = judge(kind, reply)
    assert (found is None) if problem is None else (found is not None and problem in found)
