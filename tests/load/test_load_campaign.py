"""Real Locust campaigns (2-3 s each) against a tiny uvicorn agent on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import readiness.load._campaign as campaign_module
from readiness.lifecycle import ManagedProcess, free_port
from readiness.load import CampaignResult, CampaignSpec, run_campaign

pytestmark = pytest.mark.slow
TARGET = Path(__file__).with_name("decision_target.py")
TOKEN = "load-test-token"
SCENARIO = {"source": "faker", "fields": {"name": "name", "email": "email"}, "seed": 11}


def start_target(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Iterator[str]:
    port = free_port()
    logs = tmp_path_factory.mktemp("target")
    command = f"{sys.executable} {TARGET} --port {{port}} --token {TOKEN} {' '.join(args)}"
    process = ManagedProcess("decision target", command, cwd=logs, log_path=logs / "log",
                             env=dict(os.environ), port=port)
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(process.wait_healthy(url + "/health", 20))
        yield url
    finally:
        process.stop()


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_target(tmp_path_factory)


@pytest.fixture(scope="module")
def flaky_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_target(tmp_path_factory, "--fail-every", "2")


def spec(host: str, out_dir: Path, **changes: object) -> CampaignSpec:
    settings: dict[str, object] = {
        "host": host, "token": TOKEN, "scenario": SCENARIO, "users": 4, "spawn_rate": 100,
        "duration_s": 2, "out_dir": out_dir, "stop_timeout_s": 1, **changes}
    return CampaignSpec(**settings)  # type: ignore[arg-type]


def acknowledged(result: CampaignResult) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.acknowledged.read_text().splitlines()]


def test_every_answer_is_counted_and_every_decision_acknowledged(agent: str,
                                                                 tmp_path: Path) -> None:
    result = run_campaign(spec(agent, tmp_path))
    assert result.problem is None
    assert not result.incomplete
    assert result.requests > 0
    assert result.failures == 0
    assert result.error_rate == 0
    assert result.acknowledged_count == result.requests  # final figures, not a 1 s old CSV
    answers = acknowledged(result)
    assert len({answer["request_id"] for answer in answers}) == result.requests
    assert {answer["status"] for answer in answers} == {"executed"}
    assert result.rps > 0
    assert result.p50_ms is not None and result.p95_ms is not None
    assert result.max_ms is not None and result.max_ms >= result.p95_ms
    assert result.duration_s > 0  # timing bounds belong in benchmarks, not tests
    assert result.history and result.history[-1].users == 4
    assert result.failures_by_kind == {}
    assert "--csv-full-history" in result.command
    assert TOKEN not in " ".join(result.command)
    assert (tmp_path / "locust_stats_history.csv").is_file()
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_half_the_answers_failing_gives_half_the_error_rate(flaky_agent: str,
                                                            tmp_path: Path) -> None:
    result = run_campaign(spec(flaky_agent, tmp_path))
    assert result.problem is None
    assert result.error_rate == pytest.approx(0.5, abs=0.05)
    assert result.failures_by_kind == {"HTTP 500": result.failures}
    assert result.acknowledged_count == result.requests - result.failures
    assert sum(point.failures_per_s for point in result.history) > 0


def test_a_rate_per_user_paces_the_campaign(agent: str, tmp_path: Path) -> None:
    result = run_campaign(spec(agent, tmp_path, users=2, rate_per_user=5))
    assert result.problem is None
    assert 5 <= result.rps <= 15  # 2 users x 5/s
    assert result.acknowledged_count == result.requests


def test_workers_share_the_load_and_their_acknowledgements_are_merged(agent: str,
                                                                      tmp_path: Path) -> None:
    result = run_campaign(spec(agent, tmp_path, workers=2))
    assert result.problem is None
    assert "--master" in result.command
    assert result.requests > 0
    assert result.acknowledged_count == result.requests
    assert len({answer["request_id"] for answer in acknowledged(result)}) == result.requests
    assert not list(tmp_path.glob("*.part"))
    assert (tmp_path / "locust-worker-1.out").is_file()


def test_cancel_stops_the_campaign_early_with_partial_figures(agent: str,
                                                              tmp_path: Path) -> None:
    cancel = threading.Event()

    def cancel_once_running() -> None:  # acknowledgements reach the disk 64 KiB at a time
        part = tmp_path / "acknowledged.local.part"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not cancel.is_set():
            if part.is_file() and part.stat().st_size:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        cancel.set()

    watcher = threading.Thread(target=cancel_once_running)
    watcher.start()
    try:
        result = run_campaign(spec(agent, tmp_path, duration_s=300), cancel=cancel)
    finally:
        cancel.set()
        watcher.join()
    assert result.duration_s < 150  # far short of its 300 s: it stopped on the cancel
    assert result.incomplete
    assert result.problem == "the campaign was cancelled before it ended"
    assert result.requests > 0
    assert result.acknowledged_count > 0


def test_a_worker_dying_cuts_the_campaign_short_and_says_so(
        agent: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_start = campaign_module._start

    def start_and_keep(*args: Any) -> None:
        real_start(*args)
        started.extend(args[-1])
        threading.Timer(2.5, lambda: started[1].send_signal(signal.SIGKILL)).start()

    monkeypatch.setattr(campaign_module, "_start", start_and_keep)
    result = run_campaign(spec(agent, tmp_path, workers=2, duration_s=30))
    assert result.incomplete
    assert result.problem is not None
    assert result.problem.startswith("Locust worker 0 exited with code -9 before the campaign")
    assert all(process.poll() is not None for process in started)


def test_an_unreachable_agent_gives_failures_not_a_crash(tmp_path: Path) -> None:
    result = run_campaign(spec(f"http://127.0.0.1:{free_port()}", tmp_path, users=2))
    assert result.problem is None
    assert result.requests == result.failures > 0
    assert result.error_rate == 1
    assert result.failures_by_kind == {"ConnectionRefusedError": result.failures}
    assert result.acknowledged_count == 0


def test_a_wrong_token_is_a_failure_per_request(agent: str, tmp_path: Path) -> None:
    result = run_campaign(spec(agent, tmp_path, token="wrong", users=1, duration_s=1))
    assert result.failures_by_kind == {"HTTP 401": result.requests}


def test_locust_failing_to_start_is_a_problem_with_its_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(campaign_module, "LOCUSTFILE", tmp_path / "missing_locustfile.py")
    result = run_campaign(spec("http://127.0.0.1:9", tmp_path / "out"))
    assert result.problem is not None
    assert result.problem.startswith("Locust exited with code") or (
        result.problem.startswith("Locust wrote no statistics"))
    assert "missing_locustfile" in result.problem  # Locust's own words, from its output
    assert result.requests == 0
    assert result.acknowledged_count == 0


def test_a_bad_scenario_is_a_problem_before_any_process_starts(tmp_path: Path) -> None:
    bad = {"source": "faker", "fields": {"name": "no_such_provider"}}
    result = run_campaign(spec("http://127.0.0.1:9", tmp_path, scenario=bad))
    assert result.problem is not None
    assert "no_such_provider" in result.problem
    assert not (tmp_path / "locust.out").exists()
