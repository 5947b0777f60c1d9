"""Helpers for writing configurations of the purpose-built agents."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

AGENTS = Path(__file__).parent
ConfigWriter = Callable[..., Path]


def hostile_start(mode: str) -> str:
    """An agent.start line for the hostile agent in `mode`."""
    return f'start = "{sys.executable} {AGENTS / "hostile_agent.py"} --port {{port}} --mode {mode}"'


def ops_agent_tables(defects: str, crm_url: str, *, env: str = "",
                     writes: str | None = None) -> str:
    """The ops agent's [agent.env], [auth] and upstream tables: `defects` in OPS_DEFECTS,
    `env` more environment lines, `writes` the CRM's allow-list (TOML) if declared."""
    return f"""[agent.env]
OPS_DEFECTS = "{defects}"
{env}
[auth]
invoke_token = "invoke-token"
operator_token = "operator-token"
[upstreams.llm]
kind = "llm"
target = "sim:openai"
env = "LLM_BASE_URL"
[upstreams.crm]
kind = "tool"
target = "{crm_url}"
env = "CRM_BASE_URL"
{f"writes = {writes}" if writes is not None else ""}
"""
