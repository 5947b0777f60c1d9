"""Shared pieces of the configuration tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WriteConfig = Callable[..., Path]

MINIMAL_AGENT = '[agent]\nname = "t"\napp = "pkg.app:app"\n'
