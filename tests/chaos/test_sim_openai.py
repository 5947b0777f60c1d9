"""sim:openai: the schema-driven value generator, the handler, and the official SDK as client."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import jsonschema
import openai
import pytest

from readiness.chaos._schema_gen import SchemaError, check_schema, generate
from readiness.chaos.messages import Request, Response
from readiness.chaos.server import HttpServer
from readiness.chaos.sim_openai import (
    CREATED,
    OpenAISimulator,
    Reply,
    ToolCall,
    Turn,
    seeded_policy,
)

SEEDS = range(200)  # hypothesis is not installed: many fixed seeds stand in for it

# --- the schema generator ---------------------------------------------------------------

SCHEMAS: dict[str, dict[str, Any]] = {
    "enum": {"enum": ["red", "green", 3, None]},
    "enum_over_type": {"type": "string", "enum": ["a", "bb"], "maxLength": 9},
    "const": {"const": {"fixed": [1, 2]}},
    "string_bounds": {"type": "string", "minLength": 7, "maxLength": 9},
    "string_empty_only": {"type": "string", "maxLength": 0},
    "integer_bounds": {"type": "integer", "minimum": -3, "maximum": 4},
    "integer_exclusive": {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 3},
    "integer_draft4_exclusive": {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "integer", "minimum": 1, "exclusiveMinimum": True,
        "maximum": 3, "exclusiveMaximum": True,
    },
    "integer_multiple": {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 30},
    "integer_fractional_multiple": {"type": "integer", "multipleOf": 2.5, "maximum": 0},
    "number_bounds": {"type": "number", "minimum": 0.5, "maximum": 0.75},
    "number_exclusive_tiny": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "number_multiple": {"type": "number", "multipleOf": 0.1, "minimum": 0, "maximum": 1},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "nullable": {"type": ["string", "null"], "minLength": 2},
    "array": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 4},
    "array_unique": {
        "type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True, "minItems": 3,
    },
    "array_tuple": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}],
                    "items": False, "minItems": 2},
    "object": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
        "required": ["a"],
        "additionalProperties": False,
    },
    "object_min_properties": {"type": "object", "properties": {"a": {}}, "minProperties": 3},
    "object_max_properties": {
        "type": "object", "properties": {"a": {}, "b": {}, "c": {}}, "maxProperties": 1,
    },
    "nested": {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {"email": {"type": "string", "format": "email"},
                               "tags": {"type": "array", "items": {"type": "string"}}},
                "required": ["email", "tags"],
            }
        },
        "required": ["user"],
    },
    "any_of": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10}]},
    "one_of_overlapping": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    "all_of": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                         {"properties": {"b": {"const": 1}}, "required": ["b"]}]},
    "ref_defs": {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}},
                            "required": ["x"]}},
        "type": "array", "items": {"$ref": "#/$defs/Point"}, "minItems": 1,
    },
    "ref_definitions_nullable": {
        "definitions": {"Id": {"type": "string", "format": "uuid"}},
        "type": "object",
        "properties": {"id": {"anyOf": [{"$ref": "#/definitions/Id"}, {"type": "null"}]}},
        "required": ["id"],
    },
    "recursive": {
        "$defs": {"Node": {"type": "object", "required": ["children"], "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        "$ref": "#/$defs/Node",
    },
    "any": {},
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_generated_values_validate_against_their_schema(name: str) -> None:
    schema = SCHEMAS[name]
    validator = jsonschema.validators.validator_for(schema)(
        schema, format_checker=jsonschema.FormatChecker()
    )
    for seed in SEEDS:
        value = generate(schema, random.Random(seed))
        errors = [error.message for error in validator.iter_errors(value)]
        assert not errors, f"seed {seed}: {value!r}: {errors}"


def test_enum_is_respected_over_every_other_keyword() -> None:
    values = {generate(SCHEMAS["enum_over_type"], random.Random(seed)) for seed in SEEDS}
    assert values == {"a", "bb"}  # the string generator never runs


def test_required_properties_always_present_and_optional_ones_vary() -> None:
    objects = [generate(SCHEMAS["object"], random.Random(seed)) for seed in SEEDS]
    assert all("a" in obj for obj in objects)
    assert {frozenset(obj) for obj in objects} >= {frozenset("a"), frozenset("abc")}


def test_nullable_yields_both_null_and_values() -> None:
    values = [generate(SCHEMAS["nullable"], random.Random(seed)) for seed in SEEDS]
    assert None in values and any(isinstance(value, str) for value in values)


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [
        ("email", lambda v: v.count("@") == 1 and "." in v.split("@")[1]),
        ("date", date.fromisoformat),
        ("date-time", lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")).tzinfo),
        ("uuid", uuid.UUID),
        ("uri", lambda v: v.startswith("https://")),
    ],
)
def test_string_formats_produce_parseable_values(fmt: str, parse: Callable[[str], Any]) -> None:
    for seed in range(50):
        value = generate({"type": "string", "format": fmt}, random.Random(seed))
        assert parse(value), value


def test_same_seed_same_value_different_seeds_differ() -> None:
    schema = SCHEMAS["nested"]
    assert generate(schema, random.Random(5)) == generate(schema, random.Random(5))
    assert len({json.dumps(generate(schema, random.Random(s))) for s in range(10)}) > 1


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (False, "#: the schema `false` accepts no value"),
        ({"$ref": "#/$defs/Missing"}, "'#/$defs/Missing' does not exist"),
        ({"$ref": "https://example.com/s.json"}, "only local references"),
        ({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}, "is it a cycle?"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer lies between 5 and 4"),
        ({"type": "string", "minLength": 3, "maxLength": 2}, "minLength 3 is greater"),
        ({"type": "array", "minItems": 3, "maxItems": 1}, "minItems 3 is greater"),
        ({"type": "date"}, "unknown type 'date'"),
        ({"enum": []}, "#/enum: expected a non-empty array"),
        ({"oneOf": [{"type": "integer"}, {"type": "integer"}]}, "more than one branch"),
        ({"properties": {"x": {"type": "object", "required": ["y"],
                               "additionalProperties": False}},
          "required": ["x"]}, "#/properties/x/required: 'y' is required"),
    ],
)  # fmt: skip
def test_unsatisfiable_schemas_raise_with_the_pointer(schema: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message.replace("$", r"\$").replace("?", r"\?")):
        generate(schema, random.Random(0))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "object", "properties": {"x": {"minimum": "1"}}}, "#/properties/x/minimum: "),
        ({"type": "array", "minItems": -1}, "#/minItems: -1 is less than the minimum of 0"),
        ({"type": "strin"}, "#/type: 'strin' is not valid"),
    ],
)
def test_check_schema_rejects_malformed_keywords_with_the_pointer(
    schema: Any, message: str
) -> None:
    with pytest.raises(SchemaError, match=message):
        check_schema(schema)
    check_schema(SCHEMAS["nested"])  # and accepts a valid one


# --- the handler, called directly ----------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "units": {"type": ["string", "null"], "enum": ["metric", "imperial", None]},
            },
            "required": ["city", "days"],
            "additionalProperties": False,
        },
    },
}
EMAIL = {
    "type": "function",
    "function": {
        "name": "send_email",
        "parameters": {
            "$defs": {"Address": {"type": "string", "format": "email"}},
            "type": "object",
            "properties": {
                "to": {"type": "array", "items": {"$ref": "#/$defs/Address"}, "minItems": 1},
                "subject": {"type": "string", "maxLength": 40},
                "priority": {"oneOf": [{"const": "low"}, {"const": "high"}]},
            },
            "required": ["to", "subject"],
        },
    },
}
TOOLS = [WEATHER, EMAIL]
SCHEMA_OF = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
USER = [{"role": "user", "content": "What is the weather in Paris this week?"}]


def call(sim: OpenAISimulator, method: str, target: str, body: Any = None) -> Response:
    """Send one request straight to the handler."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
    return asyncio.run(sim(Request(method, target, [("Content-Type", "application/json")], raw)))


def complete(sim: OpenAISimulator, **body: Any) -> dict[str, Any]:
    """POST a chat completion and return the parsed 200 answer."""
    response = call(sim, "POST", "/v1/chat/completions", {"model": "m", "messages": USER, **body})
    assert response.status == 200, response.body
    assert response.header("content-type") == "application/json"
    parsed: dict[str, Any] = json.loads(response.body)
    return parsed


def arguments(answer: dict[str, Any], choice: int = 0) -> tuple[str, Any]:
    """(name, parsed arguments) of a choice's only tool call."""
    message = answer["choices"][choice]["message"]
    assert message["content"] is None and len(message["tool_calls"]) == 1
    function = message["tool_calls"][0]["function"]
    return function["name"], json.loads(function["arguments"])


def test_completion_has_the_api_shape() -> None:
    sim = OpenAISimulator(seed=1, model="sim-gpt")
    answer = complete(sim, model="gpt-4o-mini", n=3)
    assert answer["object"] == "chat.completion" and answer["model"] == "gpt-4o-mini"
    assert answer["id"].startswith("chatcmpl-") and answer["created"] == CREATED
    assert answer["system_fingerprint"].startswith("fp_")
    assert [choice["index"] for choice in answer["choices"]] == [0, 1, 2]
    for choice in answer["choices"]:
        assert choice["finish_reason"] == "stop"
        assert choice["message"]["role"] == "assistant"
        assert "What is the weather in Paris" in choice["message"]["content"]
    usage = answer["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_answers_with_and_without_the_v1_prefix_and_records_requests() -> None:
    sim = OpenAISimulator()
    first = call(sim, "POST", "/v1/chat/completions", {"model": "m", "messages": USER})
    second = call(sim, "POST", "/chat/completions/", {"model": "m", "messages": USER})
    assert first.status == second.status == 200 and first.body == second.body
    assert len(sim.requests) == 2 and sim.last_request is sim.requests[1]
    assert sim.last_request.target == "/chat/completions/"


def test_model_without_a_model_echoes_the_simulators_name() -> None:
    sim = OpenAISimulator(model="house-model")
    response = call(sim, "POST", "/v1/chat/completions", {"messages": USER})
    assert json.loads(response.body)["model"] == "house-model"


def test_optional_parameters_sent_as_null_count_as_absent() -> None:
    nulls = dict.fromkeys(("n", "tools", "tool_choice", "response_format", "stream"))
    assert complete(OpenAISimulator(), **nulls)["choices"] == complete(OpenAISimulator())["choices"]


def test_models_routes() -> None:
    sim = OpenAISimulator(model="sim-gpt")
    listing = json.loads(call(sim, "GET", "/v1/models").body)
    assert listing["object"] == "list" and [m["id"] for m in listing["data"]] == ["sim-gpt"]
    assert json.loads(call(sim, "GET", "/v1/models/sim-gpt").body)["object"] == "model"
    missing = call(sim, "GET", "/v1/models/gpt-9")
    assert missing.status == 404 and json.loads(missing.body)["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [("GET", "/v1/completions", 404), ("POST", "/v2/chat", 404), ("GET", "/", 404),
     ("GET", "/v1/chat/completions", 405), ("DELETE", "/v1/models", 405)],
)  # fmt: skip
def test_unknown_routes_and_methods_get_openai_errors(
    method: str, target: str, status: int
) -> None:
    response = call(OpenAISimulator(), method, target)
    assert response.status == status
    error = json.loads(response.body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and target.rstrip("/") in error["message"]
    if status == 405:
        assert response.header("allow") in ("GET", "POST")


TOOL_TURN = [
    *USER,
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{}"}}]},
]  # fmt: skip
MALFORMED = {"type": "function", "function": {"name": "f", "parameters": {
    "type": "object", "properties": {"x": {"minimum": "1"}}}}}  # fmt: skip
UNSATISFIABLE = {"type": "function", "function": {"name": "f", "parameters": {
    "type": "object", "properties": {"x": {"type": "integer", "minimum": 2, "maximum": 1}},
    "required": ["x"]}}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b"{not json", None, None),
        (b"\xff\xfe", None, None),
        ([1, 2], "body", "invalid_type"),
        ({"model": "m"}, "messages", "missing_required_parameter"),
        ({"messages": "hello"}, "messages", "invalid_type"),
        ({"messages": []}, "messages", "empty_array"),
        ({"messages": ["hi"]}, "messages[0]", "invalid_type"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "invalid_value"),
        ({"messages": [{"role": "user", "content": None}]}, "messages[0].content", "invalid_type"),
        ({"messages": USER, "model": 4}, "model", "invalid_type"),
        ({"messages": USER, "n": 0}, "n", "invalid_value"),
        ({"messages": USER, "n": True}, "n", "invalid_type"),
        ({"messages": USER, "stream": "yes"}, "stream", "invalid_type"),
        ({"messages": USER, "stream_options": {"include_usage": True}}, "stream_options",
         "invalid_value"),
        ({"messages": USER, "tools": {"a": 1}}, "tools", "invalid_type"),
        ({"messages": USER, "tools": [{"type": "custom"}]}, "tools[0].type", "invalid_value"),
        ({"messages": USER, "tools": [{"type": "function", "function": {"name": "a b"}}]},
         "tools[0].function.name", "invalid_value"),
        ({"messages": USER, "tool_choice": "required"}, "tool_choice", None),
        ({"messages": USER, "tools": TOOLS,
          "tool_choice": {"type": "function", "function": {"name": "nope"}}},
         "tool_choice", "invalid_value"),
        ({"messages": USER, "response_format": {"type": "xml"}}, "response_format.type",
         "invalid_value"),
        ({"messages": USER, "response_format": {"type": "json_schema", "json_schema": {}}},
         "response_format.json_schema.name", "invalid_type"),
        ({"messages": [*USER, {"role": "tool", "tool_call_id": "call_9", "content": "x"}]},
         "messages[1].tool_call_id", None),
        ({"messages": TOOL_TURN}, "messages", None),
        ({"messages": [*TOOL_TURN, *USER]}, "messages", None),
        ({"messages": USER, "tools": [UNSATISFIABLE]}, "tools[0].function.parameters",
         "invalid_function_parameters"),
        ({"messages": USER, "response_format": {"type": "json_schema", "json_schema": {
            "name": "out", "schema": {"type": "integer", "minimum": 2, "maximum": 1}}}},
         "response_format.json_schema.schema", "invalid_json_schema"),
        ({"messages": USER, "tools": [MALFORMED]}, "tools[0].function.parameters",
         "invalid_function_parameters"),
    ],
)  # fmt: skip
def test_malformed_requests_get_400_in_the_api_shape(
    body: Any, param: str | None, code: str | None
) -> None:
    response = call(OpenAISimulator(), "POST", "/v1/chat/completions", body)
    assert response.status == 400, response.body
    error = json.loads(response.body)["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert (error["param"], error["code"]) == (param, code), error["message"]


def test_tool_arguments_validate_against_the_chosen_tools_schema() -> None:
    chosen = set()
    for seed in SEEDS:
        name, args = arguments(complete(OpenAISimulator(seed), tools=TOOLS))
        jsonschema.validate(args, SCHEMA_OF[name], format_checker=jsonschema.FormatChecker())
        chosen.add(name)
    assert chosen == {"get_weather", "send_email"}  # the seed picks among the tools


@pytest.mark.parametrize("tool_choice", [None, "auto", "required"])
def test_tool_choice_auto_and_required_call_a_tool(tool_choice: str | None) -> None:
    extra = {"tool_choice": tool_choice} if tool_choice else {}
    answer = complete(OpenAISimulator(), tools=TOOLS, **extra)
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call_id = choice["message"]["tool_calls"][0]["id"]
    assert call_id.startswith("call_") and choice["message"]["tool_calls"][0]["type"] == "function"


def test_named_tool_choice_forces_that_tool() -> None:
    forced = {"type": "function", "function": {"name": "send_email"}}
    for seed in range(30):
        answer = complete(OpenAISimulator(seed), tools=TOOLS, tool_choice=forced)
        assert arguments(answer)[0] == "send_email"


def test_tool_choice_none_and_a_tool_result_get_text() -> None:
    sim = OpenAISimulator()
    for answer in (
        complete(sim, tools=TOOLS, tool_choice="none"),
        complete(
            sim,
            tools=TOOLS,
            messages=[*TOOL_TURN, {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
        ),
    ):
        choice = answer["choices"][0]
        assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]
        assert isinstance(choice["message"]["content"], str)


def test_response_format_json_object_and_json_schema() -> None:
    sim = OpenAISimulator()
    as_object = complete(sim, response_format={"type": "json_object"})
    assert isinstance(json.loads(as_object["choices"][0]["message"]["content"]), dict)
    schema = SCHEMA_OF["send_email"]
    spec = {"type": "json_schema", "json_schema": {"name": "email", "schema": schema}}
    for seed in range(50):
        content = complete(OpenAISimulator(seed), response_format=spec)["choices"][0]["message"]
        jsonschema.validate(json.loads(content["content"]), schema)


def test_same_seed_and_body_give_identical_bytes() -> None:
    body = {"model": "m", "messages": USER, "tools": TOOLS, "n": 2}
    first = call(OpenAISimulator(7), "POST", "/v1/chat/completions", body)
    again = call(OpenAISimulator(7), "POST", "/v1/chat/completions", body)
    assert first.body == again.body and first.headers == again.headers
    others = {call(OpenAISimulator(s), "POST", "/chat/completions", body).body for s in range(8)}
    assert len(others) > 1


def parse_sse(response: Response) -> list[dict[str, Any]]:
    """The JSON chunks of an SSE body, checking the framing and the final [DONE]."""
    assert response.header("content-type") == "text/event-stream; charset=utf-8"
    events = response.body.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: ") for event in events[:-1])
    return [json.loads(event.removeprefix("data: ")) for event in events[:-2]]


def stream(sim: OpenAISimulator, **body: Any) -> list[dict[str, Any]]:
    """POST a streaming chat completion and return its chunks."""
    payload = {"model": "m", "messages": USER, "stream": True, **body}
    return parse_sse(call(sim, "POST", "/v1/chat/completions", payload))


def test_stream_of_text_matches_the_non_streamed_answer() -> None:
    chunks = stream(OpenAISimulator(3), n=2, stream_options={"include_usage": True})
    plain = complete(OpenAISimulator(3), n=2)
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk["id"] for chunk in chunks} == {plain["id"]}
    for index in (0, 1):
        deltas = [
            c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["index"] == index
        ]
        assert deltas[0]["delta"]["role"] == "assistant" and deltas[-1]["finish_reason"] == "stop"
        assert all(delta["finish_reason"] is None for delta in deltas[:-1])
        text = "".join(delta["delta"].get("content") or "" for delta in deltas)
        assert text == plain["choices"][index]["message"]["content"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_stream_of_tool_call_carries_name_first_then_argument_pieces() -> None:
    chunks = stream(OpenAISimulator(3), tools=TOOLS)
    plain = complete(OpenAISimulator(3), tools=TOOLS)["choices"][0]["message"]["tool_calls"][0]
    deltas = [chunk["choices"][0] for chunk in chunks]
    head = deltas[0]["delta"]
    assert head["role"] == "assistant" and head["content"] is None
    assert head["tool_calls"][0] == {
        **plain,
        "index": 0,
        "function": {"name": plain["function"]["name"], "arguments": ""},
    }
    pieces = [delta["delta"]["tool_calls"][0]["function"]["arguments"] for delta in deltas[1:-1]]
    assert len(pieces) > 1 and "".join(pieces) == plain["function"]["arguments"]
    assert deltas[-1] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}
    assert "usage" not in chunks[0]


def test_policy_decides_tool_and_arguments() -> None:
    seen: list[Turn] = []

    def compromised(turn: Turn) -> Reply:
        seen.append(turn)
        return Reply(tool_calls=(ToolCall("delete_everything", "{not json"),))

    answer = complete(OpenAISimulator(policy=compromised), tools=TOOLS, tool_choice="required")
    function = answer["choices"][0]["message"]["tool_calls"][0]["function"]
    assert function == {"name": "delete_everything", "arguments": "{not json"}
    assert seen[0].tool_choice == "required" and seen[0].forced_tool is None
    assert list(seen[0].tools) == ["get_weather", "send_email"]
    assert seen[0].last_user_text == USER[0]["content"]


def test_policy_can_wrap_the_seeded_one_and_set_finish_reason() -> None:
    def truncating(turn: Turn) -> Reply:
        reply = seeded_policy(turn)
        return Reply(content=(reply.content or "")[:10], finish_reason="length")

    answer = complete(OpenAISimulator(policy=truncating))
    assert answer["choices"][0]["finish_reason"] == "length"
    assert len(answer["choices"][0]["message"]["content"]) == 10


# --- the official SDK over real sockets -----------------------------------------------------


def with_client(
    sim: OpenAISimulator, scenario: Callable[[openai.AsyncOpenAI], Awaitable[None]]
) -> None:
    """Serve `sim` on 127.0.0.1 and run `scenario` with an AsyncOpenAI client pointed at it."""

    async def body() -> None:
        async with (
            HttpServer(sim) as server,
            openai.AsyncOpenAI(
                base_url=server.url + "/v1", api_key="sim", max_retries=0, timeout=10
            ) as client,
        ):
            await scenario(client)

    asyncio.run(asyncio.wait_for(body(), 30))


def test_sdk_parses_tool_calls_and_forced_tools() -> None:
    async def scenario(client: openai.AsyncOpenAI) -> None:
        answer = await client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, tools=TOOLS
        )
        call = answer.choices[0].message.tool_calls[0]
        assert answer.choices[0].finish_reason == "tool_calls"
        assert call.id.startswith("call_") and call.type == "function"
        jsonschema.validate(json.loads(call.function.arguments), SCHEMA_OF[call.function.name])
        forced = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
        assert forced.choices[0].message.tool_calls[0].function.name == "get_weather"

    with_client(OpenAISimulator(11), scenario)


def test_sdk_tool_loop_ends_with_text_after_the_tool_result() -> None:
    async def scenario(client: openai.AsyncOpenAI) -> None:
        messages: list[Any] = list(USER)
        first = await client.chat.completions.create(model="m", messages=messages, tools=TOOLS)
        call = first.choices[0].message.tool_calls[0]
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
        ]
        second = await client.chat.completions.create(model="m", messages=messages, tools=TOOLS)
        assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content

    with_client(OpenAISimulator(), scenario)


def test_sdk_text_json_schema_and_models() -> None:
    async def scenario(client: openai.AsyncOpenAI) -> None:
        text = await client.chat.completions.create(
            model="m", messages=USER, tools=TOOLS, tool_choice="none"
        )
        assert text.choices[0].message.content and not text.choices[0].message.tool_calls
        schema = SCHEMA_OF["get_weather"]
        structured = await client.chat.completions.create(
            model="m",
            messages=USER,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "weather", "schema": schema},
            },
        )
        jsonschema.validate(json.loads(structured.choices[0].message.content or ""), schema)
        assert [model.id async for model in client.models.list()] == ["sim-gpt"]

    with_client(OpenAISimulator(), scenario)


def test_sdk_streams_content_and_tool_call_arguments() -> None:
    async def scenario(client: openai.AsyncOpenAI) -> None:
        plain = await client.chat.completions.create(model="m", messages=USER)
        pieces = [
            chunk.choices[0].delta.content or ""
            async for chunk in await client.chat.completions.create(
                model="m", messages=USER, stream=True
            )
            if chunk.choices
        ]
        assert "".join(pieces) == plain.choices[0].message.content
        names, args = [], ""
        async for chunk in await client.chat.completions.create(
            model="m", messages=USER, tools=TOOLS, stream=True
        ):
            for delta in chunk.choices[0].delta.tool_calls or []:
                assert delta.index == 0 and delta.function is not None
                names += [delta.function.name] if delta.function.name else []
                args += delta.function.arguments or ""
        assert len(names) == 1
        jsonschema.validate(json.loads(args), SCHEMA_OF[names[0]])

    with_client(OpenAISimulator(2), scenario)


def test_sdk_raises_bad_request_for_malformed_requests() -> None:
    async def scenario(client: openai.AsyncOpenAI) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            await client.chat.completions.create(
                model="m", messages=[{"role": "robot", "content": "hi"}]
            )
        assert raised.value.status_code == 400 and raised.value.param == "messages[0].role"
        with pytest.raises(openai.BadRequestError) as raised:
            await client.post("/chat/completions", body={"model": "m"}, cast_to=object)
        assert raised.value.code == "missing_required_parameter"
        with pytest.raises(openai.NotFoundError):
            await client.post("/embeddings", body={"input": "x"}, cast_to=object)

    with_client(OpenAISimulator(), scenario)
