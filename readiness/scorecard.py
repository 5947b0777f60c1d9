"""Assemble scorecard.json (DESIGN.md section 6) from scored items and run facts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from readiness import __version__
from readiness.results import ProbeResult, _plain
from readiness.scoring import GateResult, ItemResult

SCHEMA_ID = "readiness.scorecard/v1"


def rfc3339(moment: dt.datetime) -> str:
    """UTC timestamp with a Z suffix and whole seconds."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build(*, agent_name: str, agent_version: str | None, components: Mapping[str, str],
          started: dt.datetime, finished: dt.datetime, items: Sequence[ItemResult],
          gate: GateResult, incomplete: bool, notes: Sequence[str], run: Mapping[str, Any],
          changes: Mapping[str, Any] | None,
          data_handling: Mapping[str, Any] | None = None,
          waivers: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The scorecard as plain JSON data, ready for the schema and the renderers.

    `waivers` is the run's waiver report (`WaiverBook.report`); a waived probe
    carries its waiver under `waived`.
    """
    return {
        "schema": SCHEMA_ID,
        "harness": {"version": __version__},
        "agent": {"name": agent_name, "version": agent_version, "components": dict(components)},
        "started_at": rfc3339(started),
        "finished_at": rfc3339(finished),
        "verdict": "ready" if gate.ready and not incomplete else "not_ready",
        "incomplete": incomplete,
        "notes": list(notes),
        "run": _plain(run),
        "gate": {"required": list(gate.required), "min_score": gate.min_score,
                 "failed": list(gate.failed), "min_observed": gate.min_observed},
        "changes": _plain(changes) if changes is not None else None,
        "data_handling": _plain(data_handling) if data_handling is not None else None,
        "waivers": _plain(waivers),
        "items": [
            {"id": r.item.id, "key": r.item.key, "title": r.item.title, "risk": r.item.risk,
             "question": r.item.question, "score": r.score, "status": r.status,
             "reason": r.reason, "probes": [_probe_json(p, r.waived) for p in r.probes]}
            for r in items
        ],
    }


def _probe_json(probe: ProbeResult, waived: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A probe's JSON, with the waiver that accepts its failure, if one does."""
    data = probe.to_json()
    if probe.id in waived:
        data["waived"] = _plain(waived[probe.id])
    return data


def read_previous(path: Path) -> dict[str, Any] | None:
    """A previous scorecard.json, if there is a readable one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    from readiness.reports import ScorecardSchemaError, validate_scorecard

    try:
        validate_scorecard(data)
    except ScorecardSchemaError:
        return None  # an edited or foreign file is not a baseline to compare against
    return data if isinstance(data, dict) else None


def component_changes(previous: Mapping[str, Any] | None, previous_path: Path | None,
                      components: Mapping[str, str]) -> dict[str, Any] | None:
    """Which versioned components changed since the previous scorecard."""
    if previous is None:
        return None
    agent = previous.get("agent") or {}
    before = agent.get("components") or {}
    if not isinstance(before, dict):
        before = {}
    return {
        "previous_file": str(previous_path) if previous_path else None,
        "previous_version": agent.get("version"),
        "previous_finished_at": previous.get("finished_at"),
        "changed": sorted(k for k in components if k in before and before[k] != components[k]),
        "added": sorted(k for k in components if k not in before),
        "removed": sorted(k for k in before if k not in components),
    }
