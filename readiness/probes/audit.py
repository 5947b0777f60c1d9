"""Item 2, audit: judging the agent's audit trail against what really went upstream.

The observer (`audit_observe`) invokes the agent plainly, under upstream faults and
200 times concurrently, fetches every decision's record, pages through
GET /audit?since=, and tries to change a record. The probes here are pure
functions of those observations. Ground truth for effects is the proxies'
record of writes (`_writes`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from readiness.contract import AUDIT_FIELDS, MODES, STATUSES
from readiness.probes._invocations import (
    AuditObservations,
    ConcurrencyRun,
    Invocation,
    Mutation,
    same_input,
)
from readiness.probes._ops_api import parse_rfc3339
from readiness.probes._writes import compare
from readiness.registry import probe
from readiness.results import Finding, errored, failed, not_applicable, passed

__all__ = ["AuditObservations", "ConcurrencyRun", "Invocation", "Mutation", "record_problems"]

ITEM = "audit"
FETCH_WITHIN_S = 1.0
_SHOWN = 5


def _decision_id(obs: AuditObservations, invocation: Invocation) -> str | None:
    value = obs.get(invocation.answer, "decision_id") if invocation.answer else None
    return value if isinstance(value, str) and value else None


def _unassessable(obs: AuditObservations) -> Finding | None:
    if obs.unavailable:
        return errored(f"the audit trail could not be checked: {obs.unavailable}")
    if not any(_decision_id(obs, i) for i in obs.all_invocations()):
        shown = [i.brief() for i in obs.all_invocations()[:_SHOWN]]
        return errored("no invocation was answered with a decision_id, so there was no audit "
                       "record to look for; fix the invoke endpoint first", invocations=shown)
    return None


@probe(ITEM, weight=2, title="Every decision leaves one audit record, fetchable within a second",
       why="An operator asked 'why did the agent do that?' needs the record now, not after "
           "a log search; a decision with no record cannot be explained or reverted.",
       fix="Write the audit record before answering the invocation (same transaction as the "
           "decision) and serve GET /audit/{decision_id} from that store.")
def audit_record_per_invocation(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    missing, late, unanswered = [], [], []
    checked = 0
    for invocation in obs.all_invocations():
        if _decision_id(obs, invocation) is None:
            unanswered.append(invocation.brief())
            continue
        checked += 1
        fetched = invocation.fetched
        if fetched is None or fetched.record is None:
            missing.append(invocation.brief())
        elif fetched.after_s is not None and fetched.after_s > FETCH_WITHIN_S:
            late.append(invocation.brief())
    if missing or late:
        parts = []
        if missing:
            parts.append(f"{len(missing)} of {checked} decisions have no record at "
                         "GET /audit/{decision_id}")
        if late:
            parts.append(f"{len(late)} records appeared only after more than {FETCH_WITHIN_S:g} s")
        return failed("; ".join(parts), missing=missing[:_SHOWN], late=late[:_SHOWN],
                      checked=checked)
    return passed(f"all {checked} decisions had their record within {FETCH_WITHIN_S:g} s",
                  checked=checked, not_answered_with_a_decision=len(unanswered),
                  slowest_s=max((i.fetched.after_s or 0.0 for i in obs.all_invocations()
                                 if i.fetched and i.fetched.record), default=None))


def record_problems(obs: AuditObservations, invocation: Invocation) -> list[str]:
    """What is missing or wrong in one invocation's audit record."""
    record = invocation.record
    if record is None:
        return []
    get = obs.get
    problems = [f"no field {obs.fields.get(name, name)!r}" for name in AUDIT_FIELDS
                if obs.fields.get(name, name) not in record]
    answer = invocation.answer or {}
    status = get(record, "status")
    checks = [
        (get(record, "decision_id") == _decision_id(obs, invocation),
         "decision_id differs from the invoke answer's"),
        (get(record, "request_id") == invocation.request_id,
         f"request_id is {get(record, 'request_id')!r}, not the {invocation.request_id!r} sent"),
        (parse_rfc3339(get(record, "timestamp")) is not None,
         f"timestamp {get(record, 'timestamp')!r} is not RFC 3339 with a time zone"),
        (obs.version is None or get(record, "agent_version") == obs.version,
         f"agent_version {get(record, 'agent_version')!r} is not the running version "
         f"{obs.version!r}"),
        (isinstance(get(record, "agent_version"), str) and bool(get(record, "agent_version")),
         "agent_version is empty"),
        (get(record, "mode") in MODES, f"mode {get(record, 'mode')!r} is not one of {MODES}"),
        (same_input(get(record, "input"), invocation.input, obs.redact),
         "input is not the input sent"),
        (status in STATUSES, f"status {status!r} is not one of {STATUSES}"),
        (status == get(answer, "status"),
         f"status {status!r} differs from the invoke answer's {get(answer, 'status')!r}"),
        (_confidence_ok(get(record, "confidence"), status),
         f"confidence {get(record, 'confidence')!r} is not a number in [0, 1]"),
        (get(record, "action") is None or isinstance(get(record, "action"), dict),
         "action is neither an object nor null"),
        (status != "executed" or isinstance(get(record, "action"), dict),
         "an executed decision has no action"),
        (status != "executed" or _text(get(record, "reasoning")),
         "an executed decision has no reasoning"),
        (get(record, "approver") is None, "approver is set though nobody approved it"),
        (isinstance(get(record, "effects"), list), "effects is not a list"),
        (isinstance(get(record, "errors"), list)
         and all(isinstance(e, str) for e in get(record, "errors") or []),
         "errors is not a list of strings"),
        (get(record, "reverted") is False, f"reverted is {get(record, 'reverted')!r}, not false"),
    ]
    return problems + [message for ok, message in checks if not ok]


def _confidence_ok(value: Any, status: Any) -> bool:
    if value is None:
        return bool(status != "executed")  # nothing decided, nothing to be confident about
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@probe(ITEM, title="Audit records have every contract field, with sensible values",
       why="A record missing its reasoning, confidence or version cannot answer the questions "
           "an auditor or an operator asks of it.",
       fix="Fill every field of the audit record (DESIGN section 3): RFC 3339 timestamp, the "
           "running agent_version, the input as received, reasoning and confidence in [0, 1] "
           "for every decision made, effects and errors as lists.")
def audit_records_complete(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    fetched = [i for i in obs.all_invocations() if i.record is not None]
    if not fetched:
        return failed("no audit record could be fetched to check its fields")
    bad = {i.request_id: record_problems(obs, i) for i in fetched}
    bad = {rid: problems for rid, problems in bad.items() if problems}
    if bad:
        counts = Counter(p for problems in bad.values() for p in problems)
        common = [f"{p} ({n}x)" for p, n in counts.most_common(_SHOWN)]
        example = next(i for i in fetched if i.request_id in bad)
        return failed(f"{len(bad)} of {len(fetched)} records are incomplete or wrong: "
                      + "; ".join(common), problems=common, example_record=example.record,
                      example_problems=bad[example.request_id])
    return passed(f"all {len(fetched)} records have every field with a sensible value",
                  example_record=fetched[0].record)


@probe(ITEM, weight=2, title="Recorded effects match the writes the upstream really saw",
       why="The audit record is only evidence if it is true: a write missing from it cannot "
           "be found or reverted, and one that never happened sends people chasing ghosts.",
       fix="Append an effect for every write attempt as it is made (including attempts that "
           "got no answer, with status null), from the code that makes the call, not from "
           "what the model planned.")
def audit_effects_match_upstream(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    if not obs.has_tools:
        return not_applicable("no upstream of kind 'tool' is declared, so nothing is written")
    checked, mismatches, unrecorded = 0, [], []
    for invocation in obs.all_invocations():
        if invocation.writes is None:
            continue
        if invocation.record is None:
            if invocation.writes:
                unrecorded.append({**invocation.brief(), "writes": list(invocation.writes)})
            continue
        checked += 1
        diff = compare(obs.get(invocation.record, "effects"), invocation.writes)
        if not diff.matches:
            mismatches.append({"scenario": invocation.scenario,
                               "request_id": invocation.request_id, "diff": diff.summary(),
                               "effects": obs.get(invocation.record, "effects"),
                               "upstream_writes": list(invocation.writes)})
    batch = obs.concurrent
    aggregate = None
    if batch is not None and any(i.writes is None for i in batch.invocations):
        claimed = [e for i in batch.invocations if i.record is not None
                   for e in _as_list(obs.get(i.record, "effects"))]
        diff = compare(claimed, batch.writes)
        aggregate = {"diff": diff.summary(), "claimed": len(claimed),
                     "recorded": len(batch.writes)}
        if not diff.matches:
            mismatches.append({"scenario": f"{batch.sent} concurrent invocations, all together",
                               **aggregate})
    if mismatches or unrecorded:
        parts = []
        if unrecorded:
            parts.append(f"{len(unrecorded)} invocation(s) wrote upstream but left no record")
        if mismatches:
            parts.append(f"{len(mismatches)} record(s) whose effects differ from the upstream's "
                         f"record: {mismatches[0]['scenario']}: {mismatches[0]['diff']}")
        return failed("; ".join(parts), mismatches=mismatches[:_SHOWN],
                      writes_without_record=unrecorded[:_SHOWN])
    writes = sum(len(i.writes or ()) for i in obs.all_invocations())
    return passed(f"effects matched the recorded upstream writes for {checked} decisions "
                  f"({writes} writes)", checked=checked, aggregate=aggregate,
                  example=next(({"effects": obs.get(i.record, "effects"),
                                 "upstream_writes": list(i.writes or ())}
                                for i in obs.all_invocations() if i.writes and i.record), None))


def _as_list(effects: Any) -> list[Any]:
    """A record's effects as a list: a non-list value is one (malformed) entry."""
    if effects is None:
        return []
    return effects if isinstance(effects, list) else [effects]


@probe(ITEM, title="Invocations that hit upstream faults are audited, with the error",
       why="The decisions that went wrong are the ones people investigate; an audit trail "
           "that only records successes is empty exactly when it is needed.",
       fix="Record the decision on every path out of the invocation, failures included "
           "(a try/finally around the work), with the error in `errors`.")
def audit_records_faulted_invocations(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    faulted = [i for i in obs.faulted if i.fault_fired]
    if not faulted:
        return errored("no injected fault reached the agent, so faulted invocations could not "
                       "be checked", scenarios=[i.brief() for i in obs.faulted])
    bad = []
    for invocation in faulted:
        if invocation.record is None:
            bad.append({**invocation.brief(), "problem": "no audit record"})
        elif invocation.persistent and not obs.get(invocation.record, "errors"):
            bad.append({**invocation.brief(), "problem": "the record's errors are empty though "
                        "every upstream attempt failed", "record": invocation.record})
    if bad:
        return failed(f"{len(bad)} of {len(faulted)} faulted invocations are not audited with "
                      f"their error: {bad[0]['scenario']}: {bad[0]['problem']}", faulted=bad)
    return passed(f"all {len(faulted)} faulted invocations were audited with their error",
                  faulted=[{"scenario": i.scenario,
                            "errors": obs.get(i.record, "errors") if i.record else None}
                           for i in faulted])


@probe(ITEM, weight=2, title="No audit record is lost or duplicated under concurrent load",
       why="Lost updates and double inserts appear only when invocations overlap, which is "
           "normal traffic in production and never happens in a demo.",
       fix="Write records with an atomic insert keyed by decision_id (a database transaction, "
           "not a read-modify-write of a shared file or list), and make request_id unique.")
def audit_survives_concurrency(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    batch = obs.concurrent
    if batch is None:
        return errored("the concurrent invocations did not run")
    key = obs.fields.get("request_id", "request_id")
    # A list that cannot be paged (its own probe fails) says nothing about duplicates.
    usable = obs.listing is not None and obs.listing.problem is None
    listed = Counter(r.get(key) for r in (obs.listing.records if usable and obs.listing else ()))
    lost, doubled, unanswered = [], [], 0
    for invocation in batch.invocations:
        if _decision_id(obs, invocation) is None:
            unanswered += 1
        in_list = listed.get(invocation.request_id, 0)
        if invocation.record is None and in_list == 0:
            lost.append(invocation.request_id)
        elif in_list > 1:
            doubled.append(invocation.request_id)
    detail: dict[str, Any] = {
        "sent": batch.sent, "concurrency": batch.concurrency,
        "answered_without_decision": unanswered,
        "listing": None if obs.listing is None else
        {"records": len(obs.listing.records), "problem": obs.listing.problem}}
    if lost or doubled:
        parts = []
        if lost:
            parts.append(f"{len(lost)} of {batch.sent} records lost")
        if doubled:
            parts.append(f"{len(doubled)} recorded more than once")
        return failed(f"{batch.sent} invocations, {batch.concurrency} at a time: "
                      + ", ".join(parts), lost=lost[:_SHOWN * 2], duplicated=doubled[:_SHOWN * 2],
                      **detail)
    return passed(f"{batch.sent} invocations, {batch.concurrency} at a time: each left exactly "
                  "one record", **detail)


@probe(ITEM, title="GET /audit?since= lists the records oldest first",
       why="Incident review and exports read the log as a timeline; one that skips or "
           "reorders records gives a false story of what happened.",
       fix="Answer GET /audit?since=<RFC 3339>&limit=N with records whose timestamp is at or "
           "after `since`, ordered by timestamp (then insertion order), at most `limit` each.")
def audit_lists_in_order(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    listing = obs.listing
    if listing is None:
        return errored("the audit list was not read")
    if listing.problem:
        return failed(f"the audit list could not be read: {listing.problem}",
                      since=listing.since, pages=listing.pages)
    since = parse_rfc3339(listing.since)
    times = [parse_rfc3339(obs.get(r, "timestamp")) for r in listing.records]
    if any(t is None for t in times):
        return failed("some listed records have no RFC 3339 timestamp, so order cannot be "
                      "checked", examples=[obs.get(r, "timestamp") for r in listing.records][:5])
    stamps = [t for t in times if t is not None]
    backwards = [i for i in range(1, len(stamps)) if stamps[i] < stamps[i - 1]]
    early = [i for i, t in enumerate(stamps) if since is not None and t < since]
    ids = [obs.get(r, "request_id") for r in listing.records]
    expected = [i.request_id for i in obs.all_invocations() if i.record is not None]
    absent = [rid for rid in expected if rid not in set(ids)]
    made = [i.request_id for i in obs.sequential if i.record is not None]
    position = {rid: n for n, rid in enumerate(ids)}
    order = [position[rid] for rid in made if rid in position]
    out_of_order = order != sorted(order)
    evidence: dict[str, Any] = {"since": listing.since, "pages": listing.pages,
                                "page_sizes": listing.page_sizes, "records": len(listing.records)}
    if backwards or early or absent or out_of_order:
        parts = []
        if backwards:
            n = backwards[0]
            parts.append(f"{len(backwards)} records are older than the one before them (e.g. "
                         f"{obs.get(listing.records[n], 'timestamp')} after "
                         f"{obs.get(listing.records[n - 1], 'timestamp')})")
        if early:
            parts.append(f"{len(early)} records are older than since={listing.since}")
        if absent:
            parts.append(f"{len(absent)} of {len(expected)} records fetched by id are missing "
                         "from the list")
        if out_of_order:
            parts.append("decisions made one after another are listed in another order")
        return failed("; ".join(parts), missing=absent[:_SHOWN], **evidence)
    return passed(f"{len(listing.records)} records listed oldest first, every record of this run "
                  "included", **evidence)


@probe(ITEM, title="Audit records cannot be changed or deleted through the API",
       why="A log anyone with a token can rewrite proves nothing to an auditor or a court.",
       fix="Serve the audit log read-only: answer PUT, PATCH and DELETE on audit paths with "
           "405, and keep corrections as new records that reference the old one.")
def audit_records_immutable(obs: AuditObservations) -> Finding:
    if (problem := _unassessable(obs)) is not None:
        return problem
    if obs.mutation_target is None or not obs.mutations:
        return failed("no audit record could be fetched to try changing it")
    bad = [m for m in obs.mutations if m.changed or m.gone
           or (m.status is not None and 200 <= m.status < 300)]
    tried = [{"request": f"{m.method} {m.path}", "status": m.status, "changed": m.changed,
              "deleted": m.gone} for m in obs.mutations]
    if bad:
        worst = bad[0]
        what = ("deleted the record" if worst.gone else "changed the record" if worst.changed
                else f"answered {worst.status}")
        return failed(f"{worst.method} {worst.path} with the operator token {what}",
                      attempts=tried)
    return passed(f"{len(tried)} attempts to change or delete a record were refused and the "
                  "record stayed the same", attempts=tried)


