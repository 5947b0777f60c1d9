"""Realistic scorecards for the renderer tests: ready, not ready, incomplete, hostile, huge."""

from __future__ import annotations

import copy
from typing import Any

from readiness.items import ITEMS
from readiness.reports import validate_scorecard

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PIPE = "| pipe | cell |"
BACKTICKS = "```\n# heading\n``` `code`"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
NUL = "nul\x00bell\x07del\x7f"
STYLE_END = "</style><style>body{background:url(https://evil.example/x)}</style>"
JS_URL = "javascript:alert(1)"
HOSTILE = " ".join([SCRIPT, IMG, PIPE, BACKTICKS, CLEAR, TITLE, NUL, STYLE_END, JS_URL,
                    "https://evil.example/", "\u202eevil\u202c", "line\r\nbreak", "@octocat"])
DIGEST = "sha256:" + "ab" * 32

PROBES: dict[str, list[str]] = {
    "error_handling": ["honours_retry_after", "backs_off_with_jitter", "skips_non_retryable",
                       "falls_back_on_parse_failure", "answers_bad_input_with_4xx"],
    "audit": ["one_record_per_decision", "audit_effects_match_upstream", "records_version"],
    "rollback": ["kill_switch_stops_writes", "review_mode_holds_writes", "revert_compensates"],
    "monitoring": ["exposes_metrics", "alerts_within_threshold", "alert_names_owner"],
    "versioning": ["reports_version", "hashes_match_committed_files"],
    "security": ["no_hardcoded_secrets", "endpoints_require_auth", "writes_stay_in_allow_list"],
    "load": ["holds_p95_latency", "loses_no_audit_record"],
    "docs": ["runbook_has_sections", "runbook_actions_work"],
    "owner": ["owner_declared", "owner_in_escalation_path"],
}


def probe(probe_id: str, outcome: str = "pass", **overrides: Any) -> dict[str, Any]:
    """One probe as scorecard.json holds it."""
    result: dict[str, Any] = {
        "id": probe_id,
        "title": probe_id.replace("_", " ").capitalize(),
        "outcome": outcome,
        "message": f"{probe_id}: {'ok' if outcome == 'pass' else 'see evidence'}",
        "evidence": {"calls": [{"method": "POST", "path": "/v1/chat/completions",
                                "status": 429, "retry_after_s": 2, "gap_s": 2.04}]},
        "remediation": f"Make {probe_id.replace('_', ' ')} hold.",
        "weight": 1,
        "blocking": True,
    }
    result.update(overrides)
    return result


def item_json(index: int, status: str = "pass", score: float = 10.0,
              probes: list[dict[str, Any]] | None = None, reason: str | None = None,
              ) -> dict[str, Any]:
    """One of the nine items; probes default to all passing."""
    definition = ITEMS[index]
    if probes is None:
        probes = [probe(probe_id) for probe_id in PROBES[definition.key]]
    return {
        "id": definition.id, "key": definition.key, "title": definition.title,
        "risk": definition.risk, "question": definition.question, "score": score,
        "status": status, "reason": reason or f"{len(probes)} of {len(probes)} probes passed",
        "probes": probes,
    }


def ready_card() -> dict[str, Any]:
    """Every item passes; the components changed since the previous run."""
    return {
        "schema": "readiness.scorecard/v1",
        "harness": {"version": "0.1.0"},
        "agent": {"name": "lead-router", "version": "1.4.0",
                  "components": {"lead_router/prompts/route_lead.md": DIGEST,
                                 "lead_router/rules/routing.yaml": "sha256:" + "0" * 64}},
        "started_at": "2026-11-25T10:00:00Z",
        "finished_at": "2026-11-25T10:00:42Z",
        "verdict": "ready",
        "incomplete": False,
        "notes": [],
        "run": {"config": "examples/production/readiness.toml", "only": None,
                "duration_s": 41.7},
        "gate": {"required": [item.key for item in ITEMS], "min_score": 7.0, "failed": [],
                 "min_observed": 8.0},
        "changes": {"previous_file": "previous/scorecard.json", "previous_version": "1.3.0",
                    "previous_finished_at": "2026-11-20T09:00:00+01:00",
                    "changed": ["lead_router/prompts/route_lead.md"], "added": [],
                    "removed": ["lead_router/rules/old.yaml"]},
        "items": [item_json(i, score=8.0 if i == 4 else 10.0) for i in range(9)],
    }


def load_only_card() -> dict[str, Any]:
    """`readiness load`: item 7 alone ran and is all the gate requires; it passed."""
    card = ready_card()
    card["run"]["only"] = ["load"]
    card["gate"].update(required=["load"], min_observed=10.0)
    reason = "not assessed: left out of this run (--only, -k, or `readiness load`)"
    card["items"] = [item_json(i) if ITEMS[i].key == "load" else
                     item_json(i, "not_run", 0.0, [], reason) for i in range(9)]
    return card


def not_ready_card() -> dict[str, Any]:
    """Audit fails, security errors, load did not run, docs has an advisory failure."""
    card = ready_card()
    card["verdict"] = "not_ready"
    card["changes"] = None
    card["agent"]["version"] = None
    card["gate"].update(failed=["audit", "security", "load"], min_observed=0.0)
    card["items"][1] = item_json(1, "fail", 3.3, [
        probe("one_record_per_decision"),
        probe("audit_effects_match_upstream", "fail",
              message="2 writes reached the CRM but the audit record lists 1"),
        probe("records_version", "fail", message="no agent_version field"),
    ], reason="2 of 3 probes failed: audit_effects_match_upstream, records_version")
    card["items"][5] = item_json(5, "error", 10.0, [
        probe("no_hardcoded_secrets"),
        probe("endpoints_require_auth", "error", message="agent closed the connection"),
        probe("writes_stay_in_allow_list", "not_applicable", message="no tool upstream"),
    ], reason="1 of 3 probes could not be assessed: endpoints_require_auth")
    card["items"][6] = item_json(6, "not_run", 0.0, [],
                                 reason="not assessed: run `readiness load` for this item")
    card["items"][7] = item_json(7, "pass", 7.5, [
        probe("runbook_has_sections"),
        probe("runbook_actions_work", "fail", blocking=False, message="FAQ step 3 is stale"),
    ], reason="1 of 2 probes passed; advisory probes failed: runbook_actions_work")
    return card


def incomplete_card() -> dict[str, Any]:
    """Interrupted after item 4: the rest are not run, and the notes say why."""
    card = not_ready_card()
    card["incomplete"] = True
    card["notes"] = ["interrupted by the user (Ctrl-C) at 10:00:12",
                     "agent process exited with code 137 at 10:00:11"]
    card["run"].update(only=["error_handling", "audit", "rollback", "monitoring"],
                       duration_s=12.0)
    for index in range(4, 9):
        card["items"][index] = item_json(index, "not_run", 0.0, [], reason="run interrupted")
    card["gate"]["failed"] = ["audit", "versioning", "security", "load", "docs", "owner"]
    return card


def hostile_card() -> dict[str, Any]:
    """The not-ready card with attacker-controlled text in every string an agent can touch."""
    card = not_ready_card()
    card["agent"]["name"] = SCRIPT + IMG
    card["agent"]["version"] = HOSTILE
    card["agent"]["components"] = {HOSTILE: DIGEST, f"{JS_URL}/{STYLE_END}": DIGEST}
    card["notes"] = [HOSTILE, "x" * 5_000]
    card["run"]["config"] = HOSTILE
    card["changes"] = {"previous_file": HOSTILE, "previous_version": HOSTILE,
                       "previous_finished_at": "2026-11-24T10:00:00Z",
                       "changed": [HOSTILE], "added": [IMG], "removed": [PIPE]}
    for item in card["items"]:
        item["reason"] = HOSTILE
        for entry in item["probes"]:
            entry["title"] = HOSTILE
            entry["message"] = HOSTILE
            entry["remediation"] = HOSTILE
            entry["evidence"] = {"body": HOSTILE, "svg": "<svg onload=alert(1)></svg>",
                                 HOSTILE: [IMG, {"nested": "\ud800 lone surrogate"}],
                                 "big": "A" * 10_000}
    return card


def huge_card() -> dict[str, Any]:
    """Every item fails with five probes each carrying 10k characters of evidence."""
    card = ready_card()
    card["verdict"] = "not_ready"
    card["gate"].update(failed=[item.key for item in ITEMS], min_observed=0.0)
    for index, definition in enumerate(ITEMS):
        probes = [probe(f"{definition.key}_check_{n}", "fail",
                        evidence={"body": "`" * 50 + "B" * 10_000, "n": n},
                        message="m" * 3_000, remediation="r" * 3_000) for n in range(5)]
        card["items"][index] = item_json(index, "fail", 0.0, probes, reason=PIPE * 100)
    return card


def all_cards() -> dict[str, dict[str, Any]]:
    """Every fixture by name, as fresh copies."""
    builders = {"ready": ready_card, "not_ready": not_ready_card,
                "incomplete": incomplete_card, "hostile": hostile_card, "huge": huge_card}
    return {name: copy.deepcopy(build()) for name, build in builders.items()}


def many_failures_card(count: int = 600) -> dict[str, Any]:
    """Hundreds of failed probes with long texts: more than a comment can hold."""
    card = huge_card()
    card["items"][0]["probes"] = [
        probe(f"check_{n}", "fail", message="m" * 400, remediation="r" * 400)
        for n in range(count)
    ]
    return card


def valid(name: str) -> dict[str, Any]:
    """A fresh copy of a named fixture, checked against the schema first."""
    card = all_cards()[name] if name != "many_failures" else many_failures_card()
    validate_scorecard(card)
    return card


NAMES = ("ready", "not_ready", "incomplete", "hostile", "huge")
