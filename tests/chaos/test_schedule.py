"""FaultSchedule: which fault hits which request, and the schedule as the proxy's step."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest

from readiness.chaos.faults import Fault
from readiness.chaos.messages import Headers, Request, Response
from readiness.chaos.proxy import RecordingProxy
from readiness.chaos.recorder import Recorder
from readiness.chaos.schedule import FaultSchedule, Rule, parse_route
from readiness.chaos.server import HttpServer

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
RATE_LIMIT = Fault("rate_limit")
SERVER_ERROR = Fault("server_error")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def picks(
    schedule: FaultSchedule,
    count: int,
    upstream: str = "llm",
    method: str = "POST",
    path: str = "/v1/chat/completions",
    headers: Headers | None = None,
) -> list[str | None]:
    """The fault names picked for `count` identical requests."""
    faults = [schedule.pick(upstream, method, path, headers or []) for _ in range(count)]
    return [None if fault is None else fault.name for fault in faults]


def test_an_empty_schedule_picks_nothing_and_is_idle() -> None:
    schedule = FaultSchedule()
    assert schedule.idle and picks(schedule, 3) == [None] * 3
    handle = schedule.add(Rule(RATE_LIMIT))
    assert not schedule.idle
    schedule.remove(handle)
    schedule.remove(handle)  # removing twice is harmless
    assert schedule.idle and schedule.rules == ()


def test_first_n_attempts_then_through() -> None:
    schedule = FaultSchedule()
    handle = schedule.add(Rule(RATE_LIMIT, first=2))
    assert picks(schedule, 4) == ["rate_limit", "rate_limit", None, None]
    assert (handle.attempts, handle.fired) == (4, 2)


def test_times_caps_how_often_a_rule_fires() -> None:
    schedule = FaultSchedule()
    schedule.add(Rule(RATE_LIMIT, probability=1.0, times=3))
    assert picks(schedule, 5) == ["rate_limit"] * 3 + [None] * 2


def test_probability_is_seeded_and_reproducible() -> None:
    def sequence(seed: int) -> list[str | None]:
        schedule = FaultSchedule()
        schedule.add(Rule(RATE_LIMIT, probability=0.3, seed=seed))
        return picks(schedule, 200)

    first, again, other = sequence(1), sequence(1), sequence(2)
    assert first == again and first != other
    assert 30 <= first.count("rate_limit") <= 90  # about 60
    never, always = FaultSchedule(), FaultSchedule()
    never.add(Rule(RATE_LIMIT, probability=0.0))
    always.add(Rule(RATE_LIMIT, probability=1.0))
    assert picks(never, 20) == [None] * 20 and picks(always, 20) == ["rate_limit"] * 20


def test_probability_draws_per_attempt_so_first_keeps_the_same_hits() -> None:
    unbounded, bounded = FaultSchedule(), FaultSchedule()
    unbounded.add(Rule(RATE_LIMIT, probability=0.5, seed=3))
    bounded.add(Rule(RATE_LIMIT, probability=0.5, seed=3, first=10))
    assert picks(bounded, 20) == picks(unbounded, 10) + [None] * 10


def test_window_is_relative_to_when_the_rule_was_added() -> None:
    clock = FakeClock()
    schedule = FaultSchedule(clock=clock)
    clock.now = 500.0
    handle = schedule.add(Rule(RATE_LIMIT, window=(5, 10)))
    assert picks(schedule, 1) == [None] and handle.attempts == 0  # outside: not an attempt
    clock.now = 505.0
    assert picks(schedule, 1) == ["rate_limit"]
    clock.now = 509.9
    assert picks(schedule, 1) == ["rate_limit"]
    clock.now = 510.0
    assert picks(schedule, 1) == [None] and handle.attempts == 2


@pytest.mark.parametrize(
    ("route", "method", "path", "hit"),
    [
        ("POST /v1/chat/*", "POST", "/v1/chat/completions", True),
        ("POST /v1/chat/*", "post", "/v1/chat/completions?x=1", True),
        ("POST /v1/chat/*", "GET", "/v1/chat/completions", False),
        ("POST /v1/chat/*", "POST", "/v1/embeddings", False),
        ("/v1/*", "DELETE", "/v1/a/b/c", True),
        ("* /leads/*/assign", "PUT", "/leads/7/assign", True),
        ("GET /leads/?", "GET", "/leads/77", False),
    ],
)
def test_route_globs_match_method_and_path(route: str, method: str, path: str, hit: bool) -> None:
    assert parse_route(route)(method, path) is hit
    schedule = FaultSchedule()
    schedule.add(Rule(RATE_LIMIT, route=route))
    assert (schedule.pick("llm", method, path, []) is not None) is hit


@pytest.mark.parametrize("route", ["", "v1/*", "PO ST /x", "GET"])
def test_bad_routes_are_rejected_with_the_expected_shape(route: str) -> None:
    with pytest.raises(ValueError, match=r"expected \[METHOD \]PATH-GLOB like 'POST /v1/chat/\*'"):
        Rule(RATE_LIMIT, route=route)


def test_correlation_id_by_request_id_or_trace_id() -> None:
    schedule = FaultSchedule()
    schedule.add(Rule(RATE_LIMIT, correlation_id="req-42"))
    schedule.add(Rule(SERVER_ERROR, correlation_id=TRACE_ID))
    traceparent = [("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01")]
    assert picks(schedule, 1, headers=[("X-Request-ID", "req-42")]) == ["rate_limit"]
    assert picks(schedule, 1, headers=traceparent) == ["server_error"]
    assert picks(schedule, 1, headers=[("X-Request-ID", "other")]) == [None]
    assert picks(schedule, 1) == [None]


def test_upstream_filter_and_the_first_rule_that_fires_wins() -> None:
    schedule = FaultSchedule()
    crm_only = schedule.add(Rule(RATE_LIMIT, upstream="crm", first=1))
    fallback = schedule.add(Rule(SERVER_ERROR))
    assert picks(schedule, 2, upstream="crm") == ["rate_limit", "server_error"]
    assert picks(schedule, 1, upstream="llm") == ["server_error"]
    assert (crm_only.attempts, crm_only.fired, fallback.attempts, fallback.fired) == (2, 1, 2, 2)


def test_clear_and_active() -> None:
    schedule = FaultSchedule()
    schedule.add(Rule(RATE_LIMIT))
    schedule.clear()
    assert schedule.idle
    with schedule.active(Rule(RATE_LIMIT), Rule(SERVER_ERROR)) as handles:
        assert schedule.rules == (Rule(RATE_LIMIT), Rule(SERVER_ERROR)) and len(handles) == 2
    assert not schedule.rules


def test_concurrent_picks_count_exactly() -> None:
    schedule = FaultSchedule()
    handle = schedule.add(Rule(RATE_LIMIT, first=500))
    fired: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        fired.append(sum(name is not None for name in picks(schedule, 250)))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 500 and handle.attempts == 2000 and handle.fired == 500


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"first": 0}, "first must be a whole number >= 1, got 0"),
        ({"times": 0}, "times must be a whole number >= 1, got 0"),
        ({"probability": 1.5}, "probability must be from 0 to 1, got 1.5"),
        ({"window": (10, 5)}, "window must be (start_s, end_s) with 0 <= start < end"),
    ],
)
def test_invalid_rules(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        Rule(RATE_LIMIT, **options)
    assert message in str(raised.value)


def test_rule_needs_a_fault() -> None:
    with pytest.raises(ValueError, match=r"use Rule\(Fault\(name\)\)"):
        Rule("rate_limit")  # type: ignore[arg-type]


def test_seeded_latency_jitter_replays() -> None:
    def delays() -> list[float]:
        schedule = FaultSchedule()
        schedule.add(Rule(Fault("latency", {"ms": 0, "jitter_ms": 1000}), seed=4))
        hits = [schedule.hit("llm", "GET", "/", []) for _ in range(5)]
        return [hit.rng.random() for hit in hits if hit is not None]

    first = delays()
    assert first == delays() and len(set(first)) == 5


# --- the schedule as the proxy's single step -------------------------------------------


async def lead(request: Request) -> Response:
    return Response(200, [("Content-Type", "application/json")], json.dumps({"id": 7}).encode())


def test_schedule_as_the_proxy_step_adds_and_removes_faults_per_probe() -> None:
    async def body() -> None:
        schedule = FaultSchedule()
        recorder = Recorder()
        async with (
            HttpServer(lead) as target,
            RecordingProxy("crm", target.url, recorder, steps=[schedule]) as proxy,
            httpx.AsyncClient(base_url=proxy.url) as client,
        ):
            assert (await client.get("/leads/7")).status_code == 200
            with schedule.active(Rule(RATE_LIMIT, route="GET /leads/*", first=1)):
                statuses = [(await client.get("/leads/7")).status_code for _ in range(2)]
                other = await client.post("/leads", json={})
            handle = schedule.add(Rule(Fault("null_field"), correlation_id="probe-1"))
            mine = await client.get("/leads/7", headers={"X-Request-ID": "probe-1"})
            theirs = await client.get("/leads/7", headers={"X-Request-ID": "probe-2"})
            schedule.remove(handle)
        assert statuses == [429, 200] and other.status_code == 200
        assert mine.json() == {"id": None} and theirs.json() == {"id": 7}
        assert [e.fault for e in recorder.exchanges()] == [
            None, "rate_limit", None, None, "null_field", None,
        ]  # fmt: skip

    asyncio.run(asyncio.wait_for(body(), 30))
