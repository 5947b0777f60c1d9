"""The built-in probes, one module per item; importing this package registers them."""

from readiness.probes import docs, owner, versioning

__all__ = ["docs", "owner", "versioning"]
