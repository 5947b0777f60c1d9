"""The configuration's keys: for every table, each key's type, default and validation.

DESIGN.md section 4 fixes the keys; the extensions are optional. `load.py` reads a
file against these specs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from readiness.chaos.catalogue import FAULT_NAMES
from readiness.config import fields as f
from readiness.items import ITEM_KEYS

Spec = Mapping[str, f.Field]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WRITE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|\*) /\S*$")


def _env_name(value: Any, where: f.Where) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise where.error("an environment variable name such as LLM_BASE_URL", value,
                          'write env = "LLM_BASE_URL"')
    return value


def _target(value: Any, where: f.Where) -> str:
    text = f.nonempty_string(value, where)
    if text == "sim:openai" or (text.startswith("cassette:") and len(text) > 9):
        return text
    if re.match(r"^https?://[^/\s]+(/\S*)?$", text):
        return text
    raise where.error('a URL (http://host:port), "sim:openai" or "cassette:PATH"', value,
                      'write target = "http://127.0.0.1:9101" or target = "sim:openai"')


def _writes(value: Any, where: f.Where) -> tuple[str, ...]:
    items = f.string_list(value, where)
    for item in items:
        if not _WRITE.match(item):
            raise where.error('writes such as "POST /leads/*/assign" (METHOD, space, path glob)',
                              item, 'write writes = ["POST /leads/*/assign"]')
    return items


def _scrub(value: Any, where: f.Where) -> tuple[str, ...]:
    from readiness.chaos._scrub import parse_rule

    rules = f.string_list(value, where)
    for rule in rules:
        try:
            parse_rule(rule)
        except ValueError as exc:
            raise where.error('scrub rules such as "header:X-Secret", "query:sig", '
                              '"json:customer.email", "json:$.customer.email" or "regex:PATTERN"',
                              f.Found(f"{rule!r} ({exc})"),
                              'write scrub = ["header:X-Secret", "json:customer.email"]') from None
    return rules


def _source(value: Any, where: f.Where) -> str:
    text = f.nonempty_string(value, where)
    if text == "faker" or re.match(r"^(jsonl|csv):.+", text):
        return text
    raise where.error('"faker", "jsonl:PATH" or "csv:PATH"', value, 'write source = "faker"')


def _faults(value: Any, where: f.Where) -> dict[str, float]:
    if not isinstance(value, dict):
        raise where.error("a table of fault rates", value, "write faults = { rate_limit = 0.05 }")
    rates = {}
    for name, rate in value.items():
        inner = f.Where(where.file, f"{where.key}.{name}")
        if name not in FAULT_NAMES:
            close = difflib.get_close_matches(name, FAULT_NAMES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise inner.error("a fault name of the catalogue", name,
                              f"{hint}fault names are: {', '.join(FAULT_NAMES)}")
        rates[name] = f.number(0, 1)(rate, inner)
    return rates


def _items(value: Any, where: f.Where) -> tuple[str, ...]:
    keys = f.string_list(value, where)
    for key in keys:
        if key not in ITEM_KEYS:
            raise where.error("item keys of the nine-point scorecard", key,
                              f"use some of: {', '.join(ITEM_KEYS)}")
    return keys


AGENT: Spec = {
    "name": f.Field(f.nonempty_string, required=True, example='name = "lead-router"'),
    "start": f.Field(f.nonempty_string),
    "url": f.Field(f.nonempty_string),
    "app": f.Field(f.nonempty_string),
    "health": f.Field(f.nonempty_string, default="/health"),
    "startup_timeout_s": f.Field(f.number(0, exclusive_min=True), default=30.0),
    "deadline_s": f.Field(f.number(0, exclusive_min=True), default=30.0),
    "source": f.Field(f.string_list, default=()),
    "env": f.Field(f.string_table, default={}),
    "fields": f.Field(f.string_table, default={}),
}
AUTH: Spec = {"invoke_token": f.Field(f.string), "operator_token": f.Field(f.string)}
UPSTREAM: Spec = {
    "kind": f.Field(f.choice("llm", "tool"), required=True, example='kind = "tool"'),
    "target": f.Field(_target, required=True, example='target = "sim:openai"'),
    "env": f.Field(_env_name, required=True, example='env = "CRM_BASE_URL"'),
    "writes": f.Field(_writes, default=()),
    "start": f.Field(f.nonempty_string),
    "health": f.Field(f.nonempty_string),
    "startup_timeout_s": f.Field(f.number(0, exclusive_min=True), default=30.0),
    "seed": f.Field(f.number(0, integer=True), default=0),
    "scrub": f.Field(_scrub, default=()),
}
SCENARIO: Spec = {
    "source": f.Field(_source, default="faker"),
    "fields": f.Field(f.string_table, default={}),
    "seed": f.Field(f.number(0, integer=True), default=0),
    "volume_per_day": f.Field(f.number(1, integer=True)),
    "locale": f.Field(f.nonempty_string, default="en_US"),
    "unique": f.Field(f.string_list, default=()),
    "on_bad_record": f.Field(f.choice("fail", "skip"), default="fail"),
}
LOAD: Spec = {
    "users": f.Field(f.number(1, integer=True), default=10),
    "duration": f.Field(f.duration, default=20.0),
    "p95_ms": f.Field(f.number(0, exclusive_min=True), default=2000.0),
    "max_error_rate": f.Field(f.number(0, 1), default=0.01),
    "faults": f.Field(_faults, default={}),
    "peak_factor": f.Field(f.number(1), default=3.0),
    "workers": f.Field(f.number(0, integer=True), default=0),
    "capacity": f.Field(f.boolean, default=False),
}
ALERTS: Spec = {
    "env": f.Field(_env_name, default="ALERT_WEBHOOK_URL"),
    "within_s": f.Field(f.number(0, exclusive_min=True), default=30.0),
}
VERSION: Spec = {"files": f.Field(f.string_list, default=())}
OWNER: Spec = {
    "name": f.Field(f.string), "role": f.Field(f.string), "contact": f.Field(f.string),
    "backup": f.Field(f.string), "backup_contact": f.Field(f.string),
    "handle": f.Field(f.string), "reviewed": f.Field(f.date),
    "max_age_days": f.Field(f.number(1, integer=True), default=90),
    "codeowners": f.Field(f.nonempty_string),
}
DOCS: Spec = {key: f.Field(f.nonempty_string) for key in ("runbook", "faq", "escalation",
                                                            "training")}
PROVIDER: Spec = {
    "model": f.Field(f.string), "host": f.Field(f.string), "region": f.Field(f.string),
    "retention_days": f.Field(f.number(0, integer=True)),
    "trains_on_inputs": f.Field(f.boolean),
}
DATA: Spec = {
    "reads": f.Field(f.string_list, default=()), "writes": f.Field(f.string_list, default=()),
    "retention_days": f.Field(f.number(0, integer=True)), "pii": f.Field(f.string_list, default=()),
    "shared_with": f.Field(f.string_list, default=()),
    "redact": f.Field(f.string_list, default=()),
}
COMPLIANCE: Spec = {"frameworks": f.Field(f.string_list, default=())}
SECURITY: Spec = {"baseline": f.Field(f.nonempty_string)}
GATE: Spec = {
    "required": f.Field(_items, default=ITEM_KEYS),
    "min_score": f.Field(f.number(0, 10), default=7.0),
    "waivers": f.Field(f.nonempty_string),
}
HISTORY: Spec = {"enabled": f.Field(f.boolean, default=True),
                  "path": f.Field(f.nonempty_string, default=".readiness/history.db")}
SECTIONS: dict[str, Spec] = {
    "agent": AGENT, "auth": AUTH, "upstreams": {}, "scenario": SCENARIO, "load": LOAD,
    "alerts": ALERTS, "version": VERSION, "owner": OWNER, "docs": DOCS,
    "provider": PROVIDER, "data": DATA, "compliance": COMPLIANCE, "security": SECURITY,
    "gate": GATE, "history": HISTORY,
}
