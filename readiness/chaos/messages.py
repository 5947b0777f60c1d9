"""Plain HTTP/1.1 messages shared by the proxy, the simulators and the sinks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

Headers = list[tuple[str, str]]


def _find(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


@dataclass
class Request:
    """A request as read off the wire; `target` is the origin-form path and query."""

    method: str
    target: str
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first header with this name, case-insensitively."""
        return _find(self.headers, name)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


@dataclass
class Response:
    """A complete response; the writer adds Content-Length."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The first header with this name, case-insensitively."""
        return _find(self.headers, name)


Handler = Callable[[Request], Awaitable[Response]]
