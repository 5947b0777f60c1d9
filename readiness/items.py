"""The nine readiness items: keys, titles and risk are part of the public scorecard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Risk = Literal["critical", "high", "medium", "low"]


@dataclass(frozen=True)
class Item:
    """One of the nine readiness points."""

    id: int
    key: str
    title: str
    risk: Risk
    question: str


ITEMS: tuple[Item, ...] = (
    Item(1, "error_handling", "Error handling", "critical",
         "Does every upstream call survive rate limits, errors, timeouts and malformed data?"),
    Item(2, "audit", "Audit trail", "high",
         "Does every decision leave exactly one queryable, truthful audit record?"),
    Item(3, "rollback", "Rollback paths", "critical",
         "Can operators stop, slow down and undo the agent without engineers?"),
    Item(4, "monitoring", "Monitoring and alerts", "high",
         "Do operators hear about trouble in plain English, in time, once?"),
    Item(5, "versioning", "Versioning", "medium",
         "Is the running agent exactly the committed prompts, tools and rules?"),
    Item(6, "security", "Security and data handling", "critical",
         "Does the agent's own code hold the line when the model does not?"),
    Item(7, "load", "Load", "high",
         "Does the agent hold its thresholds at production volume with faults?"),
    Item(8, "docs", "Operator documentation", "medium",
         "Can operators run the agent from its runbook, FAQ, escalation path and training?"),
    Item(9, "owner", "Production owner", "medium",
         "Is a real, reachable person accountable for the agent in production?"),
)

ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
BY_KEY: dict[str, Item] = {item.key: item for item in ITEMS}
