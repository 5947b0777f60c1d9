"""Item 6 probes as pure functions of constructed access, exposure, write and declaration data."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.probes import security as s
from readiness.probes._writes import Write
from readiness.probes.security import (
    DATA_KEYS,
    PROVIDER_KEYS,
    AccessAttempt,
    Declarations,
    Exposure,
    SecurityObservations,
    allowed_write,
    declaration_gaps,
)
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE
REFUSED = '{"error": "unauthorized"}'
FORBIDDEN = '{"error": "forbidden"}'


def attempt(endpoint: str, request: str, credential: str, status: int | None,
            body: str = REFUSED) -> AccessAttempt:
    """One knock: 401 is expected without a valid token, 403 with the invoke token."""
    expected = 403 if credential == "the invoke token" else 401
    return AccessAttempt(endpoint, request, credential, expected, status, body)


ACCESS = (
    attempt("invoke", "POST /invoke", "no token", 401),
    attempt("invoke", "POST /invoke", "a wrong token", 401),
    attempt("control", "PUT /control", "no token", 401),
    attempt("control", "PUT /control", "a wrong token", 401),
    attempt("control", "PUT /control", "the invoke token", 403, FORBIDDEN),
    attempt("audit", "GET /audit", "the invoke token", 403, FORBIDDEN),
)
WITHOUT_TOKEN = ACCESS[:4]
INVOKE_TOKEN = ACCESS[4:]

OPEN = (
    Exposure("GET /health without a token", 200, (), '{"status": "ok"}'),
    Exposure("GET /version without a token", 200, (), '{"version": "1.4.0"}'),
    Exposure("GET /metrics without a token", 200, (), "lead_router_invocations_total 4"),
)
METRICS_HOST = "an internal host (crm.internal:8080)"
ERRORS = (
    Exposure("invoke with a body that is not JSON", 400, (), '{"error": "the body is not JSON"}'),
    Exposure("an unknown route", 404, (), '{"error": "not found"}'),
)
TRACE_LEAKS = ("a stack trace (Traceback (most recent call last))", "a file path (router.py)")

ASSIGN: Write = {"upstream": "crm", "method": "POST", "path": "/leads/1/assign", "status": 200}
UNASSIGN: Write = {"upstream": "crm", "method": "DELETE", "path": "/leads/1/assign", "status": 204}
DELETE_LEAD: Write = {"upstream": "crm", "method": "DELETE", "path": "/leads/1", "status": 204}
MAIL: Write = {"upstream": "mailer", "method": "POST", "path": "/send", "status": 202}
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "crm": ("POST /leads/*/assign", "DELETE /leads/*/assign"), "mailer": ()}

PROVIDER = {"model": "gpt-4o-mini", "host": "api.openai.com", "region": "us",
            "retention_days": 0, "trains_on_inputs": False}
DATA = {"reads": ["inbound leads", "CRM reps"], "writes": ["CRM lead assignments"],
        "retention_days": 30, "pii": ["name", "email"]}
COMPLIANCE = {"frameworks": ["SOC2"]}
CALLED = {"crm": "tool", "openai": "llm"}
DECLARED = Declarations(PROVIDER, DATA, COMPLIANCE, CALLED, ("crm",))

GOOD = SecurityObservations(access=ACCESS, open_endpoints=OPEN, error_answers=ERRORS,
                            writes=(ASSIGN, UNASSIGN), allowed=ALLOWED, declarations=DECLARED)
EMPTY = SecurityObservations()
UNAVAILABLE = SecurityObservations(unavailable="the agent is down: connection refused")


def obs(**changes: Any) -> SecurityObservations:
    """GOOD with some observations replaced."""
    return dataclasses.replace(GOOD, **changes)


def declared(*, provider: Mapping[str, Any] = PROVIDER, data: Mapping[str, Any] = DATA,
             compliance: Mapping[str, Any] = COMPLIANCE,
             called: Mapping[str, str] = CALLED, written: tuple[str, ...] = ("crm",)
             ) -> Declarations:
    """DECLARED with some parts replaced."""
    return Declarations(provider, data, compliance, called, written)


def without(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`table` without `key`."""
    return {k: v for k, v in table.items() if k != key}


CASES: list[tuple[str, ProbeCase]] = [
    ("all-refused", (s.endpoints_require_token, GOOD, PASS,
                     "all 4 requests without a valid token were refused with 401")),
    ("invoke-token-attempts-not-counted", (s.endpoints_require_token, obs(
        access=(*WITHOUT_TOKEN[:2], *INVOKE_TOKEN)), PASS, "all 2 requests")),
    ("wrong-token-accepted", (s.endpoints_require_token, obs(access=(
        *WITHOUT_TOKEN[:3], attempt("control", "PUT /control", "a wrong token", 200, "{}"))),
        FAIL, "1 of 4 requests without a valid token were not refused with 401: PUT /control "
        "with a wrong token answered 200")),
    ("forbidden-is-not-unauthorized", (s.endpoints_require_token, obs(access=(
        attempt("invoke", "POST /invoke", "no token", 403, FORBIDDEN),)), FAIL,
        "1 of 1 requests without a valid token were not refused with 401: POST /invoke with "
        "no token answered 403")),
    ("no-answer", (s.endpoints_require_token, obs(access=(
        attempt("audit", "GET /audit", "no token", None, "ReadTimeout"),)), FAIL,
        "GET /audit with no token answered None")),
    ("only-invoke-token-tried", (s.endpoints_require_token, obs(access=INVOKE_TOKEN), ERROR,
                                 "no protected endpoint was tried")),

    ("scoped", (s.invoke_token_is_scoped, GOOD, PASS,
                "the invoke token was refused with 403 on all 2 operator endpoints")),
    ("invoke-token-reads-audit", (s.invoke_token_is_scoped, obs(access=(
        INVOKE_TOKEN[0], attempt("audit", "GET /audit", "the invoke token", 200, "[]"))), FAIL,
        "the invoke token was not refused with 403 on 1 of 2 operator endpoints: GET /audit "
        "answered 200")),
    ("invoke-token-unauthorized-not-forbidden", (s.invoke_token_is_scoped, obs(access=(
        attempt("control", "PUT /control", "the invoke token", 401),)), FAIL,
        "on 1 of 1 operator endpoints: PUT /control answered 401")),
    ("no-operator-endpoint-tried", (s.invoke_token_is_scoped, obs(access=WITHOUT_TOKEN), ERROR,
                                    "no operator endpoint was tried with the invoke token")),

    ("open-clean", (s.open_endpoints_leak_nothing, GOOD, PASS,
                    "none of 3 unauthenticated answers gives away internals")),
    ("metrics-names-a-host", (s.open_endpoints_leak_nothing, obs(open_endpoints=(
        *OPEN[:2], dataclasses.replace(OPEN[2], leaks=(METRICS_HOST,)))), FAIL,
        f"1 of 3 unauthenticated answers give away internals: GET /metrics without a token: "
        f"{METRICS_HOST}")),
    ("nothing-read", (s.open_endpoints_leak_nothing, obs(open_endpoints=()), ERROR,
                      "no unauthenticated endpoint was read")),

    ("errors-clean", (s.error_answers_leak_nothing, GOOD, PASS,
                      "none of 2 error answers gives away internals")),
    ("traceback-in-error", (s.error_answers_leak_nothing, obs(error_answers=(
        dataclasses.replace(ERRORS[0], status=500, leaks=TRACE_LEAKS), ERRORS[1])), FAIL,
        "1 of 2 error answers give away internals: invoke with a body that is not JSON: "
        f"{TRACE_LEAKS[0]}, {TRACE_LEAKS[1]}")),
    ("every-error-leaks", (s.error_answers_leak_nothing, obs(error_answers=tuple(
        dataclasses.replace(e, leaks=(METRICS_HOST,)) for e in ERRORS)), FAIL,
        "2 of 2 error answers give away internals")),
    ("nothing-provoked", (s.error_answers_leak_nothing, obs(error_answers=()), ERROR,
                          "no error answer was provoked")),

    ("writes-allowed", (s.writes_stay_in_allow_list, GOOD, PASS,
                        "all 2 upstream writes of the run matched the allow-list")),
    ("write-outside-patterns", (s.writes_stay_in_allow_list, obs(
        writes=(ASSIGN, DELETE_LEAD, UNASSIGN)), FAIL,
        "1 of 3 upstream writes were outside the allow-list (e.g. DELETE /leads/1 on crm)")),
    ("upstream-without-patterns", (s.writes_stay_in_allow_list, obs(writes=(MAIL, ASSIGN)), FAIL,
                                   "1 of 2 upstream writes were outside the allow-list (e.g. "
                                   "POST /send on mailer)")),
    ("writes-without-any-allow-list", (s.writes_stay_in_allow_list, obs(
        allowed={}, writes=(ASSIGN,)), FAIL, "1 of 1 upstream writes were outside")),
    ("no-tool-no-write", (s.writes_stay_in_allow_list, obs(allowed={}, writes=()), NA,
                          "no upstream of kind 'tool' is declared")),

    ("declared", (s.data_handling_declared, GOOD, PASS,
                  "provider, data handling and compliance are declared and match the upstreams "
                  "the agent called")),
    ("provider-host-missing", (s.data_handling_declared, obs(declarations=declared(
        provider=without(PROVIDER, "host"))), FAIL,
        "1 gap(s) in the declarations: [provider] host")),
    ("called-upstream-undeclared", (s.data_handling_declared, obs(declarations=declared(
        called={**CALLED, "enricher": "tool"})), FAIL,
        "1 gap(s) in the declarations: the agent called upstream 'enricher', which [data] "
        "reads/writes do not name")),
    ("nothing-declared", (s.data_handling_declared, obs(declarations=Declarations(
        {}, {}, {}, {})), FAIL,
        "10 gap(s) in the declarations: [provider] model; [provider] host; [provider] region; "
        "[provider] retention_days")),
    ("declarations-not-read", (s.data_handling_declared, obs(declarations=None), ERROR,
                               "the declarations were not read")),
]

Probe = Callable[[SecurityObservations], Finding]
PROBES = sorted({case[0] for _, case in CASES}, key=lambda p: p.__name__)
AGENT_PROBES = [p for p in PROBES if p is not s.data_handling_declared]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: SecurityObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert len(PROBES) == 6
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize("probe", AGENT_PROBES, ids=lambda p: p.__name__)
def test_unavailable_agent_is_an_error(probe: Probe) -> None:
    assert_finding(probe(UNAVAILABLE), ERROR,
                   "the agent could not be checked: the agent is down: connection refused")


@pytest.mark.parametrize(("probe", "outcome", "fragment"), [
    (s.endpoints_require_token, ERROR, "no protected endpoint was tried"),
    (s.invoke_token_is_scoped, ERROR, "no operator endpoint was tried with the invoke token"),
    (s.open_endpoints_leak_nothing, ERROR, "no unauthenticated endpoint was read"),
    (s.error_answers_leak_nothing, ERROR, "no error answer was provoked"),
    (s.writes_stay_in_allow_list, NA, "no upstream of kind 'tool' is declared"),
    (s.data_handling_declared, ERROR, "the declarations were not read"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_empty_observations_never_pass(probe: Probe, outcome: Outcome, fragment: str) -> None:
    assert_finding(probe(EMPTY), outcome, fragment)


def test_declarations_are_judged_without_the_agent() -> None:
    """The observer reads the config even when the agent is down; the config alone is judged."""
    down = dataclasses.replace(UNAVAILABLE, declarations=declared(
        data=without(DATA, "pii"), called={}, written=()))
    assert_finding(s.data_handling_declared(down), FAIL, "1 gap(s) in the declarations: [data] pii")


def test_refusal_evidence_lists_every_attempt_and_the_open_ones() -> None:
    accepted = attempt("control", "PUT /control", "a wrong token", 200, '{"mode": "active"}')
    finding = s.endpoints_require_token(obs(access=(WITHOUT_TOKEN[0], accepted)))
    assert finding.evidence["not_refused"] == [{
        "request": "PUT /control", "credential": "a wrong token", "expected": 401,
        "status": 200, "answer": '{"mode": "active"}'}]
    assert [(t["request"], t["credential"], t["status"]) for t in finding.evidence["tried"]] == [
        ("POST /invoke", "no token", 401), ("PUT /control", "a wrong token", 200)]


def test_scope_evidence_names_the_endpoint_the_invoke_token_opened() -> None:
    finding = s.invoke_token_is_scoped(obs(access=(
        INVOKE_TOKEN[0], attempt("audit", "GET /audit", "the invoke token", 200, "[]"))))
    assert [(t["request"], t["status"], t["answer"]) for t in finding.evidence["not_refused"]] \
        == [("GET /audit", 200, "[]")]
    assert len(finding.evidence["tried"]) == 2


def test_exposure_evidence_shows_the_leaky_answers_only() -> None:
    leaky = dataclasses.replace(OPEN[2], leaks=(METRICS_HOST,))
    finding = s.open_endpoints_leak_nothing(obs(open_endpoints=(*OPEN[:2], leaky)))
    assert finding.evidence["leaky"] == [{
        "scenario": "GET /metrics without a token", "status": 200, "leaks": [METRICS_HOST],
        "excerpt": "lead_router_invocations_total 4"}]


def test_clean_exposure_evidence_lists_what_was_checked() -> None:
    finding = s.error_answers_leak_nothing(GOOD)
    assert [c["scenario"] for c in finding.evidence["checked"]] == [e.scenario for e in ERRORS]


def test_leaky_evidence_is_capped() -> None:
    many = tuple(Exposure(f"bad input #{n}", 500, (METRICS_HOST,)) for n in range(12))
    finding = s.error_answers_leak_nothing(obs(error_answers=many))
    assert (finding.message.startswith("12 of 12"), len(finding.evidence["leaky"])) == (True, 8)


def test_allow_list_evidence_shows_the_patterns_and_the_outside_writes() -> None:
    finding = s.writes_stay_in_allow_list(obs(writes=(ASSIGN, DELETE_LEAD)))
    assert dict(finding.evidence) == {
        "outside": [DELETE_LEAD], "writes_seen": 2,
        "allowed": {"crm": ["POST /leads/*/assign", "DELETE /leads/*/assign"], "mailer": []}}


@pytest.mark.parametrize(("write", "allowed", "expected"), [
    pytest.param(ASSIGN, ALLOWED, True, id="method-and-glob-match"),
    pytest.param(UNASSIGN, {"crm": ("POST /leads/*/assign",)}, False, id="other-method"),
    pytest.param({**ASSIGN, "method": "post"}, ALLOWED, True, id="lower-case-write-method"),
    pytest.param(ASSIGN, {"crm": ("post /leads/*/assign",)}, True, id="lower-case-pattern"),
    pytest.param(ASSIGN, {"crm": ("POST /leads/*",)}, True, id="star-crosses-segments"),
    pytest.param(ASSIGN, {"crm": ("POST /leads/?/assign",)}, True, id="question-mark-one-char"),
    pytest.param(ASSIGN, {"crm": ("POST /leads",)}, False, id="no-glob-exact-only"),
    pytest.param(ASSIGN, {"crm": ("POST /Leads/*",)}, False, id="path-case-sensitive"),
    pytest.param(ASSIGN, {"crm": (" POST /leads/*/assign ",)}, True, id="pattern-stripped"),
    pytest.param(DELETE_LEAD, {"crm": ("/leads/*",)}, True, id="no-method-any-method"),
    pytest.param(ASSIGN, {"crm": ()}, False, id="upstream-without-patterns"),
    pytest.param(ASSIGN, {}, False, id="upstream-not-listed"),
    pytest.param(MAIL, {"crm": ("POST /send",)}, False, id="other-upstreams-patterns-ignored"),
    pytest.param(ASSIGN, {"crm": ("DELETE /leads/*/assign", "POST /leads/*/assign")}, True,
                 id="any-pattern-of-several"),
    pytest.param({"upstream": "crm"}, {"crm": ("POST /leads/*",)}, False, id="malformed-write"),
])
def test_allowed_write(write: Write, allowed: Mapping[str, tuple[str, ...]],
                       expected: bool) -> None:
    assert allowed_write(write, allowed) is expected


def test_star_method_allows_any_method() -> None:
    assert allowed_write(DELETE_LEAD, {"crm": ("* /leads/*",)})


@pytest.mark.parametrize("key", PROVIDER_KEYS)
@pytest.mark.parametrize("blank", [None, "", "missing"])
def test_each_blank_provider_key_is_a_gap(key: str, blank: Any) -> None:
    provider = without(PROVIDER, key) if blank == "missing" else {**PROVIDER, key: blank}
    assert declaration_gaps(declared(provider=provider)) == [f"[provider] {key}"]


@pytest.mark.parametrize("key", DATA_KEYS)
@pytest.mark.parametrize("blank", [[], (), "missing"])
def test_each_blank_data_key_is_a_gap(key: str, blank: Any) -> None:
    data = without(DATA, key) if blank == "missing" else {**DATA, key: blank}
    # the CRM is named in both reads and writes, so either alone still names it
    assert declaration_gaps(declared(data=data, written=())) == [f"[data] {key}"]


@pytest.mark.parametrize("key", ["retention_days", "pii"])
def test_none_data_value_is_a_gap(key: str) -> None:
    assert declaration_gaps(declared(data={**DATA, key: None})) == [f"[data] {key}"]


@pytest.mark.parametrize("key", ["reads", "writes"])
def test_none_reads_or_writes_is_a_gap(key: str) -> None:
    assert f"[data] {key}" in declaration_gaps(declared(data={**DATA, key: None}, written=()))


@pytest.mark.parametrize("frameworks", [None, [], (), "missing"])
def test_missing_compliance_frameworks_is_a_gap(frameworks: Any) -> None:
    compliance = {} if frameworks == "missing" else {"frameworks": frameworks}
    assert declaration_gaps(declared(compliance=compliance)) == ["[compliance] frameworks"]


@pytest.mark.parametrize(("decl", "gaps"), [
    pytest.param(DECLARED, [], id="complete"),
    pytest.param(declared(provider={**PROVIDER, "retention_days": 0,
                                    "trains_on_inputs": False}), [], id="zero-and-false-count"),
    pytest.param(declared(called={**CALLED, "enricher": "tool"}),
                 ["the agent called upstream 'enricher', which [data] reads/writes do not name"],
                 id="tool-called-not-named"),
    pytest.param(declared(called={"enricher": "tool", "billing": "tool"}, written=()), [
        "the agent called upstream 'billing', which [data] reads/writes do not name",
        "the agent called upstream 'enricher', which [data] reads/writes do not name"],
        id="each-unnamed-upstream-in-name-order"),
    pytest.param(declared(data={**DATA, "reads": ["inbound leads", "enricher profiles"]},
                          called={**CALLED, "enricher": "tool"}, written=("crm", "enricher")),
                 ["the agent wrote to 'enricher', which [data] writes does not name"],
                 id="written-upstream-named-only-in-reads"),
    pytest.param(declared(data={**DATA, "reads": ["inbound leads"]}), [],
                 id="written-upstream-named-in-writes-only"),
    pytest.param(declared(data={**DATA, "reads": ["crm reps"], "writes": ["crm assignments"]}),
                 [], id="names-match-case-insensitively"),
    pytest.param(declared(called={"openai": "llm", "anthropic": "llm"}, written=()), [],
                 id="llm-upstreams-exempt"),
    pytest.param(declared(called={}, written=()), [], id="nothing-called"),
])
def test_declaration_gaps(decl: Declarations, gaps: list[str]) -> None:
    assert declaration_gaps(decl) == gaps


def test_nothing_declared_lists_every_key() -> None:
    assert declaration_gaps(Declarations({}, {}, {}, {})) == [
        *(f"[provider] {k}" for k in PROVIDER_KEYS), *(f"[data] {k}" for k in DATA_KEYS),
        "[compliance] frameworks"]


def test_declaration_evidence_holds_every_gap_and_the_declarations() -> None:
    finding = s.data_handling_declared(obs(declarations=Declarations({}, {}, {}, CALLED)))
    assert len(finding.evidence["gaps"]) == 11  # the message shows only the first four
    assert finding.message.count(";") == 3
    assert (finding.evidence["upstreams_called"], finding.evidence["provider"]) == (CALLED, {})
