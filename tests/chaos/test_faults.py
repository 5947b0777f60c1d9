"""The fault catalogue: Fault validation and the pure outcome of every fault (no sockets)."""

from __future__ import annotations

import json
import random
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from readiness.chaos import faults
from readiness.chaos._sse import assemble, parse_events
from readiness.chaos.catalogue import DESCRIPTIONS, FAULT_NAMES, PARAMS
from readiness.chaos.faults import (
    Delay,
    Fault,
    Hang,
    HugeBody,
    Outcome,
    Refuse,
    Reset,
    Slow,
    outcome,
)
from readiness.chaos.messages import Request, Response

JSON = [("Content-Type", "application/json")]
REAL = Response(
    200, [*JSON, ("Content-Length", "52")], b'{"id": 7, "name": "Ada", "tags": ["a", "b"], "n": 1}'
)
CHAT = Request("POST", "/v1/chat/completions", [], b'{"model": "m", "messages": []}')
CRM = Request("GET", "/leads/7")


def apply(
    name: str, response: Response | None = REAL, request: Request = CRM, /, **params: Any
) -> Outcome:
    fault = Fault(name, params)
    return outcome(
        fault, request, response if fault.forwards else None, rng=random.Random(1), now=1e9
    )


def body_of(result: Outcome) -> Any:
    assert isinstance(result, Response)
    return json.loads(result.body)


# --- the catalogue ----------------------------------------------------------------------


def test_catalogue_names_are_the_fixed_ones_and_each_has_params_and_a_description() -> None:
    assert FAULT_NAMES == (
        "rate_limit", "server_error", "client_error", "timeout", "latency", "reset", "refused",
        "slow_body", "huge_body", "truncated_json", "invalid_json", "html_error_page", "empty_body",
        "wrong_content_type", "missing_field", "wrong_type", "null_field", "schema_drift",
        "invalid_utf8", "llm_no_tool_call", "llm_bad_tool_args", "llm_unknown_tool",
        "llm_truncated", "llm_refusal", "prompt_injection",
    )  # fmt: skip
    assert set(PARAMS) == set(DESCRIPTIONS) == set(FAULT_NAMES)


def test_fault_fills_defaults_and_is_read_only_and_comparable() -> None:
    fault = Fault("rate_limit")
    assert dict(fault.params) == {
        "retry_after": 1, "retry_after_date": False, "retry_after_ms": None, "style": "auto",
    }  # fmt: skip
    assert fault == Fault("rate_limit", {"retry_after": 1}) and hash(fault) == hash(
        Fault("rate_limit")
    )
    with pytest.raises(TypeError):
        fault.params["retry_after"] = 3  # type: ignore[index]
    assert Fault("latency", {"ms": 5}).params["ms"] == 5.0  # an int is a fine float


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rate_limt", {},
         "unknown fault 'rate_limt' (did you mean 'rate_limit'?); valid faults: rate_limit, "),
        ("rate_limit", {"retry": 2},
         "unknown parameter 'retry' for fault rate_limit (did you mean 'retry_after'?); "
         "valid parameters: retry_after, retry_after_date, retry_after_ms, style"),
        ("refused", {"x": 1}, "unknown parameter 'x' for fault refused; it takes no parameters"),
        ("rate_limit", {"retry_after": "2"},
         "fault rate_limit: retry_after must be a whole number >= 0 (or none), got '2'"),
        ("rate_limit", {"retry_after": True}, "retry_after must be a whole number >= 0"),
        ("rate_limit", {"retry_after": -1}, "retry_after must be a whole number >= 0"),
        ("server_error", {"status": 501},
         "fault server_error: status must be one of 500, 502, 503, 504, got 501"),
        ("truncated_json", {"keep": 1.5}, "keep must be a number from 0 to 1, got 1.5"),
        ("latency", {"ms": float("inf")}, "ms must be a number >= 0, got inf"),
        ("rate_limit", {"style": "xml"}, "style must be one of auto, openai, plain, got 'xml'"),
        ("missing_field", {"field": "a..b"}, "fault missing_field: invalid field path 'a..b'"),
    ],
)  # fmt: skip
def test_invalid_faults_say_what_to_fix_in_one_line(
    name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        Fault(name, params)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_str_is_the_spec_with_only_non_default_params() -> None:
    assert str(Fault("rate_limit")) == "rate_limit"
    assert (
        str(Fault("rate_limit", {"retry_after": 5, "retry_after_ms": None}))
        == "rate_limit:retry_after=5"
    )
    assert str(Fault("wrong_content_type", {"content_type": "text/html, x"})) == (
        "wrong_content_type:content_type=text/html%2C%20x"
    )
    assert str(Fault("rate_limit", {"retry_after": None, "retry_after_date": True})) == (
        "rate_limit:retry_after=none,retry_after_date=true"
    )


def test_which_faults_forward_first() -> None:
    alone = {"rate_limit", "server_error", "client_error", "latency", "refused", "timeout"}
    for name in FAULT_NAMES:
        assert Fault(name).forwards is (name not in alone), name
    assert Fault("reset", {"when": "before"}).forwards is False
    assert Fault("timeout", {"forward": True}).forwards is True


# --- transport outcomes -----------------------------------------------------------------


def test_rate_limit_seconds_date_ms_and_body_shapes() -> None:
    plain = apply("rate_limit", retry_after=3, retry_after_ms=2500)
    assert isinstance(plain, Response) and plain.status == 429
    assert plain.header("retry-after") == "3" and plain.header("retry-after-ms") == "2500"
    assert body_of(plain) == {"error": "Rate limit reached for requests. Please try again in 3s."}
    dated = apply("rate_limit", retry_after=30, retry_after_date=True)
    assert isinstance(dated, Response)
    assert parsedate_to_datetime(dated.header("retry-after") or "").timestamp() == 1e9 + 30
    llm = apply("rate_limit", REAL, CHAT)
    error = body_of(llm)["error"]
    assert error["type"] == error["code"] == "rate_limit_exceeded" and "param" in error
    assert isinstance(llm, Response) and llm.header("x-ratelimit-remaining-requests") == "0"
    assert "error" in body_of(apply("rate_limit", REAL, CHAT, style="plain"))
    no_header = apply("rate_limit", retry_after=None)
    assert isinstance(no_header, Response) and no_header.header("retry-after") is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_statuses(status: int) -> None:
    result = apply("server_error", REAL, CHAT, status=status)
    assert isinstance(result, Response) and result.status == status
    assert set(body_of(result)["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_error_statuses(status: int) -> None:
    llm = apply("client_error", REAL, CHAT, status=status)
    assert isinstance(llm, Response) and llm.status == status
    assert body_of(llm)["error"]["type"] == "invalid_request_error"
    assert isinstance(body_of(apply("client_error", status=status))["error"], str)


def test_actions_for_timeout_refused_reset_latency_and_slow() -> None:
    assert apply("timeout") == Hang()
    assert apply("refused") == Refuse()
    assert apply("reset", when="before") == Reset()
    assert apply("reset") == Reset(REAL, 26) and apply("reset", after_bytes=999) == Reset(REAL, 51)
    assert apply("latency", ms=100) == Delay(0.1)
    jittered = [apply("latency", ms=100, jitter_ms=50) for _ in range(2)]
    assert jittered[0] == jittered[1] and isinstance(jittered[0], Delay)  # same seed, same delay
    assert 0.1 <= jittered[0].seconds < 0.15
    assert apply("slow_body", chunk=4, interval_ms=20) == Slow(REAL, 4, 0.02)
    assert apply("slow_body", bytes_per_s=1000) == Slow(REAL, 100, 0.1)


def test_huge_body_keeps_the_real_fields_and_is_exactly_the_size() -> None:
    huge = apply("huge_body", mb=0.5)
    assert isinstance(huge, HugeBody) and huge.size == 512 * 1024
    whole = b"".join(huge.chunks())
    assert len(whole) == huge.size and max(len(c) for c in huge.chunks()) <= 64 * 1024
    document = json.loads(whole)
    assert document["name"] == "Ada" and len(document["padding"]) > 500_000
    assert huge.head().header("content-length") == str(huge.size) and len(huge.head().body) == 65536
    synthetic = apply("huge_body", Response(200, [], b"plain text"), mb=0.01)
    assert isinstance(synthetic, HugeBody) and set(json.loads(b"".join(synthetic.chunks()))) == {
        "padding"
    }


# --- malformed bodies -------------------------------------------------------------------


def test_truncated_invalid_and_empty_bodies() -> None:
    truncated = apply("truncated_json")
    assert isinstance(truncated, Response) and truncated.body == REAL.body[:26]
    with pytest.raises(ValueError):
        json.loads(truncated.body)
    assert isinstance(apply("truncated_json", keep=1.0), Response)
    with pytest.raises(ValueError):
        json.loads(apply("truncated_json", keep=1.0).body)  # type: ignore[union-attr]
    invalid = apply("invalid_json")
    assert isinstance(invalid, Response) and invalid.body.endswith(b'"n": 1,}')
    with pytest.raises(ValueError):
        json.loads(invalid.body)
    empty = apply("empty_body")
    assert isinstance(empty, Response) and (empty.status, empty.body) == (200, b"")
    assert apply("empty_body", status=204).status == 204  # type: ignore[union-attr]


def test_damaged_bodies_drop_a_stale_content_length() -> None:
    for name in ("truncated_json", "invalid_json", "missing_field", "invalid_utf8"):
        result = apply(name)
        assert isinstance(result, Response) and result.header("content-length") is None, name


def test_html_page_and_wrong_content_type() -> None:
    page = apply("html_error_page")
    assert isinstance(page, Response) and page.status == 200
    assert page.header("content-type") == "text/html; charset=utf-8"
    assert (
        page.body.startswith(b"<!DOCTYPE html>") and b"<title>502 Bad Gateway</title>" in page.body
    )
    escaped = apply("html_error_page", title="<b>", status=503)
    assert escaped.status == 503 and b"&lt;b&gt;" in escaped.body  # type: ignore[union-attr]
    relabelled = apply("wrong_content_type", content_type="text/html")
    assert isinstance(relabelled, Response) and relabelled.body == REAL.body
    assert relabelled.header("content-type") == "text/html"


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("missing_field", {}, {"name": "Ada", "tags": ["a", "b"], "n": 1}),
        ("missing_field", {"field": "tags[0]"}, {"id": 7, "name": "Ada", "tags": ["b"], "n": 1}),
        ("null_field", {"field": "name"}, {"id": 7, "name": None, "tags": ["a", "b"], "n": 1}),
        ("wrong_type", {}, {"id": "7", "name": "Ada", "tags": ["a", "b"], "n": 1}),
        ("wrong_type", {"field": "tags"}, {"id": 7, "name": "Ada", "tags": '["a","b"]', "n": 1}),
        ("wrong_type", {"field": "name"}, {"id": 7, "name": 3, "tags": ["a", "b"], "n": 1}),
        ("schema_drift", {},
         {"id_v2": 7, "name": "Ada", "tags": ["a", "b"], "n": 1, "schema_version": "2"}),
        ("schema_drift", {"field": "name", "to": "fullName"},
         {"id": 7, "fullName": "Ada", "tags": ["a", "b"], "n": 1, "schema_version": "2"}),
    ],
)  # fmt: skip
def test_field_faults(name: str, params: dict[str, Any], expected: object) -> None:
    assert body_of(apply(name, **params)) == expected


def test_field_faults_on_chat_completions_default_to_choices() -> None:
    completion = {"id": "c", "object": "chat.completion", "choices": [{"message": {}}]}
    real = Response(200, JSON, json.dumps(completion).encode())
    assert "choices" not in body_of(apply("missing_field", real))
    assert body_of(apply("null_field", real))["choices"] is None
    assert isinstance(body_of(apply("wrong_type", real))["choices"], str)
    assert "outputs" in body_of(apply("schema_drift", real))


def test_a_fault_with_nothing_to_damage_returns_the_same_answer() -> None:
    text = Response(200, [("Content-Type", "text/plain")], b"ok")
    for name in (
        "missing_field",
        "null_field",
        "wrong_type",
        "schema_drift",
        "invalid_json",
        "invalid_utf8",
    ):
        assert apply(name, text) is text, name
    assert apply("missing_field", field="nope.deeper") is REAL
    assert apply("truncated_json", Response(204, [], b"")).body == b""  # type: ignore[union-attr]


def test_invalid_utf8_lands_inside_a_string_value() -> None:
    damaged = apply("invalid_utf8")
    assert isinstance(damaged, Response) and damaged.body.startswith(
        b'{"id": 7, "name": "\xff\xfeAda"'
    )
    with pytest.raises(UnicodeDecodeError):
        damaged.body.decode("utf-8")
    chat = Response(200, JSON, b'{"id":"x","message":{"content":"hello"}}')
    assert b'"content":"\xff\xfehello"' in apply("invalid_utf8", chat).body  # type: ignore[union-attr]


# --- LLM faults (pure) ------------------------------------------------------------------

TOOLS_REQUEST = Request(
    "POST",
    "/v1/chat/completions",
    JSON,
    json.dumps(
        {
            "model": "m",
            "messages": [],
            "tools": [{"type": "function", "function": {"name": "assign"}}],
        }
    ).encode(),
)


def completion(message: dict[str, Any], finish: str = "tool_calls") -> Response:
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [choice],
    }
    return Response(200, JSON, json.dumps(body).encode())


ASSIGN = {"name": "assign", "arguments": '{"lead": 7, "to": "ops"}'}
CALL = {
    "role": "assistant",
    "content": None,
    "refusal": None,
    "tool_calls": [{"id": "call_1", "type": "function", "function": ASSIGN}],
}
TEXT = {"role": "assistant", "content": "Hello there, friend.", "refusal": None}


def choice_of(name: str, answer: Response, /, **params: Any) -> dict[str, Any]:
    choice: dict[str, Any] = body_of(apply(name, answer, TOOLS_REQUEST, **params))["choices"][0]
    return choice


def test_llm_no_tool_call_and_refusal() -> None:
    choice = choice_of("llm_no_tool_call", completion(CALL))
    assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]
    assert choice["message"]["content"] == PARAMS["llm_no_tool_call"][0].default
    refused = choice_of("llm_refusal", completion(CALL), message="no")
    assert refused["message"]["refusal"] == "no" and refused["message"]["content"] is None
    assert "tool_calls" not in refused["message"] and refused["finish_reason"] == "stop"


def test_llm_bad_tool_args_both_modes() -> None:
    broken = choice_of("llm_bad_tool_args", completion(CALL))["message"]["tool_calls"][0]
    assert broken["function"]["arguments"] == '{"lead": 7, "to": "ops",}'
    with pytest.raises(ValueError):
        json.loads(broken["function"]["arguments"])
    off_schema = choice_of("llm_bad_tool_args", completion(CALL), mode="schema")
    arguments = json.loads(off_schema["message"]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"lead": "7", "to": 3, "undeclared_argument": True}


def test_llm_tool_faults_fabricate_a_call_when_the_model_answered_text() -> None:
    choice = choice_of("llm_bad_tool_args", completion(TEXT, "stop"))
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "assign" and choice["finish_reason"] == "tool_calls"
    unknown = choice_of("llm_unknown_tool", completion(TEXT, "stop"), name="assign")
    assert unknown["message"]["tool_calls"][0]["function"]["name"] == "assign_x"  # never offered


def test_llm_unknown_tool_and_truncated() -> None:
    unknown = choice_of("llm_unknown_tool", completion(CALL))
    assert unknown["message"]["tool_calls"][0]["function"]["name"] == "undeclared_tool"
    cut = choice_of("llm_truncated", completion(CALL))
    assert cut["finish_reason"] == "length"
    assert cut["message"]["tool_calls"][0]["function"]["arguments"] == '{"lead": 7, '
    text = choice_of("llm_truncated", completion(TEXT, "stop"), keep=0.25)
    assert text["message"]["content"] == "Hello" and text["finish_reason"] == "length"


def test_llm_faults_leave_non_completions_untouched() -> None:
    error = Response(400, JSON, b'{"error": {"message": "bad"}}')
    models = Response(200, JSON, b'{"object": "list", "data": []}')
    for name in (
        "llm_no_tool_call",
        "llm_bad_tool_args",
        "llm_unknown_tool",
        "llm_truncated",
        "llm_refusal",
    ):
        assert apply(name, error, TOOLS_REQUEST) is error
        assert apply(name, models, TOOLS_REQUEST) is models


def test_llm_faults_on_a_streamed_answer_reassemble_and_render_a_stream() -> None:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    opening = {"index": 0, "id": "call_1", "type": "function"}
    deltas = [
        {"role": "assistant", "tool_calls": [{**opening, "function": {"name": "assign"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"lead":7}'}}]},
    ]
    chunks: list[dict[str, Any]] = [
        {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        for delta in deltas
    ]
    chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    chunks.append({**head, "choices": [], "usage": {"total_tokens": 3}})
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    stream = Response(200, [("Content-Type", "text/event-stream")], body.encode())
    result = apply("llm_unknown_tool", stream, TOOLS_REQUEST)
    assert isinstance(result, Response) and result.body.endswith(b"data: [DONE]\n\n")
    events = parse_events(result.body)
    assert events is not None and all(e["object"] == "chat.completion.chunk" for e in events)
    rebuilt = assemble(events)
    call = rebuilt["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "undeclared_tool", "arguments": '{"lead":7}'}
    assert (
        rebuilt["usage"] == {"total_tokens": 3}
        and rebuilt["choices"][0]["finish_reason"] == "tool_calls"
    )


def test_field_faults_and_invalid_json_on_a_stream_edit_the_events() -> None:
    events = [{"object": "chat.completion.chunk", "choices": [{"delta": {"content": "hi"}}]}] * 2
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    stream = Response(200, [("Content-Type", "text/event-stream")], body.encode())
    missing = apply("missing_field", stream)
    assert isinstance(missing, Response)
    assert parse_events(missing.body) == [{"object": "chat.completion.chunk"}] * 2
    invalid = apply("invalid_json", stream)
    assert isinstance(invalid, Response)
    assert parse_events(invalid.body) is None  # the first event no longer parses


def test_exported_names() -> None:
    assert set(faults.__all__) >= {
        "Fault",
        "FaultStep",
        "as_step",
        "outcome",
        "inject",
        "FAULT_NAMES",
    }


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"assignment_id": "a1"}', {"assignment_id": "a1"}),
    (b'[1, 2]', None),
], ids=["object", "not-an-object"])
def test_prompt_injection_adds_an_instruction_carrying_the_canary(body: bytes,
                                                                   expected: Any) -> None:
    real = Response(201, [("Content-Type", "application/json")], body)
    result = apply("prompt_injection", real, canary="RDY-77")
    assert isinstance(result, Response) and result.status == 201
    if expected is None:  # not an object: the instruction is appended as text
        assert result.body.startswith(body) and b"RDY-77" in result.body
    else:
        document = body_of(result)
        assert {k: document[k] for k in expected} == expected
        assert "ignore all previous instructions" in document["note"]
        assert "RDY-77" in document["note"]
