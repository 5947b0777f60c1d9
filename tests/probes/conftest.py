"""Fixtures for the probe tests: an isolated git environment, and the example CRM."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from readiness.lifecycle import ManagedProcess, free_port

CRM = Path(__file__).resolve().parents[2] / "examples" / "crm" / "crm_api.py"


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


@pytest.fixture(scope="module")
def crm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example CRM as a process for a whole test module, stopped by its PID."""
    port = free_port()
    logs = tmp_path_factory.mktemp("crm")
    process = ManagedProcess("the example CRM", f"{sys.executable} {CRM} --port {{port}}",
                             cwd=logs, log_path=logs / "crm.log", env=dict(os.environ), port=port)
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(process.wait_healthy(url + "/health", 30))
        yield url
    finally:
        process.stop()
