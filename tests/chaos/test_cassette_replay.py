"""Serving a cassette back: matching, unmatched requests, bad files, faults through the proxy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from vcr.cassette import Cassette
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request as VcrRequest
from vcr.serializers import jsonserializer, yamlserializer

from readiness.chaos.cassette import (
    CassetteError,
    CassetteReplay,
    Scrubber,
    _path_tier,
    read_cassette,
)
from readiness.chaos.faults import Fault
from readiness.chaos.messages import Request
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import Rule
from readiness.config import ConfigError, load_config
from readiness.upstreams import UpstreamSet

BASE = "https://api.example.com/v1"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


def interaction(method: str, path: str, answer: object, body: object = None,
                status: int = 200) -> tuple[Any, dict[str, Any]]:
    """A (vcrpy request, vcrpy response) pair as vcrpy itself stores them."""
    raw = json.dumps(body).encode() if body is not None else None
    request = VcrRequest(method, BASE + path, raw, {"Content-Type": "application/json"})
    return request, {"status": {"code": status, "message": "OK"},
                     "headers": {"Content-Type": ["application/json"],
                                 "Content-Length": ["999"], "Transfer-Encoding": ["chunked"]},
                     "body": {"string": json.dumps(answer).encode()}}


def ask(replay: CassetteReplay, method: str, target: str, body: object = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    response = run(replay(Request(method, target, [("Content-Type", "application/json")], raw)))
    return response.status, json.loads(response.body)


def test_exact_body_first_then_the_least_played_in_recorded_order() -> None:
    replay = CassetteReplay([
        interaction("POST", "/chat/completions", {"n": 1}, {"q": "a"}),
        interaction("POST", "/chat/completions", {"n": 2}, {"q": "b"}),
        interaction("POST", "/chat/completions", {"n": 3}, {"q": "c"}),
    ])
    assert ask(replay, "POST", "/v1/chat/completions", {"q": "b"}) == (200, {"n": 2})
    assert ask(replay, "POST", "/v1/chat/completions", {"q": "b"}) == (200, {"n": 2})
    # no body matches: the unused ones in order, then the least played, cycling
    answers = [ask(replay, "POST", "/v1/chat/completions", {"q": "z"})[1]["n"] for _ in range(8)]
    assert answers == [1, 3, 1, 3, 1, 2, 3, 1]
    assert replay.played == 10 and not replay.unmatched


def test_json_bodies_match_as_data_and_scrubbed_values_match_real_ones() -> None:
    recorded = interaction("POST", "/charge?api_key=%3Cscrubbed%3E", {"ok": True},
                           {"email": "<scrubbed>", "amount": 5, "currency": "EUR"})
    other = interaction("POST", "/charge?api_key=%3Cscrubbed%3E", {"ok": False}, {"x": 1})
    replay = CassetteReplay([other, recorded], scrubber=Scrubber())
    real = {"currency": "EUR", "amount": 5, "email": "ada@example.com"}
    assert ask(replay, "POST", "/v1/charge?api_key=real-key", real) == (200, {"ok": True})


def test_path_may_leave_out_the_recorded_base_path_and_query_must_match() -> None:
    replay = CassetteReplay([interaction("GET", "/models?page=2", {"page": 2}),
                             interaction("GET", "/models", {"page": 1})])
    assert ask(replay, "GET", "/models") == (200, {"page": 1})
    assert ask(replay, "GET", "/v1/models?page=2") == (200, {"page": 2})
    assert ask(replay, "GET", "/models?page=3")[0] == 404


@pytest.mark.parametrize(("recorded", "incoming", "tier"), [
    ("/v1/models", "/v1/models", 0),
    ("/v1/chat/completions", "/chat/completions", 1),
    ("/leads/lead-7f3a/assign", "/leads/lead-91c2/assign", 2),
    ("/v1/leads/42", "/leads/43", 2),
    ("/v1/models", "/v2/models", None),  # versions are not identifiers
    ("/leads/lead-7f3a/assign", "/leads/lead-91c2/revert", None),
    ("/leads/7", "/8", None),  # identifiers alone are no route
    ("/leads", "/leads/7", None),
    ("/v1/models", "/", None),
])
def test_path_tiers(recorded: str, incoming: str, tier: int | None) -> None:
    assert _path_tier(recorded, incoming) == tier


def test_the_closest_path_wins() -> None:
    replay = CassetteReplay([interaction("POST", "/leads/lead-1/assign", {"lead": 1}),
                             interaction("POST", "/leads/lead-2/assign", {"lead": 2})])
    assert ask(replay, "POST", "/v1/leads/lead-2/assign")[1] == {"lead": 2}
    assert ask(replay, "POST", "/v1/leads/lead-9/assign")[1] == {"lead": 1}


def test_unmatched_requests_get_a_404_naming_the_cassette_and_are_counted() -> None:
    replay = CassetteReplay([interaction("GET", "/models", {})], source="llm.yaml")
    status, body = ask(replay, "POST", "/v1/chat/completions", {"q": 1})
    assert status == 404
    assert body == {"error": "no recorded interaction for POST /v1/chat/completions in cassette "
                             "llm.yaml; record it again with `readiness record`"}
    ask(replay, "DELETE", "/models")
    assert replay.unmatched == {"POST /v1/chat/completions": 1, "DELETE /models": 1}


def test_replayed_headers_leave_framing_to_the_server() -> None:
    replay = CassetteReplay([interaction("GET", "/models", {"a": 1})])
    response = run(replay(Request("GET", "/models")))
    assert response.header("content-type") == "application/json"
    assert response.header("content-length") is None and response.header("transfer-encoding") \
        is None


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_reads_cassettes_vcrpy_itself_wrote(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"suite{suffix}"
    serializer = jsonserializer if suffix == ".json" else yamlserializer
    cassette = Cassette(str(path), serializer=serializer)
    cassette.append(*interaction("GET", "/models", {"data": []}))
    FilesystemPersister.save_cassette(str(path), {"requests": cassette.requests,
                                                  "responses": cassette.responses},
                                      serializer=serializer)
    (request, response), = read_cassette(path)
    assert request.uri == BASE + "/models" and response["status"]["code"] == 200


@pytest.mark.parametrize(("content", "reason"), [
    (None, "no such file"), ("", "it is empty"), ("interactions: [\n", "not a vcrpy"),
    ("version: 1\ninteractions: []\n", "holds no recorded interaction"),
    ("- request: {}\n", "not a vcrpy cassette"),
])
def test_unusable_files_say_why(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "llm.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CassetteError, match=reason):
        read_cassette(path)
    with pytest.raises(CassetteError, match="a folder"):
        read_cassette(tmp_path)


def _config(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "readiness.toml"
    path.write_text(f'[agent]\nname = "a"\nurl = "http://127.0.0.1:1"\n[upstreams.llm]\n'
                    f'kind = "llm"\ntarget = "{target}"\nenv = "LLM_BASE_URL"\n')
    return path


def test_a_missing_cassette_is_a_config_error_naming_the_file_and_the_fix(tmp_path: Path
                                                                           ) -> None:
    config = load_config(_config(tmp_path, "cassette:cassettes/llm.yaml"))
    upstreams = UpstreamSet(config, tmp_path, Recorder(), {})
    for in_process in (False, True):
        with pytest.raises(ConfigError) as caught:
            run(upstreams.start(in_process=in_process))
        message = str(caught.value)
        assert message.startswith(f"{config.path}: [upstreams.llm] target: expected a vcrpy "
                                  "cassette file")
        assert f"found {tmp_path / 'cassettes' / 'llm.yaml'}: no such file" in message
        assert "Fix: record one with `readiness record --config readiness.toml --out " \
               'cassettes`, then write target = "cassette:cassettes/llm.yaml"' in message
    run(upstreams.close())


def test_the_cassette_server_sits_behind_the_proxy_and_faults_still_apply(tmp_path: Path
                                                                          ) -> None:
    path = tmp_path / "llm.yaml"
    cassette = Cassette(str(path))
    cassette.append(*interaction("GET", "/models", {"data": ["m"]}))
    FilesystemPersister.save_cassette(str(path), {"requests": cassette.requests,
                                                  "responses": cassette.responses},
                                      serializer=yamlserializer)
    config = load_config(_config(tmp_path, "cassette:llm.yaml"))

    async def body() -> None:
        recorder = Recorder()
        upstreams = UpstreamSet(config, tmp_path, recorder, {})
        env = await upstreams.start()
        try:
            async with httpx.AsyncClient(base_url=env["LLM_BASE_URL"]) as client:
                with upstreams.schedule.active(Rule(Fault("server_error", {"status": 503}),
                                                    upstream="llm", first=1)):
                    first = await client.get("/models")
                    second = await client.get("/models")
                missing = await client.get("/nothing")
        finally:
            await upstreams.close()
        assert (first.status_code, second.status_code, second.json()) == (503, 200,
                                                                          {"data": ["m"]})
        assert [(e.status, e.fault) for e in recorder.exchanges()] == [
            (503, "server_error"), (200, None), (404, None)]
        assert missing.status_code == 404
        (note,) = upstreams.cassette_notes()
        assert "1 request(s) matched no interaction" in note and "GET /nothing (1x)" in note

    run(body())
