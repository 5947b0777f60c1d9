"""Compare two scorecards: which items and probes got worse or better, which components changed.

`readiness diff OLD NEW` takes scorecard.json files or run ids from the history, and
exits 1 when anything got worse (a probe or item regressed, or the verdict fell),
0 otherwise, so CI can block a change that makes the agent less ready.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from readiness.config.errors import ReadinessUsageError
from readiness.reports._text import agent_label, clip, one_line, score_text

Direction = Literal["worse", "better", "changed", "new", "removed"]

_ORDER: tuple[Direction, ...] = ("worse", "better", "new", "removed", "changed")
_HEADINGS = {"worse": "worse", "better": "better", "new": "new probes",
             "removed": "removed probes", "changed": "other changes"}
_MESSAGE_LIMIT = 160


class DiffError(ReadinessUsageError):
    """An argument of `readiness diff` is neither a readable scorecard nor a recorded run."""


@dataclass(frozen=True)
class ItemChange:
    """An item whose status or score differs between the two scorecards."""

    key: str
    old_status: str | None
    new_status: str | None
    old_score: float | None
    new_score: float | None
    direction: Direction


@dataclass(frozen=True)
class ProbeChange:
    """A probe whose outcome (or waiver) differs, or that only one scorecard has."""

    item: str
    id: str
    old: str | None  # "pass", "fail", "fail (waived)", ...; None for a new probe
    new: str | None  # None for a removed probe
    direction: Direction
    message: str  # the newer message, for a reader who wants to know why


@dataclass(frozen=True)
class CardDiff:
    """What changed from `old` to `new`: verdict, items, probes and versioned components."""

    old_label: str
    new_label: str
    old_verdict: str
    new_verdict: str
    items: tuple[ItemChange, ...] = ()
    probes: tuple[ProbeChange, ...] = ()
    components: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def regressed(self) -> bool:
        """True when the verdict fell or any item or probe got worse."""
        fell = self.old_verdict == "ready" and self.new_verdict != "ready"
        return fell or any(c.direction == "worse" for c in self.items) \
            or any(c.direction == "worse" for c in self.probes)


def _state(probe: Mapping[str, Any]) -> str:
    return f"{probe['outcome']} (waived)" if probe.get("waived") else str(probe["outcome"])


def _rank(state: str) -> int:
    """2 for an acceptable outcome, 1 for an accepted (waived) failure, 0 for fail or error."""
    if state in ("pass", "not_applicable"):
        return 2
    return 1 if state.endswith("(waived)") else 0


def _compare(old_rank: float, new_rank: float) -> Direction:
    if new_rank < old_rank:
        return "worse"
    return "better" if new_rank > old_rank else "changed"


def diff_cards(old: Mapping[str, Any], new: Mapping[str, Any]) -> CardDiff:
    """Compare two scorecards (scorecard.json as loaded, schema-valid).

    Probes are matched by item key and probe id. pass or not_applicable to fail or
    error is worse, the reverse better; a failure that loses its waiver is worse,
    one that gains a waiver better; other outcome changes (pass to not_applicable,
    fail to error) are "changed". An item is worse when it stops passing or, with
    the same standing, its score drops.
    """
    old_items = {item["key"]: item for item in old["items"]}
    new_items = {item["key"]: item for item in new["items"]}
    items: list[ItemChange] = []
    probes: list[ProbeChange] = []
    for key in [*old_items, *(k for k in new_items if k not in old_items)]:
        before, after = old_items.get(key), new_items.get(key)
        items.extend(_item_change(key, before, after))
        probes.extend(_probe_changes(key, before, after))
    old_parts = old["agent"]["components"]
    new_parts = new["agent"]["components"]
    components = {
        "changed": tuple(sorted(k for k in new_parts if k in old_parts
                                and old_parts[k] != new_parts[k])),
        "added": tuple(sorted(k for k in new_parts if k not in old_parts)),
        "removed": tuple(sorted(k for k in old_parts if k not in new_parts)),
    }
    return CardDiff(_label(old), _label(new), str(old["verdict"]), str(new["verdict"]),
                    tuple(items), tuple(probes), components)


def _label(card: Mapping[str, Any]) -> str:
    return f"{agent_label(card)} (finished {card['finished_at']})"


def _item_change(key: str, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None) -> list[ItemChange]:
    old_status = before["status"] if before else None
    new_status = after["status"] if after else None
    old_score = float(before["score"]) if before else None
    new_score = float(after["score"]) if after else None
    if (old_status, old_score) == (new_status, new_score):
        return []
    if before is None or after is None:
        return [ItemChange(key, old_status, new_status, old_score, new_score,
                           "new" if before is None else "removed")]
    old_rank = (old_status == "pass", old_score or 0.0)
    new_rank = (new_status == "pass", new_score or 0.0)
    direction: Direction = ("worse" if new_rank < old_rank
                            else "better" if new_rank > old_rank else "changed")
    return [ItemChange(key, old_status, new_status, old_score, new_score, direction)]


def _probe_changes(key: str, before: Mapping[str, Any] | None,
                   after: Mapping[str, Any] | None) -> list[ProbeChange]:
    old_probes = {p["id"]: p for p in (before or {}).get("probes", [])}
    new_probes = {p["id"]: p for p in (after or {}).get("probes", [])}
    changes = []
    for probe_id in [*old_probes, *(p for p in new_probes if p not in old_probes)]:
        was, now = old_probes.get(probe_id), new_probes.get(probe_id)
        old_state = _state(was) if was else None
        new_state = _state(now) if now else None
        if old_state == new_state:
            continue
        if old_state is None or new_state is None:
            direction: Direction = "new" if old_state is None else "removed"
        else:
            direction = _compare(_rank(old_state), _rank(new_state))
        message = str((now or was or {}).get("message", ""))
        changes.append(ProbeChange(key, probe_id, old_state, new_state, direction, message))
    return changes


def render_diff(diff: CardDiff) -> str:
    """The diff as plain text: the verdict, then worse changes first, then the rest.

    Agent-supplied text (names, versions, messages, paths) is reduced to one clipped
    line without escape sequences, so a hostile scorecard cannot rewrite the terminal.
    """
    lines = [f"readiness diff: {_clean(diff.old_label, 120)} -> {_clean(diff.new_label, 120)}"]
    verdict = (f"{diff.old_verdict} -> {diff.new_verdict}"
               if diff.old_verdict != diff.new_verdict else f"{diff.new_verdict} (unchanged)")
    lines.append(f"verdict: {verdict}")
    for direction in _ORDER:
        entries = [_item_line(c) for c in diff.items if c.direction == direction]
        entries += [_probe_line(c) for c in diff.probes if c.direction == direction]
        if entries:
            lines += ["", f"{_HEADINGS[direction]} ({len(entries)}):", *entries]
    moved = [(verb, path) for verb in ("changed", "added", "removed")
             for path in diff.components.get(verb, ())]
    if moved:
        lines += ["", f"components ({len(moved)}):"]
        lines += [f"  {verb:<8} {_clean(path, 200)}" for verb, path in moved]
    if not (diff.items or diff.probes or moved):
        lines += ["", "no item, probe or versioned component changed"]
    return "\n".join(lines) + "\n"


def _item_line(change: ItemChange) -> str:
    def side(status: str | None, score: float | None) -> str:
        return "absent" if status is None else f"{status} {score_text(score or 0.0)}"

    return (f"  item  {change.key}: {side(change.old_status, change.old_score)} -> "
            f"{side(change.new_status, change.new_score)}")


def _probe_line(change: ProbeChange) -> str:
    states = f"{change.old or 'absent'} -> {change.new or 'absent'}"
    message = f": {_clean(change.message, _MESSAGE_LIMIT)}" if change.message else ""
    return f"  probe {change.item}/{change.id}: {states}{message}"


def _clean(value: Any, limit: int) -> str:
    return clip(one_line(str(value)), limit)


def load_card(source: str, db: Path) -> dict[str, Any]:
    """A scorecard from a file path or, for a whole number that is no file, a history id.

    Raises:
        DiffError: `source` is neither, or the file is not a valid scorecard.
        HistoryError: the number names no recorded run.
    """
    path = Path(source)
    if path.is_file():
        from readiness.reports import ScorecardSchemaError, validate_scorecard

        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise DiffError(f"{source}: not a readable scorecard.json ({exc}); pass a "
                            "scorecard.json that `readiness run` wrote") from None
        try:
            validate_scorecard(card)
        except ScorecardSchemaError as exc:
            raise DiffError(f"{source}: {exc}") from None
        return dict(card)
    if re.fullmatch(r"[0-9]+", source):
        from readiness.history import load_run

        return load_run(db, int(source))
    raise DiffError(f"{source!r} is neither a scorecard file (no such file) nor a run id (a "
                    "whole number that `readiness history` lists); pass a scorecard.json path "
                    "or a run id")


def diff_command(old: str, new: str, db: Path) -> int:
    """`readiness diff OLD NEW`: print the diff; 1 when anything got worse, else 0.

    OLD and NEW are scorecard.json paths or history run ids (looked up in `db`).
    Usage errors raise DiffError or HistoryError (exit 2 in the CLI).
    """
    diff = diff_cards(load_card(old, db), load_card(new, db))
    print(render_diff(diff), end="")
    return 1 if diff.regressed else 0
