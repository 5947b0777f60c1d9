"""The runner end to end: in-process and started agents, dead and hostile ones, Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import tiny_agent
from agent_configs import ConfigWriter, hostile_start

from readiness import runner
from readiness.config import load_config
from readiness.registry import Registry
from readiness.reports import validate_scorecard
from readiness.results import Finding, Interrupted, errored, passed
from readiness.runner import run, run_async

TOKENS = '[auth]\ninvoke_token = "invoke"\noperator_token = "operator"'


def _item(card: dict, key: str) -> dict:
    return next(i for i in card["items"] if i["key"] == key)


def _probe(card: dict, key: str, probe_id: str) -> dict:
    return next(p for p in _item(card, key)["probes"] if p["id"] == probe_id)


@pytest.fixture
def tiny_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    components = tmp_path / "prompts"
    components.mkdir()
    (components / "route.md").write_text("Route the lead.\n")
    monkeypatch.setenv("TINY_COMPONENT_DIR", str(components))
    monkeypatch.setenv("TINY_COMPONENT_BASE", str(tmp_path))
    return components


def test_in_process_agent_is_scored_and_unbuilt_items_are_not_run(
        write_config: ConfigWriter, tiny_env: Path, tmp_path: Path) -> None:
    config = load_config(write_config('app = "tiny_agent:app"',
                                      '[auth]\ninvoke_token = "invoke"\noperator_token = "operator"'
                                      '\n[version]\nfiles = ["prompts/**"]'))
    result = run(config, tmp_path / "out")
    card = result.card
    validate_scorecard(card)
    assert _probe(card, "versioning", "reports_version")["outcome"] == "pass"
    assert _probe(card, "versioning", "component_hashes_match_files")["outcome"] == "pass"
    assert _probe(card, "versioning", "audit_records_name_version")["outcome"] == "pass"
    load = _item(card, "load")  # Locust needs a socket; an in-process agent cannot be loaded
    assert load["status"] == "error"
    assert all("agent on a socket" in p["message"] for p in load["probes"]
               if p["outcome"] == "error")
    assert card["verdict"] == "not_ready" and result.exit_code == 1
    assert card["agent"]["components"] == {
        "prompts/route.md": _probe(card, "versioning", "component_hashes_match_files")
        ["evidence"]["components"]["prompts/route.md"]}


def test_lying_audit_version_fails_its_probe(write_config: ConfigWriter, tiny_env: Path,
                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setenv("TINY_AUDIT_VERSION", "0.9.0")
    config = load_config(write_config('app = "tiny_agent:app"', TOKENS))
    card = run(config, tmp_path / "out", only={"versioning"}).card
    assert _probe(card, "versioning", "audit_records_name_version")["outcome"] == "fail"
    assert "0.9.0" in _probe(card, "versioning", "audit_records_name_version")["message"]
    assert _item(card, "docs")["reason"].startswith(
        "not assessed: left out of this run (--only, -k")


def test_agent_that_never_becomes_healthy_ends_with_a_clear_error(
        write_config: ConfigWriter, tmp_path: Path) -> None:
    config = load_config(write_config(
        f'start = "{sys.executable} -c \'import time; time.sleep(120)\'"\nstartup_timeout_s = 1'))
    card = run(config, tmp_path / "out").card
    validate_scorecard(card)
    assert any("did not become healthy within 1s" in note for note in card["notes"])
    assert _probe(card, "versioning", "reports_version")["outcome"] == "error"
    assert card["verdict"] == "not_ready"


def test_agent_that_exits_at_startup_shows_its_log(write_config: ConfigWriter,
                                                    tmp_path: Path) -> None:
    config = load_config(write_config(
        f'start = "{sys.executable} -c \'import sys; print(\\"boom at startup\\"); sys.exit(3)\'"'))
    card = run(config, tmp_path / "out").card
    note = next(n for n in card["notes"] if "did not start" in n)
    assert "exited with code 3" in note and "boom at startup" in note


@pytest.mark.parametrize("mode", ["hang", "huge", "garbage", "crash"])
def test_hostile_agent_cannot_hang_or_crash_the_harness(
        mode: str, write_config: ConfigWriter, tmp_path: Path) -> None:
    config = load_config(write_config(hostile_start(mode) + "\ndeadline_s = 2",
                                      '[auth]\ninvoke_token = "i"\noperator_token = "o"'))
    result = run(config, tmp_path / "out", only={"versioning", "docs"})
    card = result.card
    validate_scorecard(card)
    reported = _probe(card, "versioning", "reports_version")
    assert reported["outcome"] in ("error", "fail")
    assert _item(card, "versioning")["status"] in ("error", "fail")
    assert card["verdict"] == "not_ready"
    if mode == "huge":
        assert "exceeded" in reported["message"]


def test_cancelled_run_still_returns_what_ran_marked_incomplete(
        write_config: ConfigWriter, tiny_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_HANG_VERSION", "1")
    config = load_config(write_config('app = "tiny_agent:app"', "[agent.env]\n"))

    async def scenario() -> dict:
        tiny_agent.version_entered.clear()
        task = asyncio.create_task(run_async(config, tmp_path / "out"))
        await asyncio.wait_for(tiny_agent.version_entered.wait(), 30)
        task.cancel()
        return (await asyncio.wait_for(task, 30)).card

    card = asyncio.run(scenario())
    validate_scorecard(card)
    assert card["incomplete"] is True and card["verdict"] == "not_ready"
    assert any("interrupted" in note for note in card["notes"])
    # docs ran before versioning was interrupted; owner never ran
    assert _item(card, "owner")["reason"].endswith("the run ended before this item")
    assert "TINY_HANG_VERSION" in os.environ


def test_an_interrupted_observer_has_what_it_gathered_judged_then_the_run_stops(
        write_config: ConfigWriter, tiny_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry()
    observing = asyncio.Event()

    @registry.probe("docs", title="t", why="w", fix="f")
    def saw_something(observations: str) -> Finding:
        return errored(f"cut short with {observations}")

    @registry.probe("owner", title="t", why="w", fix="f")
    def never_reached(observations: str) -> Finding:
        return passed("ran")

    @registry.observer("docs")
    async def observe_docs(ctx: object) -> str:
        observing.set()
        try:
            await asyncio.Event().wait()  # until Ctrl-C
        except asyncio.CancelledError:
            raise Interrupted("3 documents read") from None
        return "everything"

    @registry.observer("owner")
    async def observe_owner(ctx: object) -> str:
        return "the owner"

    monkeypatch.setattr(runner, "load_probes", lambda: registry)
    config = load_config(write_config('app = "tiny_agent:app"', TOKENS))

    async def scenario() -> dict:
        task = asyncio.create_task(run_async(config, tmp_path / "out"))
        await asyncio.wait_for(observing.wait(), 30)
        task.cancel()
        return (await asyncio.wait_for(task, 30)).card

    card = asyncio.run(scenario())
    assert card["incomplete"] is True and card["verdict"] == "not_ready"
    docs = _probe(card, "docs", "saw_something")
    assert (docs["outcome"], docs["message"]) == ("error", "cut short with 3 documents read")
    assert _item(card, "owner")["reason"].endswith("the run ended before this item")


def test_changed_components_are_shown_and_an_unbumped_version_fails(
        write_config: ConfigWriter, tiny_env: Path, tmp_path: Path) -> None:
    from readiness.reports import write_reports

    config = load_config(write_config('app = "tiny_agent:app"',
                                      TOKENS + '\n[version]\nfiles = ["prompts/**"]'))
    out = tmp_path / "out"
    first = run(config, out, only={"versioning"}).card
    write_reports(first, out)
    assert first["changes"] is None
    (tiny_env / "route.md").write_text("Route the lead, and be quick about it.\n")
    second = run(config, out, only={"versioning"}).card
    assert second["changes"]["changed"] == ["prompts/route.md"]
    assert second["changes"]["previous_version"] == "1.0.0"
    bumped = _probe(second, "versioning", "version_bumped_on_change")
    assert bumped["outcome"] == "fail" and bumped["evidence"]["changed"] == ["prompts/route.md"]


def test_client_sends_lone_surrogates_as_valid_json() -> None:
    import httpx

    from readiness.client import AgentClient
    from readiness.contract import DEFAULT_ENDPOINTS

    seen: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(422, json={"error": "odd"})

    async def send() -> int | None:
        client = AgentClient("http://agent.local", tokens={}, deadline_s=5,
                             transport=httpx.MockTransport(answer))
        try:
            reply = await client.call(DEFAULT_ENDPOINTS["invoke"], json_body={"name": "\ud800"})
        finally:
            await client.aclose()
        return reply.status

    assert asyncio.run(send()) == 422
    assert seen == [b'{"name": "\\ud800"}']
