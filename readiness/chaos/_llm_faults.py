"""LLM-shaped damage to a real OpenAI chat-completions answer (plain or streamed).

Each fault edits every choice of the completion. An answer that is not a chat
completion (an error, a model list) is returned untouched, as the very same object,
so it is not recorded as faulted. Faults about tool calls fabricate one (to the
first tool the request offered) when the model answered with text instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from readiness.chaos._malformed import dumps, other_type, with_body
from readiness.chaos._sse import assemble, is_event_stream, parse_events, render
from readiness.chaos.messages import Request, Response

Message = dict[str, Any]
Edit = Callable[[Mapping[str, Any], Message, dict[str, Any], list[str]], None]


def _offered_tools(request: Request) -> list[str]:
    """The function names the request offered (tools, or legacy functions)."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    names = []
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    for function in body.get("functions") or []:
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def _ensure_call(message: Message, choice: dict[str, Any], offered: list[str]) -> None:
    """Give a text answer a tool call (to the first offered tool) for the fault to damage."""
    if message.get("tool_calls"):
        return
    name = offered[0] if offered else "lookup"
    index = choice.get("index", 0)
    call = {
        "id": f"call_fault{index}",
        "type": "function",
        "function": {"name": name, "arguments": "{}"},
    }
    message["tool_calls"] = [call]
    message["content"] = None
    choice["finish_reason"] = "tool_calls"


def _no_tool_call(
    params: Mapping[str, Any], message: Message, choice: dict[str, Any], offered: list[str]
) -> None:
    message.pop("tool_calls", None)
    message["content"] = params["content"]
    message["refusal"] = None
    choice["finish_reason"] = "stop"


def _bad_args(
    params: Mapping[str, Any], message: Message, choice: dict[str, Any], offered: list[str]
) -> None:
    _ensure_call(message, choice, offered)
    for call in message["tool_calls"]:
        function = call["function"]
        arguments = function.get("arguments") or "{}"
        if params["mode"] == "schema":
            try:
                parsed = json.loads(arguments)
            except ValueError:
                parsed = {}
            parsed = parsed if isinstance(parsed, dict) else {}
            # Every declared argument of the wrong type, plus one the schema does not know.
            wrong = {key: other_type(value) for key, value in parsed.items()}
            function["arguments"] = json.dumps({**wrong, "undeclared_argument": True})
        else:
            function["arguments"] = _trailing_comma(arguments)


def _trailing_comma(text: str) -> str:
    """`{"a":1}` -> `{"a":1,}`: a mistake models make, rejected by strict JSON parsers."""
    stripped = text.rstrip()
    if stripped[-1:] in ("}", "]"):
        return stripped[:-1] + "," + stripped[-1:]
    return "{" + stripped


def _unknown_tool(
    params: Mapping[str, Any], message: Message, choice: dict[str, Any], offered: list[str]
) -> None:
    _ensure_call(message, choice, offered)
    name = params["name"]
    while name in offered:  # the point is a name the agent never offered
        name += "_x"
    for call in message["tool_calls"]:
        call["function"]["name"] = name


def _truncated(
    params: Mapping[str, Any], message: Message, choice: dict[str, Any], offered: list[str]
) -> None:
    for call in message.get("tool_calls") or []:
        call["function"]["arguments"] = _cut(call["function"].get("arguments") or "", params)
    if isinstance(message.get("content"), str):
        message["content"] = _cut(message["content"], params)
    choice["finish_reason"] = "length"


def _cut(text: str, params: Mapping[str, Any]) -> str:
    """`keep` of the text, always losing at least one character."""
    return text[: min(len(text) - 1, int(len(text) * params["keep"]))] if text else text


def _refusal(
    params: Mapping[str, Any], message: Message, choice: dict[str, Any], offered: list[str]
) -> None:
    message.pop("tool_calls", None)
    message["content"] = None
    message["refusal"] = params["message"]
    choice["finish_reason"] = "stop"


EDITS: Mapping[str, Edit] = {
    "llm_no_tool_call": _no_tool_call,
    "llm_bad_tool_args": _bad_args,
    "llm_unknown_tool": _unknown_tool,
    "llm_truncated": _truncated,
    "llm_refusal": _refusal,
}


def llm_fault(
    name: str, params: Mapping[str, Any], request: Request, response: Response
) -> Response:
    """The answer with fault `name` applied to every choice; untouched if not a completion."""
    streamed = is_event_stream(response.header("content-type"))
    completion: Any
    if streamed:
        events = parse_events(response.body)
        completion = assemble(events) if events else None
    else:
        try:
            completion = json.loads(response.body)
        except ValueError:
            completion = None
    choices = completion.get("choices") if isinstance(completion, dict) else None
    if response.status != 200 or not isinstance(choices, list) or not choices:
        return response
    if not streamed and completion.get("object") != "chat.completion":
        return response
    offered = _offered_tools(request)
    edit = EDITS[name]
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            edit(params, message, choice, offered)
    if streamed:
        include_usage = b'"usage":' in response.body
        return with_body(response, render(completion, include_usage))
    return with_body(response, dumps(completion))
