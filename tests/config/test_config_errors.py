"""Every configuration mistake is one ConfigError naming file, key, expected, found and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import MINIMAL_AGENT, WriteConfig

from readiness.config import ConfigError, ReadinessUsageError, load_config

AGENT = MINIMAL_AGENT
CRM = '[upstreams.crm]\nkind = "tool"\ntarget = "http://127.0.0.1:9101"\nenv = "CRM_BASE_URL"\n'
UNSET = "READINESS_TEST_SURELY_UNSET"


def upstream(name: str, **values: str) -> str:
    """An [upstreams.NAME] table from TOML-ready values."""
    return f"[upstreams.{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


def assert_config_error(path: Path, key: str, expected: str, found: str, fix: str) -> None:
    """load_config(path) raises a one-paragraph ConfigError with these pieces."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    message = str(error)
    assert isinstance(error, ReadinessUsageError)
    assert (error.file, error.key) == (str(path), key)
    assert message.startswith(f"{path}: {key}: " if key else f"{path}: expected ")
    assert f"expected {expected}" in message
    assert f", found {found}" in message
    assert f". Fix: {fix}" in message
    assert "\n" not in message


CASES = [
    pytest.param(AGENT + "[agnt]\n", "[agnt]", "one of the tables agent, auth, upstreams",
                 "the unknown table [agnt]", "rename it to [agent]", id="unknown-section"),
    pytest.param(AGENT + "deadlin_s = 3\n", "[agent] deadlin_s", "one of the keys name, start",
                 "the unknown key 'deadlin_s'", "rename it to 'deadline_s'", id="did-you-mean"),
    pytest.param(AGENT + "[load]\nzzz = 1\n", "[load] zzz", "one of the keys users, duration",
                 "the unknown key 'zzz'", "remove it, or check its spelling", id="unknown-key"),
    pytest.param(AGENT + '[load]\nusers = "5"\n', "[load] users", "an integer >= 1",
                 "'5' (a string)", "write a bare integer without quotes", id="string-for-int"),
    pytest.param(AGENT + '[load]\np95_ms = "2s"\n', "[load] p95_ms", "a number > 0",
                 "'2s' (a string)", "write a bare number without quotes", id="string-for-number"),
    pytest.param('[agent]\nname = 5\napp = "a:b"\n', "[agent] name", "a string",
                 "5 (an integer)", 'write name = "..."', id="number-for-string"),
    pytest.param(AGENT + "[load]\nusers = true\n", "[load] users", "an integer >= 1",
                 "True (a boolean)", "write a bare integer", id="bool-for-int"),
    pytest.param(AGENT + "[load]\np95_ms = false\n", "[load] p95_ms", "a number > 0",
                 "False (a boolean)", "write a bare number", id="bool-for-number"),
    pytest.param(AGENT + '[provider]\ntrains_on_inputs = "no"\n', "[provider] trains_on_inputs",
                 "true or false", "'no' (a string)", "write true or false without quotes",
                 id="string-for-bool"),
    pytest.param(AGENT + "[gate]\nmin_score = 11\n", "[gate] min_score",
                 "a number >= 0 and <= 10", "11 (an integer)", "use a value >= 0 and <= 10",
                 id="min-score-11"),
    pytest.param(AGENT + "[load]\nmax_error_rate = 2\n", "[load] max_error_rate",
                 "a number >= 0 and <= 1", "2 (an integer)", "use a value >= 0 and <= 1",
                 id="error-rate-2"),
    pytest.param(AGENT + "deadline_s = 0\n", "[agent] deadline_s", "a number > 0",
                 "0 (an integer)", "use a value > 0", id="deadline-zero"),
    pytest.param(AGENT + "[scenario]\nvolume_per_day = 0\n", "[scenario] volume_per_day",
                 "an integer >= 1", "0 (an integer)", "use a value >= 1", id="volume-zero"),
    pytest.param('[agent]\napp = "a:b"\n', "[agent] name", "the required key name", "it missing",
                 'add name = "lead-router"', id="missing-agent-name"),
    pytest.param("[gate]\nmin_score = 7\n", "[agent]", "an [agent] table", "no [agent] table",
                 'add [agent] with name = "..."', id="missing-agent"),
    pytest.param("agent = 3\n", "[agent]", "a table", "3 (an integer)",
                 "write [agent] as a table", id="agent-not-a-table"),
    pytest.param(AGENT + upstream("crm", target='"sim:openai"', env='"E"'), "[upstreams.crm] kind",
                 "the required key kind", "it missing", 'add kind = "tool"', id="missing-kind"),
    pytest.param(AGENT + upstream("crm", kind='"tool"', env='"E"'), "[upstreams.crm] target",
                 "the required key target", "it missing", 'add target = "sim:openai"',
                 id="missing-target"),
    pytest.param(AGENT + upstream("crm", kind='"tool"', target='"sim:openai"'),
                 "[upstreams.crm] env", "the required key env", "it missing",
                 'add env = "CRM_BASE_URL"', id="missing-env"),
    pytest.param(AGENT + "[upstreams]\ncrm = 1\n", "[upstreams.crm]", "a table",
                 "1 (an integer)", "write [upstreams.crm] with kind, target and env",
                 id="upstream-not-a-table"),
    pytest.param(AGENT + upstream("crm", kind='"db"', target='"sim:openai"', env='"E"'),
                 "[upstreams.crm] kind", "one of 'llm', 'tool'", "'db' (a string)",
                 "write kind = 'llm'", id="bad-kind"),
    pytest.param(AGENT + upstream("crm", kind='"tool"', target='"ftp://x"', env='"E"'),
                 "[upstreams.crm] target", 'a URL (http://host:port), "sim:openai"',
                 "'ftp://x' (a string)", 'write target = "http://127.0.0.1:9101"',
                 id="bad-target"),
    pytest.param(AGENT + upstream("crm", kind='"tool"', target='"sim:openai"', env='"1A"'),
                 "[upstreams.crm] env", "an environment variable name", "'1A' (a string)",
                 'write env = "LLM_BASE_URL"', id="bad-env-name"),
    pytest.param('[agent]\nname = "t"\n', "[agent] start/url/app", "one way to reach the agent",
                 "none of start, url or app", 'add start = "python -m my_agent --port {port}"',
                 id="no-start-url-app"),
    pytest.param(AGENT + 'start = "agent --port {port}"\n', "[agent] app",
                 "app alone (in-process ASGI)", "app together with start/url",
                 "keep app for in-process mode", id="app-with-start"),
    pytest.param(AGENT + 'url = "http://127.0.0.1:8000"\n', "[agent] app",
                 "app alone (in-process ASGI)", "app together with start/url",
                 "keep app for in-process mode", id="app-with-url"),
    pytest.param('[agent]\nname = "t"\nurl = "ftp://agent"\n', "[agent] url",
                 "an http:// or https:// URL", "'ftp://agent' (a string)",
                 'write url = "http://127.0.0.1:{port}"', id="bad-url-scheme"),
    pytest.param('[agent]\nname = "t"\napp = "pkg.app"\n', "[agent] app",
                 'an import path "package.module:attribute"', "'pkg.app' (a string)",
                 'write app = "my_agent.app:app"', id="bad-app-spec"),
    pytest.param(AGENT + '[agent.paths]\ncontrl = "PUT /x"\n', "[agent.paths] contrl",
                 "one of the keys health, invoke", "the unknown key 'contrl'",
                 "rename it to 'control'", id="unknown-path-key"),
    pytest.param(AGENT + '[agent.paths]\ncontrol = "PUT admin"\n', "[agent.paths] control",
                 'an endpoint such as "PUT /admin/mode"', "'PUT admin' (a string)",
                 'write control = "PUT /control"', id="bad-endpoint"),
    pytest.param(AGENT + '[agent.paths]\nrevert = "UNDO /x"\n', "[agent.paths] revert",
                 'an endpoint such as "PUT /admin/mode"', "'UNDO /x' (a string)",
                 'write revert = "POST /decisions/{decision_id}/revert"', id="bad-method"),
    pytest.param(AGENT + "[agent.paths]\ncontrol = 3\n", "[agent.paths] control", "a string",
                 "3 (an integer)", 'write control = "..."', id="endpoint-not-string"),
    pytest.param(AGENT + "[load]\nfaults = { rate_limt = 0.1 }\n", "[load] faults.rate_limt",
                 "a fault name of the catalogue", "'rate_limt' (a string)",
                 "did you mean 'rate_limit'? fault names are: rate_limit, server_error",
                 id="bad-fault-name"),
    pytest.param(AGENT + "[load]\nfaults = { timeout = 1.5 }\n", "[load] faults.timeout",
                 "a number >= 0 and <= 1", "1.5 (a number)", "use a value >= 0 and <= 1",
                 id="bad-fault-rate"),
    pytest.param(AGENT + '[gate]\nrequired = ["audit", "audits"]\n', "[gate] required",
                 "item keys of the nine-point scorecard", "'audits' (a string)",
                 "use some of: error_handling, audit, rollback", id="bad-gate-item"),
    pytest.param(AGENT + f'[auth]\noperator_token = "${{{UNSET}}}"\n', "[auth] operator_token",
                 f"the environment variable {UNSET} to be set", f"{UNSET} unset",
                 f"export {UNSET}=... before running, or write ${{{UNSET}:-default}}",
                 id="missing-env-var"),
    pytest.param(AGENT + CRM + upstream("erp", kind='"tool"', target='"sim:openai"',
                                        env='"CRM_BASE_URL"'),
                 "[upstreams.erp] env", "a variable no other upstream uses",
                 "'CRM_BASE_URL', also used by [upstreams.crm]",
                 "give each upstream its own environment variable", id="shared-env"),
    pytest.param(AGENT + upstream("crm", kind='"tool"', target='"http://127.0.0.1:{port}"',
                                  env='"E"'),
                 "[upstreams.crm] target", "a fixed address (no {port})",
                 "'http://127.0.0.1:{port}' (a string)", 'add start = "..."', id="port-no-start"),
    pytest.param(AGENT + CRM + 'writes = ["assign leads"]\n', "[upstreams.crm] writes",
                 'writes such as "POST /leads/*/assign"', "'assign leads' (a string)",
                 'write writes = ["POST /leads/*/assign"]', id="bad-writes"),
    pytest.param(AGENT + '[owner]\nreviewed = "2026-13-01"\n', "[owner] reviewed",
                 "a date (YYYY-MM-DD)", "'2026-13-01' (a string)", "write reviewed = 2026-11-01",
                 id="bad-date"),
    pytest.param(AGENT + "[owner]\nreviewed = 20261101\n", "[owner] reviewed",
                 "a date (YYYY-MM-DD)", "20261101 (an integer)", "write reviewed = 2026-11-01",
                 id="number-for-date"),
    pytest.param(AGENT + '[load]\nduration = "20"\n', "[load] duration",
                 'a positive duration such as "20s"', "'20' (a string)",
                 'write duration = "20s"', id="duration-without-unit"),
    pytest.param(AGENT + '[load]\nduration = "0s"\n', "[load] duration",
                 'a positive duration such as "20s"', "'0s' (a string)",
                 'write duration = "20s"', id="duration-zero"),
    pytest.param(AGENT + "[load]\nduration = -5\n", "[load] duration",
                 'a positive duration such as "20s"', "-5 (an integer)",
                 'write duration = "20s"', id="duration-negative"),
    pytest.param(AGENT + '[scenario]\nsource = "xml:leads.xml"\n', "[scenario] source",
                 '"faker", "jsonl:PATH" or "csv:PATH"', "'xml:leads.xml' (a string)",
                 'write source = "faker"', id="bad-scenario-source"),
    pytest.param(AGENT + '[scenario]\non_bad_record = "ignore"\n', "[scenario] on_bad_record",
                 "one of 'fail', 'skip'", "'ignore' (a string)", "write on_bad_record = 'fail'",
                 id="bad-on-bad-record"),
    pytest.param(AGENT + '[scenario]\nfields = { email = "email" }\nunique = ["emial"]\n',
                 "[scenario] unique", "names of scenario fields (email)", "'emial'",
                 "rename it to 'email'", id="unique-not-a-field"),
    pytest.param(AGENT + '[scenario]\nunique = ["company"]\n', "[scenario] unique",
                 "names of scenario fields (name, email, message)", "'company'",
                 "add company to [scenario] fields, or remove it from unique",
                 id="unique-not-a-default-field"),
    pytest.param(AGENT + "[scenario]\nunique = [1]\n", "[scenario] unique",
                 "an array of strings", "[1] (an array)", 'write ["a", "b"]',
                 id="unique-not-strings"),
    pytest.param(AGENT + "[agent.env]\nDEBUG = 1\n", "[agent] env", "a table of string values",
                 "{'DEBUG': 1} (a table)", 'write { KEY = "value" }', id="env-not-strings"),
    pytest.param(AGENT + '[version]\nfiles = ["a", 1]\n', "[version] files",
                 "an array of strings", "['a', 1] (an array)", 'write ["a", "b"]',
                 id="files-not-strings"),
    pytest.param('[agent]\nname = "  "\napp = "a:b"\n', "[agent] name", "a non-empty string",
                 "'  ' (a string)", "fill in a value or remove the key", id="blank-name"),
]


@pytest.mark.parametrize(("text", "key", "expected", "found", "fix"), CASES)
def test_mistake_is_explained(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch,
                              text: str, key: str, expected: str, found: str, fix: str) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    assert_config_error(write_config(text), key, expected, found, fix)


def test_missing_file(tmp_path: Path) -> None:
    assert_config_error(tmp_path / "nope.toml", "", "a readable TOML file", "no such file",
                        "check the path, or run `readiness init` to write one")


def test_toml_syntax_error_names_the_line(write_config: WriteConfig) -> None:
    path = write_config('[agent]\nname = lead-router\n')
    assert_config_error(path, "", "valid TOML", "a syntax error: ",
                        "correct the line the error names (strings need quotes)")
    with pytest.raises(ConfigError, match=r"line 2"):
        load_config(path)


def test_pyproject_without_tool_readiness(write_config: WriteConfig) -> None:
    path = write_config('[project]\nname = "x"\n', "pyproject.toml")
    assert_config_error(path, "[tool.readiness]", "a [tool.readiness] table", "none",
                        "add [tool.readiness.agent] etc., or use a readiness.toml")


def test_pyproject_keys_carry_the_tool_prefix(write_config: WriteConfig) -> None:
    path = write_config('[tool.readiness.agent]\nname = "t"\napp = "a:b"\n'
                        '[tool.readiness.gate]\nmin_score = -1\n', "pyproject.toml")
    assert_config_error(path, "[tool.readiness.gate] min_score", "a number >= 0 and <= 10",
                        "-1 (an integer)", "use a value >= 0 and <= 10")


def test_pyproject_unknown_section(write_config: WriteConfig) -> None:
    path = write_config('[tool.readiness.agent]\nname = "t"\napp = "a:b"\n'
                        "[tool.readiness.gates]\n", "pyproject.toml")
    assert_config_error(path, "[tool.readiness.gates]", "one of the tables agent",
                        "the unknown table [tool.readiness.gates]",
                        "rename it to [tool.readiness.gate]")


def test_pyproject_with_non_table_tool(write_config: WriteConfig) -> None:
    with pytest.raises(ConfigError, match=r"\[tool.readiness\]"):
        load_config(write_config("tool = 1\n", "pyproject.toml"))


def test_data_shared_with_must_name_a_declared_upstream(tmp_path: Path) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text('[agent]\nname = "a"\nurl = "http://127.0.0.1:1"\n'
                    '[upstreams.crm]\nkind = "tool"\ntarget = "http://127.0.0.1:2"\n'
                    'env = "CRM_URL"\n[data]\nshared_with = ["billing"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "[data] shared_with" in message and "'billing'" in message and "crm" in message
