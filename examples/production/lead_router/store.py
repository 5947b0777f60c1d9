"""Durable state in SQLite: the audit log, the operating mode and the manual queue.

One connection, guarded by a lock, is the single writer: uvicorn runs one process, and
every statement here is short local I/O, so serialising them costs little and makes
concurrent invocations unable to interleave half-written decisions. WAL mode lets
readers (audit queries) proceed while a write commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Mode = Literal["active", "review_only", "disabled"]
MODES: tuple[Mode, ...] = ("active", "review_only", "disabled")
Status = Literal["executed", "pending_review", "manual", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE,
    timestamp TEXT NOT NULL,
    status TEXT NOT NULL,
    assignment_id TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (timestamp, seq);
CREATE INDEX IF NOT EXISTS decisions_by_status ON decisions (status);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS manual_queue (
    decision_id TEXT PRIMARY KEY REFERENCES decisions (decision_id),
    queued_at TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def rfc3339(moment: datetime) -> str:
    """UTC, microseconds, `Z`: a fixed width, so string order is time order in SQL."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Decision:
    """One decision and its audit record. `assignment_id` is internal (used to revert)."""

    decision_id: str
    request_id: str
    timestamp: str
    agent_version: str
    mode: Mode
    input: dict[str, str]
    reasoning: str | None = None
    confidence: float | None = None
    action: dict[str, str] | None = None
    status: Status = "manual"
    approver: str | None = None
    effects: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reverted: bool = False
    assignment_id: str | None = None

    def record(self) -> dict[str, Any]:
        """The audit record exactly as section 3 of the ops contract names its fields."""
        data = asdict(self)
        del data["assignment_id"]
        return data

    def answer(self) -> dict[str, Any]:
        """The body `POST /invoke` answers with."""
        return {
            "decision_id": self.decision_id,
            "status": self.status,
            "action": self.action,
            "confidence": self.confidence,
        }


def _decision(record: str, assignment_id: str | None) -> Decision:
    return Decision(**json.loads(record), assignment_id=assignment_id)


class Store:
    """The agent's SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        """Run statements in one transaction: all of them land, or none."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def purge(self, older_than: str) -> int:
        """Delete decisions (and their queue entries) stamped before `older_than`.

        The retention policy, not an API: nothing reachable over HTTP edits the audit log.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM manual_queue WHERE decision_id IN"
                " (SELECT decision_id FROM decisions WHERE timestamp < ?)", (older_than,)
            )
            deleted = self._db.execute(
                "DELETE FROM decisions WHERE timestamp < ?", (older_than,)
            ).rowcount
            self._db.execute("COMMIT")
        return int(deleted)

    # -- operating mode -------------------------------------------------------------

    def mode(self) -> Mode:
        rows = self._rows("SELECT value FROM control WHERE key = 'mode'")
        value = rows[0][0] if rows else "active"
        return value if value in MODES else "active"

    def set_mode(self, mode: Mode) -> None:
        self._write(("INSERT OR REPLACE INTO control (key, value) VALUES ('mode', ?)", (mode,)))

    # -- decisions ------------------------------------------------------------------

    def insert(self, decision: Decision, queue_reason: str | None = None) -> None:
        """Record a new decision, and queue it for people when `queue_reason` is given."""
        statements = [(
            "INSERT INTO decisions (decision_id, request_id, timestamp, status, assignment_id,"
            " record) VALUES (?, ?, ?, ?, ?, ?)",
            (decision.decision_id, decision.request_id, decision.timestamp, decision.status,
             decision.assignment_id, json.dumps(decision.record())),
        )]
        if queue_reason is not None:
            statements.append(self._enqueue(decision.decision_id, queue_reason))
        self._write(*statements)

    def update(self, decision: Decision, queue_reason: str | None = None) -> None:
        """Save an approval or a revert on the decision's one record."""
        statements = [(
            "UPDATE decisions SET status = ?, assignment_id = ?, record = ? WHERE decision_id = ?",
            (decision.status, decision.assignment_id, json.dumps(decision.record()),
             decision.decision_id),
        )]
        if queue_reason is not None:
            statements.append(self._enqueue(decision.decision_id, queue_reason))
        self._write(*statements)

    @staticmethod
    def _enqueue(decision_id: str, reason: str) -> tuple[str, tuple[Any, ...]]:
        return (
            "INSERT OR REPLACE INTO manual_queue (decision_id, queued_at, reason) VALUES (?, ?, ?)",
            (decision_id, rfc3339(datetime.now(UTC)), reason),
        )

    def get(self, decision_id: str) -> Decision | None:
        rows = self._rows(
            "SELECT record, assignment_id FROM decisions WHERE decision_id = ?", (decision_id,)
        )
        return _decision(*rows[0]) if rows else None

    def by_request(self, request_id: str) -> Decision | None:
        rows = self._rows(
            "SELECT record, assignment_id FROM decisions WHERE request_id = ?", (request_id,)
        )
        return _decision(*rows[0]) if rows else None

    def since(self, since: str, limit: int) -> list[Decision]:
        """Decisions with timestamp >= `since` (an rfc3339() string), oldest first."""
        rows = self._rows(
            "SELECT record, assignment_id FROM decisions WHERE timestamp >= ?"
            " ORDER BY timestamp, seq LIMIT ?",
            (since, limit),
        )
        return [_decision(*row) for row in rows]

    def pending_review(self, limit: int = 500) -> list[Decision]:
        rows = self._rows(
            "SELECT record, assignment_id FROM decisions WHERE status = 'pending_review'"
            " ORDER BY timestamp, seq LIMIT ?",
            (limit,),
        )
        return [_decision(*row) for row in rows]

    def manual_queue(self, limit: int = 500) -> list[tuple[Decision, str, str]]:
        """Queued decisions with when and why they were queued, oldest first."""
        rows = self._rows(
            "SELECT d.record, d.assignment_id, q.queued_at, q.reason FROM manual_queue q"
            " JOIN decisions d USING (decision_id) ORDER BY q.queued_at LIMIT ?",
            (limit,),
        )
        return [(_decision(record, asg), queued_at, reason)
                for record, asg, queued_at, reason in rows]
