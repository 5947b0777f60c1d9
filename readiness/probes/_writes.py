"""Upstream writes: what the proxies saw an agent change, compared with what it claims.

A write is a request with a method other than GET, HEAD or OPTIONS to an upstream
of kind `tool`; calls to the LLM are never writes. Effects (the audit record's
claim) and recorded writes are compared as multisets of (METHOD, path): every
attempt counts, including ones that got no answer (status None), because a write
whose answer was lost may still have happened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from readiness.chaos.recorder import Exchange
from readiness.config import Config

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Write = dict[str, Any]  # {"upstream", "method", "path", "status"}


def tool_upstreams(config: Config) -> frozenset[str]:
    """The names of the upstreams whose calls can change something (kind = "tool")."""
    return frozenset(name for name, up in config.upstreams.items() if up.kind == "tool")


def is_write(exchange: Exchange, tools: frozenset[str]) -> bool:
    return exchange.upstream in tools and exchange.method.upper() not in SAFE_METHODS


def as_write(exchange: Exchange) -> Write:
    """A recorded exchange in the shape of an audit effect."""
    return {"upstream": exchange.upstream, "method": exchange.method.upper(),
            "path": exchange.path.partition("?")[0], "status": exchange.status}


def writes_in(exchanges: Iterable[Exchange], tools: frozenset[str]) -> list[Write]:
    """The writes among `exchanges`, in the order they were recorded."""
    return [as_write(e) for e in exchanges if is_write(e, tools)]


@dataclass(frozen=True)
class EffectsDiff:
    """How claimed effects differ from recorded writes."""

    missing: tuple[Write, ...] = ()
    invented: tuple[Write, ...] = ()
    status_mismatch: tuple[dict[str, Any], ...] = ()
    malformed: tuple[Any, ...] = ()

    @property
    def matches(self) -> bool:
        return not (self.missing or self.invented or self.status_mismatch or self.malformed)

    def summary(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} write(s) the upstream saw are not in effects "
                         f"(e.g. {_show(self.missing[0])})")
        if self.invented:
            parts.append(f"{len(self.invented)} effect(s) never reached the upstream "
                         f"(e.g. {_show(self.invented[0])})")
        if self.status_mismatch:
            first = self.status_mismatch[0]
            parts.append(f"{len(self.status_mismatch)} effect(s) with the wrong status "
                         f"(e.g. {first['write']}: claimed {first['claimed']}, upstream answered "
                         f"{first['recorded']})")
        if self.malformed:
            parts.append(f"{len(self.malformed)} effect(s) not of the form "
                         "{upstream, method, path, status}")
        return "; ".join(parts) or "effects match the recorded writes"


def _show(write: Mapping[str, Any]) -> str:
    return f"{write.get('method')} {write.get('path')} -> {write.get('status')}"


def _key(write: Mapping[str, Any]) -> tuple[str, str]:
    return str(write.get("method", "")).upper(), str(write.get("path", "")).partition("?")[0]


def parse_effects(effects: Any) -> tuple[list[Write], list[Any]]:
    """The well-formed effects, and the malformed entries."""
    if not isinstance(effects, list):
        return [], [effects]
    good, bad = [], []
    for entry in effects:
        if (isinstance(entry, dict) and isinstance(entry.get("method"), str)
                and isinstance(entry.get("path"), str)
                and _status_ok(entry.get("status"))):
            good.append(entry)
        else:
            bad.append(entry)
    return good, bad


def _status_ok(status: Any) -> bool:
    """None (no answer) or an HTTP status; True is an int to Python, not a status."""
    return status is None or (isinstance(status, int) and not isinstance(status, bool))


def compare(effects: Any, writes: Sequence[Write]) -> EffectsDiff:
    """Claimed `effects` (the raw audit field) against recorded `writes`."""
    claimed, malformed = parse_effects(effects)
    claimed_keys = Counter(_key(w) for w in claimed)
    recorded_keys = Counter(_key(w) for w in writes)
    missing = _take(writes, recorded_keys - claimed_keys)
    invented = _take(claimed, claimed_keys - recorded_keys)
    mismatch = []
    for key in claimed_keys & recorded_keys:
        said = sorted((w.get("status") for w in claimed if _key(w) == key), key=_order)
        seen = sorted((w.get("status") for w in writes if _key(w) == key), key=_order)
        if len(said) == len(seen) and said != seen:
            mismatch.append({"write": f"{key[0]} {key[1]}", "claimed": said, "recorded": seen})
    return EffectsDiff(tuple(missing), tuple(invented), tuple(mismatch), tuple(malformed))


def _order(status: Any) -> tuple[int, int]:
    return (0, 0) if status is None else (1, int(status))


def _take(writes: Sequence[Write], extra: Counter[tuple[str, str]]) -> list[Write]:
    """The writes accounting for the surplus counts in `extra`."""
    left = Counter(extra)
    taken = []
    for write in writes:
        if left[_key(write)] > 0:
            left[_key(write)] -= 1
            taken.append(dict(write))
    return taken
