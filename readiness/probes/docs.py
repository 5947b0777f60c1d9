"""Item 8, docs: operators can run the agent from its runbook, FAQ, escalation and training."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from readiness.context import RunContext
from readiness.probes import _text
from readiness.registry import observer, probe
from readiness.results import Finding, errored, failed, passed

ITEM = "docs"
KINDS = ("runbook", "faq", "escalation", "training")
MIN_WORDS = 60

RUNBOOK_TOPICS: Mapping[str, re.Pattern[str]] = {
    "stopping the agent": re.compile(r"stop|disabl|kill.?switch|paus|shut.?down|turn.?off",
                                     re.I),
    "review-only mode": re.compile(r"review|human.in.the.loop|approv", re.I),
    "reverting a decision": re.compile(r"revert|undo|roll.?back|revers", re.I),
    "what each alert means": re.compile(r"alert", re.I),
    "escalation": re.compile(r"escalat|on.?call|who to call|contacts?\b", re.I),
}
_METHOD_PATH = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[\w\-./{}:<>]*)")
_CURL = re.compile(r"curl\b[^\n]*?https?://[^/\s\"']+(/[\w\-./{}:<>$]*)[^\n]*", re.I)
_CURL_METHOD = re.compile(r"(?:-X\s*|--request[\s=]+)[\"']?(GET|POST|PUT|PATCH|DELETE)\b", re.I)
_PARAM = re.compile(r"\{[^}]*\}|<[^>]*>|:[A-Za-z_]\w*|\$[A-Za-z_]\w*")


@dataclass(frozen=True)
class Document:
    kind: str
    path: Path | None
    text: str | None
    problem: str | None = None


@dataclass(frozen=True)
class RouteCheck:
    """Whether a route the runbook names answers differently from a route that is not there."""

    route: str
    exists: bool | None
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocsObservations:
    documents: Mapping[str, Document]
    broken_links: Mapping[str, list[str]]
    routes: tuple[RouteCheck, ...]
    agent_down: str | None = None


def read_document(kind: str, path: Path | None) -> Document:
    """Read one declared document, noting why it is unusable."""
    if path is None:
        return Document(kind, None, None, f"[docs] {kind} is not declared")
    try:
        return Document(kind, path, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Document(kind, path, None, f"{path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        return Document(kind, path, None, f"{path} cannot be read: {exc}")


def broken_links(document: Document) -> list[str]:
    """Relative links in a document whose target file does not exist."""
    if document.text is None or document.path is None:
        return []
    broken = []
    for target in _text.relative_links(document.text):
        relative = unquote(urlsplit(target).path)
        if relative and not (document.path.parent / relative).exists():
            broken.append(target)
    return broken


def runbook_routes(text: str) -> list[tuple[str, str]]:
    """(METHOD, path) pairs the runbook tells operators to call, in order, unique."""
    found: list[tuple[str, str]] = []
    for match in _METHOD_PATH.finditer(text):
        found.append((match.group(1).upper(), match.group(2).rstrip(".,;:)")))
    for match in _CURL.finditer(text):
        method = _CURL_METHOD.search(match.group(0))
        found.append(((method.group(1) if method else "GET").upper(),
                      match.group(1).rstrip(".,;:)\"'")))
    unique: list[tuple[str, str]] = []
    for route in found:
        if route not in unique:
            unique.append(route)
    return unique


async def check_route(ctx: RunContext, method: str, path: str) -> RouteCheck:
    """Compare the route's answer with the answer to a route that cannot exist.

    Path parameters are filled with an id no decision has, and bodies are empty
    objects, so a real route answers "not found"/"invalid" in its own words
    while an absent route answers exactly like the bogus one.
    """
    filled = _PARAM.sub("readiness-probe-" + uuid.uuid4().hex[:8], path)
    token = ctx.config.auth.operator_token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    real = await ctx.client.request(method, filled, json_body=body, headers=headers,
                                    timeout_s=10)
    bogus = await ctx.client.request(method, f"/readiness-no-such-route-{uuid.uuid4().hex[:8]}",
                                     json_body=body, headers=headers, timeout_s=10)
    evidence = {"request": real.summary(200), "nonexistent_route": bogus.summary(200)}
    if real.status is None:
        return RouteCheck(f"{method} {path}", None, evidence)
    # frameworks that echo the path in their 404 ("Cannot POST /pause") compare equal
    # once each answer's own path is blanked out
    same = real.body.replace(filled.encode(), b"") == bogus.body.replace(
        bogus.path.encode(), b"")
    absent = real.status in (404, 405) and (real.status == 405 or same)
    return RouteCheck(f"{method} {path}", not absent, evidence)


@observer(ITEM)
async def observe(ctx: RunContext) -> DocsObservations:
    declared = ctx.config.docs
    documents = {kind: read_document(kind, getattr(declared, kind)) for kind in KINDS}
    links = {kind: broken for kind, doc in documents.items() if (broken := broken_links(doc))}
    runbook = documents["runbook"].text or ""
    routes: list[RouteCheck] = []
    if ctx.client.down_reason is None:
        for method, path in runbook_routes(runbook):
            routes.append(await check_route(ctx, method, path))
    return DocsObservations(documents, links, tuple(routes), ctx.client.down_reason)


@probe(ITEM, title="Runbook, FAQ, escalation path and training exist",
       why="When the agent misbehaves at 2 a.m., operators need written procedures, answers, "
           "people to call and a way to learn; a missing or stub document is none of these.",
       fix="Write the four documents declared in [docs]; fill every TODO/TBD placeholder.",
       weight=2)
def docs_exist(obs: DocsObservations) -> Finding:
    problems = {}
    for kind, doc in obs.documents.items():
        if doc.text is None:
            problems[kind] = doc.problem
        elif _text.word_count(doc.text) < MIN_WORDS:
            problems[kind] = f"{doc.path} has only {_text.word_count(doc.text)} words"
        elif marks := _text.placeholders(doc.text):
            problems[kind] = f"{doc.path} still has placeholders: {marks[:6]}"
    if problems:
        return failed(f"{len(problems)} of 4 documents missing or unfinished: "
                      + "; ".join(f"{k}: {v}" for k, v in problems.items()), problems=problems)
    return passed("all four documents exist and have content",
                  files={k: str(d.path) for k, d in obs.documents.items()})


@probe(ITEM, title="Runbook covers the operator tasks",
       why="Operators must find, under a heading, how to stop the agent, put it in review-only "
           "mode, revert a decision, read each alert and escalate.",
       fix="Give the runbook one section (a Markdown heading) for each missing task.", weight=2)
def runbook_covers_operator_tasks(obs: DocsObservations) -> Finding:
    runbook = obs.documents["runbook"]
    if runbook.text is None:
        return failed(f"no runbook to read: {runbook.problem}")
    heads = _text.headings(runbook.text)
    covered = {topic: [h for h in heads if pattern.search(h)]
               for topic, pattern in RUNBOOK_TOPICS.items()}
    missing = [topic for topic, found in covered.items() if not found]
    if missing:
        return failed(f"the runbook has no section on: {', '.join(missing)}",
                      headings=heads, missing=missing)
    return passed("the runbook has a section for each operator task",
                  sections={topic: found[0] for topic, found in covered.items()})


@probe(ITEM, title="Escalation path names reachable people",
       why="An escalation path of TBDs, example.com addresses or 555 numbers reaches nobody.",
       fix="List real people with a working email, phone number or chat handle, and remove "
           "placeholders.", weight=2)
def escalation_names_reachable_people(obs: DocsObservations) -> Finding:
    doc = obs.documents["escalation"]
    if doc.text is None:
        return failed(f"no escalation document: {doc.problem}")
    marks = _text.placeholders(doc.text)
    found = _text.contacts(doc.text)
    if marks:
        return failed(f"the escalation path has placeholders: {marks[:8]}", placeholders=marks,
                      contacts=[c.value for c in found])
    if not found:
        return failed("the escalation path gives no email, phone number or chat handle")
    return passed(f"{len(found)} contact methods, no placeholders",
                  contacts=[f"{c.kind}: {c.value}" for c in found])


@probe(ITEM, title="Relative links in the documents resolve",
       why="A runbook link to a missing page fails the operator at the worst moment.",
       fix="Correct or remove the broken links.", blocking=False)
def docs_links_resolve(obs: DocsObservations) -> Finding:
    if obs.broken_links:
        count = sum(len(v) for v in obs.broken_links.values())
        return failed(f"{count} relative links point at missing files",
                      broken=dict(obs.broken_links))
    readable = [k for k, d in obs.documents.items() if d.text is not None]
    if not readable:
        return failed("there are no documents whose links could be checked")
    return passed(f"every relative link resolves in {', '.join(readable)}")


@probe(ITEM, title="Runbook actions work against the agent",
       why="A runbook that names endpoints the agent does not have leaves operators stuck "
           "during an incident.",
       fix="Name the real operator endpoints (as METHOD /path or curl commands) in the runbook, "
           "or implement the ones it promises.", weight=2)
def runbook_actions_exist(obs: DocsObservations) -> Finding:
    if obs.documents["runbook"].text is None:
        return failed("no runbook to read")
    if not obs.routes:
        if obs.agent_down:
            return errored(f"the agent is down: {obs.agent_down}")
        return failed("the runbook names no operator endpoint or command (METHOD /path or curl)")
    unknown = [r for r in obs.routes if r.exists is None]
    missing = [r for r in obs.routes if r.exists is False]
    evidence = {r.route: dict(r.evidence) for r in obs.routes}
    if missing:
        return failed(f"{len(missing)} of {len(obs.routes)} runbook actions do not exist on the "
                      f"agent: {', '.join(r.route for r in missing)}", routes=evidence)
    if unknown:
        return errored(f"the agent did not answer for {', '.join(r.route for r in unknown)}",
                       routes=evidence)
    return passed(f"all {len(obs.routes)} runbook actions exist on the agent",
                  routes=[r.route for r in obs.routes])
