"""scorecard.md: the scorecard as a pull-request comment or CI step summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from readiness.reports._text import ELLIPSIS, agent_label, evidence_json, one_line, score_text

MAX_CHARS = 65_536
"""GitHub's limit for a comment body; step summaries allow more, comments do not."""

_CELL_LIMIT = 300  # a table cell; the table itself is never dropped
_TEXT_LIMIT = 2_000  # a message or remediation
_SHORT_TEXT_LIMIT = 300  # the same, when the full texts would not fit
_EVIDENCE_LIMIT = 4_000  # one probe's evidence, before the document-wide budget
_MIN_EVIDENCE = 400  # below this, a cut evidence block says nothing useful
_NOTE_LIMIT = 500
_MAX_NOTES = 20
_MAX_PATHS = 50
_MAX_WAIVERS = 20  # the head is never cut, so its lists stay bounded

_FOOTER = "\n---\n_Full evidence: `scorecard.html` and `scorecard.json`._\n"
_PASSING_OMITTED = "\n_Passing probes omitted: the summary would exceed GitHub's size limit._\n"

MARKS = {"pass": "✅", "fail": "❌", "error": "⚠️", "not_run": "⏭️", "not_applicable": "➖"}
WORDS = {"pass": "pass", "fail": "fail", "error": "error", "not_run": "not run",
         "not_applicable": "n/a"}

# Punctuation that can open Markdown syntax; list markers and `#` matter because an
# escaped string may follow a list marker ("- - x" would nest a list).
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!~")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "|": "&#124;"}


def md(text: Any, limit: int = _TEXT_LIMIT) -> str:
    """Agent-supplied text made inert: one line, HTML and Markdown escaped, then clipped.

    HTML specials become entities (so no tag or attribute can open), pipes become
    `&#124;` (so no table cell can split) and Markdown punctuation is
    backslash-escaped (so no code span, link, list, heading or emphasis can
    start). `limit` bounds the escaped length, which is what the size limit counts.
    """
    pieces: list[str] = []
    length = 0
    for char in one_line(str(text)):
        piece = _HTML_SPECIAL.get(char) or (f"\\{char}" if char in _MARKDOWN_SPECIAL else char)
        if length + len(piece) > limit:
            pieces.append(ELLIPSIS)
            break
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def render_markdown(card: Mapping[str, Any]) -> str:
    """Render a scorecard as GitHub-flavoured Markdown of at most 65,536 characters.

    The verdict, the gate and the nine-item table always appear in full; failed
    and errored probes follow with message, remediation and evidence, and
    passing probes sit in a collapsed block. When the document would exceed the
    limit, evidence is cut first, then omitted, then the passing list goes,
    then messages are shortened, then only the failed probes that fit are
    listed; the verdict, gate and table are never cut.

    Args:
        card: scorecard.json as loaded; it must satisfy the schema (see
            `validate_scorecard`). Every string in it is escaped.

    Returns:
        The Markdown text, ending with a newline.
    """
    head = _head(card)
    for text_limit in (_TEXT_LIMIT, _SHORT_TEXT_LIMIT):
        attention, passing = _probe_blocks(card, text_limit)
        for passing_text in (passing, _PASSING_OMITTED if passing else ""):
            document = _assemble(head, attention, passing_text)
            if len(document) <= MAX_CHARS:
                return document
    # Hundreds of failed probes: list as many as fit, without evidence.
    room = MAX_CHARS - len(head) - len(_FOOTER) - 200
    kept: list[str] = []
    for text, _ in attention:
        if len(text) > room:
            break
        kept.append(text)
        room -= len(text)
    more = len(attention) - len(kept)
    note = f"\n_{more} more probes need attention: see `scorecard.html`._\n" if more else ""
    return head + "".join(kept) + note + _PASSING_OMITTED + _FOOTER


def _assemble(head: str, attention: list[tuple[str, Mapping[str, Any]]], passing: str) -> str:
    """The document with as much evidence as the remaining size budget allows."""
    fixed = len(head) + len(_FOOTER) + len(passing) + sum(len(text) for text, _ in attention)
    # Reserve room for each block's "evidence omitted" note, so omitting always fits.
    budget = MAX_CHARS - fixed - 100 * len(attention)
    body: list[str] = []
    for text, evidence in attention:
        block = _evidence_block(evidence, budget) if evidence else ""
        budget -= len(block)
        body.append(text + block)
    return head + "".join(body) + passing + _FOOTER


def _head(card: Mapping[str, Any]) -> str:
    """Verdict, warnings, gate and the nine-item table: always rendered whole."""
    gate = card["gate"]
    ready = card["verdict"] == "ready"
    lines = [f"## {'✅ READY' if ready else '❌ NOT READY'}: {md(agent_label(card), 200)}", ""]
    if card["incomplete"]:
        lines += ["> [!WARNING]", "> Incomplete run: items it did not reach count as not run.", ""]
    for note in card["notes"][:_MAX_NOTES]:
        lines.append(f"- {md(note, _NOTE_LIMIT)}")
    if len(card["notes"]) > _MAX_NOTES:
        lines.append(f"- {ELLIPSIS} and {len(card['notes']) - _MAX_NOTES} more notes")
    if card["notes"]:
        lines.append("")
    failed = ", ".join(f"`{key}`" for key in map(_key, gate["failed"]))
    lowest = "n/a" if gate["min_observed"] is None else score_text(gate["min_observed"])
    lines += [
        f"**Release gate:** {f'failed on {failed}' if failed else 'passed'}. "
        f"Minimum score {score_text(gate['min_score'])}, "
        f"lowest required score {lowest}, {len(gate['required'])} required items.",
        "",
        "| # | Item | Risk | Status | Score | Reason |",
        "|--:|:-----|:-----|:-------|------:|:-------|",
    ]
    for item in card["items"]:
        status = item["status"]
        lines.append(
            f"| {int(item['id'])} | {md(item['title'], _CELL_LIMIT)} | {md(item['risk'], 20)} "
            f"| {MARKS.get(status, '')} {WORDS.get(status, 'unknown')} "
            f"| {score_text(item['score'])} | {md(item['reason'], _CELL_LIMIT)} |"
        )
    lines.append("")
    lines += _waivers(card.get("waivers") or [])
    lines += _changes(card["changes"])
    return "\n".join(lines) + "\n"


def _waivers(waivers: list[Mapping[str, Any]]) -> list[str]:
    """Accepted failures: which waivers held, which expired, which matched nothing."""
    if not waivers:
        return []
    lines = [f"**Waivers:** {len(waivers)}", "",
             "| Status | Waives | Owner | Expires | Reason |",
             "|:-------|:-------|:------|:--------|:-------|"]
    for waiver in waivers[:_MAX_WAIVERS]:
        target = (f"probe `{_probe_id(waiver['probe'])}`" if waiver["probe"] is not None
                  else f"item `{_key(waiver['item'])}`")
        covered = ", ".join(f"`{_probe_id(p)}`" for p in waiver["probes"][:10])
        covered += f", {ELLIPSIS}" if len(waiver["probes"]) > 10 else ""
        lines.append(f"| {md(waiver['status'], 20)} | {target}"
                     f"{f' ({covered})' if covered else ''} | {md(waiver['owner'], 200)} "
                     f"| {md(waiver['expires'], 20)} | {md(waiver['reason'], _CELL_LIMIT)} |")
    if len(waivers) > _MAX_WAIVERS:
        lines.append(f"\n{ELLIPSIS} and {len(waivers) - _MAX_WAIVERS} more waivers")
    return [*lines, ""]


def _changes(changes: Mapping[str, Any] | None) -> list[str]:
    """The versioned components changed since the previous scorecard, if known."""
    if not changes:
        return []
    since = md(changes["previous_version"] or changes["previous_file"]
               or "the previous scorecard", 200)
    entries = [(verb, path) for verb in ("changed", "added", "removed") for path in changes[verb]]
    lines = [f"**Components changed since {since}:** {len(entries) or 'none'}", ""]
    lines += [f"- {verb} {md(path, 200)}" for verb, path in entries[:_MAX_PATHS]]
    if len(entries) > _MAX_PATHS:
        lines.append(f"- {ELLIPSIS} and {len(entries) - _MAX_PATHS} more")
    return [*lines, ""] if entries else lines


def _probe_blocks(card: Mapping[str, Any], text_limit: int,
                  ) -> tuple[list[tuple[str, Mapping[str, Any]]], str]:
    """(text, evidence) for each failed or errored probe, and the collapsed passing list."""
    attention: list[tuple[str, Mapping[str, Any]]] = []
    passing: list[str] = []
    for item in card["items"]:
        prefix = f"{md(item['title'], 200)} / "
        for probe in item["probes"]:
            outcome = probe["outcome"]
            name = f"{prefix}`{_probe_id(probe['id'])}` {md(probe['title'], 200)}"
            if outcome not in ("fail", "error"):
                passing.append(f"- {MARKS.get(outcome, '')} {name}: "
                               f"{md(probe['message'], min(text_limit, 500))}")
                continue
            heading = "" if attention else "\n### Probes that need attention\n"
            waived = probe.get("waived")
            word = f"{WORDS[outcome]} (waived)" if waived else WORDS[outcome]
            text = f"{heading}\n#### {MARKS[outcome]} {word}: {name}\n\n"
            text += f"{md(probe['message'], text_limit)}\n"
            if waived:
                text += (f"\n**Waived** by {md(waived['owner'], 200)} until "
                         f"{md(waived['expires'], 20)}: {md(waived['reason'], text_limit)}\n")
            if outcome == "fail" and probe["remediation"]:
                text += f"\n**How to fix:** {md(probe['remediation'], text_limit)}\n"
            attention.append((text, probe["evidence"]))
    if not passing:
        return attention, ""
    summary = f"Passing and not-applicable probes ({len(passing)})"
    return attention, f"\n<details><summary>{summary}</summary>\n\n" + "\n".join(passing) + (
        "\n\n</details>\n"
    )


def _evidence_block(evidence: Mapping[str, Any], budget: int) -> str:
    """Evidence in a collapsed fenced block, cut to the remaining budget or omitted."""
    limit = min(_EVIDENCE_LIMIT, budget - 80)
    if limit < _MIN_EVIDENCE:
        return "\n_Evidence omitted from this summary (size limit); see scorecard.json._\n"
    # Backticks only occur inside JSON strings, where \u0060 means the same, so the
    # evidence can never close the fence around it.
    text = evidence_json(evidence, limit=limit, escape="`")
    return f"\n<details><summary>Evidence</summary>\n\n```json\n{text}\n```\n\n</details>\n"


def _key(key: Any) -> str:
    """An item key for a code span: the schema's enum, but clipped and stripped anyway."""
    return re.sub(r"[^a-z0-9_]", "", str(key))[:40]


def _probe_id(probe_id: Any) -> str:
    """A probe id for a code span: the schema's snake_case pattern, enforced again."""
    return re.sub(r"[^a-z0-9_]", "", str(probe_id))[:100]
