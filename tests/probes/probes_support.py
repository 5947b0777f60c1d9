"""Shared helpers for the probe tests: digests, probe case tables, git, a RunContext runner."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from readiness.chaos.recorder import Recorder
from readiness.client import AgentClient
from readiness.config import Config
from readiness.context import RunContext
from readiness.results import Finding, Outcome

T = TypeVar("T")

GIT_IDENTITY = ("-c", "user.name=Readiness Test", "-c", "user.email=test@readiness.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")


def sha(data: bytes | str) -> str:
    """The "sha256:<hex>" digest of `data`, as /version reports it."""
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def assert_finding(finding: Finding, outcome: Outcome, fragment: str) -> None:
    """The finding has `outcome` and its message contains `fragment`."""
    assert (finding.outcome, fragment in finding.message) == (outcome, True), finding.message


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Create `files` (relative path -> text) under root."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; fail loudly."""
    done = subprocess.run(["git", *GIT_IDENTITY, "-C", str(repo), *args], capture_output=True,
                          text=True, timeout=30, check=True)
    return done.stdout


def commit_all(repo: Path, message: str = "initial") -> None:
    """Stage everything in `repo` and commit it."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def in_context(config: Config, body: Callable[[RunContext], Awaitable[T]], *,
               transport: httpx.AsyncBaseTransport | None = None, down: str | None = None,
               tokens: dict[str, str] | None = None, **fields: Any) -> T:
    """Run `body` in a RunContext whose client reaches the agent through `transport`.

    `down` marks the agent as down; other keyword arguments set RunContext fields (today).
    """

    async def main() -> T:
        client = AgentClient("http://agent.local", tokens=tokens or {}, deadline_s=5,
                             transport=transport)
        client.down_reason = down
        ctx = RunContext(config, config.root / "out", client, Recorder())
        try:
            return await body(dataclasses.replace(ctx, **fields) if fields else ctx)
        finally:
            await client.aclose()

    return asyncio.run(main())


ProbeCase = tuple[Callable[[Any], Finding], Any, Outcome, str]


def probe_params(cases: list[ProbeCase]) -> list[Any]:
    """pytest params (probe, observations, outcome, fragment) with readable ids."""
    return [pytest.param(*case, id=f"{case[0].__name__}-{i}") for i, case in enumerate(cases)]


def assert_pass_and_fail_cases(cases: list[ProbeCase]) -> None:
    """Every probe in `cases` has at least one passing and one failing case."""
    probes = {case[0] for case in cases}
    for outcome in (Outcome.PASS, Outcome.FAIL):
        assert probes == {case[0] for case in cases if case[2] is outcome}, outcome
