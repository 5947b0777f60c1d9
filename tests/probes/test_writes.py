"""readiness.probes._writes: recorded upstream writes, and effects compared with them."""

from __future__ import annotations

from typing import Any

import pytest

from readiness.chaos.recorder import Exchange
from readiness.probes._writes import EffectsDiff, Write, compare, is_write, writes_in

TOOLS = frozenset({"crm"})


def write(method: str = "POST", path: str = "/leads/1/assign", status: int | None = 200,
          upstream: str = "crm") -> Write:
    """One write, in the shape both effects and recorded writes have."""
    return {"upstream": upstream, "method": method, "path": path, "status": status}


def exchange(method: str, path: str, status: int | None = 200, upstream: str = "crm",
             seq: int = 1) -> Exchange:
    """A recorded exchange with empty headers and bodies."""
    return Exchange(seq=seq, upstream=upstream, method=method, path=path, status=status,
                    request_headers=(), response_headers=(), request_digest=None,
                    response_digest=None, request_size=0, response_size=0, request_body=b"",
                    response_body=b"", started_at=1000.0 + seq, ended_at=1000.5 + seq,
                    correlation_id=None)


ASSIGN = write()
UNANSWERED = write(status=None)
NOTE = write("POST", "/leads/1/notes", 201)


# --- compare -------------------------------------------------------------------------------

MATCHING: list[Any] = [
    pytest.param([], [], id="empty"),
    pytest.param([ASSIGN], [ASSIGN], id="one-write"),
    pytest.param([NOTE, ASSIGN], [ASSIGN, NOTE], id="order-ignored"),
    pytest.param([write(path="/leads/1/assign?dry=0")], [ASSIGN], id="query-in-effect-ignored"),
    pytest.param([ASSIGN], [write(path="/leads/1/assign?x=1")], id="query-in-write-ignored"),
    pytest.param([write(method="post")], [ASSIGN], id="method-case-ignored"),
    pytest.param([ASSIGN], [write(method="Post")], id="recorded-method-case-ignored"),
    pytest.param([UNANSWERED], [UNANSWERED], id="unanswered-attempt-claimed-as-null"),
    pytest.param([UNANSWERED, ASSIGN], [ASSIGN, UNANSWERED], id="retry-statuses-any-order"),
    pytest.param([ASSIGN, ASSIGN], [ASSIGN, ASSIGN], id="duplicate-attempts"),
    pytest.param([{"method": "POST", "path": "/leads/1/assign", "status": 200}], [ASSIGN],
                 id="upstream-key-optional"),
]


@pytest.mark.parametrize(("effects", "writes"), MATCHING)
def test_matching_effects(effects: Any, writes: list[Write]) -> None:
    diff = compare(effects, writes)
    assert (diff.matches, diff) == (True, EffectsDiff())
    assert diff.summary() == "effects match the recorded writes"


@pytest.mark.parametrize(("effects", "writes", "expected"), [
    pytest.param([], [ASSIGN], EffectsDiff(missing=(ASSIGN,)), id="missing"),
    pytest.param([ASSIGN], [], EffectsDiff(invented=(ASSIGN,)), id="invented"),
    pytest.param([NOTE], [ASSIGN], EffectsDiff(missing=(ASSIGN,), invented=(NOTE,)),
                 id="other-path"),
    pytest.param([write(method="PUT")], [ASSIGN],
                 EffectsDiff(missing=(ASSIGN,), invented=(write(method="PUT"),)),
                 id="other-method"),
    pytest.param([ASSIGN], [write(status=201)],
                 EffectsDiff(status_mismatch=({"write": "POST /leads/1/assign",
                                               "claimed": [200], "recorded": [201]},)),
                 id="status-mismatch"),
    pytest.param([ASSIGN], [UNANSWERED],
                 EffectsDiff(status_mismatch=({"write": "POST /leads/1/assign",
                                               "claimed": [200], "recorded": [None]},)),
                 id="claims-success-for-an-unanswered-attempt"),
    pytest.param([ASSIGN, ASSIGN], [UNANSWERED, ASSIGN],
                 EffectsDiff(status_mismatch=({"write": "POST /leads/1/assign",
                                               "claimed": [200, 200],
                                               "recorded": [None, 200]},)),
                 id="retry-claimed-as-two-successes"),
    pytest.param([ASSIGN], [UNANSWERED, ASSIGN], EffectsDiff(missing=(UNANSWERED,)),
                 id="unanswered-attempt-left-out"),
    pytest.param([ASSIGN, ASSIGN, ASSIGN], [ASSIGN], EffectsDiff(invented=(ASSIGN, ASSIGN)),
                 id="duplicates-counted-as-a-multiset"),
    pytest.param([NOTE, ASSIGN], [ASSIGN, ASSIGN, NOTE], EffectsDiff(missing=(ASSIGN,)),
                 id="one-of-two-attempts-missing"),
])
def test_differing_effects(effects: Any, writes: list[Write], expected: EffectsDiff) -> None:
    diff = compare(effects, writes)
    assert (diff, diff.matches) == (expected, False)


@pytest.mark.parametrize("entry", [
    pytest.param("POST /leads/1/assign", id="a-string"),
    pytest.param(None, id="null"),
    pytest.param(["POST", "/leads/1/assign", 200], id="a-list"),
    pytest.param({"path": "/leads/1/assign", "status": 200}, id="no-method"),
    pytest.param({"method": "POST", "status": 200}, id="no-path"),
    pytest.param({"method": 1, "path": "/leads/1/assign", "status": 200}, id="method-not-text"),
    pytest.param({"method": "POST", "path": "/leads/1/assign", "status": "200"},
                 id="status-as-text"),
    pytest.param({"method": "POST", "path": "/leads/1/assign", "status": 200.0},
                 id="status-as-float"),
])
def test_malformed_effect(entry: Any) -> None:
    diff = compare([entry, ASSIGN], [ASSIGN])
    assert (diff, diff.matches) == (EffectsDiff(malformed=(entry,)), False)


@pytest.mark.parametrize("effects", [
    pytest.param(None, id="null"),
    pytest.param({"method": "POST", "path": "/leads/1/assign", "status": 200}, id="one-object"),
    pytest.param("POST /leads/1/assign", id="a-string"),
])
def test_effects_not_a_list_are_malformed_and_every_write_missing(effects: Any) -> None:
    assert compare(effects, [ASSIGN, NOTE]) == EffectsDiff(missing=(ASSIGN, NOTE),
                                                           malformed=(effects,))


def test_missing_writes_are_copies_in_recorded_order() -> None:
    recorded = [NOTE, ASSIGN, NOTE]
    diff = compare([], recorded)
    assert diff.missing == (NOTE, ASSIGN, NOTE)
    assert all(a is not b for a, b in zip(diff.missing, recorded, strict=True))


# --- summary -------------------------------------------------------------------------------


@pytest.mark.parametrize(("diff", "summary"), [
    pytest.param(EffectsDiff(), "effects match the recorded writes", id="match"),
    pytest.param(EffectsDiff(missing=(ASSIGN, NOTE)),
                 "2 write(s) the upstream saw are not in effects "
                 "(e.g. POST /leads/1/assign -> 200)", id="missing"),
    pytest.param(EffectsDiff(invented=(UNANSWERED,)),
                 "1 effect(s) never reached the upstream (e.g. POST /leads/1/assign -> None)",
                 id="invented"),
    pytest.param(EffectsDiff(status_mismatch=({"write": "POST /leads/1/assign",
                                                "claimed": [200], "recorded": [None]},)),
                 "1 effect(s) with the wrong status (e.g. POST /leads/1/assign: claimed [200], "
                 "upstream answered [None])", id="status"),
    pytest.param(EffectsDiff(malformed=("x", None)),
                 "2 effect(s) not of the form {upstream, method, path, status}", id="malformed"),
    pytest.param(EffectsDiff(missing=(ASSIGN,), invented=(NOTE,), malformed=(1,)),
                 "1 write(s) the upstream saw are not in effects (e.g. POST /leads/1/assign -> "
                 "200); 1 effect(s) never reached the upstream (e.g. POST /leads/1/notes -> "
                 "201); 1 effect(s) not of the form {upstream, method, path, status}",
                 id="several-joined"),
    pytest.param(EffectsDiff(invented=({"path": "/x"},)),
                 "1 effect(s) never reached the upstream (e.g. None /x -> None)",
                 id="partial-write"),
])
def test_summary(diff: EffectsDiff, summary: str) -> None:
    assert diff.summary() == summary


# --- writes_in / is_write --------------------------------------------------------------------


@pytest.mark.parametrize(("recorded", "expected"), [
    pytest.param(exchange("POST", "/leads"), True, id="post-to-tool"),
    pytest.param(exchange("put", "/leads/1"), True, id="lower-case-put"),
    pytest.param(exchange("PATCH", "/leads/1"), True, id="patch"),
    pytest.param(exchange("DELETE", "/leads/1", None), True, id="unanswered-delete"),
    pytest.param(exchange("GET", "/leads"), False, id="get"),
    pytest.param(exchange("HEAD", "/leads"), False, id="head"),
    pytest.param(exchange("options", "/leads"), False, id="lower-case-options"),
    pytest.param(exchange("POST", "/v1/chat/completions", upstream="llm"), False,
                 id="llm-call"),
    pytest.param(exchange("POST", "/hooks", upstream="unknown"), False, id="undeclared-upstream"),
])
def test_is_write(recorded: Exchange, expected: bool) -> None:
    assert is_write(recorded, TOOLS) is expected


def test_writes_in_keeps_tool_writes_in_order_as_effects() -> None:
    recorded = [
        exchange("GET", "/leads/1", seq=1),
        exchange("POST", "/v1/chat/completions", upstream="llm", seq=2),
        exchange("post", "/leads/1/assign?dry=0", 503, seq=3),
        exchange("POST", "/leads/1/assign", None, seq=4),
        exchange("HEAD", "/leads/1", seq=5),
        exchange("DELETE", "/leads/1/assign", 204, seq=6),
    ]
    assert writes_in(recorded, TOOLS) == [
        write(status=503), write(status=None), write("DELETE", status=204)]


@pytest.mark.parametrize(("recorded", "tools"), [
    pytest.param([], TOOLS, id="no-exchanges"),
    pytest.param([exchange("POST", "/leads")], frozenset(), id="no-tool-upstream"),
])
def test_writes_in_empty(recorded: list[Exchange], tools: frozenset[str]) -> None:
    assert writes_in(recorded, tools) == []


def test_recorded_writes_compare_with_effects() -> None:
    recorded = [exchange("POST", "/leads/1/assign", None, seq=1),
                exchange("POST", "/leads/1/assign?retry=1", 200, seq=2)]
    effects = [{"upstream": "crm", "method": "POST", "path": "/leads/1/assign", "status": 200},
               {"upstream": "crm", "method": "POST", "path": "/leads/1/assign", "status": None}]
    assert compare(effects, writes_in(recorded, TOOLS)).matches
