"""The ground truth: every upstream exchange the proxies saw, in order, queryable."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from readiness.chaos._wire import Fields, field_pairs
from readiness.chaos.messages import Headers

DEFAULT_BODY_CAP = 64 * 1024
_JSONL_BUFFER = 1024 * 1024
_EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Exchange:
    """One request the agent sent through a proxy, and what it got back.

    Headers and bodies are those seen on the agent's side of the proxy: the
    request as the agent sent it, the response as the agent received it (after any
    fault rewrote it). Bodies are truncated to the recorder's cap; `*_size` and
    `*_digest` always describe the whole body. `status` is None when the agent got
    no response at all (reset, never answered); a target the proxy could not reach
    is recorded as the 502/504 the agent received, with `error` saying why.
    Times are `time.time()` epoch seconds: `started_at` when the request head was
    complete, `ended_at` once the response was fully handed to the socket.
    """

    seq: int
    upstream: str
    method: str
    path: str
    status: int | None
    request_headers: Pairs
    response_headers: Pairs
    request_digest: str | None
    response_digest: str | None
    request_size: int
    response_size: int
    request_body: bytes
    response_body: bytes
    started_at: float
    ended_at: float
    correlation_id: str | None
    fault: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict; bodies are UTF-8 text when they decode, else base64.

        `request_body_encoding` / `response_body_encoding` say which ("utf-8" or
        "base64"), so the bytes can be restored exactly. Headers become [name, value]
        lists, in wire order.
        """
        request_body, request_encoding = _body_text(self.request_body)
        response_body, response_encoding = _body_text(self.response_body)
        return {
            "seq": self.seq,
            "upstream": self.upstream,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_headers": [list(pair) for pair in self.request_headers],
            "response_headers": [list(pair) for pair in self.response_headers],
            "request_digest": self.request_digest,
            "response_digest": self.response_digest,
            "request_size": self.request_size,
            "response_size": self.response_size,
            "request_body": request_body,
            "request_body_encoding": request_encoding,
            "response_body": response_body,
            "response_body_encoding": response_encoding,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "correlation_id": self.correlation_id,
            "fault": self.fault,
            "error": self.error,
        }


def _body_text(body: bytes) -> tuple[str, str]:
    """A body as (text, encoding): UTF-8 when it decodes cleanly, base64 otherwise."""
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def _digest(body: bytes) -> str:
    """`sha256:<hex>` of a body."""
    return "sha256:" + hashlib.sha256(body).hexdigest() if body else _EMPTY_DIGEST


_LAZY = ""  # in a row's digest: compute it from the row's (whole) body when read


def _fields_correlation(fields: Fields) -> str | None:
    """`correlation_id` of the proxy's fields, decoded only if a candidate is there."""
    lowered = fields.lower()  # (find, not `in`: bytes `in` formats a TypeError first)
    if lowered.find(b"x-request-id\n") < 0 and lowered.find(b"traceparent\n") < 0:
        return None
    names, values = lowered.split(b"\n")[::2], fields.split(b"\n")[1::2]
    candidates = [
        (name.decode(), value.decode("latin-1").strip(" \t"))
        for name, value in zip(names, values, strict=True)
        if name == b"x-request-id" or name == b"traceparent"
    ]
    return correlation_id(candidates)


def correlation_id(headers: Headers) -> str | None:
    """X-Request-ID if present, else the trace-id of a W3C traceparent, else None."""
    traceparent = None
    for name, value in headers:
        if name[:1] not in "xXtT":  # cheap pre-filter: this runs once per proxied request
            continue
        lowered = name.lower()
        if lowered == "x-request-id" and value:
            return value
        if lowered == "traceparent" and traceparent is None:
            traceparent = value
    if traceparent is not None:
        parts = traceparent.strip().split("-")
        if len(parts) >= 4 and len(parts[1]) == 32:
            return parts[1].lower()
    return None


_FIELDS = tuple(Exchange.__dataclass_fields__)
_Row = tuple[Any, ...]  # Exchange's fields, in order


def _new_exchange(row: _Row) -> Exchange:
    """Build an Exchange from a row, skipping the frozen __init__'s per-field setattr.

    Completes what `record()` left for later: flat fields become header pairs,
    lazy digests are computed from the bodies.
    """
    exchange = object.__new__(Exchange)
    values = dict(zip(_FIELDS, row, strict=True))
    for index in (5, 6):
        headers = row[index]
        if type(headers) is bytes:
            values[_FIELDS[index]] = field_pairs(headers)
    if row[7] == _LAZY:
        values["request_digest"] = _digest(row[11])
    if row[8] == _LAZY:
        values["response_digest"] = _digest(row[12])
    exchange.__dict__.update(values)
    return exchange


Predicate = Callable[[Exchange], bool]


class Recorder:
    """Thread-safe, append-only log of exchanges with an optional JSONL sink.

    Sequence numbers start at 1 and are unique per recorder. Use `exchanges()` to
    query and `await wait_for(...)` to wait for traffic without polling.
    Exchanges are stored as plain tuples and built on query: tuples of atomic
    values drop out of the garbage collector's tracking, so a recorder holding a
    million exchanges adds no GC pauses to the proxy's hot path. The proxy's
    header fields (bytes) are decoded, and digests of bodies under the cap
    computed, only when an exchange is read. With
    `jsonl_path`, each exchange is appended as one JSON line through a 1 MiB
    buffer; `close()` flushes it (call it, or use the recorder as a context manager).
    `max_kept` bounds memory for long runs (the standalone proxy): only the newest
    `max_kept` exchanges stay queryable, while seqs and the JSONL file stay complete.
    """

    def __init__(
        self,
        jsonl_path: Path | str | None = None,
        *,
        body_cap: int = DEFAULT_BODY_CAP,
        max_kept: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._rows: list[_Row] = []
        self._first_seq = 1  # seq of self._rows[0]; grows when max_kept drops old rows
        self._next_seq = 1
        self._max_kept = max_kept
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._body_cap = body_cap
        self._sink: IO[str] | None = None
        if jsonl_path is not None:
            self._sink = open(jsonl_path, "w", encoding="utf-8", buffering=_JSONL_BUFFER)  # noqa: SIM115 - closed in close()

    def record(
        self,
        *,
        upstream: str,
        method: str,
        path: str,
        status: int | None,
        request_headers: Headers | Fields,
        response_headers: Headers | Fields,
        request_body: bytes,
        response_body: bytes | None,
        started_at: float,
        ended_at: float,
        fault: str | None = None,
        error: str | None = None,
    ) -> int:
        """Append one exchange and return its seq (sizes and truncation done here).

        `response_body` None means there was no response at all. Headers may also
        be the proxy's flat bytes `Fields`. To keep this cheap (it runs once per
        proxied request), fields are decoded and digests of bodies kept whole are
        computed when the exchange is read, not here.
        """
        cap = self._body_cap
        request_row: Pairs | Fields
        if isinstance(request_headers, bytes):  # the proxy's fields
            request_row = request_headers
            correlation = _fields_correlation(request_headers)
        else:
            correlation = correlation_id(request_headers)
            request_row = tuple(request_headers)
        response_row: Pairs | Fields
        if isinstance(response_headers, bytes):
            response_row = response_headers
        else:
            response_row = tuple(response_headers)
        request_size = len(request_body)
        request_digest = _LAZY  # computed from the kept body when read
        if request_size > cap:
            request_digest = _digest(request_body)
            request_body = request_body[:cap]
        response_digest: str | None = None  # no response at all
        response_size = 0
        if response_body is None:
            response_body = b""
        else:
            response_size = len(response_body)
            response_digest = _LAZY
            if response_size > cap:
                response_digest = _digest(response_body)
                response_body = response_body[:cap]
        with self._lock:
            seq = self._next_seq
            self._next_seq = seq + 1
            row = (
                seq,
                upstream,
                method,
                path,
                status,
                request_row,
                response_row,
                request_digest,
                response_digest,
                request_size,
                response_size,
                request_body,
                response_body,
                started_at,
                ended_at,
                correlation,
                fault,
                error,
            )
            rows = self._rows
            rows.append(row)
            if self._max_kept is not None and len(rows) > 2 * self._max_kept:
                dropped = len(rows) - self._max_kept  # in batches: amortised O(1)
                del rows[:dropped]
                self._first_seq += dropped
            if self._sink is not None:
                line = json.dumps(_new_exchange(row).to_json(), separators=(",", ":"))
                self._sink.write(line + "\n")
            waiters = self._waiters
        if waiters:
            self._wake(waiters)
        return seq

    def exchanges(
        self,
        upstream: str | None = None,
        correlation_id: str | None = None,
        since_seq: int | None = None,
    ) -> list[Exchange]:
        """Recorded exchanges in seq order, filtered; `since_seq` is exclusive."""
        with self._lock:
            rows = self._rows[max(0, (since_seq or 0) + 1 - self._first_seq) :]
        if upstream is not None:
            rows = [row for row in rows if row[1] == upstream]
        if correlation_id is not None:
            rows = [row for row in rows if row[15] == correlation_id]
        return [_new_exchange(row) for row in rows]

    async def wait_for(
        self, predicate: Predicate, timeout: float, *, count: int = 1
    ) -> list[Exchange]:
        """Wait until at least `count` exchanges match `predicate`; return all matches.

        Considers exchanges already recorded too. Wakes on each new exchange (no
        polling). Raises `TimeoutError` naming how many matched after `timeout` s.
        """
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        matches: list[Exchange] = []
        seen = 0  # the last seq already examined
        with self._lock:
            self._waiters = [*self._waiters, entry]  # copy-on-write: record() iterates unlocked
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event.clear()
                    with self._lock:
                        fresh = self._rows[max(0, seen + 1 - self._first_seq) :]
                    if fresh:
                        seen = fresh[-1][0]
                    matches.extend(
                        exchange for exchange in map(_new_exchange, fresh) if predicate(exchange)
                    )
                    if len(matches) >= count:
                        return matches
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{len(matches)} of {count} expected exchanges matched within {timeout} s"
            ) from None
        finally:
            with self._lock:
                self._waiters = [waiter for waiter in self._waiters if waiter is not entry]

    def _wake(self, waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
        """Set each waiter's event on its own loop (record() may run on another thread)."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, event in waiters:
            if loop is current:
                event.set()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def flush(self) -> None:
        """Push buffered JSONL lines to the file."""
        with self._lock:
            if self._sink is not None:
                self._sink.flush()

    def close(self) -> None:
        """Flush and close the JSONL sink; recorded exchanges stay queryable."""
        with self._lock:
            sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        """How many exchanges were recorded (including any no longer kept)."""
        return self._next_seq - 1
