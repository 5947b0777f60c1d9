"""Waivers: a team accepts a failing probe, with a reason, an owner and an expiry date.

A committed TOML file, named by ``[gate] waivers`` (``readiness-waivers.toml`` by
convention)::

    [[waiver]]
    probe = "honours_retry_after"      # or item = "load": every failing probe of the item
    reason = "provider sends no Retry-After; tracked in JIRA-123"
    owner = "Priya Raman"
    expires = 2027-01-31               # the last day the waiver holds

A waived failure counts as passed for scoring and the release gate; the probe keeps
its ``fail`` outcome and shows who accepted it, why and until when. From the day after
``expires`` the waiver has no effect, so the failure blocks release again, and the
scorecard lists it as expired. A waiver never covers an ``error`` or an item that was
not run: what the harness could not assess cannot be accepted.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from readiness.config.entries import check_keys, read_entries
from readiness.config.errors import ConfigError, describe
from readiness.items import ITEM_KEYS
from readiness.results import Outcome, ProbeResult

WaiverStatus = Literal["active", "expired", "unused"]

_KEYS = ("probe", "item", "reason", "owner", "expires")
_PROBE_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class Waiver:
    """One ``[[waiver]]`` entry: what it accepts, why, who answers for it, and until when."""

    number: int  # the entry's position in the file, from 1, for error messages
    reason: str
    owner: str
    expires: dt.date
    probe: str | None = None
    item: str | None = None

    def covers(self, item_key: str, probe_id: str) -> bool:
        """Whether this waiver names the probe, or the item the probe belongs to."""
        return self.probe == probe_id if self.probe is not None else self.item == item_key

    def in_force(self, today: dt.date) -> bool:
        """True through the expiry date itself, false from the day after."""
        return today <= self.expires

    def to_json(self) -> dict[str, str]:
        """What a waived probe carries in scorecard.json."""
        return {"reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat()}


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    """Read and validate a waiver file.

    Raises:
        ConfigError: naming the file, the entry (``[[waiver]] #N``, counted from 1)
            and the key, for an unreadable file, an unknown key, an entry naming
            both or neither of ``probe`` and ``item``, an unknown item key, or a
            missing ``reason``, ``owner`` or ``expires``.
    """
    entries = read_entries(path, "waiver", kind="a waiver file", setting="[gate] waivers",
                           noun="waiver")
    return tuple(_entry(path, number, raw) for number, raw in enumerate(entries, start=1))


def _entry(path: Path, number: int, raw: Mapping[str, Any]) -> Waiver:
    where = f"[[waiver]] #{number}"
    check_keys(path, where, raw, _KEYS)
    if ("probe" in raw) == ("item" in raw):
        raise ConfigError(path, where, "exactly one of probe (one probe) or item (every "
                          "failing probe of an item)", "both" if "probe" in raw else "neither",
                          'add probe = "honours_retry_after" or item = "load"')
    probe = item = None
    if "probe" in raw:
        probe = _text(path, where, raw, "probe", 'probe = "honours_retry_after"')
        if not _PROBE_ID.match(probe):
            raise ConfigError(path, f"{where} probe", 'a probe id such as "honours_retry_after"',
                              describe(probe), "copy the probe id from scorecard.json")
    else:
        item = _text(path, where, raw, "item", 'item = "load"')
        if item not in ITEM_KEYS:
            close = difflib.get_close_matches(item, ITEM_KEYS, n=1)
            raise ConfigError(path, f"{where} item", "an item key of the nine-point scorecard",
                              describe(item), f"write item = {close[0]!r}" if close
                              else f"use one of {', '.join(ITEM_KEYS)}")
    reason = _text(path, where, raw, "reason", 'reason = "..." saying why the failure is '
                   "acceptable for now")
    owner = _text(path, where, raw, "owner", 'owner = "..." naming who answers for it')
    expires = raw.get("expires")
    if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
        raise ConfigError(path, f"{where} expires", "a date (YYYY-MM-DD, no quotes): the last "
                          "day the waiver holds", "it missing" if expires is None
                          else describe(expires), "write expires = 2027-01-31")
    return Waiver(number, reason, owner, expires, probe=probe, item=item)


def _text(path: Path, where: str, raw: Mapping[str, Any], key: str, example: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, f"{where} {key}", "a non-empty string",
                          "it missing" if value is None else describe(value), f"write {example}")
    return value.strip()


def check_probe_ids(path: Path, waivers: Sequence[Waiver], known: Collection[str]) -> None:
    """A waiver naming no registered probe is a typo that would silently never apply.

    Raises:
        ConfigError: naming the file, the entry and the closest known probe id.
    """
    for waiver in waivers:
        if waiver.probe is not None and waiver.probe not in known:
            close = difflib.get_close_matches(waiver.probe, sorted(known), n=1)
            raise ConfigError(path, f"[[waiver]] #{waiver.number} probe",
                              "the id of a registered probe", describe(waiver.probe),
                              f"write probe = {close[0]!r}" if close
                              else "copy the probe id from scorecard.json")


class WaiverBook:
    """The waivers of one run, judged on `today`: which failures they accept, which not."""

    def __init__(self, waivers: Sequence[Waiver] = (), today: dt.date | None = None) -> None:
        self.waivers = tuple(waivers)
        self.today = today or dt.date.today()
        self._covered: dict[int, list[str]] = {w.number: [] for w in self.waivers}

    def waive(self, item_key: str, results: Sequence[ProbeResult]) -> dict[str, dict[str, str]]:
        """The failing probes among `results` a waiver in force accepts, with that waiver.

        A probe waiver wins over an item waiver; expired waivers accept nothing but
        remember the failures they would have covered, for the scorecard.
        """
        waived: dict[str, dict[str, str]] = {}
        for result in results:
            if result.outcome is not Outcome.FAIL:
                continue
            matching = sorted((w for w in self.waivers if w.covers(item_key, result.id)),
                              key=lambda w: w.probe is None)
            chosen = next((w for w in matching if w.in_force(self.today)), None)
            for waiver in matching:
                if waiver is chosen or not waiver.in_force(self.today):
                    self._covered[waiver.number].append(result.id)
            if chosen is not None:
                waived[result.id] = chosen.to_json()
        return waived

    def report(self) -> list[dict[str, Any]]:
        """Every waiver as the scorecard lists it: status, target, reason, owner, expiry.

        `probes` holds the failures it accepted (active) or no longer accepts
        (expired); an unused waiver in force matched no failing probe this run.
        """
        entries = []
        for waiver in self.waivers:
            covered = self._covered[waiver.number]
            status: WaiverStatus = ("expired" if not waiver.in_force(self.today)
                                    else "active" if covered else "unused")
            entries.append({"status": status, "probe": waiver.probe, "item": waiver.item,
                            **waiver.to_json(), "probes": list(covered)})
        return entries


def waiver_book(path: Path | None, known_probes: Collection[str],
                today: dt.date | None = None) -> WaiverBook:
    """The run's waivers from `path` (``[gate] waivers``), checked against the registry."""
    if path is None:
        return WaiverBook((), today)
    waivers = load_waivers(path)
    check_probe_ids(path, waivers, known_probes)
    return WaiverBook(waivers, today)
