"""Run history: every scorecard kept in an embedded SQLite database, listed and reloaded.

The database (``.readiness/history.db`` beside the configuration by default, see
``[history]``) holds one row per run: the summary columns a listing shows and the
whole scorecard as JSON, so `readiness diff` can compare any two recorded runs.
It runs in WAL mode and every write takes the write lock up front (``BEGIN
IMMEDIATE``) with a generous busy timeout, so two runs finishing together both
land, one after the other.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readiness.config.errors import ReadinessUsageError
from readiness.reports._text import clip, one_line, score_text

if TYPE_CHECKING:
    from readiness.config import Config

SCHEMA_VERSION = 1
"""PRAGMA user_version of the current layout; a newer database is refused, not rewritten."""

_BUSY_TIMEOUT_S = 30.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_at TEXT NOT NULL,
    agent TEXT NOT NULL,
    version TEXT,
    verdict TEXT NOT NULL,
    min_score REAL,
    failed TEXT NOT NULL,
    card TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_agent ON runs (agent, id);
"""


class HistoryError(ReadinessUsageError):
    """The history database is missing, unreadable, of a newer layout, or lacks a run."""


@dataclass(frozen=True)
class RunSummary:
    """One recorded run as `readiness history` lists it."""

    id: int
    finished_at: str
    agent: str
    version: str | None
    verdict: str
    min_score: float | None  # the lowest score among required items (the gate's min_observed)
    failed: tuple[str, ...]  # the required items that failed the gate
    only: tuple[str, ...] | None = None  # the items run (`--only`, `readiness load`); None: all


@contextlib.contextmanager
def _connect(db_path: Path, *, create: bool) -> Iterator[sqlite3.Connection]:
    """A connection with the schema checked (and made, when `create`); closed on exit."""
    if not create and not db_path.is_file():
        raise HistoryError(f"{db_path}: no run history there yet; `readiness run` records each "
                           "run in it (see [history] path), or pass the right --db")
    if create:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE themselves.
    connection: sqlite3.Connection | None = None
    try:
        connection = sqlite3.connect(db_path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        _prepare(connection, db_path, create=create)
        yield connection
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise HistoryError(f"{db_path}: the run history stayed locked for "
                               f"{_BUSY_TIMEOUT_S:g} s ({exc}); another process holds it "
                               "open in a transaction: let it finish, then retry") from None
        raise HistoryError(f"{db_path}: the run history cannot be used ({exc}); check the "
                           "file's permissions, or move it aside to start a new history") from None
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{db_path}: the run history cannot be used ({exc}); move the file "
                           "aside to start a new history") from None
    finally:
        if connection is not None:
            connection.close()


def _prepare(connection: sqlite3.Connection, db_path: Path, *, create: bool) -> None:
    """WAL mode and the current layout, made once under the write lock."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{db_path}: the run history has layout {version}, newer than this "
                           f"agent-readiness understands ({SCHEMA_VERSION}); upgrade "
                           "agent-readiness, or point [history] path at another file")
    if not create:
        raise HistoryError(f"{db_path}: not a run history (no recorded layout); pass the "
                           "history database `readiness run` writes")
    _enable_wal(connection)
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Another writer may have made the layout while this one waited for the lock.
        if connection.execute("PRAGMA user_version").fetchone()[0] == 0:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch to WAL, retrying while another connection of a brand-new database holds a lock.

    Changing the journal mode needs an exclusive lock and, unlike other statements,
    fails at once instead of waiting in SQLite's busy handler, so it waits here.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.005)


def record_run(db_path: Path, card: Mapping[str, Any]) -> int:
    """Store a scorecard (scorecard.json as built) and return the run's id.

    The database and its folder are created on first use. Safe to call from
    several processes or threads at once: each call waits for the write lock.

    Raises:
        HistoryError: the file is not a usable history (corrupt, or a newer layout).
    """
    agent = card["agent"]
    gate = card["gate"]
    row = (str(card["finished_at"]), str(agent["name"]), agent.get("version"),
           str(card["verdict"]), gate.get("min_observed"), json.dumps(list(gate["failed"])),
           json.dumps(card, ensure_ascii=False))
    with _connect(db_path, create=True) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            cursor = connection.execute(
                "INSERT INTO runs (finished_at, agent, version, verdict, min_score, failed, card)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return int(cursor.lastrowid or 0)


def list_runs(db_path: Path, limit: int = 20) -> list[RunSummary]:
    """The most recent runs, newest first.

    Raises:
        HistoryError: there is no history at `db_path`, or it cannot be read.
    """
    with _connect(db_path, create=False) as connection:
        rows = connection.execute(
            "SELECT id, finished_at, agent, version, verdict, min_score, failed,"
            " json_extract(card, '$.run.only') FROM runs ORDER BY id DESC LIMIT ?",
            (max(limit, 0),)).fetchall()
    return [RunSummary(int(r[0]), str(r[1]), str(r[2]), r[3], str(r[4]),
                       None if r[5] is None else float(r[5]), tuple(json.loads(r[6])),
                       _only(r[7])) for r in rows]


def _only(value: str | None) -> tuple[str, ...] | None:
    """The items a run was limited to, from the stored scorecard's run.only (JSON or NULL)."""
    only = json.loads(value) if value is not None else None
    return tuple(str(k) for k in only) if isinstance(only, list) else None


def load_run(db_path: Path, run_id: int) -> dict[str, Any]:
    """The scorecard of one recorded run.

    Raises:
        HistoryError: no history at `db_path`, or no run with that id in it.
    """
    with _connect(db_path, create=False) as connection:
        row = connection.execute("SELECT card FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise HistoryError(f"{db_path}: no run {run_id} in the history; `readiness history` "
                           "lists the recorded runs")
    card: dict[str, Any] = json.loads(row[0])
    return card


def history_path(config: Config) -> Path:
    """Where a configuration's history lives (``[history] path``, under its folder)."""
    path = config.history.path
    return path if path.is_absolute() else config.root / path


def record_if_enabled(config: Config, card: Mapping[str, Any]) -> int | None:
    """Record a finished run when ``[history] enabled`` (the default); return its id.

    A history that cannot be written must not change the release verdict, so
    the failure is printed as a warning on stderr and None is returned.
    """
    if not config.history.enabled:
        return None
    try:
        return record_run(history_path(config), card)
    except (HistoryError, OSError) as exc:
        print(f"readiness: warning: this run was not recorded in the history: {exc}",
              file=sys.stderr)
        return None


def render_history(runs: list[RunSummary]) -> str:
    """The runs as a plain-text table, one line each; agent-supplied text made inert."""
    header = ("id", "finished", "agent", "version", "items", "verdict", "lowest", "failed")
    rows = [(str(r.id), one_line(r.finished_at)[:25], clip(one_line(r.agent), 30),
             clip(one_line(r.version or "-"), 20),
             "all" if r.only is None else clip(",".join(one_line(k) for k in r.only), 30),
             clip(one_line(r.verdict), 10),
             "-" if r.min_score is None else score_text(r.min_score),
             clip(", ".join(one_line(k) for k in r.failed) or "-", 60)) for r in runs]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in [header, *rows]]
    return "\n".join(lines) + "\n"


def history_command(db: Path, limit: int) -> int:
    """`readiness history`: print the most recent runs; 0, or HistoryError (exit 2)."""
    runs = list_runs(db, limit)
    if not runs:
        print(f"{db}: no runs recorded yet")
        return 0
    print(render_history(runs), end="")
    return 0
