"""The console summary: one line per item, then the gate's verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from readiness.reports._text import agent_label, clip, one_line, score_text

_REASON_LIMIT = 120
_NOTE_LIMIT = 200

_RESET = "\x1b[0m"
_STYLES = {
    "pass": "\x1b[32m",  # green
    "fail": "\x1b[31m",  # red
    "error": "\x1b[35m",  # magenta
    "not_run": "\x1b[33m",  # yellow
    "ready": "\x1b[1;32m",
    "not_ready": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "dim": "\x1b[2m",
}
_WORDS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not_run": "NOT RUN"}


def render_terminal(card: Mapping[str, Any], *, color: bool) -> str:
    """Render the compact console summary of a scorecard.

    One line per item (status word, score, key, reason), any harness notes, then
    the gate's verdict. Every agent-supplied string is reduced to one line with
    ANSI sequences and control characters removed, so a hostile agent cannot move
    the cursor, clear the screen or retitle the terminal; the only escape
    sequences in the output are the colours added here when `color` is true.

    Args:
        card: scorecard.json as loaded; it must satisfy the schema (see
            `validate_scorecard`).
        color: add ANSI colours (decide from the stream's isatty and NO_COLOR).

    Returns:
        The summary, ending with a newline.
    """

    def paint(style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if color else text

    lines = [paint("dim", f"readiness scorecard: {_clean(agent_label(card), 200)}")]
    for item in card["items"]:
        status = item["status"]
        word = paint(status, f"{_WORDS.get(status, 'UNKNOWN'):<7}") if status in _STYLES \
            else f"{'UNKNOWN':<7}"
        lines.append(
            f"  {word} {score_text(item['score']):>4}  {_clean(item['key'], 40):<15} "
            f"{_clean(item['reason'], _REASON_LIMIT)}"
        )
    for note in card["notes"]:
        lines.append(paint("warning", "note: ") + _clean(note, _NOTE_LIMIT))
    if card["incomplete"]:
        lines.append(paint("warning", "INCOMPLETE: the run did not assess every item"))
    lines.append(_verdict_line(card, paint))
    return "\n".join(lines) + "\n"


def _verdict_line(card: Mapping[str, Any], paint: Callable[[str, str], str]) -> str:
    """READY / NOT READY with the gate's failed items and its lowest required score."""
    gate = card["gate"]
    lowest = gate["min_observed"]
    bar = f"min score {score_text(gate['min_score'])}"
    if lowest is not None:
        bar += f", lowest required {score_text(lowest)}"
    if card["verdict"] == "ready":
        return f"{paint('ready', 'READY')}: release gate passed ({bar})"
    failed = ", ".join(_clean(key, 40) for key in gate["failed"]) or "no item named"
    return f"{paint('not_ready', 'NOT READY')}: release gate failed on {failed} ({bar})"


def _clean(value: Any, limit: int) -> str:
    """One line of agent text with no escape sequences or control characters."""
    return clip(one_line(str(value)), limit)
