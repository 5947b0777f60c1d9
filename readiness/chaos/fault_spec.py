"""`--fault SPEC` for `readiness proxy`, and `[load] faults` rates, as schedule rules.

Syntax: `NAME[:key=value[,key=value...]]`, e.g.

    rate_limit                                  every request gets a 429 (Retry-After: 1)
    rate_limit:retry_after=5,first=2            the first 2 requests, Retry-After: 5
    server_error:status=502,p=0.1,seed=7        10% of requests, seeded
    timeout:route=POST%20/v1/chat/*,window=0-30 chat calls during the first 30 s
    llm_bad_tool_args:mode=schema,id=req-42     only the request with X-Request-ID req-42

Schedule keys: `first` (the first N matching requests), `p` (probability 0-1, seeded
by `seed`), `window` (`START-END` seconds after the proxy starts; `START-` is open
ended), `route` (`[METHOD ]PATH-GLOB`; write the space as `%20` or quote the whole
spec in the shell), `id` (correlation id: X-Request-ID, else the traceparent
trace-id), `times` (fire at most N times), `seed`, `upstream`. Every other key is
a parameter of the fault, typed from the catalogue (whole numbers, numbers,
`true`/`false`, text; `none` turns an optional parameter off). Values may use
%-escapes (`%2C` for a comma). Repeat `--fault`: the first rule that fires wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from readiness.chaos.catalogue import DESCRIPTIONS, FAULT_NAMES, PARAMS, Param
from readiness.chaos.faults import Fault, check_value, did_you_mean, expected_value
from readiness.chaos.schedule import Rule

__all__ = ["FAULT_SPEC_HELP", "SCHEDULE_KEYS", "parse_fault_rates", "parse_fault_spec"]

SCHEDULE_KEYS = ("first", "p", "window", "route", "id", "times", "seed", "upstream")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _fault_lines() -> str:
    """One line per fault: name, parameters, what it does."""
    lines = []
    for name in FAULT_NAMES:
        params = ",".join(f"{param.name}=" for param in PARAMS[name])
        lines.append(f"  {name}{':' + params if params else ''}  {DESCRIPTIONS[name]}")
    return "\n".join(lines)


FAULT_SPEC_HELP = (
    "inject a fault: NAME[:key=value,...] (repeatable; the first rule that fires wins). "
    "Schedule keys: first=N (first N matching requests), p=0.05 (seeded probability), "
    "window=START-END (seconds since start), route='POST /v1/*' (or POST%20/v1/*), "
    "id=REQUEST_ID (X-Request-ID or traceparent trace-id), times=N, seed=N, upstream=NAME. "
    "Other keys are the fault's parameters, e.g. rate_limit:retry_after=5,first=2 or "
    "server_error:status=502,p=0.1. Faults:\n" + _fault_lines()
)


def parse_fault_spec(text: str) -> Rule:
    """A `--fault` spec as a schedule `Rule`; `ValueError` with a one-line fix if wrong."""
    spec = text.strip()
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name:
        raise _error(text, "no fault name: expected NAME[:key=value,...] like rate_limit:first=2")
    if name not in PARAMS:
        raise _error(
            text,
            f"unknown fault {name!r}{did_you_mean(name, FAULT_NAMES)}; "
            f"valid faults: {', '.join(FAULT_NAMES)}",
        )
    params: dict[str, Any] = {}
    schedule: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, equals, raw = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise _error(text, f"{item!r} is not key=value; valid keys: {_keys(name)}")
        if key in params or key in schedule:
            raise _error(text, f"{key!r} is given twice")
        value = unquote(_unquoted(raw.strip()))
        if key in SCHEDULE_KEYS:
            schedule[key] = _schedule_value(text, key, value)
            continue
        specs = {param.name: param for param in PARAMS[name]}
        if key not in specs:
            raise _error(
                text,
                f"unknown key {key!r} for {name}{did_you_mean(key, [*specs, *SCHEDULE_KEYS])}; "
                f"valid keys: {_keys(name)}",
            )
        params[key] = _param_value(text, name, specs[key], value)
    try:
        return Rule(
            Fault(name, params),
            upstream=schedule.get("upstream"),
            route=schedule.get("route"),
            correlation_id=schedule.get("id"),
            first=schedule.get("first"),
            probability=schedule.get("p"),
            window=schedule.get("window"),
            times=schedule.get("times"),
            seed=schedule.get("seed", 0),
        )
    except ValueError as exc:
        raise _error(text, str(exc)) from None


def parse_fault_rates(
    rates: Mapping[str, Any], *, seed: int = 0, upstream: str | None = None
) -> list[Rule]:
    """`[load] faults = { rate_limit = 0.05 }` as probability rules, in the table's order.

    Each rule draws from its own seeded stream (`seed` and the fault's name), so a
    load run replays the same faults for the same order of requests.
    """
    rules = []
    for name, rate in rates.items():
        if name not in PARAMS:
            raise ValueError(
                f"[load] faults: unknown fault {name!r}{did_you_mean(name, FAULT_NAMES)}; "
                f"valid faults: {', '.join(FAULT_NAMES)}"
            )
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(
                f"[load] faults: {name} must be a probability from 0 to 1 "
                f"(e.g. {name} = 0.05), got {rate!r}"
            )
        rules.append(Rule(Fault(name), probability=float(rate), seed=seed, upstream=upstream))
    return rules


def _error(text: str, problem: str) -> ValueError:
    """The parser's one-line error."""
    return ValueError(f"invalid --fault {text!r}: {problem}")


def _keys(name: str) -> str:
    """The keys a spec for fault `name` accepts."""
    return ", ".join([*SCHEDULE_KEYS, *(param.name for param in PARAMS[name])])


def _unquoted(value: str) -> str:
    """The value without one pair of surrounding quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _schedule_value(text: str, key: str, value: str) -> Any:
    """A schedule key's value, typed."""
    try:
        if key in ("first", "times", "seed"):
            return int(value)
        if key == "p":
            return float(value)
        if key == "window":
            start, dash, end = value.partition("-")
            if not dash:
                raise ValueError
            return (float(start), float(end) if end.strip() else float("inf"))
    except ValueError:
        expected = {
            "first": "a whole number like first=3",
            "times": "a whole number like times=1",
            "seed": "a whole number like seed=7",
            "p": "a probability like p=0.05",
            "window": "START-END seconds like window=0-30 (or 10- for open-ended)",
        }[key]
        raise _error(text, f"{key}={value!r} is not {expected}") from None
    if not value:
        raise _error(text, f"{key} is empty")
    return value


def _param_value(text: str, fault: str, param: Param, value: str) -> Any:
    """A fault parameter's value, typed from the catalogue and checked."""
    try:
        typed = _convert(param, value)
    except ValueError:
        raise _error(text, f"{param.name}={value!r} is not {expected_value(param)}") from None
    try:
        return check_value(fault, param, typed)
    except ValueError as exc:
        raise _error(text, str(exc)) from None


def _convert(param: Param, value: str) -> Any:
    """Text to the parameter's type; `ValueError` when it does not convert."""
    lowered = value.lower()
    if param.optional and lowered == "none":
        return None
    if param.kind is bool:
        if lowered not in _TRUE | _FALSE:
            raise ValueError(value)
        return lowered in _TRUE
    if param.kind is int:
        return int(value)
    if param.kind is float:
        return float(value)
    return value
