"""Item 1 against purpose-built agents, in-process (faults through respx): each retry
defect fails its probe, and the well-behaved configuration passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_configs import ConfigWriter

from readiness.config import load_config
from readiness.runner import run

UPSTREAM = '[upstreams.llm]\nkind = "llm"\ntarget = "sim:openai"\nenv = "LLM_BASE_URL"'

CASES = [
    ({}, {"retries_transient_errors": "pass", "backs_off_with_jitter": "pass",
          "honours_retry_after": "pass", "does_not_retry_client_errors": "pass",
          "timeouts_have_defined_outcome": "pass", "malformed_upstream_falls_back": "pass",
          "rejects_bad_input_with_4xx": "pass"}),
    ({"RETRY_POLICY": "fixed"}, {"backs_off_with_jitter": "fail"}),
    ({"RETRY_POLICY": "immediate"}, {"backs_off_with_jitter": "fail"}),
    ({"RETRY_POLICY": "linear"}, {"backs_off_with_jitter": "fail"}),
    ({"HONOUR_RETRY_AFTER": "0"}, {"honours_retry_after": "fail"}),
    ({"RETRY_STATUSES": "400,401,403,404,422,429,503"}, {"does_not_retry_client_errors": "fail"}),
    ({"ATTEMPT_TIMEOUT_S": "none"}, {"timeouts_have_defined_outcome": "fail"}),
    ({"TRUSTS_UPSTREAM": "1"}, {"malformed_upstream_falls_back": "fail"}),
    ({"TRUSTS_INPUT": "1"}, {"rejects_bad_input_with_4xx": "fail"}),
]


@pytest.mark.parametrize(("env", "expected"), CASES,
                         ids=["well_behaved", "fixed", "immediate", "linear",
                              "ignores_retry_after", "retries_4xx", "no_timeout",
                              "trusts_upstream", "trusts_input"])
def test_retry_behaviour_is_judged(env: dict[str, str], expected: dict[str, str],
                                   write_config: ConfigWriter, tmp_path: Path) -> None:
    agent_env = "\n".join(f'{key} = "{value}"' for key, value in env.items())
    config = load_config(write_config('app = "retry_agent:app"\ndeadline_s = 4',
                                      f"[agent.env]\n{agent_env}\n{UPSTREAM}"))
    card = run(config, tmp_path / "out", only={"error_handling"}).card
    probes = {p["id"]: p for p in card["items"][0]["probes"]}
    assert {key: probes[key]["outcome"] for key in expected} == expected, {
        key: probes[key]["message"] for key in expected}
