"""The shipped JSON Schema of scorecard.json, and validation against it."""

from __future__ import annotations

import json
import re
from datetime import datetime
from importlib.resources import files
from typing import Any

# jsonschema ships neither inline types nor a py.typed marker.
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from readiness.reports._text import clip, visible

SCHEMA_ID = "readiness.scorecard/v1"
SCHEMA: dict[str, Any] = json.loads(
    files("readiness.reports").joinpath("scorecard.schema.json").read_text(encoding="utf-8")
)

_MAX_LISTED = 50
_MAX_MESSAGE = 240

# RFC 3339 section 5.6 `date-time`: full date, "T", full time with a mandatory offset.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(?P<second>\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)

# Built empty rather than from the defaults: jsonschema silently skips `date-time`
# unless an optional package is installed, and validation must not depend on that.
_FORMATS = FormatChecker(formats=())


def _is_rfc3339(value: object) -> bool:
    """True for an RFC 3339 date-time string (non-strings are the `type` keyword's job)."""
    if not isinstance(value, str):
        return True
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    # RFC 3339 allows a leap second; datetime does not, so check the rest with :59.
    if match["second"] == "60":
        start, end = match.span("second")
        value = value[:start] + "59" + value[end:]
    datetime.fromisoformat(value.upper())
    return True


_FORMATS.checks("date-time", raises=ValueError)(_is_rfc3339)


_VALIDATOR = Draft202012Validator(SCHEMA, format_checker=_FORMATS)


class ScorecardSchemaError(ValueError):
    """A scorecard does not match readiness.scorecard/v1; `problems` lists each violation."""

    def __init__(self, problems: list[str], total: int) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  {problem}" for problem in problems)
        more = f"\n  ... and {total - len(problems)} more" if total > len(problems) else ""
        plural = "problem" if total == 1 else "problems"
        super().__init__(
            f"the scorecard does not match the {SCHEMA_ID} schema ({total} {plural}):\n"
            f"{listed}{more}"
        )


def validate_scorecard(data: Any) -> None:
    """Check `data` (scorecard.json as loaded) against the shipped schema.

    Raises:
        ScorecardSchemaError: listing every violation as ``$.json.path: message``,
            ordered by path, at most 50 of them, each message shortened so a huge
            offending value cannot flood the output.
    """
    errors = sorted(_VALIDATOR.iter_errors(data), key=_path_key)
    if not errors:
        return
    # Paths and values may hold agent-supplied text, and this message reaches terminals.
    problems = [
        visible(clip(error.json_path, _MAX_MESSAGE) + ": "
                + clip(" ".join(error.message.split()), _MAX_MESSAGE))
        for error in errors[:_MAX_LISTED]
    ]
    raise ScorecardSchemaError(problems, len(errors))


def _path_key(error: Any) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders list indexes numerically and keys alphabetically."""
    return tuple(
        (0, part, "") if isinstance(part, int) else (1, 0, str(part))
        for part in error.absolute_path
    )
