"""scorecard.html: the scorecard for people, self-contained and safe to open."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from readiness.reports._text import agent_label, evidence_json, printable, score_text

# Big enough for any evidence a reader will scroll through; a megabyte response
# body recorded as evidence stays complete in scorecard.json.
_EVIDENCE_LIMIT = 50_000

STATUS_LABELS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not_run": "NOT RUN"}
OUTCOME_LABELS = {
    "pass": "PASS", "fail": "FAIL", "error": "ERROR", "not_applicable": "N/A",
}


@functools.cache
def _environment() -> jinja2.Environment:
    """The template environment: autoescaping on, undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("readiness.reports", "templates"),
        # On for every template whatever its extension: every string in a
        # scorecard may come from the agent under test.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _finalize(value: Any) -> Any:
    """Strip ANSI sequences and control characters from every plain string printed."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def render_html(card: Mapping[str, Any], charts: Mapping[str, str] | None = None) -> str:
    """Render a scorecard as one self-contained HTML page.

    The page loads nothing (inline CSS, no scripts, no fonts, no images), carries
    a Content-Security-Policy that forbids loading anything else, and escapes
    every string taken from `card`, which a hostile agent may have influenced.

    Args:
        card: scorecard.json as loaded; it must satisfy the schema (see
            `validate_scorecard`), since its shape is relied on, though none of
            its strings is trusted.
        charts: inline SVG keyed by probe id, shown with that probe. It is
            inserted unescaped, so it must be SVG the harness drew itself from
            numbers, never markup taken from evidence or anything else the agent
            supplied.

    Returns:
        The HTML document.
    """
    template = _environment().get_template("scorecard.html.j2")
    return template.render(view=_view(card, charts or {}))


def _view(card: Mapping[str, Any], charts: Mapping[str, str]) -> dict[str, Any]:
    """What the template shows, computed here so the template holds no logic."""
    gate = card["gate"]
    run = card["run"]
    min_observed = gate["min_observed"]
    return {
        "title": agent_label(card),
        "agent": card["agent"],
        "harness_version": card["harness"]["version"],
        "ready": card["verdict"] == "ready",
        "incomplete": bool(card["incomplete"]),
        "notes": list(card["notes"]),
        "started_at": card["started_at"],
        "finished_at": card["finished_at"],
        "duration": f"{float(run['duration_s']):.1f} s",
        "config": run["config"],
        "only": run["only"],
        "gate": {
            "required": list(gate["required"]),
            "min_score": score_text(gate["min_score"]),
            "failed": list(gate["failed"]),
            "min_observed": None if min_observed is None else score_text(min_observed),
        },
        "changes": card["changes"],
        "waivers": list(card.get("waivers") or []),  # absent from older scorecards
        "data_handling": card.get("data_handling"),
        "components": sorted(card["agent"]["components"].items()),
        "scored": [_item_view(item, charts) for item in card["items"]],
    }


def _item_view(item: Mapping[str, Any], charts: Mapping[str, str]) -> dict[str, Any]:
    """One item with its display labels and score-bar width."""
    score = min(max(float(item["score"]), 0.0), 10.0)
    status = item["status"]
    return {
        "id": int(item["id"]),
        "key": item["key"],
        "title": item["title"],
        "risk": item["risk"],
        "question": item["question"],
        "status": STATUS_LABELS.get(status, "UNKNOWN"),
        "css": status if status in STATUS_LABELS else "unknown",
        "score": score_text(score),
        # Rounded to an integer of our own so nothing from the card reaches the style attribute.
        "percent": round(score * 10),
        "reason": item["reason"],
        "probes": [_probe_view(probe, charts) for probe in item["probes"]],
    }


def _probe_view(probe: Mapping[str, Any], charts: Mapping[str, str]) -> dict[str, Any]:
    """One probe with its label, evidence text and chart, if the harness drew one."""
    outcome = probe["outcome"]
    chart = charts.get(probe["id"])
    return {
        "id": probe["id"],
        "title": probe["title"],
        "outcome": OUTCOME_LABELS.get(outcome, "UNKNOWN"),
        "css": outcome if outcome in OUTCOME_LABELS else "unknown",
        "message": probe["message"],
        "remediation": probe["remediation"] if outcome == "fail" else "",
        "weight": probe["weight"],
        "blocking": bool(probe["blocking"]),
        "waived": probe.get("waived"),
        "evidence": evidence_json(probe["evidence"], limit=_EVIDENCE_LIMIT)
        if probe["evidence"] else "",
        # The one unescaped insertion: see render_html's `charts` argument.
        "chart": Markup(chart) if chart is not None else None,
    }
