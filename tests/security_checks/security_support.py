"""Helpers for the static security check tests (imported by name: pytest's prepend mode)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WriteTree = Callable[[dict[str, str]], Path]
"""Writes files (relative path -> text) under the project root and returns the root."""
