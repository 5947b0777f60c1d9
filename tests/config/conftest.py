"""Fixtures for the configuration tests: write a config file into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import WriteConfig


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write `text` as `name` (readiness.toml by default) in tmp_path and return its path."""

    def write(text: str, name: str = "readiness.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
