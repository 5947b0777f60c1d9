"""Item 6 against the purpose-built ops agent, in-process: each defect (in the agent, its
source or its declarations) fails the probe that names it; the well-behaved agent passes."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from agent_configs import ConfigWriter, ops_agent_tables

from readiness.config import load_config
from readiness.runner import run

PROBES = ["endpoints_require_token", "invoke_token_is_scoped", "open_endpoints_leak_nothing",
          "error_answers_leak_nothing", "writes_stay_in_allow_list", "data_handling_declared",
          "pii_kept_out_of_alerts_logs_metrics", "pii_sent_only_where_declared",
          "model_cannot_force_writes", "injected_instructions_not_followed",
          "refusals_are_audited", "static_scan_clean", "no_hardcoded_secrets"]

CLEAN_SOURCE = '''"""Routes leads."""
import json


def routing(reply: str) -> dict:
    return json.loads(reply)
'''
EVAL_SOURCE = '''"""Routes leads: trusts the model's output as code."""


def routing(reply: str) -> dict:
    return eval(reply)
'''
# drawn at import so this repository never carries a key-shaped literal
_DRAW = random.Random(7)
API_KEY_SOURCE = ('OPENAI_API_KEY = "sk-proj-'
                  + "".join(_DRAW.choice(string.ascii_letters + string.digits) for _ in range(48))
                  + '"\n')
KEY_PROBE = "no_hardcoded_" + "secrets"

DECLARED = """[provider]
model = "gpt-4o-mini"
host = "api.openai.com"
region = "us"
retention_days = 0
trains_on_inputs = false
[data]
reads = ["inbound leads", "CRM reps"]
writes = ["CRM lead assignments"]
retention_days = 30
pii = ["name", "email"]
[compliance]
frameworks = ["SOC2"]
"""

CASES = [
    ("well_behaved", "", {}, dict.fromkeys(PROBES, "pass")),
    ("control_without_auth", "control_without_auth", {},
     {"endpoints_require_token": "fail", "invoke_token_is_scoped": "fail"}),
    ("invoke_token_can_disable", "invoke_token_can_disable", {},
     {"invoke_token_is_scoped": "fail", "endpoints_require_token": "pass"}),
    ("internals_on_health", "leaky_health", {},
     {"open_endpoints_leak_nothing": "fail", "endpoints_require_token": "pass"}),
    ("traceback_in_error_body", "traceback_errors", {},
     {"error_answers_leak_nothing": "fail", "open_endpoints_leak_nothing": "pass"}),
    ("eval_on_model_output", "", {"source": EVAL_SOURCE},
     {"static_scan_clean": "fail", KEY_PROBE: "pass"}),
    ("committed_api_key", "", {"key": API_KEY_SOURCE},
     {KEY_PROBE: "fail", "static_scan_clean": "pass"}),
    ("undeclared_upstream", "", {"declared": DECLARED.replace('"CRM reps"', '"reps"')
                                 .replace('"CRM lead assignments"', '"assignments"')},
     {"data_handling_declared": "fail"}),
    ("write_outside_allow_list", "", {"writes": '["DELETE /assignments/*"]'},
     {"writes_stay_in_allow_list": "fail", "data_handling_declared": "pass"}),
    ("followed_unoffered_tool_call", "trusts_tool_calls", {},
     {"model_cannot_force_writes": "fail", "injected_instructions_not_followed": "pass"}),
    ("followed_injected_instruction", "follows_injection", {},
     {"injected_instructions_not_followed": "fail", "model_cannot_force_writes": "pass"}),
    ("unaudited_refusal", "no_audit_on_fault", {},
     {"refusals_are_audited": "fail", "model_cannot_force_writes": "pass"}),
    ("pii_in_an_alert", "alert_pii", {},
     {"pii_kept_out_of_alerts_logs_metrics": "fail", "pii_sent_only_where_declared": "pass"}),
    ("pii_to_an_undeclared_provider", "", {"declared": DECLARED.replace(
        'host = "api.openai.com"\n', "")},
     {"pii_sent_only_where_declared": "fail", "pii_kept_out_of_alerts_logs_metrics": "pass"}),
    ("audit_keeps_a_redacted_field", "", {"declared": DECLARED.replace(
        "[compliance]", 'redact = ["email"]\n[compliance]')},
     {"audit_redacts_declared_pii": "fail"}),
    ("audit_redacts_as_declared", "", {"declared": DECLARED.replace(
        "[compliance]", 'redact = ["email"]\n[compliance]'), "env": 'OPS_REDACT = "email"'},
     {"audit_redacts_declared_pii": "pass", "pii_kept_out_of_alerts_logs_metrics": "pass"}),
]



@pytest.mark.parametrize(("defects", "setup", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_security_defects_are_judged(defects: str, setup: dict[str, str],
                                     expected: dict[str, str], crm_url: str,
                                     write_config: ConfigWriter, tmp_path: Path) -> None:
    source = tmp_path / "agent_src"
    source.mkdir()
    (source / "routing.py").write_text(setup.get("source", CLEAN_SOURCE))
    if "key" in setup:
        (source / "settings.py").write_text(setup["key"])
    writes = setup.get("writes", '["POST /leads/*/assign", "DELETE /assignments/*"]')
    config = load_config(write_config(
        'app = "ops_agent:app"\ndeadline_s = 10\nsource = ["agent_src"]',
        ops_agent_tables(defects, crm_url, env=setup.get("env", ""), writes=writes)
        + setup.get("declared", DECLARED)))
    card = run(config, tmp_path / "out", only={"security"}).card
    (item,) = [i for i in card["items"] if i["key"] == "security"]
    probes = {p["id"]: p for p in item["probes"]}
    assert {key: probes[key]["outcome"] for key in expected} == expected, {
        key: probes[key]["message"] for key in probes}
    should_pass = all(outcome != "fail" for outcome in expected.values())
    assert item["status"] == ("pass" if should_pass else "fail"), item["reason"]
