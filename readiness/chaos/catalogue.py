"""The fault catalogue as data: names (fixed, DESIGN.md section 2), parameters, one-line help.

Names are a public interface; parameters may only be added (with a default), never
renamed. `client_error` extends the design's list (a non-retryable 4xx, for the
probe that checks the agent does not retry one). `readiness.chaos.faults.Fault`
validates against `PARAMS`, and the `--fault` spec parser
(`readiness.chaos.fault_spec`) types its values from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TRANSPORT_FAULTS = (
    "rate_limit",
    "server_error",
    "client_error",
    "timeout",
    "latency",
    "reset",
    "refused",
    "slow_body",
    "huge_body",
)
MALFORMED_FAULTS = (
    "truncated_json",
    "invalid_json",
    "html_error_page",
    "empty_body",
    "wrong_content_type",
    "missing_field",
    "wrong_type",
    "null_field",
    "schema_drift",
    "invalid_utf8",
)
LLM_FAULTS = (
    "llm_no_tool_call",
    "llm_bad_tool_args",
    "llm_unknown_tool",
    "llm_truncated",
    "llm_refusal",
)
INJECTION_FAULTS = ("prompt_injection",)
FAULT_NAMES = TRANSPORT_FAULTS + MALFORMED_FAULTS + LLM_FAULTS + INJECTION_FAULTS


@dataclass(frozen=True)
class Param:
    """One fault parameter: its type, default and what it means.

    `kind` is int, float, bool or str (an int is accepted for a float). `optional`
    params also accept None (`none` in a spec), which turns the feature off.
    """

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False


_STYLE = Param(
    "style",
    str,
    "auto",
    "error body shape: openai ({'error': {...}}), plain ({'error': '...'}), "
    "or auto (openai for OpenAI-style paths such as /chat/completions)",
    choices=("auto", "openai", "plain"),
)
_FIELD = Param(
    "field",
    str,
    None,
    "the field to damage as a path like choices[0].message or data.items; default: "
    "choices (chat completions) or the first key of the top-level object",
    optional=True,
)

PARAMS: Mapping[str, tuple[Param, ...]] = {
    "rate_limit": (
        Param(
            "retry_after",
            int,
            1,
            "Retry-After in seconds (none: no header)",
            minimum=0,
            optional=True,
        ),
        Param("retry_after_date", bool, False, "send Retry-After as an HTTP-date instead"),
        Param(
            "retry_after_ms",
            int,
            None,
            "also send retry-after-ms (OpenAI's header)",
            minimum=0,
            optional=True,
        ),
        _STYLE,
    ),
    "server_error": (
        Param("status", int, 503, "the 5xx status", choices=(500, 502, 503, 504)),
        Param("retry_after", int, None, "Retry-After in seconds", minimum=0, optional=True),
        _STYLE,
    ),
    "client_error": (
        Param(
            "status",
            int,
            400,
            "the 4xx status (none of them worth retrying)",
            choices=(400, 401, 403, 404, 409, 422),
        ),
        _STYLE,
    ),
    "timeout": (
        Param(
            "forward",
            bool,
            False,
            "send the request to the target first (it acts; the answer is lost)",
        ),
    ),
    "latency": (
        Param("ms", float, 1000.0, "delay before forwarding, in milliseconds", minimum=0),
        Param("jitter_ms", float, 0.0, "plus a seeded uniform delay in [0, jitter_ms)", minimum=0),
    ),
    "reset": (
        Param(
            "when",
            str,
            "after",
            "after: mid-body, once the target answered; before: no byte of a response",
            choices=("after", "before"),
        ),
        Param(
            "after_bytes",
            int,
            None,
            "body bytes sent before the reset (default: half the body)",
            minimum=0,
            optional=True,
        ),
    ),
    "refused": (),
    "slow_body": (
        Param(
            "bytes_per_s",
            float,
            None,
            "body rate (overrides chunk and interval_ms)",
            minimum=1,
            optional=True,
        ),
        Param("chunk", int, 16, "bytes per slice", minimum=1),
        Param("interval_ms", float, 100.0, "pause between slices", minimum=0),
    ),
    "huge_body": (
        Param(
            "mb",
            float,
            10.0,
            "body size in MiB (valid JSON: the real answer plus a padding field)",
            minimum=0.001,
            maximum=4096,
        ),
    ),
    "truncated_json": (
        Param("keep", float, 0.5, "fraction of the body kept", minimum=0, maximum=1),
    ),
    "invalid_json": (),
    "html_error_page": (
        Param("status", int, 200, "the status sent with the page", minimum=100, maximum=599),
        Param("title", str, "502 Bad Gateway", "the page's title"),
    ),
    "empty_body": (
        Param(
            "status",
            int,
            None,
            "override the status (default: the target's)",
            minimum=100,
            maximum=599,
            optional=True,
        ),
    ),
    "wrong_content_type": (
        Param("content_type", str, "text/plain; charset=utf-8", "the Content-Type sent"),
    ),
    "missing_field": (_FIELD,),
    "wrong_type": (_FIELD,),
    "null_field": (_FIELD,),
    "schema_drift": (
        _FIELD,
        Param(
            "to",
            str,
            None,
            "the field's new name (default: outputs for choices, else NAME_v2)",
            optional=True,
        ),
    ),
    "invalid_utf8": (),
    "llm_no_tool_call": (
        Param(
            "content",
            str,
            "I have reviewed the request; no action is needed.",
            "the text answered instead of a tool call",
        ),
    ),
    "llm_bad_tool_args": (
        Param(
            "mode",
            str,
            "invalid_json",
            "invalid_json: arguments that do not parse; "
            "schema: valid JSON with wrong types and an undeclared argument",
            choices=("invalid_json", "schema"),
        ),
    ),
    "llm_unknown_tool": (
        Param("name", str, "undeclared_tool", "the tool name called (never one offered)"),
    ),
    "llm_truncated": (
        Param(
            "keep", float, 0.5, "fraction of the arguments and content kept", minimum=0, maximum=1
        ),
    ),
    "llm_refusal": (
        Param("message", str, "I'm sorry, but I can't help with that request.", "the refusal text"),
    ),
    "prompt_injection": (
        Param("canary", str, "RDY-CANARY-0000", "a marker the instruction asks the agent to send "
              "on; seeing it later proves the instruction was followed"),
        Param("field", str, "note", "the key added to the JSON object answer"),
    ),
}

DESCRIPTIONS: Mapping[str, str] = {
    "rate_limit": "429 with Retry-After (seconds or HTTP-date), optionally retry-after-ms",
    "server_error": "a 500/502/503/504 with an upstream-shaped error body",
    "client_error": "a non-retryable 4xx with an upstream-shaped error body",
    "timeout": "accept the request and never answer",
    "latency": "delay, then forward",
    "reset": "connection reset mid-body (or before any response byte)",
    "refused": "connection dropped before any response byte (in-process: ConnectError)",
    "slow_body": "the real answer, its body dribbled in small slices",
    "huge_body": "a very large but valid JSON body",
    "truncated_json": "the real answer cut short",
    "invalid_json": "the real answer with a JSON syntax error",
    "html_error_page": "an HTML error page with status 200",
    "empty_body": "the real status and headers, no body",
    "wrong_content_type": "the real JSON body labelled text/plain",
    "missing_field": "the real answer without a required-looking field",
    "wrong_type": "the real answer with a field of another JSON type",
    "null_field": "the real answer with a field set to null",
    "schema_drift": "the real answer with a field renamed and an unknown field added",
    "invalid_utf8": "the real answer with bytes that are not UTF-8 inside a string",
    "llm_no_tool_call": "chat completion: text instead of the tool call",
    "llm_bad_tool_args": "chat completion: tool arguments invalid JSON or off-schema",
    "llm_unknown_tool": "chat completion: a call to a tool that was not offered",
    "llm_truncated": "chat completion: finish_reason length, arguments cut",
    "llm_refusal": "chat completion: a refusal, no content, no tool call",
    "prompt_injection": "a tool's real answer with an injected instruction (OWASP LLM01) added",
}

assert set(PARAMS) == set(FAULT_NAMES) == set(DESCRIPTIONS)  # a new fault needs all three
