"""Text helpers shared by the renderers: every agent-supplied string passes through here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# ANSI/VT sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ST), other
# two-byte ESC sequences, and their 8-bit C1 forms.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]"
)
# What XML 1.0 forbids: C0 controls except tab/newline/return, lone surrogates, U+FFFE/F.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Controls (C0, DEL, C1), lone surrogates and the bidi overrides that let text
# display in an order other than the one it is stored in ("Trojan Source").
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# The same, minus the newlines json.dumps writes itself when indenting.
_RAW_IN_JSON = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"[\t\n\r\v\f\u2028\u2029]+")

ELLIPSIS = "…"


def xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry at all (escaping is the serializer's job)."""
    return _XML_ILLEGAL.sub("", text)


def one_line(text: str) -> str:
    """Strip ANSI sequences and controls; line breaks and tabs become single spaces."""
    return _UNPRINTABLE.sub("", _WHITESPACE.sub(" ", _ANSI.sub("", text))).strip()


def printable(text: str) -> str:
    """Strip ANSI sequences and controls but keep newlines and tabs (multi-line text)."""
    kept = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _UNPRINTABLE.sub(_keep_layout, kept)


def _keep_layout(match: re.Match[str]) -> str:
    """Keep tabs and newlines, drop every other unprintable character."""
    return match[0] if match[0] in "\t\n" else ""


def visible(text: str) -> str:
    """Controls and bidi overrides shown as \\u escapes instead of acted on (for errors)."""
    return _UNPRINTABLE.sub(_escape_code_point, text)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def evidence_json(evidence: Mapping[str, Any], *, limit: int, indent: int | None = 2,
                  escape: str = "") -> str:
    """Evidence as JSON text, cut to `limit` characters with a note saying where the rest is.

    Characters in `escape` are written as JSON \\u escapes, which can only occur
    inside JSON strings and mean the same there.

    json.dumps escapes C0 controls itself; C1 controls, lone surrogates and bidi
    overrides, which it passes through raw, are escaped here so the text stays
    valid JSON that cannot reorder or rewrite what is displayed around it.
    """
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(evidence, indent=indent, ensure_ascii=False, separators=separators,
                      default=str)
    text = _RAW_IN_JSON.sub(_escape_code_point, text)
    for char in escape:
        text = text.replace(char, f"\\u{ord(char):04x}")
    if len(text) <= limit:
        return text
    note = f"\n{ELLIPSIS} evidence truncated ({len(text):,} characters); see scorecard.json"
    return text[: max(limit - len(note), 0)] + note


def _escape_code_point(match: re.Match[str]) -> str:
    """A character json.dumps left raw, as a JSON \\u escape."""
    return f"\\u{ord(match[0]):04x}"


def score_text(score: Any) -> str:
    """A score as one decimal, whatever numeric type the JSON gave."""
    return f"{float(score):.1f}"


def agent_label(card: Mapping[str, Any]) -> str:
    """`name version` of the agent, version omitted when unknown (raw, unsanitised)."""
    agent = card["agent"]
    version = agent.get("version")
    return f"{agent['name']} {version}" if version else str(agent["name"])
