"""The harness against both reference agents, as the demo runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import load_config
from readiness.reports import validate_scorecard
from readiness.runner import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUILT = ("error_handling", "versioning", "docs", "owner")


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_INVOKE_TOKEN", "invoke-token-for-tests")
    monkeypatch.setenv("AGENT_OPERATOR_TOKEN", "operator-token-for-tests")


def _statuses(grade: str, out: Path) -> dict[str, str]:
    card = run(load_config(EXAMPLES / grade / "readiness.toml"), out).card
    validate_scorecard(card)
    assert card["verdict"] == "not_ready"
    assert not card["incomplete"], card["notes"]
    return {item["key"]: item["status"] for item in card["items"]}


def test_production_grade_passes_every_built_item(tokens: None, tmp_path: Path) -> None:
    statuses = _statuses("production", tmp_path)
    assert {key: statuses[key] for key in BUILT} == dict.fromkeys(BUILT, "pass")
    assert {s for k, s in statuses.items() if k not in BUILT} == {"not_run"}


def test_demo_grade_fails_every_built_item(tokens: None, tmp_path: Path) -> None:
    statuses = _statuses("demo", tmp_path)
    assert {key: statuses[key] for key in BUILT} == dict.fromkeys(BUILT, "fail")
