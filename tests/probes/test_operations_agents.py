"""Items 2, 3 and 4 against the purpose-built ops agent, in-process: each defect fails the
probe that names it, and the well-behaved agent passes every probe of the item.

One example CRM process serves the whole module; the agent runs in-process with faults
and holds injected through respx, and alerts reach the harness's real sinks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_configs import ConfigWriter, ops_agent_tables

from readiness.config import load_config
from readiness.runner import run

AUDIT = ["audit_record_per_invocation", "audit_records_complete", "audit_effects_match_upstream",
         "audit_records_faulted_invocations", "audit_survives_concurrency",
         "audit_lists_in_order", "audit_records_immutable"]
ROLLBACK = ["kill_switch_answers_manual", "kill_switch_stops_writes", "disabled_work_is_kept",
            "kill_switch_stops_inflight_writes", "review_mode_holds_writes",
            "approval_executes_write", "revert_makes_compensating_write", "active_restores_work",
            "operator_token_suffices"]
MONITORING = ["metrics_parse_as_prometheus", "metrics_cover_requests_errors_retries_latency",
              "alert_within_threshold", "alert_is_plain_english",
              "alert_names_agent_symptom_cause_contact", "alerts_deduplicated",
              "recovery_message_sent"]

CASES = [
    ("audit", "", dict.fromkeys(AUDIT, "pass")),
    ("audit", "omit_effect", {"audit_effects_match_upstream": "fail"}),
    ("audit", "invent_effect", {"audit_effects_match_upstream": "fail"}),
    ("audit", "lose_concurrent", {"audit_survives_concurrency": "fail",
                                  "audit_records_faulted_invocations": "pass"}),
    ("audit", "duplicate_concurrent", {"audit_survives_concurrency": "fail"}),
    ("audit", "no_audit_on_fault", {"audit_records_faulted_invocations": "fail",
                                    "audit_survives_concurrency": "pass"}),
    ("audit", "no_audit", {"audit_record_per_invocation": "fail"}),
    ("audit", "sparse_audit", {"audit_records_complete": "fail"}),
    ("audit", "mutable_audit", {"audit_records_immutable": "fail",
                                "audit_records_complete": "pass"}),
    ("audit", "unordered_audit", {"audit_lists_in_order": "fail",
                                  "audit_survives_concurrency": "pass"}),
    ("rollback", "", dict.fromkeys(ROLLBACK, "pass")),
    ("rollback", "kill_switch_writes", {"kill_switch_stops_writes": "fail",
                                        "kill_switch_answers_manual": "pass"}),
    ("rollback", "disabled_drops", {"disabled_work_is_kept": "fail",
                                    "kill_switch_stops_writes": "pass"}),
    ("rollback", "stale_mode", {"kill_switch_stops_inflight_writes": "fail",
                                "kill_switch_stops_writes": "pass"}),
    ("rollback", "disabled_503", {"kill_switch_answers_manual": "fail",
                                  "review_mode_holds_writes": "pass"}),
    ("rollback", "active_stuck", {"active_restores_work": "fail",
                                  "kill_switch_answers_manual": "pass"}),
    ("rollback", "review_writes", {"review_mode_holds_writes": "fail"}),
    ("rollback", "approve_no_write", {"approval_executes_write": "fail",
                                      "review_mode_holds_writes": "pass"}),
    ("rollback", "revert_noop", {"revert_makes_compensating_write": "fail",
                                 "active_restores_work": "pass"}),
    ("rollback", "operator_needs_admin", {"operator_token_suffices": "fail"}),
    ("monitoring", "", dict.fromkeys(MONITORING, "pass")),
    ("monitoring", "alert_traceback", {"alert_is_plain_english": "fail",
                                       "alert_within_threshold": "pass"}),
    ("monitoring", "alert_json", {"alert_is_plain_english": "fail"}),
    ("monitoring", "alert_vague", {"alert_names_agent_symptom_cause_contact": "fail",
                                   "alert_is_plain_english": "pass"}),
    ("monitoring", "alert_storm", {"alerts_deduplicated": "fail",
                                   "alert_is_plain_english": "pass"}),
    ("monitoring", "no_recovery", {"recovery_message_sent": "fail",
                                   "alerts_deduplicated": "pass"}),
    ("monitoring", "no_alerts", {"alert_within_threshold": "fail",
                                 "recovery_message_sent": "fail"}),
    ("monitoring", "no_metrics", {"metrics_parse_as_prometheus": "fail"}),
    ("monitoring", "metrics_garbage", {"metrics_parse_as_prometheus": "fail"}),
    ("monitoring", "metrics_no_retries", {"metrics_cover_requests_errors_retries_latency": "fail",
                                          "metrics_parse_as_prometheus": "pass"}),
]



def ops_config(write_config: ConfigWriter, crm_url: str, defects: str) -> Path:
    return write_config(
        'app = "ops_agent:app"\ndeadline_s = 10',
        ops_agent_tables(defects, crm_url, env='OPS_AGENT_NAME = "test-agent"',
                         writes='["POST /leads/*/assign", "DELETE /assignments/*"]') + """[alerts]
within_s = 5
[owner]
name = "Dana Whitfield"
contact = "dana.whitfield@example.com"
""")


@pytest.mark.parametrize(("item", "defects", "expected"), CASES,
                         ids=[f"{item}-{defects or 'well_behaved'}" for item, defects, _ in CASES])
def test_operations_defects_are_judged(item: str, defects: str, expected: dict[str, str],
                                       crm_url: str, write_config: ConfigWriter,
                                       tmp_path: Path) -> None:
    config = load_config(ops_config(write_config, crm_url, defects))
    card = run(config, tmp_path / "out", only={item}).card
    (scored,) = [i for i in card["items"] if i["key"] == item]
    probes = {p["id"]: p for p in scored["probes"]}
    assert {key: probes[key]["outcome"] for key in expected} == expected, {
        key: probes[key]["message"] for key in probes}
    assert scored["status"] == ("pass" if not defects else "fail"), scored["reason"]
