"""Runtime settings, read once from the environment at startup."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(Exception):
    """A setting is missing or malformed; the message tells the operator how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the agent needs to know about its environment."""

    invoke_token: str
    operator_token: str
    llm_base_url: str
    crm_base_url: str
    data_dir: Path
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = ""
    deadline_s: float = 20.0
    llm_timeout_s: float = 8.0
    crm_timeout_s: float = 3.0
    # The LLM phase may not eat the time the CRM write needs.
    crm_reserve_s: float = 4.0
    max_attempts: int = 4
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 4.0
    alert_webhook_url: str | None = None
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 25
    alert_email_to: str | None = None
    alert_email_from: str = "lead-router@brightfield-sales.io"
    alert_after_failures: int = 3
    alert_after_s: float = 10.0
    alert_timeout_s: float = 5.0
    # How long decisions stay in the audit log; [data] retention_days in readiness.toml.
    retention_days: float = 30.0


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be greater than zero")
    return value


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: {what}. Export it and start the agent again.")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from environment variables; raises SettingsError naming the variable to fix."""
    env = os.environ if env is None else env
    data_dir = env.get("AGENT_DATA_DIR", "").strip()
    return Settings(
        invoke_token=_required(env, "AGENT_INVOKE_TOKEN", "callers need it to invoke the agent"),
        operator_token=_required(
            env, "AGENT_OPERATOR_TOKEN", "operators need it for the control, review and audit API"
        ),
        llm_base_url=_required(env, "LLM_BASE_URL", "the OpenAI-compatible API, e.g. .../v1"),
        crm_base_url=_required(env, "CRM_BASE_URL", "the CRM API the agent assigns leads in"),
        # A fresh directory per process when unset, so two test runs never share an audit log.
        data_dir=Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="lead-router-")),
        llm_model=env.get("LLM_MODEL", "gpt-4o-mini"),
        llm_api_key=env.get("LLM_API_KEY", env.get("OPENAI_API_KEY", "")),
        deadline_s=_number(env, "AGENT_DEADLINE_S", 20.0),
        llm_timeout_s=_number(env, "LLM_TIMEOUT_S", 8.0),
        crm_timeout_s=_number(env, "CRM_TIMEOUT_S", 3.0),
        alert_webhook_url=env.get("ALERT_WEBHOOK_URL") or None,
        alert_smtp_host=env.get("ALERT_SMTP_HOST") or None,
        alert_smtp_port=int(_number(env, "ALERT_SMTP_PORT", 25)),
        alert_email_to=env.get("ALERT_EMAIL_TO") or None,
        alert_after_failures=int(_number(env, "ALERT_AFTER_FAILURES", 3)),
        alert_after_s=_number(env, "ALERT_AFTER_S", 10.0),
        retention_days=_number(env, "AUDIT_RETENTION_DAYS", 30.0),
    )
