"""Streamed chat completions (Server-Sent Events) to one completion object and back.

LLM faults edit a `chat.completion`; for a streamed answer they assemble the chunks
into one, damage it, and render it again as a short but well-formed stream.
"""

from __future__ import annotations

import json
from typing import Any

_DONE = b"[DONE]"


def is_event_stream(content_type: str | None) -> bool:
    """Whether a Content-Type announces Server-Sent Events."""
    return content_type is not None and content_type.lower().startswith("text/event-stream")


def parse_events(body: bytes) -> list[dict[str, Any]] | None:
    """The JSON objects of an SSE body's `data:` lines; None when it is not such a body."""
    events: list[dict[str, Any]] = []
    for line in body.splitlines():
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == _DONE:
            break
        try:
            event = json.loads(data)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        events.append(event)
    return events or None


def assemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """One `chat.completion` from its `chat.completion.chunk`s (deltas concatenated)."""
    first = chunks[0]
    completion: dict[str, Any] = {
        key: first[key] for key in ("id", "created", "model", "system_fingerprint") if key in first
    }
    completion["object"] = "chat.completion"
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        if chunk.get("usage"):
            completion["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            entry = choices.setdefault(
                index,
                {
                    "index": index,
                    "message": {"role": "assistant", "content": None, "refusal": None},
                    "logprobs": None,
                    "finish_reason": None,
                },
            )
            _merge_delta(entry["message"], choice.get("delta") or {})
            if choice.get("finish_reason"):
                entry["finish_reason"] = choice["finish_reason"]
    completion["choices"] = [choices[index] for index in sorted(choices)]
    return completion


def _merge_delta(message: dict[str, Any], delta: dict[str, Any]) -> None:
    """Append one delta's text and tool-call pieces to the message being built."""
    for field in ("content", "refusal"):
        if delta.get(field) is not None:
            message[field] = (message[field] or "") + delta[field]
    for piece in delta.get("tool_calls") or []:
        calls = message.setdefault("tool_calls", [])
        while len(calls) <= piece.get("index", 0):
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        call = calls[piece.get("index", 0)]
        call["id"] = piece.get("id") or call["id"]
        function = piece.get("function") or {}
        call["function"]["name"] += function.get("name") or ""
        call["function"]["arguments"] += function.get("arguments") or ""


def render(completion: dict[str, Any], include_usage: bool) -> bytes:
    """A completion as an SSE stream: per choice one delta with everything, then its
    finish reason; the usage chunk when the original stream had one; `[DONE]`."""
    envelope = {key: value for key, value in completion.items() if key not in ("choices", "usage")}
    envelope["object"] = "chat.completion.chunk"
    events: list[dict[str, Any]] = []
    for choice in completion.get("choices") or []:
        message = choice.get("message") or {}
        delta = {key: message.get(key) for key in ("role", "content", "refusal")}
        if message.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": k, **call} for k, call in enumerate(message["tool_calls"])
            ]
        base = {"index": choice.get("index", 0), "logprobs": None}
        events.append({**envelope, "choices": [{**base, "delta": delta, "finish_reason": None}]})
        finish = {**base, "delta": {}, "finish_reason": choice.get("finish_reason")}
        events.append({**envelope, "choices": [finish]})
    if include_usage and "usage" in completion:
        events.append({**envelope, "choices": [], "usage": completion["usage"]})
    lines = [f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()
