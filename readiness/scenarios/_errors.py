"""The one error type of scenario sources (its own module so every reader can raise it)."""

from __future__ import annotations

from readiness.config.errors import ReadinessUsageError


class ScenarioError(ReadinessUsageError):
    """A scenario source is unusable: unknown Faker provider, unreadable or malformed file.

    Messages read "where: what is wrong; how to fix", where is `path:line` for a file.
    """
