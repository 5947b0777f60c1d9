"""The scorecard on a GitHub Actions run's summary page ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "GITHUB_STEP_SUMMARY"


def write_step_summary(card_md: str) -> Path | None:
    """Append the Markdown scorecard to the file `$GITHUB_STEP_SUMMARY` names.

    GitHub Actions sets the variable for each step and shows the file on the
    run's summary page. Outside Actions (variable unset or empty) nothing
    happens. Appending, not overwriting, keeps what earlier commands of the same
    step wrote. A file that cannot be written is a warning on stderr, never a
    failure: the summary is a courtesy, the verdict is the exit code.

    Args:
        card_md: the scorecard as `render_markdown` returns it (at most 65,536
            characters, well under the 1 MiB GitHub allows per step).

    Returns:
        The summary file appended to, or None when none was.
    """
    target = os.environ.get(ENV, "").strip()
    if not target:
        return None
    path = Path(target)
    text = card_md if card_md.endswith("\n") else card_md + "\n"
    try:
        with path.open("a", encoding="utf-8", errors="replace") as stream:
            if stream.tell():
                stream.write("\n")  # a blank line so earlier Markdown cannot run into ours
            stream.write(text)
    except OSError as exc:
        print(f"readiness: warning: could not append the scorecard to ${ENV} ({path}): "
              f"{exc.strerror or exc}", file=sys.stderr)
        return None
    return path
