"""Fixtures for the probe tests: an isolated git environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Git that ignores the user's config and never looks above tmp_path; returns tmp_path."""
    for name, value in {
        "GIT_AUTHOR_NAME": "Readiness Test", "GIT_AUTHOR_EMAIL": "test@readiness.invalid",
        "GIT_COMMITTER_NAME": "Readiness Test", "GIT_COMMITTER_EMAIL": "test@readiness.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(tmp_path.parent),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path
