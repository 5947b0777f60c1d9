"""Read what Locust left behind: its CSVs and the per-process acknowledgement files."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from readiness.load._spec import HistoryPoint
from readiness.load._traffic import ACK_PART_GLOB

_WRAPPED = re.compile(r"^CatchResponseError\((['\"])(?P<inner>.*)\1\)$")


@dataclass(frozen=True)
class Totals:
    """The "Aggregated" row of <prefix>_stats.csv."""

    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _number(text: str | None) -> float | None:
    """A CSV cell as a float; None for "N/A" and empty cells."""
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_totals(prefix: Path) -> Totals | None:
    """The aggregated figures, or None when Locust wrote no stats file."""
    path = Path(f"{prefix}_stats.csv")
    if not path.is_file():
        return None
    for row in _rows(path):
        if row.get("Name") == "Aggregated":
            requests = int(row["Request Count"])
            return Totals(
                requests=requests,
                failures=int(row["Failure Count"]),
                rps=_number(row["Requests/s"]) or 0.0,
                p50_ms=_number(row.get("50%")),
                p95_ms=_number(row.get("95%")),
                p99_ms=_number(row.get("99%")),
                max_ms=_number(row["Max Response Time"]) if requests else None,
            )
    return None


def read_history(prefix: Path) -> tuple[HistoryPoint, ...]:
    """Per-second points from <prefix>_stats_history.csv (the "Aggregated" rows)."""
    path = Path(f"{prefix}_stats_history.csv")
    if not path.is_file():
        return ()
    points: list[HistoryPoint] = []
    start = last_time = None
    last_requests = last_failures = 0
    for row in _rows(path):
        if row.get("Name") != "Aggregated":
            continue
        try:
            now = float(row["Timestamp"])
            requests, failures = int(row["Total Request Count"]), int(row["Total Failure Count"])
            users = int(row["User Count"])
        except (KeyError, TypeError, ValueError):
            continue  # a row cut short by a killed process
        if start is None or last_time is None:
            start = last_time = now
        elapsed = now - last_time
        points.append(HistoryPoint(
            t=now - start,
            users=users,
            rps=(requests - last_requests) / elapsed if elapsed > 0 else 0.0,
            failures_per_s=(failures - last_failures) / elapsed if elapsed > 0 else 0.0,
            p50_ms=_number(row.get("50%")),
            p95_ms=_number(row.get("95%")),
        ))
        last_time, last_requests, last_failures = now, requests, failures
    return tuple(points)


def failure_kind(error: str) -> str:
    """Locust's recorded error without its CatchResponseError('...') wrapper."""
    match = _WRAPPED.match(error)
    return match.group("inner") if match else error


def read_failures(prefix: Path) -> dict[str, int]:
    """Occurrences per failure kind ("HTTP 500", "ConnectionRefusedError", ...)."""
    path = Path(f"{prefix}_failures.csv")
    counts: Counter[str] = Counter()
    if path.is_file():
        for row in _rows(path):
            counts[failure_kind(row.get("Error", ""))] += int(row.get("Occurrences") or 0)
    return dict(counts.most_common())


def read_exceptions(prefix: Path) -> list[str]:
    """"N× message" for each exception the load script raised (a harness bug)."""
    path = Path(f"{prefix}_exceptions.csv")
    if not path.is_file():
        return []
    return [f"{row.get('Count', '?')}× {row.get('Message', '').strip()}" for row in _rows(path)]


def merge_acknowledgements(out_dir: Path, target: Path) -> int:
    """Concatenate the per-process files into `target`, remove them; count the lines.

    A process killed mid-write can leave a last line without its newline: it is dropped.
    """
    count = 0
    with target.open("w", encoding="utf-8") as merged:
        for part in sorted(out_dir.glob(ACK_PART_GLOB)):
            with part.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if line.endswith("\n"):
                        merged.write(line)
                        count += 1
            part.unlink()
    return count
