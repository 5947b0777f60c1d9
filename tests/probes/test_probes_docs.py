"""Item 8 probes as pure functions of constructed observations, and the document readers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from probes_support import (
    ProbeCase,
    assert_finding,
    assert_pass_and_fail_cases,
    probe_params,
    write_tree,
)

from readiness.probes import docs as d
from readiness.probes.docs import KINDS, DocsObservations, Document, RouteCheck
from readiness.results import Finding, Outcome

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
FILLER = ("Operators on the sales operations team use this page during business hours and "
          "on call; every step below was rehearsed in the staging environment last quarter "
          "and takes less than five minutes without help from engineering. ") * 2
RUNBOOK = f"""# Lead router runbook
{FILLER}
## Stop the agent
Call PUT /control with {{"mode": "disabled"}}; new leads queue for people.
## Review-only mode
Call PUT /control with review_only, then POST /review/{{decision_id}}/approve.
## Revert a decision
POST /decisions/{{decision_id}}/revert makes the compensating call.
## What each alert means
"CRM failing" means the CRM answers 5xx.
## Escalation
See [the escalation path](escalation.md).
"""
ESCALATION = f"""# Escalation
{FILLER}
1. Ada Lovelace, ada@corp.io, +44 20 7946 0958
2. Alan Turing, @aturing on Slack
"""
TEXTS = {"runbook": RUNBOOK, "faq": f"# FAQ\n{FILLER}", "escalation": ESCALATION,
         "training": f"# Training\n{FILLER}"}


def documents(**texts: str | None) -> dict[str, Document]:
    """The four documents with good texts, some replaced (None: not declared)."""
    chosen = TEXTS | texts
    return {kind: Document(kind, Path(f"/d/{kind}.md"), chosen[kind]) if chosen[kind] is not None
            else d.read_document(kind, None) for kind in KINDS}


GOOD = DocsObservations(documents(), {}, (RouteCheck("PUT /control", True),
                                          RouteCheck("POST /decisions/{id}/revert", True)))
EMPTY = DocsObservations({kind: d.read_document(kind, None) for kind in KINDS}, {}, ())


def obs(**changes: Any) -> DocsObservations:
    """GOOD with some fields replaced."""
    return dataclasses.replace(GOOD, **changes)


def routes(*checks: tuple[str, bool | None]) -> DocsObservations:
    """GOOD with these (route, exists) checks."""
    return obs(routes=tuple(RouteCheck(route, exists) for route, exists in checks))


def texts(**replaced: str | None) -> DocsObservations:
    """GOOD with some document texts replaced."""
    return obs(documents=documents(**replaced))


Probe = Callable[[DocsObservations], Finding]
CASES: list[ProbeCase] = [
    (d.docs_exist, GOOD, PASS, "all four documents exist and have content"),
    (d.docs_exist, texts(faq=None), FAIL,
     "1 of 4 documents missing or unfinished: faq: [docs] faq is not declared"),
    (d.docs_exist, texts(training="# Training\nAsk Ada."), FAIL,
     "training: /d/training.md has only 3 words"),
    (d.docs_exist, texts(faq=f"# FAQ\n{FILLER}\nOwner: TBD"), FAIL,
     "faq: /d/faq.md still has placeholders: ['TBD']"),
    (d.docs_exist, EMPTY, FAIL, "4 of 4 documents"),

    (d.runbook_covers_operator_tasks, GOOD, PASS, "a section for each operator task"),
    (d.runbook_covers_operator_tasks,
     texts(runbook=RUNBOOK.replace("## Revert", "Revert").replace("## What each alert", "")),
     FAIL, "no section on: reverting a decision, what each alert means"),
    (d.runbook_covers_operator_tasks, texts(runbook=f"# Runbook\n{FILLER}"), FAIL,
     "stopping the agent, review-only mode, reverting a decision, what each alert means, "
     "escalation"),
    (d.runbook_covers_operator_tasks, texts(runbook=None), FAIL,
     "no runbook to read: [docs] runbook is not declared"),
    (d.runbook_covers_operator_tasks, EMPTY, FAIL, "no runbook to read"),

    (d.escalation_names_reachable_people, GOOD, PASS, "3 contact methods, no placeholders"),
    (d.escalation_names_reachable_people, texts(escalation=ESCALATION + "3. TBD, 555-0100\n"),
     FAIL, "the escalation path has placeholders: ['TBD', '555-0100']"),
    (d.escalation_names_reachable_people, texts(escalation=f"# Escalation\nCall Ada.\n{FILLER}"),
     FAIL, "gives no email, phone number or chat handle"),
    (d.escalation_names_reachable_people, texts(escalation=None), FAIL,
     "no escalation document: [docs] escalation is not declared"),
    (d.escalation_names_reachable_people, EMPTY, FAIL, "no escalation document"),

    (d.docs_links_resolve, GOOD, PASS,
     "every relative link resolves in runbook, faq, escalation, training"),
    (d.docs_links_resolve, obs(broken_links={"runbook": ["a.md", "b.md"], "faq": ["c.md"]}),
     FAIL, "3 relative links point at missing files"),
    (d.docs_links_resolve, texts(faq=None, training=None), PASS, "in runbook, escalation"),
    (d.docs_links_resolve, EMPTY, FAIL, "no documents whose links could be checked"),

    (d.runbook_actions_exist, GOOD, PASS, "all 2 runbook actions exist on the agent"),
    (d.runbook_actions_exist, routes(("PUT /control", True), ("POST /pause", False)), FAIL,
     "1 of 2 runbook actions do not exist on the agent: POST /pause"),
    (d.runbook_actions_exist, routes(("PUT /control", True), ("GET /health", None)), ERROR,
     "the agent did not answer for GET /health"),
    (d.runbook_actions_exist, routes(("GET /h", None), ("POST /p", False)), FAIL,
     "1 of 2 runbook actions do not exist"),
    (d.runbook_actions_exist, obs(routes=(), agent_down="exited with code 1"), ERROR,
     "the agent is down: exited with code 1"),
    (d.runbook_actions_exist, routes(), FAIL, "names no operator endpoint or command"),
    (d.runbook_actions_exist, texts(runbook=None), FAIL, "no runbook to read"),
    (d.runbook_actions_exist, EMPTY, FAIL, "no runbook to read"),
]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         probe_params(CASES))
def test_probe(probe: Probe, observations: DocsObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert_pass_and_fail_cases(CASES)


def test_route_evidence_is_kept_per_route() -> None:
    evidence = {"request": {"status": 404}}
    finding = d.runbook_actions_exist(obs(routes=(RouteCheck("POST /pause", False, evidence),)))
    assert dict(finding.evidence["routes"]) == {"POST /pause": evidence}


# --- runbook_routes ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "found"), [
    ("", []),
    ("Stop the agent from the dashboard; get /control is prose.", []),
    ("Run PUT /control to stop.", [("PUT", "/control")]),
    ("Then POST /decisions/{decision_id}/revert.", [("POST", "/decisions/{decision_id}/revert")]),
    ("(see GET /audit/{decision_id}), or GET /audit?since=x;",
     [("GET", "/audit/{decision_id}"), ("GET", "/audit")]),
    ("Call `GET /health` first: GET /health: then DELETE /sessions/:id,",
     [("GET", "/health"), ("DELETE", "/sessions/:id")]),
    ("curl -X POST https://agent.corp/decisions/abc/revert", [("POST", "/decisions/abc/revert")]),
    ("curl -H 'Authorization: Bearer $T' --request PUT http://127.0.0.1:8000/control -d '{}'",
     [("PUT", "/control")]),
    ("curl -XDELETE 'http://a.io/items/<id>'", [("DELETE", "/items/<id>")]),
    ('curl -X GET "http://a.io/audit?limit=5"', [("GET", "/audit")]),
    ("PUT /control\ncurl -X PUT http://a.io/control\nPUT /control.", [("PUT", "/control")]),
    ("curl -X POST http://a.io/b\nPATCH /a", [("PATCH", "/a"), ("POST", "/b")]),
])
def test_runbook_routes(text: str, found: list[tuple[str, str]]) -> None:
    assert d.runbook_routes(text) == found


def test_curl_without_method_is_a_get() -> None:
    assert d.runbook_routes("curl https://agent.corp/health") == [("GET", "/health")]


def test_curl_with_quoted_method() -> None:
    assert d.runbook_routes('curl -X "POST" https://a.io/x') == [("POST", "/x")]


# --- read_document and broken_links ---------------------------------------------------------


def test_read_document(tmp_path: Path) -> None:
    write_tree(tmp_path, {"runbook.md": "# Runbook\n"})
    (tmp_path / "latin1.md").write_bytes(b"caf\xe9")
    assert d.read_document("runbook", tmp_path / "runbook.md") == Document(
        "runbook", tmp_path / "runbook.md", "# Runbook\n")
    assert d.read_document("faq", None) == Document("faq", None, None,
                                                    "[docs] faq is not declared")
    missing = d.read_document("faq", tmp_path / "faq.md")
    assert (missing.text, missing.problem) == (None, f"{tmp_path / 'faq.md'} does not exist")
    for unreadable in ("latin1.md", ""):
        found = d.read_document("training", tmp_path / unreadable)
        assert found.text is None
        assert (found.problem or "").startswith(f"{tmp_path / unreadable} cannot be read: ")


def test_broken_links(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/faq.md": "", "docs/my page.md": "", "docs/img/x.png": "",
                          "other.md": ""})
    text = ("[ok](faq.md) [anchor](faq.md#alerts) [spaces](my%20page.md) [dir](img/) "
            "[up](../other.md) [gone](missing.md) [gone2](../nope/x.md#y) [web](https://x.io/a) "
            "[self](#top) ![image](missing.png)")
    document = Document("runbook", tmp_path / "docs/runbook.md", text)
    assert d.broken_links(document) == ["missing.md", "../nope/x.md#y"]


@pytest.mark.parametrize("document", [
    Document("faq", None, None, "[docs] faq is not declared"),
    Document("faq", Path("/nowhere/faq.md"), None, "does not exist"),
    Document("faq", Path("/nowhere/faq.md"), "no links at all"),
])
def test_no_broken_links_without_links(document: Document) -> None:
    assert d.broken_links(document) == []
