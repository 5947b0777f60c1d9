"""`readiness record` end to end: a scrubbed, genuine vcrpy cassette that the harness replays."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
import leaky_agent
import pytest
import vcr
from agent_configs import ConfigWriter

from readiness.chaos._recording import record
from readiness.chaos.cassette import Scrubber
from readiness.chaos.recorder import Recorder
from readiness.cli import main
from readiness.config import load_config
from readiness.runner import _bring_up, run
from readiness.scenarios.canaries import make_canary, plant

LLM = '[upstreams.llm]\nkind = "llm"\ntarget = "{target}"\nenv = "LLM_BASE_URL"\n'
ORIGIN = "http://llm.readiness.invalid/v1"


def test_record_writes_a_scrubbed_cassette_vcrpy_loads_and_replays(
        write_config: ConfigWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    canary = make_canary()
    leads = [plant({"name": "x", "email": "x", "phone": "x", "message": "Call me."}, canary)
             for _ in range(2)]
    (tmp_path / "leads.jsonl").write_text("".join(json.dumps(lead) + "\n" for lead in leads))
    config = write_config('app = "leaky_agent:app"',
                          '[auth]\ninvoke_token = "invoke"\n' + LLM.format(target="sim:openai")
                          + '[scenario]\nsource = "jsonl:leads.jsonl"')
    out = tmp_path / "cassettes"

    assert main(["record", "--config", str(config), "--out", str(out),
                 "--invocations", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"llm: 4 interaction(s) -> {out / 'llm.yaml'} (scrubbed: ")
    text = (out / "llm.yaml").read_text()
    for secret in (leaky_agent.API_KEY, leaky_agent.AWS_KEY_ID, leaky_agent.PASSWORD,
                   "leaky-session-cookie", "org-leaky", "@example.com"):
        assert secret not in text
    assert canary.found_in(text) == []
    assert "Call me." in text and "<scrubbed>" in text

    # vcrpy itself plays it back; its hook scrubs the live key so the recorded query matches
    replaying = vcr.VCR(record_mode="none",
                        before_record_request=Scrubber().before_record_request)
    with replaying.use_cassette(str(out / "llm.yaml")) as cassette, httpx.Client() as client:
        models = client.get(f"{ORIGIN}/models", params={"api_key": leaky_agent.API_KEY})
        answer = client.post(f"{ORIGIN}/chat/completions", json={"model": "m"})
    assert len(cassette) == 4 and cassette.play_count == 2
    assert models.json()["data"][0]["id"] == "sim-gpt"
    assert answer.json()["choices"][0]["finish_reason"] == "tool_calls"


def test_the_error_handling_suite_runs_against_a_recorded_cassette(
        write_config: ConfigWriter, tmp_path: Path) -> None:
    recorded = load_config(write_config('app = "retry_agent:app"\ndeadline_s = 4',
                                        LLM.format(target="sim:openai"), name="record.toml"))
    result = record(recorded, tmp_path / "cassettes", invocations=2)
    assert [(u.name, u.interactions) for u in result.upstreams] == [("llm", 2)]

    replay = load_config(write_config('app = "retry_agent:app"\ndeadline_s = 4',
                                      LLM.format(target="cassette:cassettes/llm.yaml")))
    card = run(replay, tmp_path / "out", only={"error_handling"}).card
    probes = {p["id"]: p["outcome"] for p in card["items"][0]["probes"]}
    assert set(probes.values()) == {"pass"}, probes
    traffic = [json.loads(line) for line in (tmp_path / "out" / "upstream-traffic.jsonl")
               .read_text().splitlines()]
    faults = {row["fault"] for row in traffic} - {None}
    assert {"rate_limit", "server_error", "timeout"} <= faults
    assert not any(row["status"] == 404 for row in traffic if row["fault"] is None)


def test_requests_the_cassette_lacks_get_404_and_a_run_note(
        write_config: ConfigWriter, tmp_path: Path) -> None:
    recorded = load_config(write_config('app = "retry_agent:app"', LLM.format(
        target="sim:openai"), name="record.toml"))
    record(recorded, tmp_path / "cassettes", invocations=1)
    leaky = load_config(write_config('app = "leaky_agent:app"', '[auth]\ninvoke_token = "i"\n'
                                     + LLM.format(target="cassette:cassettes/llm.yaml")))

    async def body() -> list[str]:
        notes: list[str] = []
        async with contextlib.AsyncExitStack() as stack:
            ctx = await _bring_up(leaky, tmp_path, Recorder(), stack, notes)
            reply = await ctx.invoke()
            assert reply.json()["status"] == "failed"  # its GET /models was never recorded
        return notes

    (note,) = asyncio.run(body())
    assert note == (f"upstream 'llm': 1 request(s) matched no interaction in "
                    f"{tmp_path / 'cassettes' / 'llm.yaml'} and got 404: GET /models (1x); "
                    "record the cassette again with `readiness record`")


def test_record_exits_1_when_the_agent_does_not_start(
        write_config: ConfigWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config('app = "no_such_agent_module:app"', LLM.format(target="sim:openai"))
    assert main(["record", "--config", str(config), "--out", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("readiness record: nothing recorded: ") and "no_such_agent_module" in err
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--upstream", "crm"], "--upstream crm: not declared in "),
    (["--invocations", "0"], "'0' is not a whole number >= 1"),
])
def test_record_usage_errors_exit_2(write_config: ConfigWriter, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str], args: list[str],
                                    message: str) -> None:
    config = write_config('app = "retry_agent:app"', LLM.format(target="sim:openai"))
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(["record", "--config", str(config), *args]))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_an_upstream_already_replayed_is_not_recorded_again(
        write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config('app = "retry_agent:app"', LLM.format(target="cassette:llm.yaml"))
    assert main(["record", "--config", str(config)]) == 2
    assert "declares no upstream to record (none, or only cassette: targets)" in \
        capsys.readouterr().err
