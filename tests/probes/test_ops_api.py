"""readiness.probes._ops_api: RFC 3339 times, and paging GET /audit?since= on a fake agent."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from agent_configs import ConfigWriter

from readiness.chaos.recorder import Recorder
from readiness.client import AgentClient
from readiness.config import Config, load_config
from readiness.context import RunContext
from readiness.probes._ops_api import Listing, list_since, parse_rfc3339, rfc3339

UTC = dt.UTC
START = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))

# --- parse_rfc3339 / rfc3339 -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("2026-01-01T10:00:00Z", START, id="z"),
    pytest.param("2026-01-01T10:00:00.000000Z", START, id="microseconds"),
    pytest.param("2026-01-01T10:00:00.5Z", START + dt.timedelta(milliseconds=500),
                 id="one-fraction-digit"),
    pytest.param("2026-01-01T12:00:00+02:00", START, id="offset"),
    pytest.param("2026-01-01t10:00:00z", START, id="lower-case-t-and-z"),
    pytest.param("2026-01-01 10:00:00Z", START, id="space-separator"),
    pytest.param("2026-01-01T10:00:00", None, id="no-zone"),
    pytest.param("2026-01-01T10:00:00.000", None, id="no-zone-with-fraction"),
    pytest.param("2026-01-01", None, id="date-only"),
    pytest.param("01/01/2026 10:00:00 UTC", None, id="not-iso"),
    pytest.param("2026-13-01T10:00:00Z", None, id="month-13"),
    pytest.param("2026-01-01X10:00:00Z", None, id="bad-separator"),
    pytest.param("", None, id="empty"),
    pytest.param(1767261600, None, id="epoch-number"),
    pytest.param(None, None, id="null"),
])
def test_parse_rfc3339(value: Any, expected: dt.datetime | None) -> None:
    parsed = parse_rfc3339(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


@pytest.mark.parametrize(("moment", "text"), [
    pytest.param(START, "2026-01-01T10:00:00.000000Z", id="utc"),
    pytest.param(dt.datetime(2026, 1, 1, 12, 0, 0, 123, tzinfo=PLUS_TWO),
                 "2026-01-01T10:00:00.000123Z", id="offset-to-utc"),
    pytest.param(dt.datetime(2026, 1, 1, 1, tzinfo=PLUS_TWO), "2025-12-31T23:00:00.000000Z",
                 id="across-midnight"),
])
def test_rfc3339(moment: dt.datetime, text: str) -> None:
    assert rfc3339(moment) == text
    assert parse_rfc3339(text) == moment


# --- list_since against a fake agent -----------------------------------------------------------

Record = dict[str, Any]


def at(ms: int) -> str:
    """The timestamp `ms` milliseconds after START, as the fake agent writes it."""
    return rfc3339(START + dt.timedelta(milliseconds=ms))


def records(stamps: list[int]) -> list[Record]:
    """Records d0, d1, ... with these timestamps (milliseconds after START)."""
    return [{"decision_id": f"d{n}", "request_id": f"r{n}", "timestamp": at(ms)}
            for n, ms in enumerate(stamps)]


class FakeAuditAgent:
    """GET /audit?since=&limit= from a list kept oldest first; `since` is inclusive."""

    def __init__(self, stored: list[Record], *, newest_first: bool = False,
                 status: int = 200) -> None:
        self.stored = stored
        self.newest_first = newest_first
        self.status = status
        self.asked: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != "Bearer op":
            return httpx.Response(401, json={"error": "operator token required"})
        if self.status != 200 or request.url.path != "/audit":
            return httpx.Response(self.status, text="Not Found")
        params = dict(request.url.params)
        self.asked.append(params)
        since = parse_rfc3339(params["since"])
        assert since is not None, params
        chosen = [r for r in self.stored if (parse_rfc3339(r["timestamp"]) or since) >= since]
        if self.newest_first:
            chosen.reverse()
        return httpx.Response(200, json={"records": chosen[: int(params["limit"])]})


@pytest.fixture
def config(write_config: ConfigWriter) -> Config:
    return load_config(write_config('url = "http://agent.test"', '[auth]\noperator_token = "op"'))


def listed(config: Config, agent: Callable[[httpx.Request], httpx.Response],
           since: dt.datetime = START, limit: int = 100) -> Listing:
    """list_since through a real AgentClient whose transport is `agent`."""

    async def main() -> Listing:
        client = AgentClient(config.agent.url or "", tokens={
            "operator": config.auth.operator_token}, deadline_s=5,
            transport=httpx.MockTransport(agent))
        ctx = RunContext(config, Path(config.root) / "out", client, Recorder())
        try:
            return await list_since(ctx, since, limit)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_fewer_records_than_a_page(config: Config) -> None:
    stored = records([0, 10, 20, 20, 30])
    agent = FakeAuditAgent(stored)
    listing = listed(config, agent)
    assert listing == Listing(rfc3339(START), tuple(stored), 1, None, (5,))
    assert agent.asked == [{"since": "2026-01-01T10:00:00.000000Z", "limit": "100"}]


def test_no_records(config: Config) -> None:
    assert listed(config, FakeAuditAgent([])) == Listing(rfc3339(START), (), 1, None, (0,))


def test_since_is_sent_in_utc(config: Config) -> None:
    agent = FakeAuditAgent(records([0]))
    listed(config, agent, since=dt.datetime(2026, 1, 1, 12, tzinfo=PLUS_TWO), limit=7)
    assert agent.asked == [{"since": "2026-01-01T10:00:00.000000Z", "limit": "7"}]


def test_pages_with_shared_timestamps_at_the_boundaries(config: Config) -> None:
    # records 95-105 share one timestamp across the first page boundary, 190-210 the second
    stamps = [n if n < 95 else 95 if n <= 105 else n if n < 190 else 190 if n <= 210 else n
              for n in range(250)]
    stored = records(stamps)
    agent = FakeAuditAgent(stored)
    listing = listed(config, agent)
    assert [r["decision_id"] for r in listing.records] == [f"d{n}" for n in range(250)]
    assert (listing.pages, listing.page_sizes, listing.problem) == (3, (100, 100, 60), None)
    assert [a["since"] for a in agent.asked] == [at(0), at(95), at(190)]


@pytest.mark.parametrize(("stamps", "twice", "limit", "expected"), [
    pytest.param([0, 10, 20, 30, 40], 2, 100, ["d0", "d1", "d2", "d2", "d3", "d4"],
                 id="within-a-page"),
    pytest.param([0, 10, 20, 20, 30], 3, 4, ["d0", "d1", "d2", "d3", "d3", "d4"],
                 id="copies-split-by-a-page-boundary"),
    pytest.param([0, 10, 20, 30], 2, 4, ["d0", "d1", "d2", "d2", "d3"],
                 id="both-copies-at-the-end-of-a-page"),
])
def test_a_record_stored_twice_is_kept_twice(config: Config, stamps: list[int], twice: int,
                                             limit: int, expected: list[str]) -> None:
    stored = records(stamps)
    stored.insert(twice + 1, dict(stored[twice]))
    listing = listed(config, FakeAuditAgent(stored), limit=limit)
    assert ([r["decision_id"] for r in listing.records], listing.problem) == (expected, None)


def test_newest_first_stops_after_one_page(config: Config) -> None:
    stored = records(list(range(250)))
    agent = FakeAuditAgent(stored, newest_first=True)
    listing = listed(config, agent)
    assert (listing.pages, listing.page_sizes, listing.problem, len(agent.asked)) == (
        1, (100,), None, 1)
    assert [r["decision_id"] for r in listing.records] == [f"d{n}" for n in range(249, 149, -1)]


def test_a_full_page_sharing_one_timestamp_cannot_be_paged(config: Config) -> None:
    listing = listed(config, FakeAuditAgent(records([5] * 150)))
    assert listing.problem == ("a full page of 100 records shared one timestamp, so since= "
                               "could not page past it")
    assert (len(listing.records), listing.pages, listing.page_sizes) == (100, 2, (100, 100))


@pytest.mark.parametrize(("agent", "problem"), [
    pytest.param(FakeAuditAgent([], status=404), "GET /audit answered HTTP 404: Not Found",
                 id="404"),
    pytest.param(lambda request: httpx.Response(200, json=[{"decision_id": "d0"}]),
                 'GET /audit did not answer {"records": [...]}: [{"decision_id":"d0"}]',
                 id="a-bare-list"),
    pytest.param(lambda request: httpx.Response(200, json={"records": "none"}),
                 'GET /audit did not answer {"records": [...]}', id="records-not-a-list"),
])
def test_unusable_answer_is_a_problem(config: Config,
                                      agent: Callable[[httpx.Request], httpx.Response],
                                      problem: str) -> None:
    listing = listed(config, agent)
    assert (listing.problem or "").startswith(problem), listing.problem
    assert (listing.records, listing.pages, listing.page_sizes) == ((), 1, ())


def test_a_later_page_failing_keeps_the_records_read(config: Config) -> None:
    agent = FakeAuditAgent(records(list(range(150))))

    def fails_second_time(request: httpx.Request) -> httpx.Response:
        return agent(request) if not agent.asked else httpx.Response(503, text="busy")

    listing = listed(config, fails_second_time)
    assert (len(listing.records), listing.pages, listing.page_sizes, listing.problem) == (
        100, 2, (100,), "GET /audit answered HTTP 503: busy")


def test_without_the_operator_token_the_problem_names_the_refusal(
        write_config: ConfigWriter) -> None:
    tokenless = load_config(write_config('url = "http://agent.test"', name="tokenless.toml"))
    listing = listed(tokenless, FakeAuditAgent(records([0])))
    assert listing.problem == ('GET /audit answered HTTP 401: '
                               '{"error":"operator token required"}')
