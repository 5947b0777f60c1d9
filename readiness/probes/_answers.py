"""Judging an agent's answers: leaked stack traces, and what a clear rejection looks like."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_TRACE = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \\?\"[^\"\n]+\\?\", line \d+"
    r"|\b(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b:"
    r"|\bat [\w$.]+\([\w$]+\.java:\d+\)"
    r"|\bat [^\s()]+ \([^()\s]+:\d+:\d+\)"
    r"|\bgoroutine \d+ \[running\]:"
)


def leaked_trace(reply_text: str, body: Any = None) -> str | None:
    """The first stack-trace or exception-class fragment in a reply, or None."""
    for text in [reply_text, *_strings(body)]:
        match = _TRACE.search(text)
        if match:
            return match.group(0)
    return None


def _strings(value: Any) -> list[str]:
    """Every string inside a parsed JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def bad_input_problem(status: int | None, body: str, error: str | None = None,
                      error_field: str = "error") -> str | None:
    """Why an answer to a bad invoke input is wrong, or None for a clear 4xx JSON error.

    The fuzzer can use this as its property, so it and the probe agree.
    """
    if error is not None or status is None:
        return f"no answer: {error or 'none'} (a crash or a hang)"
    if status >= 500:
        return f"answered HTTP {status}: the agent broke on input it should reject"
    if status < 400:
        return f"answered HTTP {status}: it accepted input that breaks the contract"
    trace = leaked_trace(body)
    if trace:
        return f"answered HTTP {status} with a stack trace ({trace!r})"
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    message = data.get(error_field) if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return f'answered HTTP {status} without a JSON {{"{error_field}": "..."}} body'
    return None
