"""The validated configuration, as frozen dataclasses (DESIGN.md section 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from readiness.contract import DEFAULT_ENDPOINTS, Endpoint
from readiness.items import ITEM_KEYS


@dataclass(frozen=True)
class AgentConfig:
    name: str
    start: str | None = None
    url: str | None = None
    app: str | None = None
    health: str = "/health"
    startup_timeout_s: float = 30.0
    deadline_s: float = 30.0
    source: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    endpoints: Mapping[str, Endpoint] = field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthConfig:
    invoke_token: str | None = None
    operator_token: str | None = None


@dataclass(frozen=True)
class UpstreamConfig:
    name: str
    kind: str
    target: str
    env: str
    writes: tuple[str, ...] = ()
    start: str | None = None
    health: str | None = None
    startup_timeout_s: float = 30.0
    seed: int = 0
    scrub: tuple[str, ...] = ()  # extra rules for cassettes ("header:X", "json:k", "regex:...")


DEFAULT_SCENARIO_FIELDS: Mapping[str, str] = {"name": "name", "email": "email",
                                               "message": "sentence"}


@dataclass(frozen=True)
class ScenarioConfig:
    source: str = "faker"
    fields: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0
    volume_per_day: int | None = None
    locale: str = "en_US"
    unique: tuple[str, ...] = ()  # faker fields whose values must never repeat
    on_bad_record: str = "fail"  # a malformed JSONL/CSV record: "fail" the run, or "skip" it

    @property
    def faker_fields(self) -> Mapping[str, str]:
        """Field name -> Faker provider: `fields`, or the defaults when none are declared."""
        return self.fields or DEFAULT_SCENARIO_FIELDS


@dataclass(frozen=True)
class LoadConfig:
    users: int = 10
    duration_s: float = 20.0
    p95_ms: float = 2000.0
    max_error_rate: float = 0.01
    faults: Mapping[str, float] = field(default_factory=dict)
    peak_factor: float = 3.0
    workers: int = 0  # Locust worker processes beside the master (0: one process)
    capacity: bool = False  # also run a stepped campaign to find the highest rate held


@dataclass(frozen=True)
class AlertsConfig:
    env: str = "ALERT_WEBHOOK_URL"
    within_s: float = 30.0


@dataclass(frozen=True)
class VersionConfig:
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class OwnerConfig:
    name: str | None = None
    role: str | None = None
    contact: str | None = None
    backup: str | None = None
    backup_contact: str | None = None
    handle: str | None = None
    reviewed: dt.date | None = None
    max_age_days: int = 90
    codeowners: Path | None = None


@dataclass(frozen=True)
class DocsConfig:
    runbook: Path | None = None
    faq: Path | None = None
    escalation: Path | None = None
    training: Path | None = None


@dataclass(frozen=True)
class ProviderConfig:
    model: str | None = None
    host: str | None = None
    region: str | None = None
    retention_days: int | None = None
    trains_on_inputs: bool | None = None


@dataclass(frozen=True)
class DataConfig:
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    retention_days: int | None = None
    pii: tuple[str, ...] = ()
    shared_with: tuple[str, ...] = ()  # tool upstreams allowed to receive personal data
    redact: tuple[str, ...] = ()  # input fields the audit record must not keep in clear


@dataclass(frozen=True)
class ComplianceConfig:
    frameworks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityConfig:
    baseline: Path | None = None  # accepted, reviewed scanner findings (TOML, with reasons)


@dataclass(frozen=True)
class GateConfig:
    required: tuple[str, ...] = ITEM_KEYS
    min_score: float = 7.0
    waivers: Path | None = None  # accepted failing probes (TOML, with reason, owner, expiry)


@dataclass(frozen=True)
class HistoryConfig:
    enabled: bool = True
    path: Path = Path(".readiness/history.db")  # SQLite; relative paths are under Config.root


@dataclass(frozen=True)
class Config:
    """A whole readiness configuration; relative paths are resolved against `root`."""

    path: Path
    root: Path
    agent: AgentConfig
    auth: AuthConfig = AuthConfig()
    upstreams: Mapping[str, UpstreamConfig] = field(default_factory=dict)
    scenario: ScenarioConfig = ScenarioConfig()
    load: LoadConfig = LoadConfig()
    alerts: AlertsConfig = AlertsConfig()
    version: VersionConfig = VersionConfig()
    owner: OwnerConfig = OwnerConfig()
    docs: DocsConfig = DocsConfig()
    provider: ProviderConfig = ProviderConfig()
    data: DataConfig = DataConfig()
    compliance: ComplianceConfig = ComplianceConfig()
    security: SecurityConfig = SecurityConfig()
    gate: GateConfig = GateConfig()
    history: HistoryConfig = HistoryConfig()
