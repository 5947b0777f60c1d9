"""What a Locust process sends and how it judges answers (pure: no Locust, no network)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from readiness.load import CampaignSpec
from readiness.load._traffic import RecordFeed, Traffic, process_role
from readiness.scenarios import ScenarioError

FAKER = {"source": "faker", "fields": {"name": "name", "email": "email"}, "seed": 7}


def wire(tmp_path: Path, **changes: object) -> dict[str, object]:
    spec = CampaignSpec(host="http://127.0.0.1:9", token="secret", scenario=FAKER, users=1,
                        spawn_rate=1, duration_s=1, out_dir=tmp_path)
    return {**json.loads(spec.wire()), **changes}


def test_importing_the_package_imports_neither_locust_nor_gevent() -> None:
    code = ("import sys, readiness.load; "
            "assert not {'locust', 'gevent'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.fixture
def traffic(tmp_path: Path) -> Iterator[Traffic]:
    made = Traffic(wire(tmp_path))
    yield made
    made.acks.close()


def test_request_carries_the_contract_headers_and_a_fresh_id(traffic: Traffic) -> None:
    first, second = traffic.request(), traffic.request()
    request_id, body, headers = first
    sent = json.loads(body)
    assert sent["request_id"] == request_id == headers["X-Request-ID"]
    assert set(sent["input"]) == {"name", "email"}
    assert headers["Authorization"] == "Bearer secret"
    assert headers["Content-Type"] == "application/json"
    assert uuid.UUID(request_id).version == 4
    assert uuid.UUID(request_id).variant == uuid.RFC_4122
    trace_id = request_id.replace("-", "")
    assert re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-01", headers["traceparent"])
    assert second[0] != request_id
    assert json.loads(second[1])["input"] != sent["input"]


def test_no_token_sends_no_authorization(tmp_path: Path) -> None:
    traffic = Traffic(wire(tmp_path, token=None))
    traffic.acks.close()
    assert "Authorization" not in traffic.request()[2]


@pytest.mark.parametrize(("status", "content", "error", "kind"), [
    (200, b'{"decision_id": "d-1", "status": "executed"}', None, None),
    (201, b'{"decision_id": 17, "status": "manual"}', None, None),
    (200, '{"decision_id": "d-\\"é", "status": null}'.encode(), None, None),
    (500, b'{"error": "boom"}', None, "HTTP 500"),
    (429, b"", None, "HTTP 429"),
    (200, b"<html>ok</html>", None, "HTTP 200 without a JSON body"),
    (200, b'{"status": "executed"}', None, "HTTP 200 without a decision_id"),
    (200, b'{"decision_id": ""}', None, "HTTP 200 without a decision_id"),
    (200, b'{"decision_id": true}', None, "HTTP 200 without a decision_id"),
    (200, b'["d-1"]', None, "HTTP 200 without a decision_id"),
    (0, None, ConnectionRefusedError(111, "refused"), "ConnectionRefusedError"),
    (0, None, None, "no response"),
])
def test_judge(traffic: Traffic, tmp_path: Path, status: int, content: bytes | None,
               error: BaseException | None, kind: str | None) -> None:
    assert traffic.judge("r-1", status, content, error) == kind
    traffic.acks.close()
    written = (tmp_path / "acknowledged.local.part").read_text().splitlines()
    assert len(written) == (kind is None)
    if kind is None:
        answer = json.loads(content or b"")
        assert json.loads(written[0]) == {"request_id": "r-1", "status": answer["status"],
                                          "decision_id": answer["decision_id"]}


def test_faker_pool_cycles_and_workers_get_different_records() -> None:
    pooled = RecordFeed(FAKER, pool=3)
    first = [pooled.next() for _ in range(3)]
    assert len(set(first)) == 3
    assert [pooled.next() for _ in range(3)] == first
    other_worker = RecordFeed(FAKER, worker=1, workers=2, pool=3)
    assert not {other_worker.next() for _ in range(3)} & set(first)
    assert RecordFeed(FAKER, pool=3).next() == first[0]  # same seed, same records


def test_faker_can_stream_a_fresh_record_per_request() -> None:
    streamed = RecordFeed(FAKER, pool=0)
    assert len({streamed.next() for _ in range(50)}) == 50


def test_file_records_are_dealt_across_workers_and_replayed(tmp_path: Path) -> None:
    (tmp_path / "leads.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(5)))
    scenario = {"source": "jsonl:leads.jsonl", "root": str(tmp_path)}
    feeds = [RecordFeed(scenario, worker=index, workers=2) for index in range(2)]
    sent = [[json.loads(feed.next())["n"] for _ in range(5)] for feed in feeds]
    assert sent == [[0, 2, 4, 0, 2], [1, 3, 1, 3, 1]]


def test_a_file_too_short_for_its_workers_says_so(tmp_path: Path) -> None:
    (tmp_path / "one.jsonl").write_text('{"n": 1}\n')
    feed = RecordFeed({"source": "jsonl:one.jsonl", "root": str(tmp_path)}, worker=1,
                      workers=2)
    with pytest.raises(ScenarioError, match="no records for worker 1 of 2"):
        feed.next()


def test_unknown_scenario_setting_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="wrong_key"):
        RecordFeed({"source": "faker", "wrong_key": 1})


@pytest.mark.parametrize(("value", "role"), [
    (None, ("local", 0, 1)), ("local", ("local", 0, 1)), ("master", ("master", 0, 1)),
    ("worker:2:3", ("worker", 2, 3)),
])
def test_process_role(value: str | None, role: tuple[str, int, int]) -> None:
    assert process_role(value) == role


def test_spec_rejects_impossible_values_in_one_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as raised:
        CampaignSpec(host="127.0.0.1:80", users=0, spawn_rate=1, duration_s=0,
                     out_dir=tmp_path)
    message = str(raised.value)
    for part in ("host must be an http:// or https:// URL, got '127.0.0.1:80'",
                 "users must be at least 1, got 0", "duration_s must be positive, got 0"):
        assert part in message


def test_spec_rounds_times_up_to_whole_seconds_for_locust(tmp_path: Path) -> None:
    spec = CampaignSpec(host="http://h:1", users=2, spawn_rate=1.5, duration_s=2.2,
                        stop_timeout_s=0.5, out_dir=tmp_path)
    assert (spec.run_time_s, spec.stop_time_s) == (3, 1)
