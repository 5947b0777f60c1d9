"""Item 2 probes as pure functions of constructed audit observations, and record_problems."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.contract import AUDIT_FIELDS, MODES, STATUSES
from readiness.probes import audit as a
from readiness.probes._ops_api import Fetched, Listing, rfc3339
from readiness.probes._writes import Write
from readiness.probes.audit import (
    AuditObservations,
    ConcurrencyRun,
    Invocation,
    Mutation,
    record_problems,
)
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE
FIELDS = {name: name for name in AUDIT_FIELDS}
INPUT = {"company": "Acme Pty", "country": "AU", "employees": 40}
START = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
ASSIGN: Write = {"upstream": "crm", "method": "POST", "path": "/leads/1/assign", "status": 200}
FAILED_ASSIGN: Write = {**ASSIGN, "status": 503}
_RECORD: Any = object()  # "the record `record(n, status)` builds"


def stamp(n: int) -> str:
    """The RFC 3339 timestamp of decision `n`: n seconds after START."""
    return rfc3339(START + dt.timedelta(seconds=n))


def record(n: int, status: str = "executed", **changes: Any) -> dict[str, Any]:
    """A complete, correct audit record of decision `n`, with `changes` applied."""
    complete = {
        "decision_id": f"d{n}", "request_id": f"r{n}", "timestamp": stamp(n),
        "agent_version": "1.4.0", "mode": "active", "input": dict(INPUT),
        "reasoning": "An Australian company of 40 goes to the APAC desk.", "confidence": 0.8,
        "action": {"tool": "assign_lead", "rep_id": "rep-apac"}, "status": status,
        "approver": None, "effects": [dict(ASSIGN)], "errors": [], "reverted": False}
    return {**complete, **changes}


def invocation(n: int, scenario: str | None = None, *, status: str = "executed",
               rec: Any = _RECORD, after_s: float = 0.05,
               writes: tuple[Write, ...] | None = (ASSIGN,), **changes: Any) -> Invocation:
    """Invocation `n`: answered with decision d{n}, its record fetched after `after_s`."""
    rec = record(n, status) if rec is _RECORD else rec
    fetched = (Fetched(f"d{n}", rec, 200, after_s) if rec is not None
               else Fetched(f"d{n}", None, 404, None, "HTTP 404"))
    return Invocation(scenario or f"plain #{n}", f"r{n}", INPUT, 200,
                      {"decision_id": f"d{n}", "status": status}, fetched=fetched,
                      writes=writes, **changes)


def listing(*records: Any, since: str = stamp(0), problem: str | None = None
            ) -> Listing:
    """What GET /audit?since= returned, in one page."""
    return Listing(since, records, 1, problem, (len(records),))


SEQUENTIAL = (invocation(1), invocation(2), invocation(3))
CRM_DOWN = "crm: 503 on every attempt"
FAULTED = invocation(10, CRM_DOWN, status="failed",
                     rec=record(10, "failed", effects=[dict(FAILED_ASSIGN)] * 3,
                                errors=["the CRM answered 503 three times"]),
                     writes=(FAILED_ASSIGN,) * 3, fault="server_error", fault_fired=True,
                     persistent=True)
BATCH = ConcurrencyRun(3, 3, (invocation(20), invocation(21), invocation(22)), (ASSIGN,) * 3)
ALL_RECORDS = tuple(dict(i.record or {}) for i in (*SEQUENTIAL, FAULTED, *BATCH.invocations))
REFUSED = (Mutation("PUT", "/audit/d1", 405, False, False),
           Mutation("DELETE", "/audit/d1", 405, False, False))
GOOD = AuditObservations(FIELDS, version="1.4.0", sequential=SEQUENTIAL, faulted=(FAULTED,),
                         concurrent=BATCH, listing=listing(*ALL_RECORDS), mutations=REFUSED,
                         mutation_target="d1")
EMPTY = AuditObservations(FIELDS)
UNAVAILABLE = AuditObservations(FIELDS, unavailable="the agent is down: connection refused")
NO_DECISION = AuditObservations(FIELDS, sequential=(
    Invocation("plain #1", "r1", INPUT, 500, None, reply_error="HTTP 500"),
    Invocation("plain #2", "r2", INPUT, 200, {"status": "executed"})))


def obs(**changes: Any) -> AuditObservations:
    """GOOD with some observations replaced."""
    return dataclasses.replace(GOOD, **changes)


def with_sequential(*replacements: Invocation) -> AuditObservations:
    """GOOD whose sequential invocations are replaced by number (r1..r3), the listing kept."""
    by_id = {i.request_id: i for i in replacements}
    return obs(sequential=tuple(by_id.get(i.request_id, i) for i in SEQUENTIAL))


def batch(*invocations: Invocation, writes: tuple[Write, ...] = (ASSIGN,) * 3) -> ConcurrencyRun:
    """BATCH with other invocations (the ones given, by request id) or writes."""
    by_id = {i.request_id: i for i in invocations}
    return ConcurrencyRun(3, 3, tuple(by_id.get(i.request_id, i) for i in BATCH.invocations),
                          writes)


def without(rid: str) -> tuple[dict[str, Any], ...]:
    """ALL_RECORDS without request `rid`'s record."""
    return tuple(r for r in ALL_RECORDS if r["request_id"] != rid)


SAME_TIME = (invocation(1, rec=record(1, timestamp=stamp(1))),
             invocation(2, rec=record(2, timestamp=stamp(1))), invocation(3))
UNATTRIBUTED = batch(*(dataclasses.replace(i, writes=None) for i in BATCH.invocations))

CASES: list[tuple[str, ProbeCase]] = [
    ("one-record-each", (a.audit_record_per_invocation, GOOD, PASS,
                         "all 7 decisions had their record within 1 s")),
    ("unanswered-invocation-skipped", (a.audit_record_per_invocation, with_sequential(
        Invocation("plain #2", "r2", INPUT, 500, None, reply_error="HTTP 500")), PASS,
        "all 6 decisions had their record within 1 s")),
    ("record-missing", (a.audit_record_per_invocation, with_sequential(invocation(2, rec=None)),
                        FAIL, "1 of 7 decisions have no record at GET /audit/{decision_id}")),
    ("record-never-fetched", (a.audit_record_per_invocation, with_sequential(
        dataclasses.replace(invocation(2), fetched=None)), FAIL,
        "1 of 7 decisions have no record")),
    ("record-late", (a.audit_record_per_invocation, with_sequential(invocation(3, after_s=2.5)),
                     FAIL, "1 records appeared only after more than 1 s")),
    ("missing-and-late", (a.audit_record_per_invocation, with_sequential(
        invocation(2, rec=None), invocation(3, after_s=1.01)), FAIL,
        "1 of 7 decisions have no record at GET /audit/{decision_id}; 1 records appeared only "
        "after more than 1 s")),

    ("complete", (a.audit_records_complete, GOOD, PASS,
                  "all 7 records have every field with a sensible value")),
    ("no-reasoning", (a.audit_records_complete, with_sequential(
        invocation(2, rec=record(2, reasoning=" "))), FAIL,
        "1 of 7 records are incomplete or wrong: an executed decision has no reasoning (1x)")),
    ("wrong-version-everywhere", (a.audit_records_complete, obs(version="1.5.0"), FAIL,
                                  "7 of 7 records are incomplete or wrong: agent_version "
                                  "'1.4.0' is not the running version '1.5.0' (7x)")),
    ("no-record-fetched", (a.audit_records_complete, obs(
        sequential=(invocation(1, rec=None),), faulted=(), concurrent=None), FAIL,
        "no audit record could be fetched to check its fields")),

    ("effects-true", (a.audit_effects_match_upstream, GOOD, PASS,
                      "effects matched the recorded upstream writes for 7 decisions (9 writes)")),
    ("write-left-out", (a.audit_effects_match_upstream, with_sequential(
        invocation(2, rec=record(2, effects=[]))), FAIL,
        "1 record(s) whose effects differ from the upstream's record: plain #2: 1 write(s) the "
        "upstream saw are not in effects (e.g. POST /leads/1/assign -> 200)")),
    ("write-invented", (a.audit_effects_match_upstream, with_sequential(
        invocation(3, writes=())), FAIL,
        "plain #3: 1 effect(s) never reached the upstream (e.g. POST /leads/1/assign -> 200)")),
    ("status-claimed-wrong", (a.audit_effects_match_upstream, obs(faulted=(dataclasses.replace(
        FAULTED, fetched=Fetched("d10", record(10, "failed", effects=[dict(ASSIGN)] * 3,
                                               errors=["x"]), 200, 0.1)),)), FAIL,
        f"{CRM_DOWN}: 1 effect(s) with the wrong status")),
    ("effects-not-a-list", (a.audit_effects_match_upstream, with_sequential(
        invocation(1, rec=record(1, effects="POST /leads/1/assign"))), FAIL,
        "1 effect(s) not of the form {upstream, method, path, status}")),
    ("wrote-without-record", (a.audit_effects_match_upstream, with_sequential(
        invocation(2, rec=None)), FAIL, "1 invocation(s) wrote upstream but left no record")),
    ("unattributed-batch-in-aggregate", (a.audit_effects_match_upstream,
                                         obs(concurrent=UNATTRIBUTED), PASS,
                                         "for 4 decisions (6 writes)")),
    ("aggregate-write-left-out", (a.audit_effects_match_upstream, obs(
        concurrent=dataclasses.replace(UNATTRIBUTED, writes=(ASSIGN,) * 4)), FAIL,
        "1 record(s) whose effects differ from the upstream's record: 3 concurrent invocations, "
        "all together: 1 write(s) the upstream saw are not in effects")),
    ("no-tool", (a.audit_effects_match_upstream, obs(has_tools=False), NA,
                 "no upstream of kind 'tool' is declared")),

    ("faulted-audited", (a.audit_records_faulted_invocations, GOOD, PASS,
                         "all 1 faulted invocations were audited with their error")),
    ("transient-fault-without-error", (a.audit_records_faulted_invocations, obs(faulted=(
        invocation(11, "crm: first request reset", fault="reset", fault_fired=True),)), PASS,
        "all 1 faulted invocations were audited")),
    ("faulted-without-record", (a.audit_records_faulted_invocations, obs(faulted=(
        dataclasses.replace(FAULTED, fetched=None),)), FAIL,
        f"1 of 1 faulted invocations are not audited with their error: {CRM_DOWN}: no audit "
        "record")),
    ("persistent-fault-without-error", (a.audit_records_faulted_invocations, obs(faulted=(
        dataclasses.replace(FAULTED, fetched=Fetched("d10", record(10, "failed"), 200, 0.1)),)),
        FAIL, "the record's errors are empty though every upstream attempt failed")),
    ("fault-never-fired", (a.audit_records_faulted_invocations, obs(faulted=(
        dataclasses.replace(FAULTED, fault_fired=False),)), ERROR,
        "no injected fault reached the agent")),
    ("no-faulted-invocations", (a.audit_records_faulted_invocations, obs(faulted=()), ERROR,
                                "faulted invocations could not be checked")),

    ("concurrency-ok", (a.audit_survives_concurrency, GOOD, PASS,
                        "3 invocations, 3 at a time: each left exactly one record")),
    ("fetch-failed-but-listed", (a.audit_survives_concurrency, obs(concurrent=batch(
        invocation(21, rec=None))), PASS, "each left exactly one record")),
    ("record-lost", (a.audit_survives_concurrency, obs(
        concurrent=batch(invocation(21, rec=None)), listing=listing(*without("r21"))), FAIL,
        "3 invocations, 3 at a time: 1 of 3 records lost")),
    ("record-doubled", (a.audit_survives_concurrency, obs(
        listing=listing(*ALL_RECORDS, record(21))), FAIL, "1 recorded more than once")),
    ("lost-and-doubled", (a.audit_survives_concurrency, obs(
        concurrent=batch(invocation(21, rec=None)),
        listing=listing(*without("r21"), record(22))), FAIL,
        "1 of 3 records lost, 1 recorded more than once")),
    ("unreadable-list-says-nothing-of-doubles", (a.audit_survives_concurrency, obs(
        listing=listing(*ALL_RECORDS, record(21), problem="stopped after 50 pages of 100")),
        PASS, "each left exactly one record")),
    ("batch-not-run", (a.audit_survives_concurrency, obs(concurrent=None), ERROR,
                       "the concurrent invocations did not run")),

    ("listed-in-order", (a.audit_lists_in_order, GOOD, PASS,
                         "7 records listed oldest first, every record of this run included")),
    ("equal-times-in-order", (a.audit_lists_in_order, obs(
        sequential=SAME_TIME, listing=listing(*(i.record for i in SAME_TIME), *ALL_RECORDS[3:])),
        PASS, "7 records listed oldest first")),
    ("list-not-read", (a.audit_lists_in_order, obs(listing=None), ERROR,
                       "the audit list was not read")),
    ("list-unreadable", (a.audit_lists_in_order, obs(listing=listing(
        problem="GET /audit answered HTTP 404: Not Found")), FAIL,
        "the audit list could not be read: GET /audit answered HTTP 404")),
    ("timestamp-not-rfc3339", (a.audit_lists_in_order, obs(listing=listing(
        *ALL_RECORDS[:-1], record(22, timestamp="1767261622"))), FAIL,
        "some listed records have no RFC 3339 timestamp")),
    ("newest-first", (a.audit_lists_in_order, obs(listing=listing(*reversed(ALL_RECORDS))),
                      FAIL, f"6 records are older than the one before them (e.g. {stamp(21)} "
                      f"after {stamp(22)})")),
    ("older-than-since", (a.audit_lists_in_order, obs(listing=listing(
        *ALL_RECORDS, since=stamp(2))), FAIL, f"1 records are older than since={stamp(2)}")),
    ("record-not-listed", (a.audit_lists_in_order, obs(listing=listing(*without("r3"))), FAIL,
                           "1 of 7 records fetched by id are missing from the list")),
    ("empty-list", (a.audit_lists_in_order, obs(listing=listing()), FAIL,
                    "7 of 7 records fetched by id are missing from the list")),
    ("same-time-other-order", (a.audit_lists_in_order, obs(sequential=SAME_TIME, listing=listing(
        SAME_TIME[1].record, SAME_TIME[0].record, *ALL_RECORDS[2:])), FAIL,
        "decisions made one after another are listed in another order")),

    ("read-only", (a.audit_records_immutable, GOOD, PASS,
                   "2 attempts to change or delete a record were refused and the record stayed "
                   "the same")),
    ("connection-dropped-unchanged", (a.audit_records_immutable, obs(mutations=(
        Mutation("PATCH", "/audit/d1", None, False, False),)), PASS, "1 attempts")),
    ("changed", (a.audit_records_immutable, obs(mutations=(
        REFUSED[0], Mutation("PATCH", "/audit/d1", 405, True, False))), FAIL,
        "PATCH /audit/d1 with the operator token changed the record")),
    ("deleted", (a.audit_records_immutable, obs(mutations=(
        Mutation("DELETE", "/audit/d1", 404, False, True),)), FAIL,
        "DELETE /audit/d1 with the operator token deleted the record")),
    ("accepted-unchanged", (a.audit_records_immutable, obs(mutations=(
        Mutation("PUT", "/audit/d1", 204, False, False),)), FAIL,
        "PUT /audit/d1 with the operator token answered 204")),
    ("no-target", (a.audit_records_immutable, obs(mutation_target=None), FAIL,
                   "no audit record could be fetched to try changing it")),
    ("no-attempt", (a.audit_records_immutable, obs(mutations=()), FAIL,
                    "no audit record could be fetched to try changing it")),
]

Probe = Callable[[AuditObservations], Finding]
PROBES = sorted({case[0] for _, case in CASES}, key=lambda p: p.__name__)


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: AuditObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert len(PROBES) == 7
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.__name__)
@pytest.mark.parametrize(("observations", "fragment"), [
    pytest.param(UNAVAILABLE, "the audit trail could not be checked: the agent is down: "
                 "connection refused", id="unavailable"),
    pytest.param(EMPTY, "no invocation was answered with a decision_id", id="empty"),
    pytest.param(NO_DECISION, "no invocation was answered with a decision_id",
                 id="no-decision-id"),
])
def test_unassessable_is_an_error(probe: Probe, observations: AuditObservations,
                                  fragment: str) -> None:
    assert_finding(probe(observations), ERROR, fragment)


def test_unassessable_evidence_shows_the_answers() -> None:
    finding = a.audit_record_per_invocation(NO_DECISION)
    shown = finding.evidence["invocations"]
    assert [(i["request_id"], i["answer"], i["http_status"]) for i in shown] == [
        ("r1", "HTTP 500", 500), ("r2", {"status": "executed"}, 200)]


def test_incomplete_evidence_names_the_example_and_its_problems() -> None:
    bad = invocation(2, rec=record(2, approver="ada", errors="none"))
    finding = a.audit_records_complete(with_sequential(bad))
    assert finding.evidence["example_record"] == bad.record
    assert finding.evidence["example_problems"] == [
        "approver is set though nobody approved it", "errors is not a list of strings"]


def test_effects_mismatch_evidence_shows_both_sides() -> None:
    finding = a.audit_effects_match_upstream(with_sequential(
        invocation(2, rec=record(2, effects=[]))))
    assert [dict(m) for m in finding.evidence["mismatches"]] == [{
        "scenario": "plain #2", "request_id": "r2",
        "diff": "1 write(s) the upstream saw are not in effects "
                "(e.g. POST /leads/1/assign -> 200)",
        "effects": [], "upstream_writes": [ASSIGN]}]


def test_lost_records_are_named() -> None:
    finding = a.audit_survives_concurrency(obs(
        concurrent=batch(invocation(20, rec=None), invocation(22, rec=None)),
        listing=listing(*without("r20")[:-1])))
    assert (finding.evidence["lost"], finding.evidence["duplicated"]) == (["r20", "r22"], [])


# --- record_problems -----------------------------------------------------------------------

ONE = invocation(1)
RECORD_PROBLEMS: list[Any] = [
    pytest.param(record(1), [], id="complete"),
    pytest.param({k: v for k, v in record(1).items() if k != "approver"},
                 ["no field 'approver'"], id="no-approver-field"),
    pytest.param({k: v for k, v in record(1).items() if k != "errors"},
                 ["no field 'errors'", "errors is not a list of strings"], id="no-errors-field"),
    pytest.param(record(1, decision_id="d9"), ["decision_id differs from the invoke answer's"],
                 id="decision-id"),
    pytest.param(record(1, request_id="r9"), ["request_id is 'r9', not the 'r1' sent"],
                 id="request-id"),
    pytest.param(record(1, timestamp="2026-01-01T10:00:01"),
                 ["timestamp '2026-01-01T10:00:01' is not RFC 3339 with a time zone"],
                 id="timestamp-without-zone"),
    pytest.param(record(1, timestamp="2026-01-01T10:00:01.000000"),
                 ["timestamp '2026-01-01T10:00:01.000000' is not RFC 3339 with a time zone"],
                 id="timestamp-naive-with-fraction"),
    pytest.param(record(1, timestamp=1767261601),
                 ["timestamp 1767261601 is not RFC 3339 with a time zone"], id="epoch-seconds"),
    pytest.param(record(1, agent_version="1.3.9"),
                 ["agent_version '1.3.9' is not the running version '1.4.0'"],
                 id="old-version"),
    pytest.param(record(1, agent_version=""),
                 ["agent_version '' is not the running version '1.4.0'",
                  "agent_version is empty"], id="empty-version"),
    pytest.param(record(1, mode="paused"), [f"mode 'paused' is not one of {MODES}"], id="mode"),
    pytest.param(record(1, input={"company": "Acme Pty"}), ["input is not the input sent"],
                 id="input-trimmed"),
    pytest.param(record(1, status="done"),
                 [f"status 'done' is not one of {STATUSES}",
                  "status 'done' differs from the invoke answer's 'executed'"],
                 id="status-unknown"),
    pytest.param(record(1, status="failed"),
                 ["status 'failed' differs from the invoke answer's 'executed'"],
                 id="status-differs-from-answer"),
    pytest.param(record(1, confidence=1.5), ["confidence 1.5 is not a number in [0, 1]"],
                 id="confidence-above-one"),
    pytest.param(record(1, confidence=-0.1), ["confidence -0.1 is not a number in [0, 1]"],
                 id="confidence-negative"),
    pytest.param(record(1, confidence=True), ["confidence True is not a number in [0, 1]"],
                 id="confidence-bool"),
    pytest.param(record(1, confidence="0.8"), ["confidence '0.8' is not a number in [0, 1]"],
                 id="confidence-text"),
    pytest.param(record(1, confidence=None), ["confidence None is not a number in [0, 1]"],
                 id="executed-without-confidence"),
    pytest.param(record(1, confidence=1), [], id="confidence-int-one"),
    pytest.param(record(1, action="assign_lead"),
                 ["action is neither an object nor null", "an executed decision has no action"],
                 id="action-text"),
    pytest.param(record(1, action=None), ["an executed decision has no action"],
                 id="executed-without-action"),
    pytest.param(record(1, reasoning=""), ["an executed decision has no reasoning"],
                 id="executed-without-reasoning"),
    pytest.param(record(1, reasoning=None), ["an executed decision has no reasoning"],
                 id="reasoning-null"),
    pytest.param(record(1, approver="Ada Lovelace"),
                 ["approver is set though nobody approved it"], id="approver"),
    pytest.param(record(1, effects=None), ["effects is not a list"], id="effects-null"),
    pytest.param(record(1, effects={}), ["effects is not a list"], id="effects-object"),
    pytest.param(record(1, errors="boom"), ["errors is not a list of strings"],
                 id="errors-text"),
    pytest.param(record(1, errors=["boom", {"code": 1}]), ["errors is not a list of strings"],
                 id="errors-with-object"),
    pytest.param(record(1, reverted=None), ["reverted is None, not false"],
                 id="reverted-null"),
    pytest.param(record(1, reverted=0), ["reverted is 0, not false"], id="reverted-zero"),
    pytest.param(record(1, reverted=True), ["reverted is True, not false"],
                 id="reverted-true"),
]


@pytest.mark.parametrize(("rec", "problems"), RECORD_PROBLEMS)
def test_record_problems(rec: dict[str, Any], problems: list[str]) -> None:
    assert record_problems(GOOD, dataclasses.replace(
        ONE, fetched=Fetched("d1", rec, 200, 0.05))) == problems


def test_no_record_has_no_problems() -> None:
    assert record_problems(GOOD, invocation(1, rec=None)) == []


@pytest.mark.parametrize(("status", "changes"), [
    pytest.param("manual", {"confidence": None, "action": None, "reasoning": ""},
                 id="manual-decides-nothing"),
    pytest.param("pending_review", {"confidence": 0.6}, id="pending-review"),
    pytest.param("failed", {"confidence": None, "action": None, "errors": ["CRM down"]},
                 id="failed"),
])
def test_undecided_records_need_no_confidence_or_action(status: str,
                                                        changes: dict[str, Any]) -> None:
    held = invocation(1, status=status, rec=record(1, status, **changes))
    assert record_problems(GOOD, held) == []


def test_unknown_running_version_only_needs_a_version() -> None:
    assert record_problems(obs(version=None), ONE) == []
    assert record_problems(obs(version=None), invocation(1, rec=record(1, agent_version=""))) == [
        "agent_version is empty"]


def test_remapped_field_names() -> None:
    fields = {**FIELDS, "decision_id": "id", "status": "outcome"}
    mapped = obs(fields=fields)
    rec = {("id" if k == "decision_id" else "outcome" if k == "status" else k): v
           for k, v in record(1).items()}
    held = Invocation("plain #1", "r1", INPUT, 200, {"id": "d1", "outcome": "executed"},
                      fetched=Fetched("d1", rec, 200, 0.05))
    assert record_problems(mapped, held) == []
    del rec["id"]
    assert record_problems(mapped, held) == ["no field 'id'",
                                             "decision_id differs from the invoke answer's"]
