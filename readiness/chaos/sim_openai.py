"""`sim:openai`: a deterministic, OpenAI-compatible chat-completions upstream.

The simulator is a `Handler`: serve it with `HttpServer` and point an agent's OpenAI
client at `server.url + "/v1"`. Everything it answers is a pure function of the seed
and the request body, so a probe can replay a run and get the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from readiness.chaos._openai_request import BadRequest, Chat, parse_chat
from readiness.chaos._schema_gen import JSONSchema, SchemaError, generate
from readiness.chaos.messages import Request, Response

__all__ = ["CREATED", "OpenAISimulator", "Policy", "Reply", "ToolCall", "Turn", "seeded_policy"]

CREATED = 1_735_689_600
"""The `created` timestamp of every answer (2025-01-01T00:00:00Z): fixed, not the wall
clock, so that equal requests get byte-identical answers."""

_ARGUMENT_PIECE = 16  # characters of tool-call arguments per streamed delta
_WORDS = ("amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor", "lumen")


@dataclass(frozen=True)
class ToolCall:
    """One tool call in a reply; `arguments` is sent verbatim, valid JSON or not."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """What one choice answers: text, tool calls, or a refusal.

    `finish_reason` defaults to `"tool_calls"` when there are tool calls and `"stop"`
    otherwise; set it (e.g. to `"length"`) to simulate a truncated answer.
    """

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Turn:
    """One choice the simulator is about to answer: what a `Policy` decides from.

    `tools` maps each offered function's name to its parameters schema, in the order
    offered. `tool_choice` is the request's mode and `forced_tool` the name it forces,
    if any. `rng` is seeded from the simulator's seed, the request body and the choice
    `index`: a policy that draws only from it stays deterministic.
    """

    body: Mapping[str, Any]
    tools: Mapping[str, JSONSchema]
    tool_choice: Literal["none", "auto", "required"]
    forced_tool: str | None
    response_format: Mapping[str, Any] | None
    index: int
    rng: random.Random

    @property
    def last_user_text(self) -> str:
        """The text of the last user message ("" when there is none)."""
        for message in reversed(self.body["messages"]):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""

    def arguments_for(self, name: str) -> str:
        """Seeded JSON arguments that validate against tool `name`'s parameters schema.

        A tool that was not offered gets `{}`. Raises `ValueError` when the schema
        cannot be satisfied; the simulator answers that with a 400, as the API does.
        """
        schema = self.tools.get(name, {"type": "object"})
        try:
            return _dumps(generate(schema, self.rng))
        except SchemaError as exc:
            index = list(self.tools).index(name)
            raise BadRequest(
                f"Invalid schema for function '{name}': {exc}",
                f"tools[{index}].function.parameters",
                "invalid_function_parameters",
            ) from exc

    def content(self) -> str:
        """Seeded text honouring `response_format`: a sentence, a JSON object or JSON
        generated from the requested schema."""
        response_format = self.response_format or {}
        kind = response_format.get("type", "text")
        if kind == "json_schema":
            spec = response_format["json_schema"]  # present: checked when parsed
            try:
                return _dumps(generate(spec.get("schema", {"type": "object"}), self.rng))
            except SchemaError as exc:
                raise BadRequest(
                    f"Invalid schema for response_format '{spec['name']}': {exc}",
                    "response_format.json_schema.schema",
                    "invalid_json_schema",
                ) from exc
        words = " ".join(self.rng.choice(_WORDS) for _ in range(3))
        snippet = " ".join(self.last_user_text.split()[:12]) or "(no user message)"
        sentence = f'You asked: "{snippet}". Simulated answer: {words}.'
        if kind == "json_object":
            confidence = round(self.rng.uniform(0.5, 1.0), 2)
            return _dumps({"answer": sentence, "confidence": confidence})
        return sentence


Policy = Callable[[Turn], Reply]
"""Decides each choice's reply. Wrap `seeded_policy` to change only part of it, e.g.
call a tool that was not offered, or send arguments that are not valid JSON."""


def seeded_policy(turn: Turn) -> Reply:
    """The default policy: call a tool (the forced one, else one drawn from the seed) when
    tools are offered and `tool_choice` is `"required"`, or `"auto"` and the conversation
    does not end on a tool result; otherwise answer text.

    Answering a tool result with text, as models do, lets an agent's tool loop end.
    """
    answered = turn.body["messages"][-1].get("role") == "tool"
    if turn.tool_choice == "required" or (turn.tool_choice == "auto" and not answered):
        name = turn.forced_tool or turn.rng.choice(list(turn.tools))
        return Reply(tool_calls=(ToolCall(name, turn.arguments_for(name)),))
    return Reply(content=turn.content())


class OpenAISimulator:
    """An OpenAI-compatible chat-completions upstream, deterministic from `seed`.

    Routes (with or without the `/v1` prefix): `POST /chat/completions`,
    `GET /models` and `GET /models/{id}`. Answers `tools` with a tool call whose
    arguments are generated from the tool's JSON schema, honours `tool_choice`,
    `response_format` (`json_object`, `json_schema`), `n` and `stream` (Server-Sent
    Events, `stream_options.include_usage`). The legacy `functions`/`function_call`
    parameters are ignored. Malformed requests get the API's error shape
    (`{"error": {"message", "type", "param", "code"}}`) with status 400; unknown
    routes 404.

    Determinism: content, tool-call arguments and ids derive from a hash of the seed
    and the request body (minus `stream`/`stream_options`, so a streamed answer carries
    the same text as the plain one); `created` is the constant `CREATED`.

    `policy` decides each choice's reply (default: `seeded_policy`). `requests` holds
    every request received, in order. `model` is what `GET /models` lists and what
    answers echo when a request names no model.
    """

    def __init__(self, seed: int = 0, *, model: str = "sim-gpt", policy: Policy | None = None):
        self.seed = seed
        self.model = model
        self.policy: Policy = policy or seeded_policy
        self.requests: list[Request] = []
        # The backend "configuration" the API's fingerprint stands for is the seed here.
        self.system_fingerprint = "fp_" + _digest(f"sim-openai:{seed}")[:10]

    @property
    def last_request(self) -> Request | None:
        """The most recent request received, if any."""
        return self.requests[-1] if self.requests else None

    async def __call__(self, request: Request) -> Response:
        """Answer one HTTP request."""
        self.requests.append(request)
        path = request.path.rstrip("/")
        path = path.removeprefix("/v1") if path.startswith("/v1/") else path
        route = "/models" if path.startswith("/models/") else path
        allowed = {"/chat/completions": "POST", "/models": "GET"}.get(route)
        if allowed is None:
            return _error(404, f"Invalid URL ({request.method} {request.path})")
        if request.method != allowed:
            message = f"Method {request.method} not allowed on {request.path}; use {allowed}."
            response = _error(405, message, code="method_not_allowed")
            response.headers.append(("Allow", allowed))
            return response
        if route == "/chat/completions":
            try:
                return self._complete(request.body)
            except BadRequest as exc:
                return _error(400, exc.message, exc.param, exc.code)
        card = {"id": self.model, "object": "model", "created": CREATED, "owned_by": "sim"}
        if path == "/models":
            return _json(200, {"object": "list", "data": [card]})
        if path == f"/models/{self.model}":
            return _json(200, card)
        message = f"The model '{path.removeprefix('/models/')}' does not exist."
        return _error(404, message, "model", "model_not_found")

    def _complete(self, raw: bytes) -> Response:
        """Answer `POST /chat/completions`."""
        chat = parse_chat(raw, self.model)
        # Streaming changes the framing, not the answer: leave it out of the seed.
        semantic = {k: v for k, v in chat.body.items() if k not in ("stream", "stream_options")}
        digest = _digest(f"{self.seed}\n{_dumps(semantic, sort_keys=True)}")
        replies = [
            self.policy(_turn(chat, index, random.Random(f"{digest}:{index}")))
            for index in range(chat.n)
        ]
        answer = _Answer(
            "chatcmpl-" + digest[:29],
            chat.model,
            self.system_fingerprint,
            [
                [
                    (f"call_{_digest(f'{digest}:{i}:{k}')[:24]}", call)
                    for k, call in enumerate(reply.tool_calls)
                ]
                for i, reply in enumerate(replies)
            ],
            replies,
            _usage(chat.body["messages"], replies),
        )
        if not chat.stream:
            return _json(200, answer.completion())
        body = b"".join(f"data: {_dumps(chunk)}\n\n".encode() for chunk in answer.chunks(chat))
        headers = [("Content-Type", "text/event-stream; charset=utf-8")]
        return Response(200, headers, body + b"data: [DONE]\n\n")


@dataclass(frozen=True)
class _Answer:
    """The replies of one request, rendered as a completion or as stream chunks."""

    completion_id: str
    model: str
    fingerprint: str
    calls: list[list[tuple[str, ToolCall]]]  # per choice: (tool-call id, call)
    replies: list[Reply]
    usage: dict[str, int]

    def _envelope(self, kind: str) -> dict[str, Any]:
        """The fields every completion and chunk carries."""
        return {
            "id": self.completion_id,
            "object": kind,
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": self.fingerprint,
        }

    def completion(self) -> dict[str, Any]:
        """The `chat.completion` object."""
        choices = []
        for index, reply in enumerate(self.replies):
            message: dict[str, Any] = {"role": "assistant", "content": reply.content}
            message["refusal"] = reply.refusal
            if reply.tool_calls:
                message["tool_calls"] = [_tool_call(*pair) for pair in self.calls[index]]
            finish = _finish_reason(reply)
            choices.append(
                {"index": index, "message": message, "logprobs": None, "finish_reason": finish}
            )
        return {**self._envelope("chat.completion"), "choices": choices, "usage": self.usage}

    def chunks(self, chat: Chat) -> Iterator[dict[str, Any]]:
        """The `chat.completion.chunk` objects, one choice after the other."""
        extra = {"usage": None} if chat.include_usage else {}
        for index, reply in enumerate(self.replies):
            for delta, finish in self._deltas(index, reply):
                choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
                yield {**self._envelope("chat.completion.chunk"), "choices": [choice], **extra}
        if chat.include_usage:
            yield {**self._envelope("chat.completion.chunk"), "choices": [], "usage": self.usage}

    def _deltas(self, index: int, reply: Reply) -> Iterator[tuple[dict[str, Any], str | None]]:
        """One choice's deltas as the API splits them: role first, finish reason last."""
        text = None if reply.tool_calls or reply.content is None else ""
        opening: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if not reply.tool_calls:
            yield opening, None
        for k, (call_id, call) in enumerate(self.calls[index]):
            head = {"index": k, **_tool_call(call_id, ToolCall(call.name, ""))}
            yield ({**opening, "tool_calls": [head]} if k == 0 else {"tool_calls": [head]}), None
            for start in range(0, len(call.arguments), _ARGUMENT_PIECE):
                piece = call.arguments[start : start + _ARGUMENT_PIECE]
                yield {"tool_calls": [{"index": k, "function": {"arguments": piece}}]}, None
        for field in ("content", "refusal"):
            for word in re.findall(r"\s*\S+", getattr(reply, field) or ""):
                yield {field: word}, None
        yield {}, _finish_reason(reply)


def _tool_call(call_id: str, call: ToolCall) -> dict[str, Any]:
    """A tool call as the API writes it in a message."""
    function = {"name": call.name, "arguments": call.arguments}
    return {"id": call_id, "type": "function", "function": function}


def _finish_reason(reply: Reply) -> str:
    """The reply's finish reason, defaulted from what it contains."""
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _turn(chat: Chat, index: int, rng: random.Random) -> Turn:
    """What the policy sees for choice `index` of `chat`."""
    mode, forced = chat.tool_choice
    return Turn(chat.body, chat.tools, mode, forced, chat.response_format, index, rng)


def _text_of(content: object) -> str:
    """The text of a message content: a string, or the text parts of an array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _usage(messages: list[dict[str, Any]], replies: list[Reply]) -> dict[str, int]:
    """The `usage` object: a rough, deterministic count (words * 4/3, or chars / 4 for
    dense text such as JSON); the prompt is counted once, completions per choice."""

    def tokens(text: str) -> int:
        return math.ceil(max(len(text.split()) * 4 / 3, len(text) / 4))

    prompt = sum(tokens(_text_of(message.get("content"))) for message in messages)
    completion = sum(
        tokens(reply.content or reply.refusal or "")
        + sum(tokens(call.name + call.arguments) for call in reply.tool_calls)
        for reply in replies
    )
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _digest(text: str) -> str:
    """Hex SHA-256 of a string."""
    return hashlib.sha256(text.encode()).hexdigest()


def _dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON, as the API writes arguments and structured content."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


def _json(status: int, payload: Mapping[str, Any]) -> Response:
    """A JSON response."""
    return Response(status, [("Content-Type", "application/json")], _dumps(payload).encode())


def _error(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> Response:
    """An error in the API's shape: `{"error": {"message", "type", "param", "code"}}`."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return _json(status, {"error": error})
