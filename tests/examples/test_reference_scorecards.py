"""The harness against both reference agents, as the demo runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import load_config
from readiness.reports import validate_scorecard
from readiness.runner import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUILT = ("error_handling", "audit", "rollback", "monitoring", "versioning", "security", "docs",
         "owner")


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


def test_in_process_production_agent_passes_item_1_through_respx(
        tokens: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same faults reach an ASGI agent driven in-process, through respx."""
    monkeypatch.syspath_prepend(str(EXAMPLES / "production"))
    crm = EXAMPLES / "crm" / "crm_api.py"
    config = tmp_path / "readiness.toml"
    config.write_text(f"""
[agent]
name = "lead-router-in-process"
app = "lead_router.app:app"
[agent.env]
AGENT_DEADLINE_S = "20"
[auth]
invoke_token = "${{AGENT_INVOKE_TOKEN}}"
operator_token = "${{AGENT_OPERATOR_TOKEN}}"
[upstreams.llm]
kind = "llm"
target = "sim:openai"
env = "LLM_BASE_URL"
[upstreams.crm]
kind = "tool"
start = "python {crm} --port {{port}}"
target = "http://127.0.0.1:{{port}}"
health = "/health"
env = "CRM_BASE_URL"
[scenario]
fields = {{ name = "name", email = "email", company = "company", message = "paragraph" }}
""")
    card = run(load_config(config), tmp_path / "out", only={"error_handling"}).card
    item = next(i for i in card["items"] if i["key"] == "error_handling")
    assert item["status"] == "pass", [(p["id"], p["message"]) for p in item["probes"]]
    assert card["notes"] == []
