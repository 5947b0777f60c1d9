"""Shared builders: readiness.toml files for purpose-built agents."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

AGENTS = Path(__file__).parent / "agents"
ConfigWriter = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> ConfigWriter:
    """Write a readiness.toml whose [agent] table is `agent` (TOML lines), plus `extra`."""

    def write(agent: str, extra: str = "", name: str = "readiness.toml") -> Path:
        path = tmp_path / name
        path.write_text(f'[agent]\nname = "test-agent"\n{agent}\n{extra}\n', encoding="utf-8")
        return path

    return write


def hostile_start(mode: str) -> str:
    """An agent.start command for the hostile agent in `mode`."""
    return f'start = "{sys.executable} {AGENTS / "hostile_agent.py"} --port {{port}} --mode {mode}"'
