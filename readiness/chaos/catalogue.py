"""Fault names of the catalogue (DESIGN.md section 2); the names are a fixed interface."""

from __future__ import annotations

TRANSPORT_FAULTS = (
    "rate_limit",
    "server_error",
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
FAULT_NAMES = TRANSPORT_FAULTS + MALFORMED_FAULTS + LLM_FAULTS
