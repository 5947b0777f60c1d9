"""The built-in probes, one module per item; importing this package registers them."""

from readiness.probes import (
    audit,
    audit_observe,
    docs,
    error_handling,
    error_handling_observe,
    load,
    load_observe,
    monitoring,
    monitoring_observe,
    owner,
    rollback,
    rollback_observe,
    security,
    security_agency,
    security_observe,
    security_pii,
    security_static,
    versioning,
)

__all__ = ["audit", "audit_observe", "docs", "error_handling", "error_handling_observe",
           "load", "load_observe", "monitoring", "monitoring_observe", "owner",
           "rollback", "rollback_observe", "security", "security_agency", "security_observe",
           "security_pii", "security_static", "versioning"]
