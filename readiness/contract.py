"""The agent ops contract (DESIGN.md section 3): default endpoints, remappable in config."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("none", "invoke", "operator")
STATUSES = ("executed", "pending_review", "manual", "failed")
MODES = ("active", "review_only", "disabled")
AUDIT_FIELDS = ("decision_id", "request_id", "timestamp", "agent_version", "mode", "input",
                "reasoning", "confidence", "action", "status", "approver", "effects", "errors",
                "reverted")


@dataclass(frozen=True)
class Endpoint:
    """One contract endpoint: method, path template (with {decision_id}) and token scope."""

    method: str
    path: str
    scope: str

    def render(self, **params: str) -> str:
        """The path with its {placeholders} filled."""
        return self.path.format(**params)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


DEFAULT_ENDPOINTS: dict[str, Endpoint] = {
    "health": Endpoint("GET", "/health", "none"),
    "invoke": Endpoint("POST", "/invoke", "invoke"),
    "audit": Endpoint("GET", "/audit/{decision_id}", "operator"),
    "audit_list": Endpoint("GET", "/audit", "operator"),
    "control_get": Endpoint("GET", "/control", "operator"),
    "control": Endpoint("PUT", "/control", "operator"),
    "review": Endpoint("GET", "/review", "operator"),
    "approve": Endpoint("POST", "/review/{decision_id}/approve", "operator"),
    "revert": Endpoint("POST", "/decisions/{decision_id}/revert", "operator"),
    "version": Endpoint("GET", "/version", "none"),
    "metrics": Endpoint("GET", "/metrics", "none"),
}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def parse_endpoint(spec: str, default: Endpoint) -> Endpoint:
    """'PUT /admin/mode' or '/admin/mode' (keeping the default method) -> Endpoint."""
    parts = spec.split()
    if len(parts) == 1 and parts[0].startswith("/"):
        return Endpoint(default.method, parts[0], default.scope)
    if len(parts) == 2 and parts[0].upper() in METHODS and parts[1].startswith("/"):
        return Endpoint(parts[0].upper(), parts[1], default.scope)
    raise ValueError(spec)
