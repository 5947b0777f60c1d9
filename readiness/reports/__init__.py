"""The scorecard's schema and its renderings: JSON, HTML, Markdown, JUnit XML, SARIF, console.

Every renderer is a pure function of scorecard.json as loaded (a plain mapping),
so commands that only have the file (verify, diff) render exactly what a run does.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from readiness.reports.charts import charts_for
from readiness.reports.html import render_html
from readiness.reports.junit import render_junit
from readiness.reports.markdown import render_markdown
from readiness.reports.sarif import render_sarif
from readiness.reports.schema import SCHEMA, ScorecardSchemaError, validate_scorecard
from readiness.reports.terminal import render_terminal

__all__ = [
    "SCHEMA",
    "ScorecardSchemaError",
    "dump_scorecard",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_sarif",
    "render_terminal",
    "validate_scorecard",
    "write_reports",
]

REPORT_FILES = {
    "json": "scorecard.json",
    "html": "scorecard.html",
    "markdown": "scorecard.md",
    "junit": "junit.xml",
    "sarif": "scorecard.sarif",
}


def dump_scorecard(card: Mapping[str, Any]) -> str:
    """scorecard.json's text: indented two spaces, key order kept, trailing newline.

    Non-ASCII text stays readable; only a string holding a lone surrogate (which
    UTF-8 cannot encode) makes the whole file fall back to ASCII escapes.
    """
    text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(card, indent=2, ensure_ascii=True) + "\n"
    return text


def write_reports(
    card: Mapping[str, Any], out_dir: Path, *, charts: Mapping[str, str] | None = None
) -> dict[str, Path]:
    """Validate a scorecard and write all its renderings into `out_dir`.

    Everything is rendered before anything is written, and each file is written
    to a temporary file in `out_dir` and moved into place with `os.replace`, so a
    reader never sees a half-written file and a failed render leaves the previous
    reports untouched.

    Args:
        card: the scorecard as scorecard.json holds it.
        out_dir: the report directory; created with its parents if missing.
        charts: harness-drawn SVG keyed by probe id, passed to `render_html`.

    Returns:
        The written paths keyed "json", "html", "markdown", "junit" and "sarif".

    Raises:
        ScorecardSchemaError: the scorecard does not match the schema; nothing is written.
    """
    validate_scorecard(card)
    texts = {
        "json": dump_scorecard(card),
        "html": render_html(card, charts_for(card) if charts is None else charts),
        "markdown": render_markdown(card),
        "junit": render_junit(card),
        "sarif": dump_scorecard(render_sarif(card)),  # the same JSON text conventions
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, text in texts.items():
        paths[kind] = out_dir / REPORT_FILES[kind]
        _write_atomically(paths[kind], text)
    return paths


def _write_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text to a sibling temporary file, then rename it over `path`."""
    # Renderers strip lone surrogates from what they show; "replace" guards the rest.
    data = text.encode("utf-8", errors="replace")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
