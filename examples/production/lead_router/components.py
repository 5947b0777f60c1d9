"""The agent's versioned logic: prompt, tool schema and routing rules, loaded and hashed once.

The bytes that are hashed are the bytes that are used, so `GET /version` describes
exactly what this process runs, not what happens to be on disk later.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lead_router.settings import SettingsError

PACKAGE_DIR = Path(__file__).resolve().parent
# Component paths are reported relative to the directory holding readiness.toml.
CONFIG_DIR = PACKAGE_DIR.parent
VERSIONED_DIRS = ("prompts", "tools", "rules")


@dataclass(frozen=True)
class Rep:
    """A sales rep the model may choose."""

    id: str
    name: str
    territory: str
    segment: str


@dataclass(frozen=True)
class Escalation:
    """Whom alerts tell operators to call."""

    agent: str
    owner: str
    owner_role: str
    owner_phone: str
    owner_email: str
    backup: str
    backup_phone: str
    backup_email: str
    channel: str

    def who_to_call(self) -> str:
        """One sentence naming the owner and backup with their contacts."""
        return (
            f"Call {self.owner}, {self.owner_role} ({self.owner_phone}, {self.owner_email}), "
            f"or the backup {self.backup} ({self.backup_phone}); updates in {self.channel}."
        )


@dataclass(frozen=True)
class Components:
    """Everything versioned that drives decisions, plus the hashes that identify it."""

    system_prompt: str
    tool: dict[str, Any]
    reps: tuple[Rep, ...]
    escalation: Escalation
    hashes: dict[str, str]

    @property
    def tool_name(self) -> str:
        return str(self.tool["function"]["name"])

    @property
    def rep_ids(self) -> frozenset[str]:
        return frozenset(rep.id for rep in self.reps)


def _versioned_files(package_dir: Path) -> list[Path]:
    files = [
        path
        for name in VERSIONED_DIRS
        for path in (package_dir / name).rglob("*")
        if path.is_file()
    ]
    return sorted(files)


def load_components(package_dir: Path = PACKAGE_DIR) -> Components:
    """Read, hash and cross-check the versioned files; SettingsError when they disagree."""
    config_dir = package_dir.parent
    raw = {path: path.read_bytes() for path in _versioned_files(package_dir)}
    hashes = {
        path.relative_to(config_dir).as_posix(): "sha256:" + hashlib.sha256(data).hexdigest()
        for path, data in raw.items()
    }
    rules = tomllib.loads(raw[package_dir / "rules" / "reps.toml"].decode("utf-8"))
    tool = json.loads(raw[package_dir / "tools" / "assign_lead.json"])
    reps = tuple(Rep(**entry) for entry in rules["reps"])
    escalation = Escalation(**rules["escalation"])

    # The schema's enum is what the model sees; the rules are what the agent accepts.
    enum = set(tool["function"]["parameters"]["properties"]["rep_id"]["enum"])
    if enum != {rep.id for rep in reps}:
        raise SettingsError(
            "tools/assign_lead.json rep_id enum and rules/reps.toml disagree: "
            f"only in the tool {sorted(enum - {r.id for r in reps})}, "
            f"only in the rules {sorted({r.id for r in reps} - enum)}. Make them list the same ids."
        )

    rep_lines = "\n".join(f"- `{r.id}`: {r.name}, {r.territory}, {r.segment}" for r in reps)
    rule_lines = "\n".join(f"{n}. {rule}" for n, rule in enumerate(rules["routing"]["rules"], 1))
    template = raw[package_dir / "prompts" / "route_lead.md"].decode("utf-8")
    prompt = template.replace("{{reps}}", rep_lines).replace("{{rules}}", rule_lines)
    return Components(prompt, tool, reps, escalation, hashes)
