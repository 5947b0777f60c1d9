"""Calls on the agent's operator endpoints that several items share (audit, control)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from readiness.client import Reply
from readiness.context import RunContext

POLL_S = 0.05
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
LIST_PAGE = 100
MAX_PAGES = 50


@dataclass(frozen=True)
class Fetched:
    """GET /audit/{decision_id}: the record, when it appeared, or why it did not."""

    decision_id: str
    record: dict[str, Any] | None
    status: int | None
    after_s: float | None  # seconds from the first try to the first 200
    error: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "http_status": self.status,
                "found_after_s": self.after_s, "error": self.error}


async def fetch_record(ctx: RunContext, decision_id: str, patience_s: float = 5.0) -> Fetched:
    """Fetch an audit record, retrying a 404 for up to `patience_s` (records may lag)."""
    started = time.monotonic()
    endpoint = ctx.config.agent.endpoints["audit"]
    while True:
        reply = await ctx.client.call(endpoint, decision_id=decision_id, timeout_s=10)
        elapsed = round(time.monotonic() - started, 3)
        data = reply.json()
        if reply.ok and isinstance(data, dict):
            return Fetched(decision_id, data, reply.status, elapsed)
        if reply.status != 404 or elapsed >= patience_s:
            problem = reply.error or (f"HTTP {reply.status}" if not reply.ok
                                      else "the body is not a JSON object")
            return Fetched(decision_id, None, reply.status, None, problem)
        await asyncio.sleep(POLL_S)


@dataclass(frozen=True)
class Listing:
    """Every record GET /audit?since= returned, page by page."""

    since: str
    records: tuple[dict[str, Any], ...] = ()
    pages: int = 0
    problem: str | None = None
    page_sizes: tuple[int, ...] = field(default_factory=tuple)


async def list_since(ctx: RunContext, since: dt.datetime, limit: int = LIST_PAGE) -> Listing:
    """Page through GET /audit?since=...&limit=...; the next page starts at the last timestamp.

    `since` is inclusive in the contract, so a page repeats the previous page's records
    that share its last timestamp; exactly those repeats are dropped. Any other
    repeat is the agent's (a record stored twice) and is kept for the probes to see.
    """
    endpoint = ctx.config.agent.endpoints["audit_list"]
    start = rfc3339(since)
    cursor = start
    key, stamp = ctx.field("decision_id"), ctx.field("timestamp")
    records: list[dict[str, Any]] = []
    sizes: list[int] = []
    overlap: Counter[Any] = Counter()  # ids at the cursor's timestamp already taken
    for page in range(1, MAX_PAGES + 1):
        reply = await ctx.client.call(endpoint, params={"since": cursor, "limit": str(limit)},
                                      timeout_s=15)
        batch = _records_of(reply)
        if batch is None:
            return Listing(start, tuple(records), page, _listing_problem(reply), tuple(sizes))
        sizes.append(len(batch))
        fresh = []
        for record in batch:
            if str(record.get(stamp)) == cursor and overlap[record.get(key)] > 0:
                overlap[record.get(key)] -= 1
                continue
            fresh.append(record)
        records.extend(fresh)
        if len(batch) < limit or not _oldest_first(batch, stamp):
            # a page out of order cannot be paged by its last timestamp: stop, the probe
            # reports the order
            return Listing(start, tuple(records), page, None, tuple(sizes))
        if not fresh:
            return Listing(start, tuple(records), page,
                           f"a full page of {limit} records shared one timestamp, so "
                           "since= could not page past it", tuple(sizes))
        cursor = str(batch[-1].get(stamp))
        overlap = Counter(r.get(key) for r in batch if str(r.get(stamp)) == cursor)
    return Listing(start, tuple(records), MAX_PAGES,
                   f"stopped after {MAX_PAGES} pages of {limit}", tuple(sizes))


def _oldest_first(batch: list[dict[str, Any]], stamp: str) -> bool:
    times = [parse_rfc3339(r.get(stamp)) for r in batch]
    known = [t for t in times if t is not None]
    return all(a <= b for a, b in itertools.pairwise(known))


def _records_of(reply: Reply) -> list[dict[str, Any]] | None:
    data = reply.json()
    if not reply.ok or not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return None
    return [r for r in data["records"] if isinstance(r, dict)]


def _listing_problem(reply: Reply) -> str:
    if reply.error:
        return f"GET {reply.path} got no usable answer: {reply.error}"
    if not reply.ok:
        return f"GET {reply.path} answered HTTP {reply.status}: {reply.text[:200]}"
    return f"GET {reply.path} did not answer {{\"records\": [...]}}: {reply.text[:200]}"


def rfc3339(moment: dt.datetime) -> str:
    """UTC with microseconds and a Z, the form every RFC 3339 parser accepts."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(value: Any) -> dt.datetime | None:
    """A timezone-aware datetime, or None when `value` is not RFC 3339."""
    if not isinstance(value, str) or _RFC3339.match(value) is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


async def set_mode(ctx: RunContext, mode: str) -> Reply:
    """PUT the control endpoint with the operator token."""
    return await ctx.client.call(ctx.config.agent.endpoints["control"],
                                 json_body={ctx.field("mode"): mode}, timeout_s=15)
