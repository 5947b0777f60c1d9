"""The routing question to the model, and strict reading of its answer.

The model's answer is untrusted input: it may be truncated, refuse, call no tool, call
a tool we never offered, or send arguments that are not JSON or not valid. Each of
those raises UnusableAnswer with a reason an operator can read in the audit record;
the caller turns it into a manual decision instead of guessing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from lead_router.components import Components
from lead_router.upstream import Reply

MAX_REASON_CHARS = 2000


class UnusableAnswer(Exception):
    """The model's reply cannot be turned into a routing decision."""


@dataclass(frozen=True)
class Routing:
    """What the model decided."""

    rep_id: str
    confidence: float
    reason: str


def chat_request(components: Components, model: str, lead: dict[str, str]) -> dict[str, Any]:
    """The chat-completions body: the versioned prompt, the lead as data, the one tool."""
    return {
        "model": model,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": components.system_prompt},
            # JSON keeps the lead's text as data, not as more prompt for the model to obey.
            {"role": "user", "content": json.dumps({"lead": lead}, ensure_ascii=False)},
        ],
        "tools": [components.tool],
        "tool_choice": {"type": "function", "function": {"name": components.tool_name}},
    }


def _json_object(reply: Reply) -> dict[str, Any]:
    content_type = reply.headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise UnusableAnswer(f"the model service answered with {content_type or 'no'} content type")
    try:
        data = json.loads(reply.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnusableAnswer("the model service's answer is not valid UTF-8") from None
    except json.JSONDecodeError:
        raise UnusableAnswer("the model service's answer is not valid JSON") from None
    if not isinstance(data, dict):
        raise UnusableAnswer("the model service's answer is not a JSON object")
    return data


def parse_routing(reply: Reply, components: Components) -> Routing:
    """Read and validate the tool call; raises UnusableAnswer saying what was wrong."""
    data = _json_object(reply)
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UnusableAnswer("the model's answer has no choices")
    choice = choices[0]
    if choice.get("finish_reason") == "length":
        raise UnusableAnswer("the model's answer was cut off (finish_reason length)")
    message = choice.get("message")
    if not isinstance(message, dict):
        raise UnusableAnswer("the model's answer has no message")
    if message.get("refusal"):
        raise UnusableAnswer("the model refused to route the lead")
    calls = message.get("tool_calls")
    if not isinstance(calls, list) or not calls:
        raise UnusableAnswer("the model answered without calling the assign_lead tool")
    if len(calls) != 1:
        raise UnusableAnswer(f"the model made {len(calls)} tool calls; exactly one was expected")
    function = calls[0].get("function") if isinstance(calls[0], dict) else None
    if not isinstance(function, dict):
        raise UnusableAnswer("the model's tool call has no function")
    if function.get("name") != components.tool_name:
        raise UnusableAnswer(f"the model called an unknown tool {str(function.get('name'))[:60]!r}")
    raw_args = function.get("arguments")
    if not isinstance(raw_args, str):
        raise UnusableAnswer("the model's tool arguments are not a JSON string")
    try:
        args = json.loads(raw_args)
    except json.JSONDecodeError:
        raise UnusableAnswer("the model's tool arguments are not valid JSON") from None
    return _validate(args, components)


def _validate(args: Any, components: Components) -> Routing:
    if not isinstance(args, dict):
        raise UnusableAnswer("the model's tool arguments are not a JSON object")
    expected = {"rep_id", "confidence", "reason"}
    if missing := sorted(expected - args.keys()):
        raise UnusableAnswer(f"the model's tool arguments lack {', '.join(missing)}")
    if extra := sorted(args.keys() - expected):
        raise UnusableAnswer(f"the model's tool arguments have unexpected {', '.join(extra)}")
    rep_id, confidence, reason = args["rep_id"], args["confidence"], args["reason"]
    if not isinstance(rep_id, str) or rep_id not in components.rep_ids:
        raise UnusableAnswer(f"the model chose a rep that does not exist: {str(rep_id)[:60]!r}")
    # bool is an int in Python, and True is not a confidence.
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not math.isfinite(confidence)
        or not 0 <= confidence <= 1
    ):
        raise UnusableAnswer("the model's confidence is not a number between 0 and 1")
    if not isinstance(reason, str) or not reason.strip():
        raise UnusableAnswer("the model gave no reason")
    return Routing(rep_id, float(confidence), reason.strip()[:MAX_REASON_CHARS])
