"""Parsing and validating a chat-completions request the way the OpenAI API does.

Every refusal is a `BadRequest` carrying the API's own message, `param` and `code`, so
the simulator can answer it with the API's 400 error shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from readiness.chaos._schema_gen import JSONSchema, SchemaError, check_schema

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_MAX_N = 128  # the real API's limit on `n`
_JSON_TYPES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}
_T = TypeVar("_T")


@dataclass(frozen=True)
class Chat:
    """A validated chat-completions request."""

    body: dict[str, Any]
    model: str
    tools: dict[str, JSONSchema]
    tool_choice: tuple[Literal["none", "auto", "required"], str | None]  # (mode, forced name)
    response_format: dict[str, Any] | None
    n: int
    stream: bool
    include_usage: bool


class BadRequest(ValueError):
    """A request the API would refuse with 400, in the API's own terms."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def parse_chat(raw: bytes, default_model: str) -> Chat:
    """Validate a request body the way the API does, or raise `BadRequest`."""
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise BadRequest(
            f"We could not parse the JSON body of your request ({exc}). "
            "The API expects a JSON object."
        ) from exc
    body = _typed(body, "body", dict, "an object")
    # The API treats an optional parameter sent as null like one left out.
    body = {key: value for key, value in body.items() if value is not None}
    if "messages" not in body:
        message = "Missing required parameter: 'messages'."
        raise BadRequest(message, "messages", "missing_required_parameter")
    _check_messages(_typed(body["messages"], "messages", list, "an array of objects"))
    tools = _tools(_typed(body.get("tools", []), "tools", list, "an array of objects"))
    n = _typed(body.get("n", 1), "n", int, "an integer")
    if not 1 <= n <= _MAX_N:
        raise _invalid_value("n", n, f"an integer from 1 to {_MAX_N}")
    stream = _typed(body.get("stream", False), "stream", bool, "a boolean")
    options = _typed(body.get("stream_options", {}), "stream_options", dict, "an object")
    if options and not stream:
        raise BadRequest(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    return Chat(
        body=body,
        model=_typed(body.get("model", default_model), "model", str, "a string"),
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        response_format=_response_format(body.get("response_format")),
        n=n,
        stream=stream,
        include_usage=options.get("include_usage") is True,
    )


def _check_messages(messages: list[Any]) -> None:
    """Roles, contents, and tool results answering exactly the tool calls made before."""
    if not messages:
        raise BadRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages",
            "empty_array",
        )
    awaiting: set[str] = set()  # ids of tool calls not answered yet
    for i, message in enumerate(messages):
        role = _typed(message, f"messages[{i}]", dict, "an object").get("role")
        if role not in _ROLES:
            raise _invalid_value(f"messages[{i}].role", role, f"one of {', '.join(_ROLES)}")
        content = message.get("content")
        if not (isinstance(content, str | list) or (content is None and role == "assistant")):
            raise _invalid_type(content, f"messages[{i}].content", "a string or an array")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in awaiting:
                raise BadRequest(
                    f"Invalid 'messages[{i}]': a message with role 'tool' must "
                    f"answer a pending 'tool_calls' id; {call_id!r} is not one.",
                    f"messages[{i}].tool_call_id",
                )
            awaiting.discard(call_id)
            continue
        if awaiting:
            break
        calls = message.get("tool_calls") if role == "assistant" else None
        calls = _typed(calls or [], f"messages[{i}].tool_calls", list, "an array of objects")
        awaiting = {call["id"] for call in calls if isinstance(call, dict) and "id" in call}
    if awaiting:
        raise BadRequest(
            "An assistant message with 'tool_calls' must be followed by tool "
            "messages responding to each 'tool_call_id'; unanswered: "
            f"{', '.join(sorted(awaiting))}.",
            "messages",
        )


def _tools(tools: list[Any]) -> dict[str, JSONSchema]:
    """The offered functions, name -> parameters schema, in the order offered."""
    offered: dict[str, JSONSchema] = {}
    for i, tool in enumerate(tools):
        kind = _typed(tool, f"tools[{i}]", dict, "an object").get("type")
        if kind != "function":  # custom (free-form) tools are not simulated
            raise _invalid_value(f"tools[{i}].type", kind, "'function'")
        function = _typed(tool.get("function"), f"tools[{i}].function", dict, "an object")
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            raise _invalid_value(f"tools[{i}].function.name", name, "1-64 of a-z A-Z 0-9 _ -")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        param = f"tools[{i}].function.parameters"
        offered[name] = _typed(parameters, param, dict, "an object")
        _valid_schema(parameters, param, f"function '{name}'", "invalid_function_parameters")
    return offered


def _tool_choice(
    choice: object, tools: Mapping[str, JSONSchema]
) -> tuple[Literal["none", "auto", "required"], str | None]:
    """(mode, forced tool name) from `tool_choice`."""
    if choice is None or choice in ("none", "auto"):
        # Without tools the API's default is "none", and "auto" can only mean that too.
        return ("none" if choice == "none" or not tools else "auto"), None
    if not tools:
        raise BadRequest(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when "
            "'tools' are specified.",
            "tool_choice",
        )
    if choice == "required":
        return "required", None
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or name not in tools:
        expected = "'none', 'auto', 'required' or a function named in 'tools'"
        raise _invalid_value("tool_choice", choice, expected)
    return "required", name


def _response_format(spec: object) -> dict[str, Any] | None:
    """`response_format`, checked: text, json_object, or json_schema with a name."""
    if spec is None:
        return None
    spec = _typed(spec, "response_format", dict, "an object")
    kind = spec.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise _invalid_value("response_format.type", kind, "'text', 'json_object', 'json_schema'")
    if kind == "json_schema":
        inner = _typed(spec.get("json_schema"), "response_format.json_schema", dict, "an object")
        _typed(inner.get("name"), "response_format.json_schema.name", str, "a string")
        param = "response_format.json_schema.schema"
        schema = _typed(inner.get("schema", {}), param, dict, "an object")
        _valid_schema(schema, param, f"response_format '{inner['name']}'", "invalid_json_schema")
    return spec


def _valid_schema(schema: JSONSchema, param: str, owner: str, code: str) -> None:
    """The API's error for a schema that is not valid JSON Schema."""
    try:
        check_schema(schema)
    except SchemaError as exc:
        raise BadRequest(f"Invalid schema for {owner}: {exc}", param, code) from exc


def _typed(value: Any, param: str, expected: type[_T], description: str) -> _T:
    """`value` when it is an `expected`; the API's 'Invalid type' error otherwise."""
    # bool is an int in Python but not in JSON: keep them apart.
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise _invalid_type(value, param, description)
    return value


def _invalid_type(value: object, param: str, description: str) -> BadRequest:
    """The API's 'Invalid type' error."""
    got = _JSON_TYPES.get(type(value), type(value).__name__)
    message = f"Invalid type for '{param}': expected {description}, but got {got}."
    return BadRequest(message, param, "invalid_type")


def _invalid_value(param: str, value: object, expected: str) -> BadRequest:
    """The API's 'Invalid value' error."""
    message = f"Invalid value for '{param}': {value!r}. Expected {expected}."
    return BadRequest(message, param, "invalid_value")
