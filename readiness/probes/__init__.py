"""The built-in probes, one module per item; importing this package registers them."""

from readiness.probes import docs, error_handling, error_handling_observe, owner, versioning

__all__ = ["docs", "error_handling", "error_handling_observe", "owner", "versioning"]
