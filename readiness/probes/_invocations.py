"""What the audit observer saw: invocations, their records, a concurrent batch, edits tried.

Shared by items 2 and 3: rollback judges its invocations with the same `Invocation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.probes._ops_api import Fetched, Listing
from readiness.probes._writes import Write


@dataclass(frozen=True)
class Invocation:
    """One invocation the audit observer made, and what it found out about it.

    `writes` are the recorded upstream writes attributed to it, None when they
    cannot be attributed (an agent that does not propagate X-Request-ID, invoked
    concurrently). `persistent` marks a fault that fired on every attempt, so the
    invocation cannot have succeeded and its record must carry an error.
    """

    scenario: str
    request_id: str
    input: Mapping[str, Any]
    reply_status: int | None
    answer: Mapping[str, Any] | None
    reply_error: str | None = None
    fetched: Fetched | None = None
    writes: tuple[Write, ...] | None = ()
    fault: str | None = None
    fault_fired: bool = False
    persistent: bool = False

    @property
    def record(self) -> Mapping[str, Any] | None:
        return None if self.fetched is None else self.fetched.record

    def brief(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "request_id": self.request_id,
                "answer": self.answer if self.answer is not None else self.reply_error,
                "http_status": self.reply_status,
                "record": None if self.fetched is None else self.fetched.evidence()}


@dataclass(frozen=True)
class ConcurrencyRun:
    """Many invocations at once: did every one leave exactly one record?"""

    sent: int
    concurrency: int
    invocations: tuple[Invocation, ...]
    writes: tuple[Write, ...] = ()  # every write recorded during the batch


@dataclass(frozen=True)
class Mutation:
    """One attempt to change or delete a record through the API."""

    method: str
    path: str
    status: int | None
    changed: bool
    gone: bool


@dataclass(frozen=True)
class AuditObservations:
    fields: Mapping[str, str]  # contract name -> the agent's name ([agent.fields])
    version: str | None = None
    sequential: tuple[Invocation, ...] = ()
    faulted: tuple[Invocation, ...] = ()
    concurrent: ConcurrencyRun | None = None
    listing: Listing | None = None
    mutations: tuple[Mutation, ...] = ()
    mutation_target: str | None = None
    has_tools: bool = True
    unavailable: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    redact: tuple[str, ...] = ()  # [data] redact: input fields the record may hold masked

    def all_invocations(self) -> list[Invocation]:
        batch = self.concurrent.invocations if self.concurrent else ()
        return [*self.sequential, *self.faulted, *batch]

    def get(self, record: Mapping[str, Any], name: str) -> Any:
        return record.get(self.fields.get(name, name))


def same_input(kept: Any, sent: Mapping[str, Any], redact: tuple[str, ...] = ()) -> bool:
    """The recorded input is the one sent, except fields the data policy says to redact."""
    if not isinstance(kept, dict) or set(kept) != set(sent):
        return False
    return all(kept[k] == v for k, v in sent.items() if k not in redact)
