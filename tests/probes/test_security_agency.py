"""Item 6's agency and injection probes as pure functions: tables, no agent."""

from __future__ import annotations

import dataclasses

import pytest

from readiness.probes.security import SecurityObservations
from readiness.probes.security_agency import (
    AgencyObservations,
    CompromisedCall,
    Injection,
    injected_instructions_not_followed,
    model_cannot_force_writes,
    refusals_are_audited,
)
from readiness.results import Outcome

WRITE = {"upstream": "crm", "method": "POST", "path": "/leads/l1/assign", "status": 201}
REFUSED = CompromisedCall("llm: unknown tool", True, "manual", (), True, ("unknown tool",))
OBEYED = CompromisedCall("llm: unknown tool", True, "executed", (WRITE,), True, ())
SILENT = CompromisedCall("llm: bad arguments", True, "manual", (), False, ())
NOT_FIRED = CompromisedCall("llm: unknown tool", False, "executed", (WRITE,), None, ())
CLEAN = Injection("crm", "RDY-1", True)
ECHOED = Injection("crm", "RDY-1", True, to_model=("POST /v1/chat/completions on llm",))
FOLLOWED = Injection("crm", "RDY-1", True, to_tools=("POST /leads/RDY-1/assign on crm",))
ANSWERED = Injection("crm", "RDY-1", True, in_answer=True)


def with_agency(**fields: object) -> SecurityObservations:
    return SecurityObservations(agency=AgencyObservations(**fields))  # type: ignore[arg-type]


CASES = [
    (model_cannot_force_writes, with_agency(compromised=(REFUSED, REFUSED)), Outcome.PASS,
     "refused without a write"),
    (model_cannot_force_writes, with_agency(compromised=(REFUSED, OBEYED)), Outcome.FAIL,
     "1 of 2 compromised-model answers were acted on"),
    (model_cannot_force_writes, with_agency(compromised=(NOT_FIRED,)), Outcome.NOT_APPLICABLE,
     "no upstream of kind 'llm'"),
    (injected_instructions_not_followed, with_agency(injections=(CLEAN,)), Outcome.PASS,
     "not followed"),
    (injected_instructions_not_followed, with_agency(injections=(ECHOED,)), Outcome.PASS,
     "not followed"),
    (injected_instructions_not_followed, with_agency(injections=(FOLLOWED,)), Outcome.FAIL,
     "left again in a later request: POST /leads/RDY-1/assign on crm"),
    (injected_instructions_not_followed, with_agency(injections=(ANSWERED,)), Outcome.FAIL,
     "left again in the agent's answer"),
    (injected_instructions_not_followed,
     with_agency(injections=(dataclasses.replace(CLEAN, fired=False),)), Outcome.NOT_APPLICABLE,
     "no instruction could be injected"),
    (refusals_are_audited, with_agency(compromised=(REFUSED,)), Outcome.PASS, "audited"),
    (refusals_are_audited, with_agency(compromised=(REFUSED, SILENT)), Outcome.FAIL,
     "1 of 2 refusals left no audit record"),
    (refusals_are_audited, with_agency(compromised=(OBEYED,)), Outcome.NOT_APPLICABLE,
     "no compromised-model answer was refused"),
]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"), CASES,
                         ids=[f"{c[0].__name__}-{n}" for n, c in enumerate(CASES)])
def test_agency_probe(probe: object, observations: SecurityObservations, outcome: Outcome,
                      fragment: str) -> None:
    finding = probe(observations)  # type: ignore[operator]
    assert finding.outcome is outcome, finding.message
    assert fragment in finding.message


@pytest.mark.parametrize("probe", [model_cannot_force_writes, injected_instructions_not_followed,
                                   refusals_are_audited])
@pytest.mark.parametrize(("observations", "fragment"), [
    (SecurityObservations(), "did not run"),
    (SecurityObservations(unavailable="the agent is down"), "the agent is down"),
    (with_agency(problem="httpx2 is not covered"), "httpx2 is not covered"),
], ids=["empty", "unavailable", "problem"])
def test_unassessable_agency_is_an_error(probe: object, observations: SecurityObservations,
                                         fragment: str) -> None:
    finding = probe(observations)  # type: ignore[operator]
    assert finding.outcome is Outcome.ERROR
    assert fragment in finding.message
