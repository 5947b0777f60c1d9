"""User mistakes in configuration: one paragraph naming file, key, expected, found and fix."""

from __future__ import annotations

from pathlib import Path


class ReadinessUsageError(Exception):
    """A mistake the user can fix (config, CLI arguments); exit code 2, no traceback."""


class ConfigError(ReadinessUsageError):
    """A configuration value is missing, unknown, of the wrong type or out of range."""

    def __init__(self, file: Path | str | None, key: str, expected: str, found: str,
                 fix: str) -> None:
        self.file = str(file) if file is not None else "<config>"
        self.key = key
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: expected {self.expected}, found {self.found}. Fix: {self.fix}"


def describe(value: object) -> str:
    """How a found value reads in an error message: its TOML-ish form and type."""
    kinds = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "an array", dict: "a table"}
    kind = next((name for cls, name in kinds.items() if type(value) is cls), type(value).__name__)
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({kind})"
