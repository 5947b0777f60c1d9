"""The one probe registry: every probe and observer, built-in or third-party."""

from __future__ import annotations

import importlib.metadata
import os
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from readiness.items import BY_KEY, ITEM_KEYS
from readiness.results import Finding, Outcome, ProbeResult

if TYPE_CHECKING:
    from readiness.context import RunContext

ENTRY_POINT_GROUP = "readiness.probes"
DISABLE_AUTOLOAD_ENV = "READINESS_DISABLE_PLUGIN_AUTOLOAD"

ProbeFunc = Callable[[Any], Finding]
ObserverFunc = Callable[["RunContext"], Awaitable[Any]]


class DuplicateProbeError(RuntimeError):
    """Two probes claimed the same id; probe ids are global and unique."""


@dataclass(frozen=True)
class Probe:
    """A registered probe: a pure function of its item's observations, plus its texts."""

    id: str
    item: str
    title: str
    why: str
    fix: str
    func: ProbeFunc
    weight: int = 1
    blocking: bool = True

    def evaluate(self, observations: Any) -> ProbeResult:
        """Run the probe; an exception inside it becomes an `error` result, never a crash."""
        try:
            finding = self.func(observations)
            if not isinstance(finding, Finding):
                raise TypeError(f"probe returned {type(finding).__name__}, expected Finding")
        except Exception as exc:  # a probe bug must not abort the run
            return self.result(
                Finding(
                    Outcome.ERROR,
                    f"the probe itself raised {type(exc).__name__}: {exc}",
                    {"traceback": traceback.format_exc(limit=6)},
                )
            )
        return self.result(finding)

    def result(self, finding: Finding) -> ProbeResult:
        """Bind a finding to this probe's identity and texts."""
        return ProbeResult(
            id=self.id,
            item=self.item,
            title=self.title,
            outcome=finding.outcome,
            message=finding.message,
            evidence=finding.evidence,
            remediation=finding.remediation or self.fix,
            weight=self.weight,
            blocking=self.blocking,
        )


class Registry:
    """Probes and observers by item; ids are unique across the registry."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}
        self._observers: dict[str, ObserverFunc] = {}

    def probe(
        self,
        item: str,
        *,
        title: str,
        why: str,
        fix: str,
        weight: int = 1,
        blocking: bool = True,
        id: str | None = None,
    ) -> Callable[[ProbeFunc], ProbeFunc]:
        """Register a probe function under `id` (default: the function's name)."""

        def decorate(func: ProbeFunc) -> ProbeFunc:
            self.add(Probe(id or func.__name__, item, title, why, fix, func, weight, blocking))
            return func

        return decorate

    def add(self, probe: Probe) -> None:
        """Register a probe object."""
        if probe.item not in BY_KEY:
            raise ValueError(f"probe {probe.id!r} names unknown item {probe.item!r}; "
                             f"items are {', '.join(ITEM_KEYS)}")
        if probe.id in self._probes and not _same_origin(self._probes[probe.id].func, probe.func):
            raise DuplicateProbeError(
                f"probe id {probe.id!r} is registered twice (item {self._probes[probe.id].item!r} "
                f"and item {probe.item!r}); probe ids must be unique"
            )
        if probe.weight < 1:
            raise ValueError(f"probe {probe.id!r}: weight must be >= 1, got {probe.weight}")
        self._probes[probe.id] = probe

    def observer(self, item: str) -> Callable[[ObserverFunc], ObserverFunc]:
        """Register the coroutine that gathers observations for `item`'s probes."""

        def decorate(func: ObserverFunc) -> ObserverFunc:
            if item not in BY_KEY:
                raise ValueError(f"observer for unknown item {item!r}")
            if item in self._observers and not _same_origin(self._observers[item], func):
                raise DuplicateProbeError(
                    f"item {item!r} already has an observer "
                    f"({self._observers[item].__module__}.{self._observers[item].__qualname__})")
            self._observers[item] = func
            return func

        return decorate

    def probes(self, item: str | None = None) -> list[Probe]:
        """Registered probes, in registration order, optionally for one item."""
        return [p for p in self._probes.values() if item is None or p.item == item]

    def observer_for(self, item: str) -> ObserverFunc | None:
        """The observer of `item`, if one is registered."""
        return self._observers.get(item)

    def get(self, probe_id: str) -> Probe:
        """A probe by id."""
        return self._probes[probe_id]


def _same_origin(old: Callable[..., Any], new: Callable[..., Any]) -> bool:
    """The same function re-imported (a module reload), not a second definition."""
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


REGISTRY = Registry()
probe = REGISTRY.probe
observer = REGISTRY.observer

_loaded = False


def load_probes() -> Registry:
    """Import the built-in probe modules and third-party entry points, once."""
    global _loaded
    if not _loaded:
        _loaded = True
        import readiness.probes  # noqa: F401  (registers the built-in probes)

        if not os.environ.get(DISABLE_AUTOLOAD_ENV):
            _load_entry_points(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    return REGISTRY


def _load_entry_points(entry_points: Iterable[importlib.metadata.EntryPoint]) -> None:
    for entry_point in entry_points:
        try:
            entry_point.load()
        except DuplicateProbeError:
            raise
        except Exception as exc:
            raise RuntimeError(
                f"the readiness probe plugin {entry_point.name!r} ({entry_point.value}) failed to "
                f"import: {exc}. Fix or uninstall it, or set {DISABLE_AUTOLOAD_ENV}=1 to skip "
                f"third-party probes."
            ) from exc
