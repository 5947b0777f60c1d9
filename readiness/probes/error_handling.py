"""Item 1, error handling: judging how the agent met injected upstream faults and bad input.

The observer (`error_handling_observe`) drives the agent through the chaos proxies
and fills `ErrorHandlingObservations`; the probes here are pure functions of it.
A `Trial` is one invocation under one fault schedule; its attempts are the calls
the agent made to the faulted route during that invocation, times relative to the
first (`_timeline.Attempt`). Every finding carries the trials' timelines as
evidence, so a reader sees when each attempt came and what it met.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from readiness.contract import STATUSES
from readiness.probes import _backoff
from readiness.probes._answers import bad_input_problem, leaked_trace
from readiness.probes._timeline import Attempt, retry_gaps, timeline
from readiness.registry import probe
from readiness.results import Finding, errored, failed, not_applicable, passed
from readiness.scenarios.fuzz import FuzzFailure, FuzzResult

__all__ = ["ErrorHandlingObservations", "FuzzFailure", "FuzzResult", "Trial", "bad_input_problem",
           "leaked_trace"]

ITEM = "error_handling"
MAX_ATTEMPTS = 10  # more attempts than this for one invocation is not a bounded retry
RETRY_AFTER_TOLERANCE_S = 0.05  # timestamps come from two processes; allow scheduling slack
FALLBACK_STATUSES = ("manual", "failed")
CLIENT_ERRORS = (400, 401, 403, 404, 422)
TOLERABLE_FAULTS = frozenset({"wrong_content_type"})  # the body itself is intact JSON
_BODY_LIMIT = 400
_SHOWN = 5  # failing examples shown in a message's evidence

@dataclass(frozen=True)
class Trial:
    """One invocation of the agent under one fault schedule, and how it ended.

    `scenario` names the schedule for people ("503 on the first 3 attempts");
    `fault` is the catalogue name and `params` its parameters ({"status": 503,
    "first": 3}); `route` names the faulted route ("crm POST /leads/*/assign").
    `attempts` are the agent's calls to that route during this invocation.
    The reply: `reply_status` (None when none came), `reply_body` (the parsed JSON
    object, None when the body was not one), `reply_text` (the raw body, truncated
    as the observer likes), `reply_error` (why no answer came: a timeout at the
    harness's deadline, a reset) and `decision_status` (the invoke answer's status
    field, read under the agent's field mapping). `elapsed_s`: how long the
    invocation took; `healthy_after`: whether GET /health answered 2xx afterwards
    (None: not checked); `audit_errors`: the `errors` of the decision's audit record
    (None: no audit record could be read).
    """

    scenario: str
    fault: str
    attempts: tuple[Attempt, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    route: str = ""
    reply_status: int | None = None
    reply_body: Mapping[str, Any] | None = None
    reply_text: str = ""
    reply_error: str | None = None
    decision_status: str | None = None
    elapsed_s: float | None = None
    healthy_after: bool | None = None
    audit_errors: tuple[str, ...] | None = None

    @property
    def answered_2xx(self) -> bool:
        return self.reply_status is not None and 200 <= self.reply_status < 300

    @property
    def recovered(self) -> bool:
        """Some attempt on the faulted route got through untouched (the fault lifted)."""
        return any(attempt.succeeded for attempt in self.attempts)

    @property
    def injected(self) -> bool:
        """The fault hit at least one attempt; otherwise the trial shows nothing."""
        return any(attempt.fault is not None for attempt in self.attempts)

    def evidence(self, problem: str | None = None) -> dict[str, Any]:
        """The trial for a reader: the schedule, the attempt timeline, the reply."""
        text = self.reply_text if len(self.reply_text) <= _BODY_LIMIT else (
            self.reply_text[:_BODY_LIMIT] + "…")
        entry: dict[str, Any] = {
            "scenario": self.scenario, "fault": self.fault, "params": dict(self.params),
            "route": self.route, "timeline": timeline(self.attempts),
            "reply": {"status": self.reply_status, "decision_status": self.decision_status,
                      "error": self.reply_error, "body": text,
                      "elapsed_ms": None if self.elapsed_s is None else round(
                          self.elapsed_s * 1000)}}
        if self.healthy_after is not None:
            entry["healthy_after"] = self.healthy_after
        if self.audit_errors is not None:
            entry["audit_errors"] = list(self.audit_errors)
        if problem is not None:
            entry["problem"] = problem
        return entry


@dataclass(frozen=True)
class ErrorHandlingObservations:
    """Everything the error-handling probes judge; empty trial lists mean not run.

    `unavailable` says why faults could not be injected at all (the agent calls no
    upstream on invoke; an in-process agent's client the injection does not cover);
    the fault probes then report an error. `input_fuzz` does not need faults.
    `backoff_trials` repeat one fault without Retry-After, so the waits are the
    agent's own; `retry_after_trials` answer 429 with Retry-After.
    """

    deadline_s: float
    retry_trials: tuple[Trial, ...] = ()
    backoff_trials: tuple[Trial, ...] = ()
    retry_after_trials: tuple[Trial, ...] = ()
    non_retryable_trials: tuple[Trial, ...] = ()
    timeout_trials: tuple[Trial, ...] = ()
    malformed_trials: tuple[Trial, ...] = ()
    input_fuzz: FuzzResult | None = None
    unavailable: str | None = None


# --- shared judging ------------------------------------------------------------------------

Judge = Callable[[Trial], str | None]


def _missing(obs: ErrorHandlingObservations, trials: Sequence[Trial], what: str) -> Finding | None:
    """The finding when there is nothing to judge, else None."""
    if obs.unavailable:
        return errored(f"upstream faults could not be injected: {obs.unavailable}")
    if not trials:
        return not_applicable(f"no {what} trials were run")
    return None


def _judge_trials(trials: Sequence[Trial], judge: Judge, what: str, good: str,
                  **extra: Any) -> Finding:
    """Fail on any trial the judge faults; error when no trial showed the fault; else pass."""
    assessed = [t for t in trials if t.injected]
    problems = [(t, judge(t)) for t in assessed]
    bad = [(t, p) for t, p in problems if p is not None]
    evidence = [t.evidence(p) for t, p in problems]
    evidence += [t.evidence("the fault was not injected: no attempt met it")
                 for t in trials if not t.injected]
    if bad:
        first, problem = bad[0]
        return failed(f"{len(bad)} of {len(assessed)} {what} trials: {first.scenario}: {problem}",
                      trials=evidence, **extra)
    if not assessed:
        return errored(f"none of the {len(trials)} {what} trials reached the faulted route, so "
                       "no attempt met the fault", trials=evidence, **extra)
    return passed(f"all {len(assessed)} {what} trials {good}", trials=evidence, **extra)


def _defined_outcome(trial: Trial, fallback_only: bool) -> str | None:
    """What is wrong with how the invocation ended, or None: a 2xx with a contract status."""
    if trial.reply_error is not None:
        return f"the invocation got no answer: {trial.reply_error}"
    if not trial.answered_2xx:
        return f"the agent answered HTTP {trial.reply_status}, not a 2xx decision"
    allowed = FALLBACK_STATUSES if fallback_only and not trial.recovered else STATUSES
    if trial.decision_status not in allowed:
        return (f"the answer's status is {trial.decision_status!r}, expected one of "
                f"{', '.join(allowed)}"
                + (" (no call to the route succeeded)" if allowed is FALLBACK_STATUSES else ""))
    return None


# --- probes --------------------------------------------------------------------------------


@probe(ITEM, title="Retries transient upstream errors, within bounds",
       why="Rate limits, 5xx answers and dropped connections are routine; an agent that gives "
           "up on the first one fails work it could have done, and one that retries forever "
           "turns a blip into an outage.",
       fix="Retry 429, 5xx and connection errors a bounded number of times (for example 3 to 5, "
           "within the invocation's deadline), then answer with a defined status such as "
           "manual or failed.", weight=2)
def retries_transient_errors(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.retry_trials, "transient-error")
    if missing:
        return missing

    def judge(trial: Trial) -> str | None:
        late = [a for a in trial.attempts if a.t_s > obs.deadline_s]
        if len(trial.attempts) < 2:
            return "gave up after one attempt: no retry"
        if len(trial.attempts) > MAX_ATTEMPTS:
            return (f"{len(trial.attempts)} attempts: retries are not bounded (at most "
                    f"{MAX_ATTEMPTS})")
        if late:
            return (f"attempt {late[0].n} started {late[0].t_s:.1f} s after the first, past the "
                    f"{obs.deadline_s:g} s deadline")
        return _defined_outcome(trial, fallback_only=False)

    return _judge_trials(obs.retry_trials, judge, "transient-error",
                         "were retried, stopped in bounds and ended with a defined status",
                         deadline_s=obs.deadline_s, max_attempts=MAX_ATTEMPTS)


@probe(ITEM, title="Backs off exponentially, with jitter",
       why="Retries at fixed or immediate intervals hammer an upstream that is already failing, "
           "and retries without jitter arrive from every client at the same instants, so the "
           "upstream cannot recover.",
       fix="Wait base * 2**attempt seconds, randomised (full jitter: uniform in [0, that]), "
           "capped; for example tenacity's wait_random_exponential or backoff's expo with "
           "full_jitter.", weight=2)
def backs_off_with_jitter(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.backoff_trials, "backoff")
    if missing:
        return missing
    trials = [t for t in obs.backoff_trials if t.injected]
    if not trials:
        return errored(f"none of the {len(obs.backoff_trials)} backoff trials reached the faulted "
                       "route", trials=[t.evidence() for t in obs.backoff_trials])
    gap_lists = [retry_gaps(t.attempts) for t in trials]
    verdict = _backoff.classify(gap_lists)
    evidence: dict[str, Any] = {
        "verdict": verdict.to_json(), "measured": "end of one attempt to the start of the next",
        "gaps_ms": [[round(g * 1000) for g in gl] for gl in gap_lists],
        "trials": [t.evidence() for t in obs.backoff_trials]}
    if verdict.policy is _backoff.Policy.NO_RETRIES:
        return not_applicable(f"{verdict.reason}; retries_transient_errors judges that", **evidence)
    if verdict.policy is _backoff.Policy.UNDETERMINED:
        return errored(f"{verdict.reason}; {len(trials)} trials retried", **evidence)
    if verdict.ok:
        return passed(verdict.reason, **evidence)
    return failed(verdict.reason, **evidence)


@probe(ITEM, title="Honours Retry-After",
       why="A 429 with Retry-After is the upstream saying exactly when it will serve again; "
           "retrying sooner burns quota and can get the account throttled harder or banned.",
       fix="On 429 (and 503) read Retry-After (seconds or HTTP-date) and retry-after-ms, and "
           "wait at least that long before the next attempt, or give up if it is past the "
           "deadline.")
def honours_retry_after(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.retry_after_trials, "Retry-After")
    if missing:
        return missing
    checks: list[dict[str, Any]] = []
    early: list[str] = []
    asked = 0
    for trial in obs.retry_after_trials:
        for attempt, after in itertools.pairwise(trial.attempts):
            if attempt.retry_after_s is None:
                continue
            waited = after.t_s - attempt.ended_s
            checks.append({"scenario": trial.scenario, "attempt": after.n,
                           "asked_ms": round(attempt.retry_after_s * 1000),
                           "waited_ms": round(waited * 1000)})
            if waited + RETRY_AFTER_TOLERANCE_S < attempt.retry_after_s:
                early.append(f"{trial.scenario}: attempt {after.n} came {waited:.2f} s after a "
                             f"Retry-After of {attempt.retry_after_s:g} s")
        asked += sum(a.retry_after_s is not None for a in trial.attempts)
    evidence: dict[str, Any] = {"checks": checks,
                                "trials": [t.evidence() for t in obs.retry_after_trials]}
    if early:
        return failed(f"{len(early)} of {len(checks)} retries came too early: {early[0]}",
                      **evidence)
    if not asked:
        return errored("no recorded answer carried a Retry-After the harness could read",
                       **evidence)
    if not checks:
        return not_applicable(f"the agent never retried after any of {asked} Retry-After "
                              "answers; retries_transient_errors judges that", **evidence)
    return passed(f"all {len(checks)} retries after a Retry-After waited at least as long as "
                  "asked", **evidence)


@probe(ITEM, title="Does not retry client errors",
       why="A 400, 401, 403, 404 or 422 will fail the same way every time; retrying it wastes "
           "the deadline and quota, and repeats a request the upstream already refused.",
       fix="Retry only 408, 429, 5xx and connection errors; treat other 4xx as final and "
           "answer with status failed or manual.")
def does_not_retry_client_errors(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.non_retryable_trials, "client-error")
    if missing:
        return missing

    def judge(trial: Trial) -> str | None:
        if len(trial.attempts) > 1:
            return (f"HTTP {trial.attempts[0].status} was sent {len(trial.attempts)} times; "
                    "it is final and must not be retried")
        return None

    return _judge_trials(obs.non_retryable_trials, judge, "client-error",
                         "made exactly one attempt")


@probe(ITEM, title="Timeouts end in a defined outcome within the deadline",
       why="An upstream that never answers must not hang the agent: a caller waiting past the "
           "deadline retries, times out or double-submits, and the work is in limbo.",
       fix="Set connect and read timeouts on every upstream client, keep the total under the "
           "invocation deadline, and answer status manual or failed when they expire.", weight=2)
def timeouts_have_defined_outcome(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.timeout_trials, "timeout")
    if missing:
        return missing

    def judge(trial: Trial) -> str | None:
        if trial.reply_error is None and trial.elapsed_s is not None \
                and trial.elapsed_s > obs.deadline_s:
            return (f"answered after {trial.elapsed_s:.1f} s, past the {obs.deadline_s:g} s "
                    "deadline")
        return _defined_outcome(trial, fallback_only=True)

    return _judge_trials(obs.timeout_trials, judge, "timeout",
                         f"answered within {obs.deadline_s:g} s with a defined status",
                         deadline_s=obs.deadline_s)


@probe(ITEM, title="Falls back when upstream data is malformed",
       why="Truncated JSON, HTML error pages, missing fields and LLM answers without the "
           "expected tool call happen in production; a parser that crashes on them loses the "
           "work and can leak internals to the caller.",
       fix="Validate every upstream response (schema, content type, tool call) and on failure "
           "answer 2xx with status manual or failed, record the error in the audit record, and "
           "never return a traceback.", weight=2)
def malformed_upstream_falls_back(obs: ErrorHandlingObservations) -> Finding:
    missing = _missing(obs, obs.malformed_trials, "malformed-upstream")
    if missing:
        return missing

    def judge(trial: Trial) -> str | None:
        trace = leaked_trace(trial.reply_text, trial.reply_body)
        if trace:
            return f"the answer leaks a stack trace or exception name: {trace!r}"
        # a mislabelled but intact JSON body may be used as it is: tolerance, not a defect
        tolerated = trial.fault in TOLERABLE_FAULTS
        outcome = _defined_outcome(trial, fallback_only=not tolerated)
        if outcome:
            return outcome
        if trial.audit_errors is not None and not trial.audit_errors and not trial.recovered \
                and not tolerated:
            return "the audit record's errors are empty: the parse failure was not recorded"
        if trial.healthy_after is False:
            return "GET /health failed after the fault: the agent did not recover"
        return None

    return _judge_trials(obs.malformed_trials, judge, "malformed-upstream",
                         "fell back to a defined status, recorded the error and stayed healthy")


@probe(ITEM, title="Rejects bad input with a clear 4xx",
       why="Callers send malformed requests; an agent that answers them with a 500, a "
           "traceback or a hang is one bad payload away from an outage and leaks internals.",
       fix="Validate the invoke body at the edge (types, required fields, sizes) and answer "
           "400 or 422 with {\"error\": \"what is wrong\"} before any model or tool call.",
       weight=2)
def rejects_bad_input_with_4xx(obs: ErrorHandlingObservations) -> Finding:
    fuzz = obs.input_fuzz
    if fuzz is None:
        return not_applicable("invoke inputs were not fuzzed in this run")
    if fuzz.error is not None:
        return errored(f"the input fuzzer could not run: {fuzz.error}", generated=fuzz.count)
    if fuzz.count == 0:
        return errored("the input fuzzer generated no input")
    problems = [(f, bad_input_problem(f.status, f.body, f.error) or f.problem
                 or "flagged by the fuzzer") for f in fuzz.failures]
    if problems:
        shown = [{"input": f.input, "status": f.status, "error": f.error, "problem": p,
                  "body": f.body if len(f.body) <= _BODY_LIMIT else f.body[:_BODY_LIMIT] + "…"}
                 for f, p in problems[:_SHOWN]]
        return failed(f"{len(problems)} of {fuzz.count} generated bad inputs were mishandled; "
                      f"for example {_compact(problems[0][0].input)}: {problems[0][1]}",
                      generated=fuzz.count, failing=len(problems), examples=shown)
    return passed(f"all {fuzz.count} generated bad inputs were rejected with a 4xx JSON error "
                  "(or, where the input may be valid, answered with a defined decision)",
                  generated=fuzz.count)


def _compact(value: Any, limit: int = 120) -> str:
    """A short one-line rendering of an input for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a circular structure: show its repr
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
