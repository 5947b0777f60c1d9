"""Recorder: fields, queries, waiting, the JSONL sink, thread safety."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import json
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from readiness.chaos.messages import Headers
from readiness.chaos.recorder import Exchange, Recorder, correlation_id

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def run(coro: Coroutine[Any, Any, None], timeout: float = 20.0) -> None:
    """Run an async test body with an overall deadline."""
    asyncio.run(asyncio.wait_for(coro, timeout))


def add(
    recorder: Recorder,
    upstream: str = "crm",
    headers: Headers | None = None,
    request_body: bytes = b'{"a":1}',
    response_body: bytes | None = b'{"ok":true}',
    status: int | None = 200,
    **extra: Any,
) -> int:
    """Record one exchange with sensible defaults."""
    return recorder.record(
        upstream=upstream,
        method="POST",
        path="/leads?x=1",
        status=status,
        request_headers=headers or [("Content-Type", "application/json")],
        response_headers=[("Content-Type", "application/json")],
        request_body=request_body,
        response_body=response_body,
        started_at=100.0,
        ended_at=100.5,
        **extra,
    )


def test_fields_digests_sizes_and_truncation() -> None:
    recorder = Recorder(body_cap=4)
    seq = add(recorder, fault="rate_limit", error="boom")
    (exchange,) = recorder.exchanges()
    assert seq == exchange.seq == 1
    assert exchange.upstream == "crm" and exchange.method == "POST"
    assert exchange.path == "/leads?x=1" and exchange.status == 200
    assert exchange.request_headers == (("Content-Type", "application/json"),)
    assert exchange.request_digest == "sha256:" + hashlib.sha256(b'{"a":1}').hexdigest()
    assert exchange.response_digest == "sha256:" + hashlib.sha256(b'{"ok":true}').hexdigest()
    assert (exchange.request_size, exchange.response_size) == (7, 11)
    assert (exchange.request_body, exchange.response_body) == (b'{"a"', b'{"ok')
    assert (exchange.started_at, exchange.ended_at) == (100.0, 100.5)
    assert (exchange.fault, exchange.error) == ("rate_limit", "boom")
    with pytest.raises(AttributeError):
        exchange.status = 500  # type: ignore[misc]


def test_no_response_has_no_response_digest() -> None:
    recorder = Recorder()
    add(recorder, response_body=None, status=None, error="connection reset")
    (exchange,) = recorder.exchanges()
    assert exchange.status is None and exchange.response_digest is None
    assert exchange.response_size == 0 and exchange.error == "connection reset"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("X-Request-ID", "req-1"), ("traceparent", TRACEPARENT)], "req-1"),
        ([("traceparent", TRACEPARENT)], TRACE_ID),
        ([("TraceParent", TRACEPARENT.upper())], TRACE_ID),
        ([("traceparent", "garbage")], None),
        ([("x-request-id", "")], None),
        ([], None),
    ],
)
def test_correlation_id(headers: Headers, expected: str | None) -> None:
    assert correlation_id(headers) == expected


def test_queries_filter_by_upstream_correlation_and_since_seq() -> None:
    recorder = Recorder()
    add(recorder, "crm", [("X-Request-ID", "a")])
    add(recorder, "llm", [("X-Request-ID", "a")])
    add(recorder, "crm", [("traceparent", TRACEPARENT)])
    assert [e.seq for e in recorder.exchanges()] == [1, 2, 3]
    assert [e.seq for e in recorder.exchanges(upstream="crm")] == [1, 3]
    assert [e.seq for e in recorder.exchanges(correlation_id="a")] == [1, 2]
    assert [e.seq for e in recorder.exchanges(correlation_id=TRACE_ID)] == [3]
    assert [e.seq for e in recorder.exchanges(since_seq=1)] == [2, 3]
    assert [e.seq for e in recorder.exchanges(upstream="crm", since_seq=1)] == [3]
    assert recorder.exchanges(since_seq=3) == [] and len(recorder) == 3
    assert Recorder().exchanges() == []


def test_to_json_is_lossless_for_text_and_binary_bodies() -> None:
    recorder = Recorder()
    add(recorder, request_body="héllo".encode(), response_body=b"\xff\x00binary")
    payload = recorder.exchanges()[0].to_json()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["request_body"] == "héllo" and payload["request_body_encoding"] == "utf-8"
    assert payload["response_body_encoding"] == "base64"
    assert base64.b64decode(payload["response_body"]) == b"\xff\x00binary"
    assert payload["request_headers"] == [["Content-Type", "application/json"]]
    assert set(payload) >= {f for f in Exchange.__dataclass_fields__}


def test_jsonl_sink_writes_one_line_per_exchange_and_flushes_on_close(tmp_path: Path) -> None:
    path = tmp_path / "record.jsonl"
    with Recorder(path) as recorder:
        for i in range(3):
            add(recorder, headers=[("X-Request-ID", f"r{i}")])
    lines = path.read_text().splitlines()
    assert [json.loads(line)["correlation_id"] for line in lines] == ["r0", "r1", "r2"]
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    recorder.close()  # idempotent
    assert len(recorder.exchanges()) == 3  # still queryable


def test_concurrent_threads_get_unique_consecutive_seqs() -> None:
    recorder = Recorder()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(250):
            add(recorder)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.seq for e in recorder.exchanges()] == list(range(1, 2001))


def test_wait_for_returns_existing_matches_at_once() -> None:
    async def body() -> None:
        recorder = Recorder()
        add(recorder, "llm")
        found = await recorder.wait_for(lambda e: e.upstream == "llm", timeout=0.01)
        assert [e.seq for e in found] == [1]

    run(body())


def test_wait_for_wakes_on_new_exchanges_until_count() -> None:
    async def body() -> None:
        recorder = Recorder()
        waiting = asyncio.create_task(
            recorder.wait_for(lambda e: e.upstream == "crm", timeout=10, count=2)
        )
        await asyncio.sleep(0)  # let the waiter register
        add(recorder, "crm")
        add(recorder, "llm")
        await asyncio.sleep(0)
        assert not waiting.done()
        add(recorder, "crm")
        found = await asyncio.wait_for(waiting, 5)
        assert [e.seq for e in found] == [1, 3]

    run(body())


def test_wait_for_wakes_when_another_thread_records() -> None:
    async def body() -> None:
        recorder = Recorder()
        thread = threading.Thread(target=add, args=(recorder, "other-thread"))
        waiting = asyncio.create_task(recorder.wait_for(lambda e: True, timeout=10))
        await asyncio.sleep(0)
        thread.start()
        found = await asyncio.wait_for(waiting, 5)
        thread.join()
        assert found[0].upstream == "other-thread"

    run(body())


def test_wait_for_times_out_with_a_count_in_the_message() -> None:
    async def body() -> None:
        recorder = Recorder()
        add(recorder)
        with pytest.raises(TimeoutError, match=r"1 of 2 expected exchanges matched within 0\.05 s"):
            await recorder.wait_for(lambda e: True, timeout=0.05, count=2)
        assert recorder._waiters == []  # no leaked waiter

    run(body())


def test_max_kept_bounds_memory_but_keeps_seqs_and_the_file_complete(tmp_path: Path) -> None:
    path = tmp_path / "record.jsonl"
    with Recorder(path, max_kept=3) as recorder:
        for _ in range(10):
            add(recorder)
        kept = [e.seq for e in recorder.exchanges()]
        assert kept[-3:] == [8, 9, 10] and len(kept) <= 6 and len(recorder) == 10
        assert [e.seq for e in recorder.exchanges(since_seq=8)] == [9, 10]
        assert [e.seq for e in recorder.exchanges(since_seq=1)] == kept

        async def wait() -> None:
            found = await recorder.wait_for(lambda e: e.seq >= 9, timeout=1)
            assert [e.seq for e in found] == [9, 10]

        run(wait())
    assert len(path.read_text().splitlines()) == 10


def test_proxy_fields_are_decoded_and_digests_computed_when_read() -> None:
    recorder = Recorder(body_cap=4)
    fields = b"Host\nh\nX-Request-ID\n r-9 \nX-Empty\n"
    recorder.record(
        upstream="crm",
        method="GET",
        path="/",
        status=200,
        request_headers=fields,
        response_headers=b"",
        request_body=b"abc",
        response_body=b"too long",
        started_at=1.0,
        ended_at=2.0,
    )
    row = recorder._rows[0]
    gc.collect(0)
    assert not gc.is_tracked(row)  # atomic values only: no GC work for kept exchanges
    (exchange,) = recorder.exchanges(correlation_id="r-9")
    assert exchange.request_headers == (("Host", "h"), ("X-Request-ID", "r-9"), ("X-Empty", ""))
    assert exchange.response_headers == ()
    assert exchange.request_digest == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert exchange.response_digest == "sha256:" + hashlib.sha256(b"too long").hexdigest()
    assert exchange.response_body == b"too " and exchange.response_size == 8
