"""`--fault SPEC` and `[load] faults` parsing: good specs and every kind of error."""

from __future__ import annotations

import math

import pytest

from readiness.chaos import fault_spec
from readiness.chaos.catalogue import FAULT_NAMES
from readiness.chaos.fault_spec import FAULT_SPEC_HELP, parse_fault_rates, parse_fault_spec
from readiness.chaos.faults import Fault
from readiness.chaos.schedule import Rule


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("rate_limit", Rule(Fault("rate_limit"))),
        (
            "rate_limit:retry_after=5,first=2",
            Rule(Fault("rate_limit", {"retry_after": 5}), first=2),
        ),
        (
            "server_error:status=502,p=0.1,seed=7",
            Rule(Fault("server_error", {"status": 502}), probability=0.1, seed=7),
        ),
        (
            "timeout:route=POST%20/v1/chat/*,window=0-30",
            Rule(Fault("timeout"), route="POST /v1/chat/*", window=(0.0, 30.0)),
        ),
        (
            "timeout: route = POST /v1/* , window=10-",
            Rule(Fault("timeout"), route="POST /v1/*", window=(10.0, math.inf)),
        ),
        (
            "llm_bad_tool_args:mode=schema,id=req-42,upstream=llm,times=1",
            Rule(
                Fault("llm_bad_tool_args", {"mode": "schema"}),
                correlation_id="req-42",
                upstream="llm",
                times=1,
            ),
        ),
        (
            "rate_limit:retry_after=none,retry_after_date=yes,retry_after_ms=250",
            Rule(
                Fault(
                    "rate_limit",
                    {"retry_after": None, "retry_after_date": True, "retry_after_ms": 250},
                )
            ),
        ),
        (
            "wrong_content_type:content_type='text/html; charset=utf-8'",
            Rule(Fault("wrong_content_type", {"content_type": "text/html; charset=utf-8"})),
        ),
        (
            "missing_field:field=choices[0].message",
            Rule(Fault("missing_field", {"field": "choices[0].message"})),
        ),
        ("latency:ms=250,jitter_ms=50", Rule(Fault("latency", {"ms": 250.0, "jitter_ms": 50.0}))),
    ],
)
def test_good_specs(spec: str, expected: Rule) -> None:
    assert parse_fault_spec(spec) == expected


@pytest.mark.parametrize(
    "rule",
    [
        Rule(Fault("rate_limit", {"retry_after": 5}), first=2, route="POST /v1/*"),
        Rule(Fault("server_error", {"status": 504}), probability=0.25, seed=3, times=4),
        Rule(Fault("latency", {"ms": 12.5}), window=(1, 2.5), correlation_id="a b", upstream="x"),
        Rule(Fault("wrong_content_type", {"content_type": "text/plain, x=1"})),
        Rule(Fault("rate_limit", {"retry_after": None})),
    ],
)
def test_str_of_a_rule_parses_back_to_it(rule: Rule) -> None:
    assert parse_fault_spec(str(rule)) == rule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "invalid --fault '': no fault name: expected NAME[:key=value,...]"),
        (":first=1", "no fault name"),
        (
            "rate_limt:first=1",
            "unknown fault 'rate_limt' (did you mean 'rate_limit'?); valid faults: rate_limit,",
        ),
        (
            "rate_limit:retry=3",
            "unknown key 'retry' for rate_limit (did you mean 'retry_after'?); valid keys: "
            "first, p, window, route, id, times, seed, upstream, retry_after, retry_after_date,",
        ),
        ("rate_limit:frist=3", "unknown key 'frist' for rate_limit (did you mean 'first'?)"),
        ("refused:first", "'first' is not key=value; valid keys: first, p, window"),
        ("refused:=3", "'=3' is not key=value"),
        ("refused:first=1,first=2", "'first' is given twice"),
        ("refused:first=two", "first='two' is not a whole number like first=3"),
        ("refused:first=0", "first must be a whole number >= 1, got 0"),
        ("refused:p=often", "p='often' is not a probability like p=0.05"),
        ("refused:p=2", "probability must be from 0 to 1, got 2.0"),
        ("refused:window=30", "window='30' is not START-END seconds like window=0-30"),
        ("refused:window=30-10", "window must be (start_s, end_s) with 0 <= start < end"),
        ("refused:route=v1/*", "invalid route 'v1/*': expected [METHOD ]PATH-GLOB"),
        ("refused:id=", "id is empty"),
        ("rate_limit:retry_after=soon", "retry_after='soon' is not a whole number >= 0 (or none)"),
        ("rate_limit:retry_after_date=maybe", "retry_after_date='maybe' is not true or false"),
        ("server_error:status=501", "status must be one of 500, 502, 503, 504, got 501"),
        ("server_error:status=none", "status='none' is not one of 500, 502, 503, 504"),
        ("truncated_json:keep=2", "keep must be a number from 0 to 1, got 2.0"),
        ("null_field:field=a..b", "invalid field path 'a..b'"),
    ],
)
def test_errors_are_one_line_and_say_what_to_fix(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_fault_spec(spec)
    text = str(raised.value)
    assert text.startswith(f"invalid --fault {spec!r}: ") and message in text and "\n" not in text


def test_help_names_every_fault_and_the_schedule_keys() -> None:
    for name in FAULT_NAMES:
        assert f"\n  {name}" in FAULT_SPEC_HELP
    for key in fault_spec.SCHEDULE_KEYS:
        assert f"{key}=" in FAULT_SPEC_HELP
    assert "rate_limit:retry_after=,retry_after_date=,retry_after_ms=,style=" in FAULT_SPEC_HELP
    assert "NAME[:key=value" in (fault_spec.__doc__ or "")


def test_fault_rates_become_seeded_probability_rules() -> None:
    rules = parse_fault_rates({"rate_limit": 0.05, "timeout": 0}, seed=9, upstream="llm")
    assert rules == [
        Rule(Fault("rate_limit"), probability=0.05, seed=9, upstream="llm"),
        Rule(Fault("timeout"), probability=0.0, seed=9, upstream="llm"),
    ]


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"timout": 0.1}, "[load] faults: unknown fault 'timout' (did you mean 'timeout'?)"),
        ({"timeout": 1.5}, "[load] faults: timeout must be a probability from 0 to 1"),
        ({"timeout": "0.1"}, "(e.g. timeout = 0.05), got '0.1'"),
        ({"timeout": True}, "got True"),
    ],
)
def test_fault_rate_errors(rates: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_fault_rates(rates)
    assert message in str(raised.value)
