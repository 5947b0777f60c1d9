"""load_config and find_config on valid configurations: values, defaults, paths, env, durations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from config_support import MINIMAL_AGENT, WriteConfig

from readiness.config import Config, ConfigError, find_config, load_config
from readiness.contract import DEFAULT_ENDPOINTS, Endpoint
from readiness.items import ITEM_KEYS

# Every section of DESIGN.md section 4, with environment references.
FULL = """
[agent]
name = "lead-router"
start = "python -m lead_router --port {port}"
url = "http://127.0.0.1:{port}"
health = "/ready"
startup_timeout_s = 45
deadline_s = 12.5
source = ["lead_router"]

[agent.paths]
control = "PUT /admin/mode"
version = "/meta/version"

[auth]
invoke_token = "${READINESS_TEST_INVOKE}"
operator_token = "${READINESS_TEST_OPERATOR:-op-default}"

[upstreams.llm]
kind = "llm"
target = "sim:openai"
env = "LLM_BASE_URL"

[upstreams.crm]
kind = "tool"
target = "http://127.0.0.1:9101"
env = "CRM_BASE_URL"
writes = ["POST /leads/*/assign", "DELETE /assignments/*"]

[scenario]
source = "jsonl:data/leads.jsonl"
fields = { name = "name", email = "email", company = "company", message = "paragraph" }
seed = 7
volume_per_day = 50000
unique = ["email"]
on_bad_record = "skip"

[load]
users = 20
duration = "1h30m"
p95_ms = 2000
max_error_rate = 0.01
faults = { rate_limit = 0.05, timeout = 0.01 }

[alerts]
env = "OPS_WEBHOOK"
within_s = 30

[version]
files = ["lead_router/prompts/**", "lead_router/tools/**"]

[owner]
name = "Ada Lovelace"
role = "Head of Sales Ops"
contact = "ada@corp.io"
backup = "Alan Turing"
backup_contact = "@aturing"
handle = "@ada"
reviewed = 2026-11-01
max_age_days = 60
codeowners = ".github/CODEOWNERS"

[docs]
runbook = "docs/runbook.md"
faq = "docs/faq.md"
escalation = "docs/escalation.md"
training = "docs/training.md"

[provider]
model = "gpt-4o"
host = "Azure OpenAI"
region = "eu-west"
retention_days = 0
trains_on_inputs = false

[data]
reads = ["crm.leads"]
writes = ["crm.assignments"]
retention_days = 30
pii = ["email", "phone"]

[compliance]
frameworks = ["SOC2", "GDPR"]

[gate]
required = ["audit", "rollback"]
min_score = 8
"""


@pytest.fixture
def full(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("READINESS_TEST_INVOKE", "inv-secret")
    monkeypatch.delenv("READINESS_TEST_OPERATOR", raising=False)
    return load_config(write_config(FULL))


def test_agent_section(full: Config) -> None:
    agent = full.agent
    assert (agent.name, agent.start, agent.url, agent.app) == (
        "lead-router", "python -m lead_router --port {port}", "http://127.0.0.1:{port}", None)
    assert (agent.health, agent.startup_timeout_s, agent.deadline_s) == ("/ready", 45.0, 12.5)
    assert agent.source == ("lead_router",)


def test_agent_paths_remap_only_the_named_endpoints(full: Config) -> None:
    endpoints = full.agent.endpoints
    assert endpoints["control"] == Endpoint("PUT", "/admin/mode", "operator")
    assert endpoints["version"] == Endpoint("GET", "/meta/version", "none")
    untouched = {k: v for k, v in endpoints.items() if k not in ("control", "version")}
    assert untouched == {k: v for k, v in DEFAULT_ENDPOINTS.items() if k in untouched}
    assert set(endpoints) == set(DEFAULT_ENDPOINTS)


def test_auth_expands_environment(full: Config) -> None:
    assert full.auth.invoke_token == "inv-secret"
    assert full.auth.operator_token == "op-default"


def test_upstreams(full: Config) -> None:
    assert list(full.upstreams) == ["llm", "crm"]
    llm, crm = full.upstreams["llm"], full.upstreams["crm"]
    assert (llm.name, llm.kind, llm.target, llm.env, llm.writes) == (
        "llm", "llm", "sim:openai", "LLM_BASE_URL", ())
    assert (crm.kind, crm.target, crm.env) == ("tool", "http://127.0.0.1:9101", "CRM_BASE_URL")
    assert crm.writes == ("POST /leads/*/assign", "DELETE /assignments/*")
    assert (crm.start, crm.startup_timeout_s, crm.seed) == (None, 30.0, 0)


def test_scenario_and_load(full: Config) -> None:
    scenario = full.scenario
    assert (scenario.source, scenario.seed, scenario.volume_per_day, scenario.locale) == (
        "jsonl:data/leads.jsonl", 7, 50000, "en_US")
    assert scenario.fields["message"] == "paragraph"
    assert (scenario.unique, scenario.on_bad_record) == (("email",), "skip")
    load = full.load
    assert (load.users, load.duration_s, load.p95_ms, load.max_error_rate) == (
        20, 5400.0, 2000.0, 0.01)
    assert load.faults == {"rate_limit": 0.05, "timeout": 0.01}
    assert load.peak_factor == 3.0


def test_alerts_version_and_owner(full: Config) -> None:
    assert (full.alerts.env, full.alerts.within_s) == ("OPS_WEBHOOK", 30.0)
    assert full.version.files == ("lead_router/prompts/**", "lead_router/tools/**")
    owner = full.owner
    assert (owner.name, owner.role, owner.contact) == (
        "Ada Lovelace", "Head of Sales Ops", "ada@corp.io")
    assert (owner.backup, owner.backup_contact, owner.handle) == (
        "Alan Turing", "@aturing", "@ada")
    assert owner.reviewed == dt.date(2026, 11, 1)
    assert owner.max_age_days == 60


def test_paths_resolve_against_the_config_folder(full: Config, tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert (full.path, full.root) == (root / "readiness.toml", root)
    assert full.owner.codeowners == root / ".github/CODEOWNERS"
    assert full.docs.runbook == root / "docs/runbook.md"
    assert full.docs.faq == root / "docs/faq.md"
    assert full.docs.escalation == root / "docs/escalation.md"
    assert full.docs.training == root / "docs/training.md"


def test_provider_data_compliance_gate(full: Config) -> None:
    provider = full.provider
    assert (provider.model, provider.host, provider.region) == ("gpt-4o", "Azure OpenAI", "eu-west")
    assert (provider.retention_days, provider.trains_on_inputs) == (0, False)
    data = full.data
    assert (data.reads, data.writes, data.retention_days, data.pii) == (
        ("crm.leads",), ("crm.assignments",), 30, ("email", "phone"))
    assert full.compliance.frameworks == ("SOC2", "GDPR")
    assert (full.gate.required, full.gate.min_score) == (("audit", "rollback"), 8.0)


def test_minimal_config_takes_every_default(write_config: WriteConfig) -> None:
    config = load_config(write_config(MINIMAL_AGENT))
    agent = config.agent
    assert (agent.app, agent.start, agent.url, agent.health) == (
        "pkg.app:app", None, None, "/health")
    assert (agent.startup_timeout_s, agent.deadline_s, agent.source) == (30.0, 30.0, ())
    assert agent.endpoints == DEFAULT_ENDPOINTS
    assert (config.auth.invoke_token, config.auth.operator_token) == (None, None)
    assert config.upstreams == {}
    assert (config.scenario.source, config.scenario.seed) == ("faker", 0)
    assert (config.scenario.unique, config.scenario.on_bad_record) == ((), "fail")
    assert (config.load.users, config.load.duration_s, config.load.faults) == (10, 20.0, {})
    assert (config.alerts.env, config.alerts.within_s) == ("ALERT_WEBHOOK_URL", 30.0)
    assert config.version.files == ()
    assert (config.owner.name, config.owner.reviewed, config.owner.codeowners) == (
        None, None, None)
    assert (config.docs.runbook, config.docs.training) == (None, None)
    assert config.gate.required == ITEM_KEYS
    assert config.gate.min_score == 7.0


def test_start_without_url_defaults_to_localhost_port(write_config: WriteConfig) -> None:
    config = load_config(write_config('[agent]\nname = "t"\nstart = "agent --port {port}"\n'))
    assert config.agent.url == "http://127.0.0.1:{port}"


def test_url_alone_is_kept(write_config: WriteConfig) -> None:
    config = load_config(write_config('[agent]\nname = "t"\nurl = "https://agent.corp:8443"\n'))
    assert (config.agent.url, config.agent.start) == ("https://agent.corp:8443", None)


@pytest.mark.parametrize(("spec", "expected"), [
    ("PUT /admin/mode", Endpoint("PUT", "/admin/mode", "operator")),
    ("put /admin/mode", Endpoint("PUT", "/admin/mode", "operator")),
    ("/admin/mode", Endpoint("PUT", "/admin/mode", "operator")),
    ("POST /admin/mode", Endpoint("POST", "/admin/mode", "operator")),
])
def test_endpoint_spec_forms(write_config: WriteConfig, spec: str, expected: Endpoint) -> None:
    path = write_config(MINIMAL_AGENT + f'[agent.paths]\ncontrol = "{spec}"\n')
    assert load_config(path).agent.endpoints["control"] == expected


@pytest.mark.parametrize(("written", "seconds"), [
    ('"20s"', 20.0), ('"2m"', 120.0), ('"1h30m"', 5400.0), ('"1h"', 3600.0),
    ('"1.5m"', 90.0), ('"2m 30s"', 150.0), ("45", 45.0), ("2.5", 2.5),
])
def test_durations(write_config: WriteConfig, written: str, seconds: float) -> None:
    path = write_config(MINIMAL_AGENT + f"[load]\nduration = {written}\n")
    assert load_config(path).load.duration_s == seconds


@pytest.mark.parametrize(("written", "env", "expected"), [
    ("${RT_VAR}", {"RT_VAR": "set"}, "set"),
    ("${RT_VAR:-fallback}", {}, "fallback"),
    ("${RT_VAR:-fallback}", {"RT_VAR": "set"}, "set"),
    ("${RT_VAR:-}", {}, ""),
    ("Bearer ${RT_VAR}-${RT_OTHER}", {"RT_VAR": "a", "RT_OTHER": "b"}, "Bearer a-b"),
    ("no reference", {}, "no reference"),
])
def test_environment_expansion(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch,
                               written: str, env: dict[str, str], expected: str) -> None:
    for name in ("RT_VAR", "RT_OTHER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = write_config(MINIMAL_AGENT + f'[auth]\ninvoke_token = "{written}"\n')
    assert load_config(path).auth.invoke_token == expected


def test_environment_expansion_in_lists_and_tables(write_config: WriteConfig,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_PKG", "lead_router")
    path = write_config(MINIMAL_AGENT + 'source = ["${RT_PKG}"]\n'
                        '[agent.env]\nMODEL = "${RT_PKG}-model"\n')
    agent = load_config(path).agent
    assert (agent.source, dict(agent.env)) == (("lead_router",), {"MODEL": "lead_router-model"})


@pytest.mark.parametrize("written", ["2026-11-01", '"2026-11-01"', "2026-11-01T09:30:00"])
def test_reviewed_accepts_dates(write_config: WriteConfig, written: str) -> None:
    path = write_config(MINIMAL_AGENT + f"[owner]\nreviewed = {written}\n")
    assert load_config(path).owner.reviewed == dt.date(2026, 11, 1)


PYPROJECT = """
[project]
name = "lead-router"

[tool.readiness.agent]
name = "lead-router"
url = "http://127.0.0.1:8000"

[tool.readiness.gate]
min_score = 9
"""


def test_pyproject_tool_readiness(write_config: WriteConfig) -> None:
    config = load_config(write_config(PYPROJECT, "pyproject.toml"))
    assert (config.agent.name, config.agent.url, config.gate.min_score) == (
        "lead-router", "http://127.0.0.1:8000", 9.0)
    assert config.path.name == "pyproject.toml"


def test_find_config_prefers_readiness_toml(write_config: WriteConfig, tmp_path: Path) -> None:
    write_config(PYPROJECT, "pyproject.toml")
    expected = write_config(MINIMAL_AGENT)
    assert find_config(tmp_path) == expected


def test_find_config_falls_back_to_pyproject(write_config: WriteConfig, tmp_path: Path) -> None:
    expected = write_config(PYPROJECT, "pyproject.toml")
    assert find_config(tmp_path) == expected


def test_load_config_without_path_reads_the_working_folder(
        write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(MINIMAL_AGENT)
    monkeypatch.chdir(tmp_path)
    assert load_config().root == tmp_path.resolve()


@pytest.mark.parametrize("pyproject", [None, '[project]\nname = "x"\n'])
def test_find_config_in_a_folder_without_config(write_config: WriteConfig, tmp_path: Path,
                                                pyproject: str | None) -> None:
    if pyproject is not None:
        write_config(pyproject, "pyproject.toml")
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "readiness.toml") in message
    assert "[tool.readiness]" in message
    assert "`readiness init`" in message
    assert "--config PATH" in message
