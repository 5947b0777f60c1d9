"""What an answer must not give away: stack traces, file paths, internal hosts, secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable

from readiness.probes._answers import leaked_trace

_PATH = re.compile(
    r"(?<![\w/.])/(?:home|usr|opt|srv|var|etc|app|root|tmp|Users|workspace|work)"
    r"/[\w.@-]+(?:/[\w.@-]+)+"
    r"|\b[A-Za-z]:\\{1,2}(?:[\w .-]+\\{1,2})+[\w.-]+"
    r"|\b[\w-]+(?:/[\w-]+)*\.py\b(?=[\"',: ]|$)")
_INTERNAL_HOST = re.compile(
    r"\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?"
    r"|\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b(?::\d+)?"
    r"|\b192\.168\.\d{1,3}\.\d{1,3}\b(?::\d+)?"
    r"|\b172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}(?::\d+)?"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:internal|local|lan|svc|cluster\.local|corp)\b")
_SECRET = re.compile(
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{12,}")


def leaks(text: str, *, secrets: Iterable[str] = (), hosts: Iterable[str] = ()) -> list[str]:
    """Each kind of internal detail `text` gives away, with the fragment (masked if secret).

    `secrets` are values the harness knows must stay private (the agent's tokens);
    `hosts` are addresses the agent alone should know (its upstreams' real targets).
    """
    found = []
    if (trace := leaked_trace(text)) is not None:
        found.append(f"a stack trace ({_clip(trace)})")
    if (path := _PATH.search(text)) is not None:
        found.append(f"a file path ({_clip(path.group(0))})")
    named = [h for h in hosts if h and h in text]
    host = _INTERNAL_HOST.search(text)
    if named or host is not None:
        shown = named[0] if named else host.group(0) if host is not None else ""
        found.append(f"an internal host ({_clip(shown)})")
    known = [s for s in secrets if s and len(s) >= 6 and s in text]
    pattern = _SECRET.search(text)
    if known or pattern is not None:
        value = known[0] if known else pattern.group(0) if pattern else ""
        found.append(f"a secret ({mask(value)})")
    return found


def mask(secret: str) -> str:
    """At most a quarter of the secret (four characters at most), then asterisks."""
    shown = min(4, len(secret) // 4)
    return secret[:shown] + "*" * min(12, max(4, len(secret) - shown))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
