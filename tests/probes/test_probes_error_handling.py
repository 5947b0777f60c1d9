"""Item 1 probes as pure functions of constructed observations; timelines from exchanges."""

from __future__ import annotations

import dataclasses
import email.utils
import json
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases, probe_params

from readiness.chaos.recorder import Exchange
from readiness.probes import _timeline
from readiness.probes import error_handling as eh
from readiness.probes._timeline import Attempt
from readiness.probes.error_handling import (
    ErrorHandlingObservations,
    FuzzFailure,
    FuzzResult,
    Trial,
)
from readiness.registry import REGISTRY
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE
T0 = 1_700_000_000.0


def a(n: int, t: float, status: int | None = 503, fault: str | None = "server_error",
      took: float = 0.01, retry_after: float | None = None) -> Attempt:
    """An attempt starting at t seconds, lasting `took`."""
    return Attempt(n, t, t + took, status, fault, retry_after)


def ok(n: int, t: float) -> Attempt:
    """An attempt the fault did not touch, answered 200."""
    return a(n, t, 200, None)


def trial(*attempts: Attempt, scenario: str = "503 on the first 2 attempts",
          fault: str = "server_error", decision: str | None = "executed", status: int | None = 200,
          **changes: Any) -> Trial:
    """An invocation that answered `status` with decision `decision`, unless changed."""
    body = {"decision_id": "d-1", "status": decision} if decision else None
    base = Trial(scenario, fault, tuple(attempts), {"first": 2}, "crm POST /leads/*/assign",
                 reply_status=status, reply_body=body, reply_text=json.dumps(body),
                 decision_status=decision, elapsed_s=0.4)
    return dataclasses.replace(base, **changes)


def backoff_trial(*gaps: float, took: float = 0.02) -> Trial:
    """Failed attempts separated by `gaps` (end to start), then a success."""
    attempts, t = [], 0.0
    for n, gap in enumerate(gaps, start=1):
        attempts.append(a(n, t, took=took))
        t += took + gap
    attempts.append(ok(len(gaps) + 1, t))
    return trial(*attempts, scenario=f"503 on the first {len(gaps)} attempts")


RETRIED = trial(a(1, 0.0), a(2, 0.12), ok(3, 0.4))
GAVE_UP = trial(a(1, 0.0), decision="manual")
FALLBACK = trial(a(1, 0.0), a(2, 0.2), a(3, 0.6), decision="failed")
JITTER = tuple(backoff_trial(*g) for g in [(0.04, 0.15, 0.30), (0.09, 0.05, 0.61),
                                           (0.01, 0.19, 0.70), (0.07, 0.11, 0.22),
                                           (0.02, 0.17, 0.45)])
FIXED = tuple(backoff_trial(0.5, 0.5, 0.5) for _ in range(5))
PLAIN_EXPO = tuple(backoff_trial(0.1, 0.2, 0.4) for _ in range(5))
RETRY_AFTER_OK = trial(a(1, 0.0, 429, "rate_limit", retry_after=1.0), ok(2, 1.02),
                       scenario="429 with Retry-After: 1", fault="rate_limit")
RETRY_AFTER_EARLY = trial(a(1, 0.0, 429, "rate_limit", retry_after=2.0), ok(2, 0.5),
                          scenario="429 with Retry-After: 2", fault="rate_limit")
CLIENT_404 = trial(a(1, 0.0, 404, "client_error"), scenario="404", decision="failed")
TIMED_OUT = trial(a(1, 0.0, None, "timeout", took=5.0), scenario="never answers",
                  fault="timeout", decision="manual", elapsed_s=5.2)
MALFORMED = trial(a(1, 0.0, 200, "truncated_json"), scenario="truncated JSON",
                  fault="truncated_json", decision="manual", audit_errors=("invalid JSON",),
                  healthy_after=True)
FUZZ_OK = FuzzResult(200)

GOOD = ErrorHandlingObservations(
    deadline_s=30, retry_trials=(RETRIED, FALLBACK), backoff_trials=JITTER,
    retry_after_trials=(RETRY_AFTER_OK,), non_retryable_trials=(CLIENT_404,),
    timeout_trials=(TIMED_OUT,), malformed_trials=(MALFORMED,), input_fuzz=FUZZ_OK)
EMPTY = ErrorHandlingObservations(deadline_s=30)
UNAVAILABLE = dataclasses.replace(GOOD, unavailable="the agent called no upstream on invoke")
NOT_INJECTED = trial(ok(1, 0.0))
NOWHERE = trial()  # the agent never reached the faulted route


def obs(**changes: Any) -> ErrorHandlingObservations:
    """GOOD with some fields replaced."""
    return dataclasses.replace(GOOD, **changes)


TRACE = 'Traceback (most recent call last):\n  File "/app/agent.py", line 42, in run\nKeyError: x'

CASES: list[ProbeCase] = [
    (eh.retries_transient_errors, GOOD, PASS, "all 2 transient-error trials were retried"),
    (eh.retries_transient_errors, obs(retry_trials=(GAVE_UP,)), FAIL,
     "1 of 1 transient-error trials: 503 on the first 2 attempts: gave up after one attempt"),
    (eh.retries_transient_errors,
     obs(retry_trials=(trial(*(a(n, n * 0.1) for n in range(1, 13)), decision="failed"),)),
     FAIL, "12 attempts: retries are not bounded (at most 10)"),
    (eh.retries_transient_errors, obs(retry_trials=(trial(a(1, 0), a(2, 12), a(3, 31.5)),)),
     FAIL, "attempt 3 started 31.5 s after the first, past the 30 s deadline"),
    (eh.retries_transient_errors, obs(retry_trials=(trial(a(1, 0), a(2, 1), status=500,
                                                          decision=None),)),
     FAIL, "the agent answered HTTP 500, not a 2xx decision"),
    (eh.retries_transient_errors, obs(retry_trials=(trial(a(1, 0), a(2, 1), decision="ok"),)),
     FAIL, "the answer's status is 'ok', expected one of executed, pending_review, manual"),
    (eh.retries_transient_errors,
     obs(retry_trials=(trial(a(1, 0), a(2, 1), status=None, decision=None,
                             reply_error="no answer within 35 s"),)),
     FAIL, "the invocation got no answer: no answer within 35 s"),
    (eh.retries_transient_errors, obs(retry_trials=(NOT_INJECTED, NOWHERE)), ERROR,
     "none of the 2 transient-error trials reached the faulted route"),
    (eh.retries_transient_errors, obs(retry_trials=(NOT_INJECTED, RETRIED)), PASS,
     "all 1 transient-error trials"),
    (eh.retries_transient_errors, UNAVAILABLE, ERROR,
     "upstream faults could not be injected: the agent called no upstream on invoke"),
    (eh.retries_transient_errors, EMPTY, NA, "no transient-error trials were run"),

    (eh.backs_off_with_jitter, GOOD, PASS, "exponential backoff with jitter"),
    (eh.backs_off_with_jitter, obs(backoff_trials=FIXED), FAIL, "fixed interval"),
    (eh.backs_off_with_jitter, obs(backoff_trials=PLAIN_EXPO), FAIL,
     "exponential backoff (100 ms, 200 ms, 400 ms, x2.0 per retry) but no jitter"),
    (eh.backs_off_with_jitter, obs(backoff_trials=tuple(backoff_trial(0.002, 0.001)
                                                        for _ in range(5))), FAIL,
     "retries are immediate"),
    (eh.backs_off_with_jitter, obs(backoff_trials=(GAVE_UP,) * 4), NA,
     "no trial retried, so there is no backoff to time; retries_transient_errors judges that"),
    (eh.backs_off_with_jitter, obs(backoff_trials=JITTER[:2]), ERROR,
     "too few trials retried to judge jitter"),
    (eh.backs_off_with_jitter, obs(backoff_trials=(NOT_INJECTED,)), ERROR,
     "none of the 1 backoff trials reached the faulted route"),
    (eh.backs_off_with_jitter, UNAVAILABLE, ERROR, "could not be injected"),
    (eh.backs_off_with_jitter, EMPTY, NA, "no backoff trials were run"),

    (eh.honours_retry_after, GOOD, PASS, "all 1 retries after a Retry-After waited"),
    (eh.honours_retry_after, obs(retry_after_trials=(RETRY_AFTER_OK, RETRY_AFTER_EARLY)), FAIL,
     "1 of 2 retries came too early: 429 with Retry-After: 2: attempt 2 came 0.49 s after a "
     "Retry-After of 2 s"),
    (eh.honours_retry_after,  # 40 ms early is within the tolerance for two clocks
     obs(retry_after_trials=(trial(a(1, 0, 429, "rate_limit", retry_after=1.0), ok(2, 0.97)),)),
     PASS, "waited at least as long as asked"),
    (eh.honours_retry_after, obs(retry_after_trials=(RETRIED,)), ERROR,
     "no recorded answer carried a Retry-After"),
    (eh.honours_retry_after,
     obs(retry_after_trials=(trial(a(1, 0, 429, "rate_limit", retry_after=60.0),
                                   decision="manual"),)),
     NA, "never retried after any of 1 Retry-After answers"),
    (eh.honours_retry_after, UNAVAILABLE, ERROR, "could not be injected"),
    (eh.honours_retry_after, EMPTY, NA, "no Retry-After trials were run"),

    (eh.does_not_retry_client_errors, GOOD, PASS, "all 1 client-error trials made exactly one"),
    (eh.does_not_retry_client_errors,
     obs(non_retryable_trials=(CLIENT_404, trial(a(1, 0, 401, "client_error"),
                                                 a(2, 0.3, 401, "client_error")))),
     FAIL, "1 of 2 client-error trials: 503 on the first 2 attempts: HTTP 401 was sent 2 times"),
    (eh.does_not_retry_client_errors, obs(non_retryable_trials=(NOWHERE,)), ERROR,
     "none of the 1 client-error trials reached the faulted route"),
    (eh.does_not_retry_client_errors, UNAVAILABLE, ERROR, "could not be injected"),
    (eh.does_not_retry_client_errors, EMPTY, NA, "no client-error trials were run"),

    (eh.timeouts_have_defined_outcome, GOOD, PASS,
     "all 1 timeout trials answered within 30 s with a defined status"),
    (eh.timeouts_have_defined_outcome,
     obs(timeout_trials=(dataclasses.replace(TIMED_OUT, reply_status=None, reply_body=None,
                                             decision_status=None, elapsed_s=35.0,
                                             reply_error="no answer within 35 s"),)),
     FAIL, "never answers: the invocation got no answer: no answer within 35 s"),
    (eh.timeouts_have_defined_outcome,
     obs(timeout_trials=(dataclasses.replace(TIMED_OUT, elapsed_s=31.0),)), FAIL,
     "answered after 31.0 s, past the 30 s deadline"),
    (eh.timeouts_have_defined_outcome,
     obs(timeout_trials=(dataclasses.replace(TIMED_OUT, decision_status="executed"),)), FAIL,
     "the answer's status is 'executed', expected one of manual, failed (no call to the route "
     "succeeded)"),
    (eh.timeouts_have_defined_outcome,  # only the first attempt timed out; a retry got through
     obs(timeout_trials=(trial(a(1, 0, None, "timeout", took=2.0), ok(2, 2.3)),)), PASS,
     "answered within 30 s"),
    (eh.timeouts_have_defined_outcome,
     obs(timeout_trials=(dataclasses.replace(TIMED_OUT, reply_status=504),)), FAIL,
     "answered HTTP 504, not a 2xx decision"),
    (eh.timeouts_have_defined_outcome, UNAVAILABLE, ERROR, "could not be injected"),
    (eh.timeouts_have_defined_outcome, EMPTY, NA, "no timeout trials were run"),

    (eh.malformed_upstream_falls_back, GOOD, PASS,
     "all 1 malformed-upstream trials fell back to a defined status, recorded the error"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, reply_status=500, reply_body=None,
                                               decision_status=None, reply_text=TRACE),)),
     FAIL, "truncated JSON: the answer leaks a stack trace or exception name: "
           "'Traceback (most recent call last)'"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(
         MALFORMED, reply_body={"status": "failed", "error": "JSONDecodeError: Expecting value"},
         reply_text="", decision_status="failed"),)),
     FAIL, "exception name: 'JSONDecodeError:'"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, reply_status=502, reply_body=None,
                                               reply_text="bad gateway", decision_status=None),)),
     FAIL, "the agent answered HTTP 502, not a 2xx decision"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, decision_status="executed"),)), FAIL,
     "the answer's status is 'executed', expected one of manual, failed"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, audit_errors=()),)), FAIL,
     "the audit record's errors are empty"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, audit_errors=None),)), PASS,
     "fell back"),
    (eh.malformed_upstream_falls_back,
     obs(malformed_trials=(dataclasses.replace(MALFORMED, healthy_after=False),)), FAIL,
     "GET /health failed after the fault"),
    (eh.malformed_upstream_falls_back,  # the LLM fault lifted on a retry: executing is honest
     obs(malformed_trials=(trial(a(1, 0, 200, "llm_no_tool_call"), ok(2, 0.5), audit_errors=()),)),
     PASS, "fell back"),
    (eh.malformed_upstream_falls_back, UNAVAILABLE, ERROR, "could not be injected"),
    (eh.malformed_upstream_falls_back, EMPTY, NA, "no malformed-upstream trials were run"),

    (eh.rejects_bad_input_with_4xx, GOOD, PASS,
     "all 200 generated bad inputs were rejected with a 4xx JSON error"),
    (eh.rejects_bad_input_with_4xx,
     obs(input_fuzz=FuzzResult(150, (FuzzFailure({"request_id": 0}, 500, TRACE),
                                      FuzzFailure([], 200, '{"status": "executed"}')))),
     FAIL, '2 of 150 generated bad inputs were mishandled; for example {"request_id": 0}: '
           "answered HTTP 500: the agent broke"),
    (eh.rejects_bad_input_with_4xx,
     obs(input_fuzz=FuzzResult(10, (FuzzFailure("x" * 300, None, error="ReadTimeout"),))),
     FAIL, "no answer: ReadTimeout (a crash or a hang)"),
    (eh.rejects_bad_input_with_4xx,
     obs(input_fuzz=FuzzResult(10, (FuzzFailure({}, 422, "", problem="odd"),))),
     FAIL, 'answered HTTP 422 without a JSON {"error": "..."} body'),
    (eh.rejects_bad_input_with_4xx,
     obs(input_fuzz=FuzzResult(10, (FuzzFailure({}, 400, '{"error": "x"}', problem="slow"),))),
     FAIL, "{}: slow"),
    (eh.rejects_bad_input_with_4xx, obs(input_fuzz=FuzzResult(0, error="Unsatisfiable")), ERROR,
     "the input fuzzer could not run: Unsatisfiable"),
    (eh.rejects_bad_input_with_4xx, obs(input_fuzz=FuzzResult(0)), ERROR, "generated no input"),
    (eh.rejects_bad_input_with_4xx, UNAVAILABLE, PASS, "all 200"),  # needs no fault injection
    (eh.rejects_bad_input_with_4xx, EMPTY, NA, "invoke inputs were not fuzzed"),
]

Probe = Callable[[ErrorHandlingObservations], Finding]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"), probe_params(CASES))
def test_probe(probe: Probe, observations: ErrorHandlingObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert_pass_and_fail_cases(CASES)


def test_every_probe_is_registered_under_error_handling_and_covered() -> None:
    ids = {p.id for p in REGISTRY.probes("error_handling")}
    assert ids == {"retries_transient_errors", "backs_off_with_jitter", "honours_retry_after",
                   "does_not_retry_client_errors", "timeouts_have_defined_outcome",
                   "malformed_upstream_falls_back", "rejects_bad_input_with_4xx"}
    assert ids == {p.__name__ for p in PROBES} == {case[0].__name__ for case in CASES}


PROBES: list[Probe] = [eh.retries_transient_errors, eh.backs_off_with_jitter,
                       eh.honours_retry_after, eh.does_not_retry_client_errors,
                       eh.timeouts_have_defined_outcome, eh.malformed_upstream_falls_back,
                       eh.rejects_bad_input_with_4xx]


@pytest.mark.parametrize("probe", PROBES)
def test_no_probe_passes_without_evidence(probe: Probe) -> None:
    fuzzing = probe is eh.rejects_bad_input_with_4xx
    for observations in (EMPTY, obs(input_fuzz=None) if fuzzing else UNAVAILABLE):
        finding = probe(observations)
        assert finding.outcome in (NA, ERROR), (probe.__name__, finding.message)


def test_evidence_shows_the_attempt_timeline() -> None:
    finding = eh.retries_transient_errors(obs(retry_trials=(GAVE_UP, RETRIED)))
    shown = finding.evidence["trials"]
    assert shown[0]["problem"] == "gave up after one attempt: no retry"
    assert shown[1]["timeline"] == [
        {"attempt": 1, "t_ms": 0, "end_ms": 10, "fault": "server_error", "status": 503},
        {"attempt": 2, "t_ms": 120, "end_ms": 130, "fault": "server_error", "status": 503},
        {"attempt": 3, "t_ms": 400, "end_ms": 410, "fault": None, "status": 200}]
    assert shown[1]["reply"]["decision_status"] == "executed"
    assert "problem" not in shown[1]


def test_backoff_evidence_has_gaps_and_verdict() -> None:
    finding = eh.backs_off_with_jitter(obs(backoff_trials=PLAIN_EXPO))
    assert finding.evidence["gaps_ms"][0] == [100, 200, 400]
    assert finding.evidence["verdict"]["policy"] == "exponential"
    assert "thundering herd" in finding.message


def test_backoff_ignores_calls_after_the_fault_lifted() -> None:
    later = [trial(*t.attempts, ok(5, t.attempts[-1].t_s + 0.001)) for t in JITTER]
    assert eh.backs_off_with_jitter(obs(backoff_trials=tuple(later))).outcome is PASS


def test_retry_after_evidence_lists_each_check() -> None:
    finding = eh.honours_retry_after(obs(retry_after_trials=(RETRY_AFTER_EARLY,)))
    assert finding.evidence["checks"] == [{"scenario": "429 with Retry-After: 2", "attempt": 2,
                                           "asked_ms": 2000, "waited_ms": 490}]
    assert finding.evidence["trials"][0]["timeline"][0]["retry_after_ms"] == 2000


def test_fuzz_evidence_shows_shrunk_examples_truncated() -> None:
    failures = tuple(FuzzFailure({"input": n}, 500, "x" * 1000) for n in range(8))
    finding = eh.rejects_bad_input_with_4xx(obs(input_fuzz=FuzzResult(50, failures)))
    examples = finding.evidence["examples"]
    assert (len(examples), finding.evidence["failing"]) == (5, 8)
    assert examples[0]["input"] == {"input": 0} and len(examples[0]["body"]) == 401


# --- leaked traces and bad-input answers ---------------------------------------------------


@pytest.mark.parametrize(("text", "body", "found"), [
    (TRACE, None, "Traceback (most recent call last)"),
    ('{"detail": "File \\"/srv/app.py\\", line 9"}', None, 'File \\"/srv/app.py\\", line 9'),
    ("", {"error": ["ValueError: bad"]}, "ValueError:"),
    ("", {"error": "requests.exceptions.ConnectionError: refused"},
     "requests.exceptions.ConnectionError:"),
    ("at com.acme.Agent.run(Agent.java:42)", None, "at com.acme.Agent.run(Agent.java:42)"),
    ("    at Object.<anonymous> (/app/index.js:10:5)", None,
     "at Object.<anonymous> (/app/index.js:10:5)"),
    ("goroutine 1 [running]:", None, "goroutine 1 [running]:"),
    ('{"status": "failed", "error": "upstream returned invalid JSON"}', None, None),
    ("Error: rate limited", {"errors": ["LLM timeout"]}, None),
])
def test_leaked_trace(text: str, body: Any, found: str | None) -> None:
    assert eh.leaked_trace(text, body) == found


@pytest.mark.parametrize(("status", "body", "error", "problem"), [
    (400, '{"error": "input.email must be a string"}', None, None),
    (422, '{"error": "missing request_id"}', None, None),
    (500, '{"error": "x"}', None, "answered HTTP 500: the agent broke"),
    (200, '{"status": "executed"}', None, "answered HTTP 200: it accepted input"),
    (None, "", "ReadTimeout", "no answer: ReadTimeout"),
    (400, "Bad Request", None, 'without a JSON {"error": "..."} body'),
    (400, '{"error": ""}', None, "without a JSON"),
    (400, '{"detail": "bad"}', None, "without a JSON"),
    (400, '["error"]', None, "without a JSON"),
    (400, '{"error": "KeyError: \'input\'"}', None, "with a stack trace ('KeyError:')"),
])
def test_bad_input_problem(status: int | None, body: str, error: str | None,
                           problem: str | None) -> None:
    found = eh.bad_input_problem(status, body, error)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


def test_bad_input_problem_follows_a_remapped_error_field() -> None:
    assert eh.bad_input_problem(400, '{"message": "bad"}', error_field="message") is None


# --- timelines from recorded exchanges -----------------------------------------------------


def exchange(seq: int, start: float, end: float, status: int | None = 503,
             fault: str | None = "server_error",
             headers: tuple[tuple[str, str], ...] = ()) -> Exchange:
    """A recorded exchange at epoch T0 + start."""
    return Exchange(seq, "crm", "POST", "/leads/1/assign", status, (), headers, None, None, 0, 0,
                    b"", b"", T0 + start, T0 + end, "req-1", fault)


def test_attempts_are_sorted_by_start_and_relative_to_the_first() -> None:
    attempts = _timeline.attempts([exchange(3, 1.5, 1.52, 200, None), exchange(1, 0.0, 0.03),
                                   exchange(2, 0.25, 0.26, None, "reset")])
    assert [(x.n, round(x.t_s, 3), round(x.ended_s, 3), x.status, x.fault, x.retry_after_s)
            for x in attempts] == [(1, 0.0, 0.03, 503, "server_error", None),
                                   (2, 0.25, 0.26, None, "reset", None),
                                   (3, 1.5, 1.52, 200, None, None)]
    assert [round(g, 3) for g in _timeline.gaps(attempts)] == [0.22, 1.24]
    assert _timeline.timeline(attempts)[1] == {"attempt": 2, "t_ms": 250, "end_ms": 260,
                                               "fault": "reset", "status": None}
    assert _timeline.attempts([]) == ()


def test_retry_gaps_stop_at_the_first_call_the_fault_spared() -> None:
    attempts = (a(1, 0), a(2, 0.2), ok(3, 0.5), ok(4, 0.9))
    assert [round(g, 2) for g in _timeline.retry_gaps(attempts)] == [0.19, 0.29]
    assert _timeline.retry_gaps((a(1, 0), a(2, 0.3))) == pytest.approx([0.29])
    assert _timeline.retry_gaps(()) == []


def test_attempt_carries_retry_after_from_the_response() -> None:
    [attempt] = _timeline.attempts([exchange(1, 0, 0.01, 429, "rate_limit",
                                             (("Retry-After", "2"),))])
    assert attempt.retry_after_s == 2.0
    assert attempt.to_json()["retry_after_ms"] == 2000


@pytest.mark.parametrize(("headers", "wait"), [
    ((("Retry-After", "3"),), 3.0),
    ((("retry-after", " 0 "),), 0.0),
    ((("Retry-After-Ms", "1500"),), 1.5),
    ((("Retry-After", "2"), ("retry-after-ms", "1250")), 1.25),
    ((("Retry-After", email.utils.formatdate(T0 + 10.0, usegmt=True)),), 10.0),
    ((("Retry-After", email.utils.formatdate(T0 + 4.0)),), 4.0),  # "-0000" zone, still GMT
    ((("Retry-After", email.utils.formatdate(T0 - 60.0, usegmt=True)),), 0.0),
    ((("Retry-After", "soon"),), None),
    ((("Retry-After", "-1"),), None),
    ((("Retry-After", "nan"),), None),
    ((("Content-Type", "application/json"),), None),
    ((), None),
])
def test_retry_after(headers: tuple[tuple[str, str], ...], wait: float | None) -> None:
    assert _timeline.retry_after(headers, T0) == (None if wait is None else pytest.approx(wait))


@pytest.mark.parametrize(("fault", "outcome"), [("wrong_content_type", PASS),
                                                ("truncated_json", FAIL)])
def test_only_a_mislabelled_intact_body_may_be_used_as_it_is(fault: str, outcome: Outcome) -> None:
    used = trial(a(1, 0.0, 200, fault), scenario=fault, fault=fault, decision="executed",
                 healthy_after=True, audit_errors=())
    assert eh.malformed_upstream_falls_back(obs(malformed_trials=(used,))).outcome is outcome
