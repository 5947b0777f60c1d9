"""`readiness init`: detects what it can, writes placeholders that fail items 8 and 9, never
overwrites."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from readiness.config import load_config
from readiness.init import DOCS, detect, init_command, init_project, render_document, toml_string
from readiness.probes import _text
from readiness.probes.docs import (
    MIN_WORDS,
    DocsObservations,
    docs_exist,
    escalation_names_reachable_people,
    read_document,
    runbook_covers_operator_tasks,
)
from readiness.results import Outcome
from readiness.runner import run

TODAY = dt.date(2026, 11, 25)
MARKER = re.compile(r"`(<[^>`.]+>)`")  # `<fill in ...>` itself is the how-to, not a marker


def probe_results(card: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    item = next(i for i in card["items"] if i["key"] == key)
    return {p["id"]: p for p in item["probes"]}


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


FAKE_AGENT = {
    "pyproject.toml": '[project]\nname = "lead-bot"\nversion = "0.1.0"\n',
    "lead_bot/__init__.py": "",
    "lead_bot/__main__.py": 'import argparse\nargparse.ArgumentParser().add_argument("--port")\n',
    "lead_bot/agent.py": (
        "import os\n"
        'LLM = os.environ["LLM_BASE_URL"]\n'
        'CRM = os.getenv("CRM_BASE_URL", "http://127.0.0.1:9101")\n'
        'HOOK = os.environ.get("ALERT_WEBHOOK_URL")\n'
        'DB = os.environ["DATABASE_URL"]\n'
        'TOKEN = os.environ["LEAD_BOT_INVOKE_TOKEN"]\n'),
    "lead_bot/web.py": "from starlette.applications import Starlette\napp = Starlette()\n",
    "lead_bot/prompts/route.md": "Route the lead.\n",
    "lead_bot/rules/reps.toml": "reps = []\n",
    "tests/__init__.py": "",
    ".github/CODEOWNERS": "* @someone\n",
}


def test_init_in_an_empty_folder_then_run_fails_docs_and_owner_naming_the_placeholders(
        tmp_path: Path) -> None:
    root = tmp_path / "agent"
    root.mkdir()
    result = init_project(root)
    assert {p.relative_to(root).as_posix() for p in result.written} == {
        "readiness.toml", *DOCS.values()}
    card = run(load_config(root / "readiness.toml"), tmp_path / "out",
               only={"docs", "owner"}, today=TODAY).card

    statuses = {i["key"]: i["status"] for i in card["items"]}
    assert statuses["docs"] == "fail" and statuses["owner"] == "fail"
    assert any("could not run 'TODO: the command that starts the agent" in n
               for n in card["notes"])
    docs = probe_results(card, "docs")
    assert docs["docs_exist"]["outcome"] == "fail"
    message = docs["docs_exist"]["message"]
    assert "4 of 4 documents missing or unfinished" in message
    for kind in DOCS:
        assert f"{kind}: {root / DOCS[kind]} still has placeholders: [" in message
    assert "<fill in what the agent reads and what it changes>" in message
    assert "<fill in what the agent decides on its own" in message
    escalation = docs["escalation_names_reachable_people"]
    assert escalation["outcome"] == "fail"
    assert "<owner name>" in escalation["message"] and "<backup name>" in escalation["message"]
    assert docs["runbook_covers_operator_tasks"]["outcome"] == "pass"  # the headings are there
    assert docs["docs_links_resolve"]["outcome"] == "pass"

    owner = probe_results(card, "owner")
    declared = owner["owner_declared"]["message"]
    assert "the owner name \"TODO: the production owner's full name\" is a placeholder" in (
        declared)
    assert "the backup name \"TODO: the backup's full name\" is a placeholder" in declared
    assert "no real [owner] role" in declared
    assert owner["owner_review_fresh"]["message"] == "[owner] reviewed is not set"
    assert all(p["outcome"] == "fail" for p in owner.values())


def test_a_second_init_writes_nothing_and_overwrites_nothing(tmp_path: Path) -> None:
    init_project(tmp_path)
    runbook = tmp_path / "docs" / "runbook.md"
    runbook.write_text("# Our own runbook\n", encoding="utf-8")
    again = init_project(tmp_path)
    assert again.written == ()
    assert set(again.skipped) == {tmp_path / "readiness.toml", *(tmp_path / p for p in
                                                                 DOCS.values())}
    assert all("never overwrites" in why for why in again.skipped.values())
    assert runbook.read_text(encoding="utf-8") == "# Our own runbook\n"


def test_only_missing_files_are_written(tmp_path: Path) -> None:
    write(tmp_path, {"docs/faq.md": "ours\n"})
    result = init_project(tmp_path)
    assert tmp_path / "docs" / "faq.md" in result.skipped
    assert len(result.written) == 4
    assert (tmp_path / "docs" / "faq.md").read_text(encoding="utf-8") == "ours\n"


def test_detects_a_small_agent_project(tmp_path: Path) -> None:
    write(tmp_path, FAKE_AGENT)
    found = detect(tmp_path)
    assert (found.name, found.name_origin) == ("lead-bot", "from pyproject.toml [project] name")
    assert found.packages == ("lead_bot",)
    assert found.start == "python -m lead_bot --port {port}"
    assert found.start_origin == "lead_bot/__main__.py"
    assert (found.app, found.app_origin) == ("lead_bot.web:app", "lead_bot/web.py:2")
    upstreams = {u.name: (u.kind, u.env, u.target, u.found_in) for u in found.upstreams}
    assert upstreams == {"llm": ("llm", "LLM_BASE_URL", "sim:openai", "lead_bot/agent.py:2"),
                         "crm": ("tool", "CRM_BASE_URL", "http://127.0.0.1:9101",
                                 "lead_bot/agent.py:3")}
    assert found.alerts_env == "ALERT_WEBHOOK_URL"
    assert found.tokens == {"invoke": "LEAD_BOT_INVOKE_TOKEN"}
    assert found.version_files == ("lead_bot/prompts/**", "lead_bot/rules/**")
    assert found.codeowners == ".github/CODEOWNERS"


def test_the_config_written_for_a_small_agent_loads_with_what_was_detected(
        tmp_path: Path) -> None:
    write(tmp_path, FAKE_AGENT)
    init_project(tmp_path)
    text = (tmp_path / "readiness.toml").read_text(encoding="utf-8")
    config = load_config(tmp_path / "readiness.toml")
    assert config.agent.name == "lead-bot"
    assert config.agent.start == "python -m lead_bot --port {port}"
    assert config.agent.app is None
    assert '# app = "lead_bot.web:app"' in text  # offered as an option, not chosen
    assert config.agent.source == ("lead_bot",)
    assert {n: (u.kind, u.target, u.env) for n, u in config.upstreams.items()} == {
        "llm": ("llm", "sim:openai", "LLM_BASE_URL"),
        "crm": ("tool", "http://127.0.0.1:9101", "CRM_BASE_URL")}
    assert config.alerts.env == "ALERT_WEBHOOK_URL"
    assert config.version.files == ("lead_bot/prompts/**", "lead_bot/rules/**")
    assert config.auth.invoke_token == "" and "${LEAD_BOT_INVOKE_TOKEN:-}" in text
    assert "DATABASE" not in text.split("[scenario]")[0]  # a store, not an upstream
    assert config.owner.name == "TODO: the production owner's full name"
    assert config.owner.reviewed is None
    assert (config.provider.model, config.data.reads, config.compliance.frameworks) == (
        None, (), ())  # undeclared, so the security item reports each gap


def test_the_config_covers_every_section_of_the_design(tmp_path: Path) -> None:
    init_project(tmp_path)
    text = (tmp_path / "readiness.toml").read_text(encoding="utf-8")
    for section in ("agent", "agent.paths", "auth", "scenario", "load", "alerts", "version",
                    "owner", "docs", "provider", "data", "compliance", "security", "gate"):
        assert f"\n[{section}]\n" in text, section
    assert "# [upstreams.llm]" in text
    assert set(tomllib.loads(text)) >= {"agent", "auth", "owner", "docs", "gate"}


def test_a_tool_upstream_without_a_known_url_is_left_commented_out(tmp_path: Path) -> None:
    write(tmp_path, {"bot/__init__.py": "", "bot/main.py": 'import os\nos.environ["CRM_URL"]\n'})
    init_project(tmp_path)
    text = (tmp_path / "readiness.toml").read_text(encoding="utf-8")
    assert "# [upstreams.crm]\n# kind = \"tool\"" in text
    assert "TODO: set target to the service's URL" in text
    assert load_config(tmp_path / "readiness.toml").upstreams == {}


def test_an_asgi_app_without_a_main_module_runs_in_process(tmp_path: Path) -> None:
    write(tmp_path, {"src/bot/__init__.py": "",
                     "src/bot/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n"})
    init_project(tmp_path)
    config = load_config(tmp_path / "readiness.toml")
    assert (config.agent.app, config.agent.start) == ("bot.app:app", None)
    assert config.agent.source == ("src/bot",)


def test_the_git_user_is_only_a_suggestion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setattr("readiness._init_detect._git_user", lambda root: "Ada Lovelace")
    init_project(tmp_path)
    text = (tmp_path / "readiness.toml").read_text(encoding="utf-8")
    assert "# `git config` names Ada Lovelace." in text
    assert load_config(tmp_path / "readiness.toml").owner.name == (
        "TODO: the production owner's full name")


def test_a_pyproject_with_tool_readiness_gets_no_readiness_toml(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.readiness.agent]\nname = "x"\nurl = "http://a"\n'})
    result = init_project(tmp_path)
    assert not (tmp_path / "readiness.toml").exists()
    assert result.skipped == {tmp_path / "readiness.toml":
                              "pyproject.toml already has [tool.readiness]"}


def test_existing_config_decides_where_the_documents_go(tmp_path: Path) -> None:
    write(tmp_path, {"readiness.toml": '[docs]\nrunbook = "ops/RUNBOOK.md"\n'})
    result = init_project(tmp_path)
    assert tmp_path / "ops" / "RUNBOOK.md" in result.written
    assert not (tmp_path / "docs" / "runbook.md").exists()


def test_documents_go_where_pyproject_tool_readiness_declares(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.readiness.docs]\nfaq = "handbook/faq.md"\n'})
    result = init_project(tmp_path)
    assert tmp_path / "handbook" / "faq.md" in result.written


def test_interactive_init_asks_only_for_the_people(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readiness._init_detect._git_user", lambda root: "Ada Lovelace")
    answers = {"Full name of the person who owns": 'Ana "Nana" Lima',
               "Their email": "ana.lima@brightfield-sales.io",
               "Full name of their backup": "Marcus Chen"}
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        return next((a for q, a in answers.items() if question.startswith(q)), "")

    init_project(tmp_path, interactive=True, ask=ask)
    assert len(asked) == 5
    assert "git config names Ada Lovelace; type it only if they do" in asked[0]
    owner = load_config(tmp_path / "readiness.toml").owner
    assert (owner.name, owner.contact, owner.backup) == (
        'Ana "Nana" Lima', "ana.lima@brightfield-sales.io", "Marcus Chen")
    assert owner.role == "TODO: the owner's role"  # left empty: the placeholder stays
    escalation = (tmp_path / "docs" / "escalation.md").read_text(encoding="utf-8")
    assert '| 1 | Ana "Nana" Lima (owner) |' in escalation
    assert "<owner name>" not in escalation and "<backup email or phone>" in escalation


def observations(texts: dict[str, str], tmp_path: Path) -> DocsObservations:
    for kind, text in texts.items():
        (tmp_path / f"{kind}.md").write_text(text, encoding="utf-8")
    documents = {kind: read_document(kind, tmp_path / f"{kind}.md") for kind in DOCS}
    return DocsObservations(documents, {}, ())


@pytest.mark.parametrize("kind", list(DOCS))
def test_each_skeleton_is_long_enough_to_fail_on_its_placeholders(kind: str) -> None:
    text = render_document(kind, "lead-bot", {})
    assert _text.word_count(text) >= MIN_WORDS  # else the message would count words
    assert all(m in _text.placeholders(text) for m in MARKER.findall(text))
    assert "example.com" not in text and "TBD" not in text


def test_the_skeletons_pass_once_every_marker_is_filled(tmp_path: Path) -> None:
    """Only the placeholders fail them: what the skeleton says for itself is not one."""
    filled = {kind: MARKER.sub("a real answer", render_document(kind, "lead-bot", {}))
              for kind in DOCS}
    filled["escalation"] = filled["escalation"].replace(
        "| a real answer |", "| ana.lima@brightfield-sales.io |", 1)
    obs = observations(filled, tmp_path)
    for judged in (docs_exist, runbook_covers_operator_tasks,
                   escalation_names_reachable_people):
        assert judged(obs).outcome is Outcome.PASS, judged(obs).message


def test_toml_strings_survive_quotes_control_characters_and_delete() -> None:
    for value in ['Ana "Nana" Lima', "back\\slash", "tab\tnew\nline", "del\x7f", "ünï"]:
        assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_init_command_reports_what_it_did(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, FAKE_AGENT)
    assert init_command(tmp_path, interactive=False) == 0
    out = capsys.readouterr().out
    assert "agent name: lead-bot (from pyproject.toml [project] name)" in out
    assert "upstream llm: llm, LLM_BASE_URL (lead_bot/agent.py:2), sim:openai" in out
    assert "wrote readiness.toml" in out and "wrote docs/escalation.md" in out
    assert init_command(tmp_path, interactive=False) == 0
    out = capsys.readouterr().out
    assert "skipped readiness.toml: it exists (init never overwrites a file)" in out
    assert "nothing written: every file exists" in out


def test_init_command_outside_a_folder_is_a_usage_error(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert init_command(tmp_path / "missing", interactive=False) == 2
    assert "is not a folder" in capsys.readouterr().err
