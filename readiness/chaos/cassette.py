"""vcrpy cassettes: recorded upstream traffic, scrubbed, written, and served back as an upstream.

Recording converts the recording proxy's exchanges into vcrpy cassettes instead of
letting vcrpy patch an HTTP client: vcrpy can only patch libraries inside the
process that makes the calls, and the agent is usually another process (any
language); in-process agents are already patched by respx, which vcrpy would fight.
The proxy (or the in-process injector) sees every call either way, so one path
serves both. The files are genuine vcrpy cassettes: vcrpy's own `Request`,
`Cassette.append` (which runs the scrubber as its `before_record_request` and
`before_record_response` hooks, after vcrpy's `decode_response`, as
`decode_compressed_response=True` does) and its filesystem persister and serializer
(YAML, or JSON for a `.json` path) write them, and `vcr.use_cassette` plays them back.

`CassetteReplay` is the reverse: a `Handler` answering each request with a recorded
response, behind the recording proxy as any target (so faults still apply). It reads
any vcrpy cassette, including ones a test suite recorded with vcrpy itself.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vcr.cassette import Cassette
from vcr.filters import decode_response
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import Request as VcrRequest
from vcr.serializers import jsonserializer, yamlserializer

from readiness.chaos._http import HOP_BY_HOP
from readiness.chaos._scrub import SCRUBBED, Scrubber, parse_rule
from readiness.chaos._serialize import json_response
from readiness.chaos.messages import Headers, Request, Response
from readiness.chaos.recorder import Exchange

__all__ = ["SCRUBBED", "CassetteError", "CassetteReplay", "Scrubber", "parse_rule",
           "read_cassette", "recordable", "write_cassette"]

_DROPPED = HOP_BY_HOP | {"host"}  # the URI carries the host; framing is the transport's

Interaction = tuple[Any, dict[str, Any]]  # (vcr.request.Request, vcrpy response dict)


class CassetteError(Exception):
    """A cassette file is missing, unreadable or holds no usable interaction."""


def _serializer(path: Path) -> Any:
    return jsonserializer if path.suffix.lower() == ".json" else yamlserializer


def recordable(exchange: Exchange) -> bool:
    """Whether an exchange is the upstream's own complete answer (nothing injected or cut)."""
    return (exchange.status is not None and exchange.fault is None and exchange.error is None
            and len(exchange.request_body) == exchange.request_size
            and len(exchange.response_body) == exchange.response_size)


def write_cassette(path: Path, exchanges: Iterable[Exchange], *, origin: str,
                   scrubber: Scrubber) -> int:
    """Write the recordable exchanges as one vcrpy cassette at `path`; how many were written.

    `origin` is the upstream's real base URL (`https://api.openai.com`); each request's
    URI is `origin` + the path the agent sent. Compressed bodies are stored decoded.
    """
    cassette = Cassette(str(path), serializer=_serializer(path), record_mode=RecordMode.ALL,
                        before_record_request=scrubber.before_record_request,
                        before_record_response=lambda response: _with_length(
                            scrubber.before_record_response(_decoded(response, scrubber))))
    for exchange in exchanges:
        if recordable(exchange):
            cassette.append(_vcr_request(exchange, origin), _vcr_response(exchange))
    FilesystemPersister.save_cassette(
        str(path), {"requests": cassette.requests, "responses": cassette.responses},
        serializer=_serializer(path))
    return len(cassette)


def _kept(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() not in _DROPPED]


def _vcr_request(exchange: Exchange, origin: str) -> Any:
    headers: dict[str, str] = {}
    for name, value in _kept(exchange.request_headers):
        headers.setdefault(name, value)  # vcrpy keeps one value per request header
    return VcrRequest(exchange.method, origin.rstrip("/") + exchange.path,
                      exchange.request_body or None, headers)


def _vcr_response(exchange: Exchange) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in _kept(exchange.response_headers):
        headers.setdefault(name, []).append(value)
    assert exchange.status is not None  # recordable() checked
    try:
        message = HTTPStatus(exchange.status).phrase
    except ValueError:
        message = ""
    return {"status": {"code": exchange.status, "message": message}, "headers": headers,
            "body": {"string": exchange.response_body}}


def _decoded(response: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    """vcrpy's `decode_response`; a body left encoded (zstd) is counted: no rule can read it."""
    decoded: dict[str, Any] = decode_response(response)
    if any(name.lower() == "content-encoding" and any(v != "identity" for v in values)
           for name, values in decoded["headers"].items()):
        scrubber.counts["undecoded"] += 1
    return decoded


def _with_length(response: dict[str, Any]) -> dict[str, Any]:
    """Content-Length set to the (decoded, scrubbed) body's length, as an HTTP server would."""
    headers: dict[str, list[str]] = response["headers"]
    for name in [n for n in headers if n.lower() == "content-length"]:
        del headers[name]
    headers["Content-Length"] = [str(len(response["body"]["string"] or b""))]
    return response


def read_cassette(path: Path) -> list[Interaction]:
    """The interactions of a vcrpy cassette (YAML, or JSON for `.json`); `CassetteError`."""
    if path.is_dir():
        raise CassetteError("it is a folder, not a cassette file")
    if not path.is_file():
        raise CassetteError("no such file")
    try:
        requests, responses, *_metadata = FilesystemPersister.load_cassette(
            str(path), serializer=_serializer(path))
    except CassetteNotFoundError:  # vcrpy's word for an empty file
        raise CassetteError("it is empty") from None
    except Exception as exc:  # vcrpy raises whatever its YAML/JSON parser raised
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CassetteError(f"it is not a vcrpy cassette ({reason})") from None
    interactions = list(zip(requests, responses, strict=False))
    if not interactions:
        raise CassetteError("it holds no recorded interaction")
    for index, (_, response) in enumerate(interactions, 1):
        if not isinstance(response, dict) or not isinstance(response.get("status"), dict):
            raise CassetteError(f"interaction {index} has no response status in vcrpy's format")
    return interactions


@dataclass(frozen=True)
class _Recorded:
    """One interaction, keyed for matching, with the response it replays."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: object
    response: Response


class CassetteReplay:
    """A `Handler` serving a cassette's recorded responses back, for `cassette:PATH` targets.

    A request matches the interactions with its method, path and query. Paths match
    exactly, else after the recorded base path (`/chat/completions` matches
    `https://api.openai.com/v1/chat/completions`), else when they differ only in
    identifier segments, those with a digit (`/leads/lead-7f3a/assign` matches
    `/leads/lead-91c2/assign`; `v1` is a version, not an identifier). Among them, those with
    the same body (JSON compared as data) come first; of those candidates the least played
    is served, in recorded order, so repeats cycle through the cassette and a small
    cassette can serve a load test. Both sides pass through `scrubber` first, so a
    request carrying a real key matches an interaction recorded with `<scrubbed>`.
    Unmatched requests get 404 `{"error": ...}` and are counted in `unmatched`.
    """

    def __init__(self, interactions: Sequence[Interaction], *, source: str = "cassette",
                 scrubber: Scrubber | None = None) -> None:
        self.source = source
        self._scrubber = scrubber or Scrubber()
        self._recorded = [self._entry(request, response) for request, response in interactions]
        self._plays = [0] * len(self._recorded)
        self._lock = threading.Lock()  # sync in-process clients call from other threads
        self.unmatched: Counter[str] = Counter()

    @classmethod
    def from_file(cls, path: Path, *, scrubber: Scrubber | None = None) -> CassetteReplay:
        """Load a cassette file; `CassetteError` says what is wrong with it."""
        return cls(read_cassette(path), source=str(path), scrubber=scrubber)

    @property
    def played(self) -> int:
        """How many requests got a recorded answer."""
        return sum(self._plays)

    def _entry(self, request: Any, response: dict[str, Any]) -> _Recorded:
        method, path, query, body = self._key(request.method, request.uri, request.body,
                                              dict(request.headers))
        status = response["status"]
        headers: Headers = [
            (name, str(value)) for name, values in (response.get("headers") or {}).items()
            for value in (values if isinstance(values, list) else [values])
            if name.lower() not in HOP_BY_HOP]
        data = (response.get("body") or {}).get("string") or b""
        if isinstance(data, str):
            data = data.encode()
        return _Recorded(method, path, query, body,
                         Response(int(status["code"]), headers, data, status.get("message") or ""))

    def _key(self, method: str, uri: str, body: object, headers: dict[str, str]
             ) -> tuple[str, str, tuple[tuple[str, str], ...], object]:
        """(method, path, sorted query, normalised body) after the scrubber's rules."""
        request = VcrRequest(method, uri, body, headers)
        request = self._scrubber.before_record_request(request)
        parts = urlsplit(request.uri)
        query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return method.upper(), parts.path or "/", query, _normal_body(request.body)

    async def __call__(self, request: Request) -> Response:
        headers = {name: value for name, value in request.headers}
        method, path, query, body = self._key(request.method, "http://replay" + request.target,
                                              request.body or None, headers)
        with self._lock:
            index = self._pick(method, path, query, body)
            if index is None:
                self.unmatched[f"{method} {path}"] += 1
            else:
                self._plays[index] += 1
        if index is None:
            return json_response(404, {"error": f"no recorded interaction for {method} {path} "
                                       f"in cassette {self.source}; record it again with "
                                       "`readiness record`"})
        recorded = self._recorded[index].response
        return Response(recorded.status, list(recorded.headers), recorded.body, recorded.reason)

    def _pick(self, method: str, path: str, query: tuple[tuple[str, str], ...],
              body: object) -> int | None:
        tiers: dict[int, list[int]] = {}
        for index, recorded in enumerate(self._recorded):
            if recorded.method == method and recorded.query == query:
                tier = _path_tier(recorded.path, path)
                if tier is not None:
                    tiers.setdefault(tier, []).append(index)
        if not tiers:
            return None
        same = tiers[min(tiers)]
        exact = [i for i in same if self._recorded[i].body == body]
        return min(exact or same, key=lambda i: self._plays[i])  # ties: recorded order


_VERSION = re.compile(r"v\d+(\.\d+)*")


def _path_tier(recorded: str, incoming: str) -> int | None:
    """How well a recorded path matches: 0 the same, 1 after the recorded base path,
    2 differing only in identifier segments (`/leads/lead-7f3a/assign`); None: no match."""
    if recorded == incoming:
        return 0
    if incoming != "/" and recorded.endswith(incoming):
        return 1
    have, want = recorded.split("/")[1:], incoming.split("/")[1:]
    if len(want) > len(have):
        return None
    pairs = list(zip(have[len(have) - len(want):], want, strict=True))
    if all(a == b or (_identifier(a) and _identifier(b)) for a, b in pairs) and any(
            a == b and not _identifier(a) for a, b in pairs):  # a route, not ids alone
        return 2
    return None


def _identifier(segment: str) -> bool:
    """A path segment that names one record (has a digit), not a route or an API version."""
    return any(c.isdigit() for c in segment) and not _VERSION.fullmatch(segment)


def _normal_body(body: object) -> object:
    """Bodies compared as JSON data when they parse, else as bytes; no body is b""."""
    if body is None:
        return b""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes):
        return repr(body)
    try:
        return json.dumps(json.loads(body), sort_keys=True)
    except ValueError:
        return body
