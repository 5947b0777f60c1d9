"""Item 3 probes as pure functions of constructed rollback observations."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.probes import rollback as r
from readiness.probes._ops_api import Fetched
from readiness.probes._writes import Write
from readiness.probes.audit import Invocation
from readiness.probes.rollback import APPROVER, InFlight, OperatorCall, RollbackObservations
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE
INPUT = {"company": "Acme Pty", "country": "AU"}
ASSIGN: Write = {"upstream": "crm", "method": "POST", "path": "/leads/1/assign", "status": 200}
UNASSIGN: Write = {"upstream": "crm", "method": "DELETE", "path": "/leads/1/assign", "status": 204}


def call(action: str, status: int | None = 200, body: Any = None, *, error: str | None = None,
         writes: tuple[Write, ...] = ()) -> OperatorCall:
    """One operator request and its answer."""
    return OperatorCall(action, status, body, error, writes, answered_at=2000.0)


def mode(name: str, status: int | None = 200, body: Any = None) -> OperatorCall:
    """PUT /control `name`, answered with that mode unless `body` says otherwise."""
    return call(f"PUT control {name}", status, {"mode": name} if body is None else body)


def invocation(rid: str, status: str, *, writes: tuple[Write, ...] | None = (),
               rec: Any = None, keep: bool = True) -> Invocation:
    """An invocation answered with `status`; its record holds the input and that status."""
    stored = rec if rec is not None else {"decision_id": f"d-{rid}", "input": dict(INPUT),
                                          "status": status}
    fetched = Fetched(f"d-{rid}", stored if keep else None, 200 if keep else 404, 0.01)
    return Invocation(f"{status} {rid}", rid, INPUT, 200,
                      {"decision_id": f"d-{rid}", "status": status}, fetched=fetched,
                      writes=writes)


DISABLED = (invocation("m1", "manual"), invocation("m2", "manual"))
IN_FLIGHT = InFlight(held=4, switch=mode("disabled"),
                     invocations=tuple(invocation(f"f{n}", "manual") for n in range(4)),
                     writes=0)
REVIEW = (invocation("p1", "pending_review"), invocation("p2", "pending_review"))
PENDING = call("GET review", body={"pending": [{"decision_id": "d-p1"}, {"decision_id": "d-p2"}]})
ACTIVE = (invocation("a1", "executed", writes=(ASSIGN,)),)
GOOD = RollbackObservations(
    initial=call("GET control", body={"mode": "active"}),
    disable=mode("disabled"),
    disabled_read=call("GET control", body={"mode": "disabled"}),
    disabled=DISABLED,
    inflight=IN_FLIGHT,
    review_mode=mode("review_only"),
    review=REVIEW,
    review_list=PENDING,
    approve=call("POST approve", body={"status": "executed"}, writes=(ASSIGN,)),
    approved=Fetched("d-p1", {"approver": APPROVER, "status": "executed"}, 200, 0.01),
    activate=mode("active"),
    active=ACTIVE,
    revert=call("POST revert", body={"status": "reverted"}, writes=(UNASSIGN,)),
    reverted=Fetched("d-a1", {"reverted": True, "status": "executed"}, 200, 0.01),
)
EMPTY = RollbackObservations()
UNAVAILABLE = RollbackObservations(unavailable="the agent is down: connection refused")


def obs(**changes: Any) -> RollbackObservations:
    """GOOD with some observations replaced."""
    return dataclasses.replace(GOOD, **changes)


def flight(**changes: Any) -> RollbackObservations:
    """GOOD with some in-flight observations replaced."""
    return obs(inflight=dataclasses.replace(IN_FLIGHT, **changes))


LATE = {**ASSIGN, "started_after_switch_s": 0.25}
NOT_FOUND = call("PUT control disabled", 404, "Not Found")

CASES: list[tuple[str, ProbeCase]] = [
    ("manual", (r.kill_switch_answers_manual, GOOD, PASS,
                "disabled: all 2 invocations answered 'manual'")),
    ("switch-404", (r.kill_switch_answers_manual, obs(disable=NOT_FOUND), FAIL,
                    "the kill switch could not be pulled: PUT /control disabled answered 404: "
                    "Not Found")),
    ("switch-unanswered", (r.kill_switch_answers_manual, obs(disable=call(
        "PUT control disabled", None, "", error="ReadTimeout")), FAIL,
        "PUT /control disabled answered ReadTimeout")),
    ("switch-not-pulled", (r.kill_switch_answers_manual, obs(disable=None), FAIL,
                           "the kill switch could not be pulled: the mode was not switched")),
    ("switch-answers-other-mode", (r.kill_switch_answers_manual, obs(
        disable=mode("disabled", body={"mode": "active"})), FAIL,
        "PUT /control disabled answered {'mode': 'active'}, not the mode 'disabled'")),
    ("control-reads-active", (r.kill_switch_answers_manual, obs(
        disabled_read=call("GET control", body={"mode": "active"})), FAIL,
        "GET /control does not report the mode 'disabled' after it was set")),
    ("control-not-read", (r.kill_switch_answers_manual, obs(disabled_read=None), FAIL,
                          "GET /control does not report the mode 'disabled'")),
    ("executed-while-disabled", (r.kill_switch_answers_manual, obs(
        disabled=(DISABLED[0], invocation("m2", "executed"))), FAIL,
        "with the agent disabled, invocations answered ['manual', 'executed'], not all "
        "'manual'")),
    ("http-error-while-disabled", (r.kill_switch_answers_manual, obs(disabled=(
        Invocation("m1", "m1", INPUT, 503, None, reply_error="HTTP 503"),)), FAIL,
        "invocations answered ['HTTP 503'], not all 'manual'")),

    ("no-write-disabled", (r.kill_switch_stops_writes, GOOD, PASS,
                           "no upstream write during 2 invocations while disabled")),
    ("unattributed-writes-disabled", (r.kill_switch_stops_writes, obs(disabled=(
        invocation("m1", "manual", writes=None),)), PASS, "no upstream write during 1")),
    ("write-while-disabled", (r.kill_switch_stops_writes, obs(disabled=(
        DISABLED[0], invocation("m2", "manual", writes=(ASSIGN,)))), FAIL,
        "1 of 2 invocations made upstream writes while the agent was disabled "
        "(e.g. POST /leads/1/assign)")),
    ("no-tool-disabled", (r.kill_switch_stops_writes, obs(has_tools=False), NA,
                          "no upstream of kind 'tool' is declared")),
    ("nothing-invoked-disabled", (r.kill_switch_stops_writes, obs(disabled=()), ERROR,
                                  "no invocation was made while disabled")),

    ("kept", (r.disabled_work_is_kept, GOOD, PASS,
              "all 2 invocations made while disabled were kept with their input, status "
              "'manual'")),
    ("record-missing", (r.disabled_work_is_kept, obs(disabled=(
        DISABLED[0], invocation("m2", "manual", keep=False))), FAIL,
        "1 of 2 invocations made while disabled were not kept: no audit record")),
    ("record-without-input", (r.disabled_work_is_kept, obs(disabled=(invocation(
        "m1", "manual", rec={"input": {}, "status": "manual"}),)), FAIL,
        "the record does not hold the input")),
    ("record-not-manual", (r.disabled_work_is_kept, obs(disabled=(invocation(
        "m1", "manual", rec={"input": dict(INPUT), "status": "failed"}),)), FAIL,
        "the record's status is 'failed'")),
    ("nothing-invoked-kept", (r.disabled_work_is_kept, obs(disabled=()), ERROR,
                              "no invocation was made while disabled")),

    ("in-flight-stopped", (r.kill_switch_stops_inflight_writes, GOOD, PASS,
                           "4 invocations were waiting on the model when the switch was pulled; "
                           "none wrote afterwards")),
    ("late-write", (r.kill_switch_stops_inflight_writes, flight(late_writes=(LATE,), writes=1),
                    FAIL, "1 upstream write(s) started after the kill switch answered (the "
                    "first 0.25 s after)")),
    ("switch-refused-in-flight", (r.kill_switch_stops_inflight_writes, flight(
        switch=call("PUT control disabled", 403, {"error": "forbidden"})), FAIL,
        "the kill switch could not be pulled: PUT /control disabled answered 403")),
    ("none-held", (r.kill_switch_stops_inflight_writes, flight(held=0), ERROR,
                   "no invocation reached its model call")),
    ("not-arranged", (r.kill_switch_stops_inflight_writes, obs(inflight=InFlight(
        problem="no upstream of kind 'llm' to hold invocations at")), ERROR,
        "in-flight invocations could not be arranged: no upstream of kind 'llm'")),
    ("not-arranged-without-tools", (r.kill_switch_stops_inflight_writes, obs(
        inflight=InFlight(problem="upstream calls cannot be held"), has_tools=False), ERROR,
        "could not be arranged")),
    ("no-tool-in-flight", (r.kill_switch_stops_inflight_writes, obs(has_tools=False), NA,
                           "no upstream of kind 'tool' is declared")),

    ("held-for-review", (r.review_mode_holds_writes, GOOD, PASS,
                         "2 invocations held as pending_review, none written, all listed for "
                         "review")),
    ("review-mode-refused", (r.review_mode_holds_writes, obs(
        review_mode=mode("review_only", 400, {"error": "unknown mode"})), FAIL,
        "review-only mode could not be set: PUT /control review_only answered 400")),
    ("review-executed", (r.review_mode_holds_writes, obs(review=(
        REVIEW[0], invocation("p2", "executed"))), FAIL,
        "in review-only mode invocations answered ['pending_review', 'executed'], not all "
        "'pending_review'")),
    ("review-writes", (r.review_mode_holds_writes, obs(review=(
        REVIEW[0], invocation("p2", "pending_review", writes=(ASSIGN,)))), FAIL,
        "1 of 2 invocations wrote upstream before anyone approved them")),
    ("review-unlisted", (r.review_mode_holds_writes, obs(review_list=call(
        "GET review", body={"pending": [{"decision_id": "d-p1"}]})), FAIL,
        "1 decisions pending review are not listed at GET /review")),
    ("review-list-not-a-list", (r.review_mode_holds_writes, obs(review_list=call(
        "GET review", body={"pending": "d-p1,d-p2"})), FAIL,
        "2 decisions pending review are not listed")),
    ("review-list-failed", (r.review_mode_holds_writes, obs(review_list=call(
        "GET review", 404, "Not Found")), FAIL, "2 decisions pending review are not listed")),

    ("approved", (r.approval_executes_write, GOOD, PASS,
                  "approval made 1 write(s) and the record names the approver")),
    ("approved-without-tools", (r.approval_executes_write, obs(
        approve=call("POST approve", body={"status": "executed"}), has_tools=False), PASS,
        "approval made 0 write(s)")),
    ("nothing-held", (r.approval_executes_write, obs(approve=None), FAIL,
                      "no decision was held for review, so there was nothing to approve")),
    ("approve-404", (r.approval_executes_write, obs(approve=call(
        "POST approve", 404, "Not Found")), FAIL, "approve answered 404: Not Found")),
    ("approve-still-pending", (r.approval_executes_write, obs(approve=call(
        "POST approve", body={"status": "pending_review"}, writes=(ASSIGN,))), FAIL,
        "approve answered 200: {'status': 'pending_review'}")),
    ("approve-without-write", (r.approval_executes_write, obs(approve=call(
        "POST approve", body={"status": "executed"})), FAIL,
        "approve answered 'executed' but no upstream write succeeded while it ran")),
    ("approve-write-failed", (r.approval_executes_write, obs(approve=call(
        "POST approve", body={"status": "executed"},
        writes=({**ASSIGN, "status": 503}, {**ASSIGN, "status": None}))), FAIL,
        "no upstream write succeeded while it ran")),
    ("approved-record-missing", (r.approval_executes_write, obs(approved=None), FAIL,
                                 "the approved decision's audit record could not be fetched")),
    ("approved-record-404", (r.approval_executes_write, obs(
        approved=Fetched("d-p1", None, 404, None, "HTTP 404")), FAIL,
        "the approved decision's audit record could not be fetched")),
    ("wrong-approver", (r.approval_executes_write, obs(approved=Fetched(
        "d-p1", {"approver": "system", "status": "executed"}, 200, 0.01)), FAIL,
        f"the audit record shows approver 'system' and status 'executed', not {APPROVER!r} "
        "and 'executed'")),
    ("approved-record-still-pending", (r.approval_executes_write, obs(approved=Fetched(
        "d-p1", {"approver": APPROVER, "status": "pending_review"}, 200, 0.01)), FAIL,
        "status 'pending_review'")),

    ("reverted", (r.revert_makes_compensating_write, GOOD, PASS,
                  "revert made 1 compensating write(s) and marked the record")),
    ("nothing-executed", (r.revert_makes_compensating_write, obs(revert=None), FAIL,
                          "no decision was executed after re-activating")),
    ("revert-404", (r.revert_makes_compensating_write, obs(revert=call(
        "POST revert", 404, "Not Found")), FAIL, "revert answered 404: Not Found")),
    ("revert-without-write", (r.revert_makes_compensating_write, obs(revert=call(
        "POST revert", body={"status": "reverted"})), FAIL,
        "revert answered 'reverted' but no compensating upstream write succeeded")),
    ("record-not-marked", (r.revert_makes_compensating_write, obs(reverted=Fetched(
        "d-a1", {"reverted": False}, 200, 0.01)), FAIL,
        "the audit record is not marked reverted")),
    ("record-marked-truthy", (r.revert_makes_compensating_write, obs(reverted=Fetched(
        "d-a1", {"reverted": "yes"}, 200, 0.01)), FAIL, "not marked reverted")),
    ("reverted-record-missing", (r.revert_makes_compensating_write, obs(reverted=None), FAIL,
                                 "the audit record is not marked reverted")),

    ("active-again", (r.active_restores_work, GOOD, PASS,
                      "after re-activating, invocations executed and wrote upstream again")),
    ("activate-refused", (r.active_restores_work, obs(activate=mode("active", 403, "Forbidden")),
                          FAIL, "the agent could not be set active again: PUT /control active "
                          "answered 403")),
    ("still-manual", (r.active_restores_work, obs(active=(invocation("a1", "manual"),)), FAIL,
                      "after re-activating, invocations answered ['manual'], not 'executed'")),
    ("active-not-executing", (r.active_restores_work, obs(active=(
        invocation("a1", "executed"),)), FAIL,
        "after re-activating, the invocation made no upstream write")),
    ("active-without-tools", (r.active_restores_work, obs(
        active=(invocation("a1", "executed"),), has_tools=False), PASS,
        "invocations executed")),

    ("operator-token-enough", (r.operator_token_suffices, GOOD, PASS,
                               "9 of 9 operator requests succeeded with the operator token; none "
                               "was refused for lack of rights")),
    ("some-unanswered", (r.operator_token_suffices, obs(approve=call(
        "POST approve", 500, "Internal Server Error")), PASS, "8 of 9 operator requests")),
    ("approve-401", (r.operator_token_suffices, obs(approve=call("POST approve", 401,
                                                                 {"error": "admin only"})), FAIL,
                     "1 of 9 operator requests were refused with the operator token: POST "
                     "approve answered 401")),
    ("control-403", (r.operator_token_suffices, obs(disable=call("PUT control disabled", 403),
                                                    revert=call("POST revert", 401)), FAIL,
                     "2 of 9 operator requests were refused with the operator token: PUT "
                     "control disabled answered 403")),
    ("all-404", (r.operator_token_suffices, RollbackObservations(
        initial=call("GET control", 404), disable=NOT_FOUND), FAIL,
        "no operator request succeeded with the operator token")),
]

Probe = Callable[[RollbackObservations], Finding]
PROBES = sorted({case[0] for _, case in CASES}, key=lambda p: p.__name__)


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: RollbackObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert len(PROBES) == 9
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.__name__)
def test_unavailable_is_an_error(probe: Probe) -> None:
    assert_finding(probe(UNAVAILABLE), ERROR,
                   "rollback could not be checked: the agent is down: connection refused")


@pytest.mark.parametrize(("probe", "outcome", "fragment"), [
    (r.kill_switch_answers_manual, FAIL, "the mode was not switched"),
    (r.kill_switch_stops_writes, ERROR, "no invocation was made while disabled"),
    (r.disabled_work_is_kept, ERROR, "no invocation was made while disabled"),
    (r.kill_switch_stops_inflight_writes, ERROR, "no invocation reached its model call"),
    (r.review_mode_holds_writes, FAIL, "the mode was not switched"),
    (r.approval_executes_write, FAIL, "nothing to approve"),
    (r.revert_makes_compensating_write, FAIL, "none could be reverted"),
    (r.active_restores_work, FAIL, "the mode was not switched"),
    (r.operator_token_suffices, FAIL, "no operator request succeeded"),
], ids=lambda p: getattr(p, "__name__", None))
def test_empty_never_passes(probe: Probe, outcome: Outcome, fragment: str) -> None:
    assert_finding(probe(EMPTY), outcome, fragment)


def test_remapped_field_names() -> None:
    fields = {"mode": "state", "status": "outcome", "decision_id": "id", "approver": "by",
              "reverted": "undone", "input": "payload"}

    def remap(data: Any) -> Any:
        if isinstance(data, dict):
            return {fields.get(k, k): remap(v) if k != "input" else v for k, v in data.items()}
        if isinstance(data, list):
            return [remap(item) for item in data]
        return data

    def remap_call(c: OperatorCall | None) -> OperatorCall | None:
        return None if c is None else dataclasses.replace(c, body=remap(c.body))

    def remap_invocation(i: Invocation) -> Invocation:
        fetched = i.fetched and dataclasses.replace(i.fetched, record=remap(i.fetched.record))
        return dataclasses.replace(i, answer=remap(dict(i.answer or {})), fetched=fetched)

    def remap_fetched(f: Fetched | None) -> Fetched | None:
        return None if f is None else dataclasses.replace(f, record=remap(f.record))

    changes: dict[str, Any] = {name: remap_call(getattr(GOOD, name)) for name in (
        "initial", "disable", "disabled_read", "review_mode", "review_list", "approve",
        "activate", "revert")}
    changes.update({name: tuple(map(remap_invocation, getattr(GOOD, name)))
                    for name in ("disabled", "review", "active")})
    mapped = dataclasses.replace(
        GOOD, fields=fields, inflight=dataclasses.replace(IN_FLIGHT, switch=remap_call(
            IN_FLIGHT.switch)), approved=remap_fetched(GOOD.approved),
        reverted=remap_fetched(GOOD.reverted), **changes)
    assert {p.__name__: p(mapped).outcome for p in PROBES} == {p.__name__: PASS for p in PROBES}
    assert r.kill_switch_answers_manual(dataclasses.replace(mapped, fields={})).outcome is FAIL


def test_late_writes_are_evidence() -> None:
    finding = r.kill_switch_stops_inflight_writes(flight(late_writes=(LATE,) * 7, writes=9))
    assert (len(finding.evidence["late_writes"]), finding.evidence["writes_during"],
            finding.evidence["in_flight"]) == (5, 9, 4)


def test_refused_calls_are_evidence() -> None:
    finding = r.operator_token_suffices(obs(approve=call("POST approve", 403, "admin only")))
    assert [dict(c) for c in finding.evidence["refused"]] == [{
        "request": "POST approve", "http_status": 403, "answer": "admin only",
        "upstream_writes": []}]


def test_calls_lists_only_the_calls_made() -> None:
    assert [c.action for c in obs(approve=None, revert=None).calls()] == [
        "GET control", "PUT control disabled", "GET control", "PUT control disabled",
        "PUT control review_only", "GET review", "PUT control active"]
    assert EMPTY.calls() == []


@pytest.mark.parametrize(("status", "ok"), [
    (200, True), (204, True), (299, True), (199, False), (301, False), (401, False),
    (None, False)])
def test_operator_call_ok(status: int | None, ok: bool) -> None:
    assert call("GET control", status).ok is ok
