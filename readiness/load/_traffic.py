"""The requests a Locust process sends and how it judges the answers (no Locust import).

Everything per request is kept cheap, because at ten thousand requests a second
a process has about 100 µs for Locust, the HTTP exchange and this code together:
scenario records are JSON-encoded once, bodies are spliced from bytes, and
acknowledgements go through a large write buffer flushed when the test stops.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Iterator, Mapping
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TextIO

from readiness.config.model import ScenarioConfig
from readiness.scenarios import ScenarioError, records

SPEC_ENV = "READINESS_LOAD_SPEC"
PROCESS_ENV = "READINESS_LOAD_PROCESS"  # "local", "master" or "worker:INDEX:COUNT"
ACK_PART_GLOB = "acknowledged.*.part"
FAKER_POOL = 16_384  # ~2 MB and 0.1-0.3 s at start: distinct records for most campaigns
SEED_STRIDE = 1_000_003  # worker i uses seed + i * SEED_STRIDE: far from seeds people pick
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}  # RFC 4122


def process_role(value: str | None) -> tuple[str, int, int]:
    """(role, worker index, worker count) from the PROCESS_ENV value."""
    if value and value.startswith("worker:"):
        _, index, count = value.split(":")
        return "worker", int(index), int(count)
    return (value or "local"), 0, 1


def scenario_stream(scenario: Mapping[str, Any], worker: int = 0,
                    workers: int = 1) -> Iterator[dict[str, Any]]:
    """This worker's share of the scenario's records, starting over when a file ends."""
    settings = {key: value for key, value in scenario.items() if key != "root"}
    try:
        config = ScenarioConfig(**settings)
    except TypeError as exc:
        raise ScenarioError(f"scenario settings {sorted(settings)}: {exc}") from None
    root = Path(scenario.get("root", "."))
    if config.source == "faker":
        return records(dataclasses.replace(config, seed=config.seed + worker * SEED_STRIDE), root)

    def dealt() -> Iterator[dict[str, Any]]:
        while True:
            count = 0
            for record in itertools.islice(records(config, root), worker, None, workers):
                count += 1
                yield record
            if count == 0:
                raise ScenarioError(f"[scenario] source {config.source}: no records for worker "
                                    f"{worker} of {workers}; the file needs at least {workers}")

    return dealt()


def new_ids() -> tuple[str, str]:
    """A random (UUID 4 request id, W3C traceparent with that UUID as its trace id).

    Built from one os.urandom call: uuid.uuid4() plus a span id costs 2.5x as much.
    """
    hexes = os.urandom(24).hex()
    trace = f"{hexes[:12]}4{hexes[13:16]}{_VARIANT[hexes[16]]}{hexes[17:32]}"
    request_id = f"{trace[:8]}-{trace[8:12]}-{trace[12:16]}-{trace[16:20]}-{trace[20:]}"
    return request_id, f"00-{trace}-{hexes[32:]}-01"


def encode(record: Mapping[str, Any]) -> bytes:
    """Compact JSON, as the body splices it."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


class RecordFeed:
    """Encoded scenario inputs for one process: a pre-generated ring, or a stream."""

    def __init__(self, scenario: Mapping[str, Any], *, worker: int = 0, workers: int = 1,
                 pool: int | None = None) -> None:
        stream = scenario_stream(scenario, worker, workers)
        if pool is None:
            pool = FAKER_POOL if scenario.get("source", "faker") == "faker" else 0
        self._stream: Iterator[dict[str, Any]] | None = None
        self._ring: list[bytes] = []
        if pool:
            self._ring = [encode(record) for record in itertools.islice(stream, pool)]
            self._cursor = itertools.cycle(self._ring)
        else:
            self._stream = stream

    def next(self) -> bytes:
        """The next input, JSON-encoded."""
        if self._stream is not None:
            return encode(next(self._stream))
        return next(self._cursor)


def _json_value(value: Any) -> str:
    """JSON for one value; strings (the usual case) without json.dumps's call overhead."""
    return encode_basestring(value) if isinstance(value, str) else json.dumps(value)


class AckWriter:
    """Appends one JSON line per acknowledged decision, through a large buffer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)  # a worker on another machine
        self._file: TextIO = path.open("a", encoding="utf-8", buffering=1 << 16)

    def write(self, request_id: str, decision_id: Any, status: Any) -> None:
        self._file.write(f'{{"request_id": "{request_id}", "decision_id": '
                         f'{_json_value(decision_id)}, "status": {_json_value(status)}}}\n')

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        self._file.close()


class Traffic:
    """Builds each invoke request and judges each answer, for one Locust process."""

    def __init__(self, wire: Mapping[str, Any], *, worker: int = 0, workers: int = 1,
                 ack_label: str = "local") -> None:
        self.method: str = wire["method"]
        self.path: str = wire["path"]
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if wire.get("token"):
            self._headers["Authorization"] = f"Bearer {wire['token']}"
        self.feed = RecordFeed(wire["scenario"], worker=worker, workers=workers,
                               pool=wire.get("record_pool"))
        self.acks = AckWriter(Path(wire["out_dir"]) / f"acknowledged.{ack_label}.part")

    def request(self) -> tuple[str, bytes, dict[str, str]]:
        """A fresh (request_id, body, headers); the W3C trace id is the request id's."""
        request_id, traceparent = new_ids()
        body = b'{"request_id":"' + request_id.encode() + b'","input":' + self.feed.next() + b"}"
        headers = {**self._headers, "X-Request-ID": request_id, "traceparent": traceparent}
        return request_id, body, headers

    def judge(self, request_id: str, status: int, content: bytes | None,
              error: BaseException | None) -> str | None:
        """None when the answer acknowledges a decision (recorded), else the failure kind."""
        if not status:
            return type(error).__name__ if error is not None else "no response"
        if not 200 <= status < 300:
            return f"HTTP {status}"
        try:
            answer = json.loads((content or b"").decode())
        except ValueError:
            return f"HTTP {status} without a JSON body"
        decision_id = answer.get("decision_id") if isinstance(answer, dict) else None
        if isinstance(decision_id, bool) or not isinstance(decision_id, str | int) or (
                decision_id == ""):
            return f"HTTP {status} without a decision_id"
        self.acks.write(request_id, decision_id, answer.get("status"))
        return None
