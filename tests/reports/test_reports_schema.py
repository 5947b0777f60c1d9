"""The shipped JSON Schema: accepts every real scorecard, rejects each kind of damage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no py.typed
from reports_cards import NAMES, all_cards, ready_card

from readiness.items import ITEMS
from readiness.reports import SCHEMA, ScorecardSchemaError, validate_scorecard

Mutation = Callable[[dict[str, Any]], None]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_fixes_the_nine_items_in_order() -> None:
    positions = SCHEMA["properties"]["items"]["prefixItems"]
    assert [(p["properties"]["id"]["const"], p["properties"]["key"]["const"])
            for p in positions] == [(item.id, item.key) for item in ITEMS]
    assert SCHEMA["$defs"]["itemKey"]["enum"] == [item.key for item in ITEMS]


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_is_valid(name: str) -> None:
    validate_scorecard(all_cards()[name])


def _set(path: str, value: Any) -> Mutation:
    def mutate(card: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = card
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return mutate


def _drop_item(card: dict[str, Any]) -> None:
    del card["items"][8]


def _swap_items(card: dict[str, Any]) -> None:
    card["items"][0], card["items"][1] = card["items"][1], card["items"][0]


def _digest(digest: str) -> Mutation:
    return _set("agent.components", {"prompts/a.md": digest})


REJECTED: dict[str, tuple[Mutation, str]] = {
    "wrong status": (_set("items.0.status", "passed"), "$.items[0].status"),
    "score 11": (_set("items.0.score", 11), "$.items[0].score"),
    "negative score": (_set("items.2.score", -0.1), "$.items[2].score"),
    "missing item": (_drop_item, "$.items"),
    "items out of order": (_swap_items, "$.items[0].id"),
    "sha256 too short": (_digest("sha256:abc"), "$.agent.components['prompts/a.md']"),
    "sha256 upper case": (_digest("sha256:" + "AB" * 32), "$.agent.components['prompts/a.md']"),
    "digest without algorithm": (_digest("ab" * 32), "$.agent.components['prompts/a.md']"),
    "digest with trailing newline": (_digest("sha256:" + "ab" * 32 + "\n"),
                                     "$.agent.components['prompts/a.md']"),
    "wrong outcome": (_set("items.0.probes.0.outcome", "skipped"),
                      "$.items[0].probes[0].outcome"),
    "wrong risk": (_set("items.0.risk", "severe"), "$.items[0].risk"),
    "wrong verdict": (_set("verdict", "READY"), "$.verdict"),
    "wrong schema id": (_set("schema", "readiness.scorecard/v2"), "$.schema"),
    "unknown top-level key": (_set("extra", 1), "$"),
    "unknown probe key": (_set("items.0.probes.0.severity", "high"), "$.items[0].probes[0]"),
    "probe id not snake_case": (_set("items.0.probes.0.id", "Honours-Retry"),
                                "$.items[0].probes[0].id"),
    "evidence not an object": (_set("items.0.probes.0.evidence", [1, 2]),
                               "$.items[0].probes[0].evidence"),
    "date without offset": (_set("started_at", "2026-11-25T10:00:00"), "$.started_at"),
    "date with a space": (_set("finished_at", "2026-11-25 10:00:00Z"), "$.finished_at"),
    "month 13": (_set("started_at", "2026-13-25T10:00:00Z"), "$.started_at"),
    "not_run with a score": (_set("items.6.status", "not_run"), "$.items[6].score"),
    "ready with a failed gate": (_set("gate.failed", ["audit"]), "$.gate.failed"),
    "unknown gate key": (_set("gate.required", ["audit", "speed"]), "$.gate.required[1]"),
    "missing incomplete flag": (lambda card: card.pop("incomplete"), "$"),
    "weight not an integer": (_set("items.0.probes.0.weight", 1.5),
                              "$.items[0].probes[0].weight"),
}


@pytest.mark.parametrize("case", REJECTED, ids=list(REJECTED))
def test_schema_rejects_damaged_cards_naming_the_path(case: str) -> None:
    mutate, path = REJECTED[case]
    card = ready_card()
    mutate(card)
    with pytest.raises(ScorecardSchemaError) as raised:
        validate_scorecard(card)
    assert any(problem.startswith(f"{path}:") for problem in raised.value.problems), \
        raised.value.problems


ACCEPTED: dict[str, Mutation] = {
    "x- extension key": _set("x-buyer", {"anything": [1, "two"]}),
    "free-form evidence": _set("items.0.probes.0.evidence", {"a": [{"b": None}], "c": 1.5}),
    "offset date": _set("started_at", "2026-11-25T10:00:00.123+05:30"),
    "leap second": _set("finished_at", "2016-12-31T23:59:60Z"),
    "unknown agent version": _set("agent.version", None),
    "no previous scorecard": _set("changes", None),
    "previous scorecard without a path": _set("changes.previous_file", None),
    # Component paths come from the agent: an odd one must not stop the reports.
    "empty component path": _set("agent.components", {"": "sha256:" + "0" * 64}),
    "only some items": _set("run.only", ["docs", "owner"]),
    "no required score observed": _set("gate.min_observed", None),
}


@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_schema_accepts_legitimate_variations(case: str) -> None:
    card = ready_card()
    ACCEPTED[case](card)
    validate_scorecard(card)


def test_error_lists_every_violation_in_path_order() -> None:
    card = ready_card()
    card["items"][8]["score"] = 12
    card["items"][2]["status"] = "ok"
    card["verdict"] = "maybe"
    with pytest.raises(ScorecardSchemaError) as raised:
        validate_scorecard(card)
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "$.items[2].status", "$.items[8].score", "$.verdict"]
    message = str(raised.value)
    assert message.startswith(
        "the scorecard does not match the readiness.scorecard/v1 schema (3 problems):")
    assert "$.items[8].score: 12 is greater than the maximum of 10" in message


def test_error_message_stays_short_for_huge_or_numerous_violations() -> None:
    card = ready_card()
    card["agent"]["name"] = ["x" * 100_000]
    for item in card["items"]:
        for entry in item["probes"]:
            entry.update(outcome="bad", weight="heavy", blocking="yes")
    with pytest.raises(ScorecardSchemaError) as raised:
        validate_scorecard(card)
    assert len(raised.value.problems) == 50
    assert "... and" in str(raised.value)
    assert len(str(raised.value)) < 50 * 300


def test_error_message_cannot_carry_terminal_escapes() -> None:
    card = ready_card()
    card["agent"]["components"] = {"\x1b[2J\x00.md": "sha256:\x1b]0;x\x07"}
    with pytest.raises(ScorecardSchemaError) as raised:
        validate_scorecard(card)
    assert "\\u001b" in str(raised.value)
    assert not any(char in str(raised.value) for char in "\x1b\x00\x07")


def test_non_object_is_rejected_not_crashed() -> None:
    with pytest.raises(ScorecardSchemaError, match=r"\$: \[\] is not of type 'object'"):
        validate_scorecard([])


def test_schema_error_is_a_value_error() -> None:
    assert issubclass(ScorecardSchemaError, ValueError)
