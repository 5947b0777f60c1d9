"""Scrubbing by rule: headers, query parameters, JSON keys and paths, patterns, learned values."""

from __future__ import annotations

import json

import pytest
from vcr.request import Request as VcrRequest

from readiness.chaos.cassette import SCRUBBED, Scrubber, parse_rule
from readiness.scenarios.canaries import make_canary, plant

# secret shapes, assembled so that no scanner mistakes this file for a leak
OPENAI_KEY = "sk-proj-" + "a1B2" * 6
AWS_KEY_ID = "AKIA" + "ABCDEFGH" * 2
GITHUB_TOKEN = "ghp_" + "x1" * 18
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJlLXNpZw"


def scrub_json(scrubber: Scrubber, data: object) -> object:
    return json.loads(scrubber.body(json.dumps(data).encode(), "application/json"))


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {OPENAI_KEY}", f"key {OPENAI_KEY}", f"aws {AWS_KEY_ID} here",
    f"token={GITHUB_TOKEN}", f"jwt {JWT}", "mail ada.lovelace+crm@example.com now",
    "call +1 555 0134 5678 today", "call (555) 013-4567x12", "call 555.013.4567",
])
def test_default_patterns_scrub_secrets_and_personal_data_anywhere(text: str) -> None:
    scrubbed = Scrubber().text(text)
    assert SCRUBBED in scrubbed
    for secret in (OPENAI_KEY, AWS_KEY_ID, GITHUB_TOKEN, JWT, "example.com", "0134", "4567"):
        assert secret not in scrubbed


@pytest.mark.parametrize("text", [
    "created 1735689600", "v1.2.3", "2024-06-10 12:00:00", "price +0.5", "delta +3 4 5",
    "uuid 16e41357-9fb8-4288-bb65-a4db2ddca0b8", "chatcmpl-c7d826090e9b2770f08ea196635db",
    "max_tokens", "",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Scrubber().text(text) == text


def test_json_keys_at_any_depth_but_not_token_counts() -> None:
    data = {"user": {"Email": "a@b.co", "api-key": "k", "password": "p", "phone_number": 5},
            "usage": {"prompt_tokens": 3, "max_tokens": 9}, "items": [{"access_token": "t"}],
            "email_verified": True, "note": None, "secret": ""}
    assert scrub_json(Scrubber(), data) == {
        "user": {"Email": SCRUBBED, "api-key": SCRUBBED, "password": SCRUBBED,
                 "phone_number": SCRUBBED},
        "usage": {"prompt_tokens": 3, "max_tokens": 9}, "items": [{"access_token": SCRUBBED}],
        "email_verified": True, "note": None, "secret": ""}


def test_configured_rules_add_to_the_defaults() -> None:
    scrubber = Scrubber(["json:account_number", "json:$.customer.*.street", "header:X-Tenant",
                         "query:tenant", r"regex:ACME-\d{4}"])
    data = {"account_number": "1", "customer": {"home": {"street": "Main St", "city": "Oslo"}},
            "street": "kept: not at that path", "ref": "order ACME-1234 shipped"}
    assert scrub_json(scrubber, data) == {
        "account_number": SCRUBBED, "customer": {"home": {"street": SCRUBBED, "city": "Oslo"}},
        "street": "kept: not at that path", "ref": f"order {SCRUBBED} shipped"}
    assert scrubber.header_hit("x-tenant") and scrubber.header_hit("X-Custom-Token")
    assert not scrubber.header_hit("X-RateLimit-Remaining-Tokens")
    assert scrubber.target("/v1/x?tenant=t1&page=2&api_key=k") == (
        "/v1/x?tenant=%3Cscrubbed%3E&page=2&api_key=%3Cscrubbed%3E")
    assert scrubber.target("/v1/x?page=2") == "/v1/x?page=2"


def test_pii_names_scrub_plain_values_but_spare_llm_protocol_objects() -> None:
    request = {"messages": [{"role": "user", "name": "Ada Lovelace", "content": "hi"}],
               "tools": [{"type": "function", "function": {"name": "route"}}],
               "lead": {"name": "Ada Lovelace"}}
    answer = {"choices": [{"message": {"tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "route", "arguments": "{}"}}]}}],
        "content": [{"type": "tool_use", "name": "route", "input": {}}]}
    scrubber = Scrubber(pii=["name", "message"])
    scrubbed = scrub_json(scrubber, request)
    assert scrubbed == {"messages": [{"role": "user", "name": SCRUBBED, "content": "hi"}],
                        "tools": [{"type": "function", "function": {"name": "route"}}],
                        "lead": {"name": SCRUBBED}}
    assert scrub_json(scrubber, answer) == answer
    assert scrub_json(scrubber, {"message": "Call me", "lead": {"message": 7}}) == {
        "message": SCRUBBED, "lead": {"message": SCRUBBED}}


def test_learned_values_are_scrubbed_wherever_they_appear_including_json_escaped() -> None:
    canary = make_canary()
    lead = plant({"name": "x", "email": "x", "phone": "x", "message": "Hello."}, canary)
    scrubber = Scrubber(literals=[canary.name, "Zoë Ångström"])
    prompt = {"messages": [{"role": "user", "content": "Lead: " + json.dumps(lead)}],
              "note": json.dumps({"who": "Zoë Ångström"})}
    text = scrubber.body(json.dumps(prompt).encode(), "application/json").decode()
    assert canary.found_in(text) == [] and "Zo" not in text
    assert scrubber.counts["value"] >= 2
    assert Scrubber(literals=["Al"]).text("Al and Alan") == "Al and Alan"  # too short to learn


def test_bodies_untouched_by_every_rule_keep_their_bytes() -> None:
    body = b'{ "model" : "m",\n  "n": 1 }'
    assert Scrubber().body(body, "application/json") == body
    assert Scrubber().body(b"\xff\xfe binary", None) == b"\xff\xfe binary"
    assert Scrubber().body(b"", "application/json") == b""


def test_event_streams_are_scrubbed_line_by_line() -> None:
    stream = (b'data: {"choices":[{"delta":{"content":"mail ada@example.com"}}]}\n\n'
              b'data: {"email":"ada@example.com"}\n\ndata: [DONE]\n\n')
    scrubbed = Scrubber().body(stream, "text/event-stream; charset=utf-8").decode()
    assert "example.com" not in scrubbed
    assert scrubbed.count("data: ") == 3 and scrubbed.endswith("data: [DONE]\n\n")


@pytest.mark.parametrize(("rule", "reason"), [
    ("cookie:x", "unknown rule kind 'cookie'"), ("header:", "nothing after header:"),
    ("regex:(unclosed", "invalid regular expression"), ("json:$..a", "a JSON path is $.key"),
    ("email", "unknown rule kind 'email'"),
])
def test_bad_rules_say_why(rule: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("$", r"\$").replace("(", r"\(")):
        parse_rule(rule)


def test_the_scrubber_is_a_vcrpy_hook_pair() -> None:
    """Same signatures as vcrpy's before_record_request and before_record_response."""
    scrubber = Scrubber()
    request = VcrRequest("POST", f"https://api.example.com/v1/x?api_key={OPENAI_KEY}",
                         b'{"email": "ada@example.com", "q": 1}',
                         {"Authorization": f"Bearer {OPENAI_KEY}", "Content-Type":
                          "application/json"})
    scrubbed = scrubber.before_record_request(request)
    assert scrubbed.uri == "https://api.example.com/v1/x?api_key=%3Cscrubbed%3E"
    assert scrubbed.headers["authorization"] == SCRUBBED
    assert json.loads(scrubbed.body) == {"email": SCRUBBED, "q": 1}
    response = scrubber.before_record_response({
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": ["a=1", "b=2"], "Content-Type": ["application/json"]},
        "body": {"string": b'{"owner": {"email": "ada@example.com"}}'}})
    assert response["headers"]["Set-Cookie"] == [SCRUBBED, SCRUBBED]
    assert json.loads(response["body"]["string"]) == {"owner": {"email": SCRUBBED}}

