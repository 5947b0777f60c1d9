"""The harness against both reference agents, as the demo runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from readiness.config import load_config
from readiness.items import ITEM_KEYS
from readiness.reports import validate_scorecard
from readiness.runner import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_INVOKE_TOKEN", "invoke-token-for-tests")
    monkeypatch.setenv("AGENT_OPERATOR_TOKEN", "operator-token-for-tests")


def _card(grade: str, out: Path) -> dict[str, Any]:
    card = run(load_config(EXAMPLES / grade / "readiness.toml"), out).card
    validate_scorecard(card)
    assert not card["incomplete"], card["notes"]
    return card


def _statuses(card: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["status"] for item in card["items"]}


def test_production_grade_passes_all_nine_items_and_is_ready(tokens: None,
                                                              tmp_path: Path) -> None:
    card = _card("production", tmp_path)
    assert _statuses(card) == dict.fromkeys(ITEM_KEYS, "pass"), [
        (i["key"], i["reason"]) for i in card["items"] if i["status"] != "pass"]
    assert card["verdict"] == "ready"


def test_demo_grade_fails_all_nine_items(tokens: None, tmp_path: Path) -> None:
    card = _card("demo", tmp_path)
    assert _statuses(card) == dict.fromkeys(ITEM_KEYS, "fail")
    assert card["verdict"] == "not_ready"


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
