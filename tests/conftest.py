"""Shared fixtures: readiness.toml files for purpose-built agents (helpers in tests/agents)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_configs import ConfigWriter


@pytest.fixture
def write_config(tmp_path: Path) -> ConfigWriter:
    """Write a readiness.toml whose [agent] table is `agent` (TOML lines), plus `extra`."""

    def write(agent: str, extra: str = "", name: str = "readiness.toml") -> Path:
        path = tmp_path / name
        path.write_text(f'[agent]\nname = "test-agent"\n{agent}\n{extra}\n', encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs in tests must not append to this project's own GitHub Actions summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
