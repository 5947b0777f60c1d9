"""Helpers for writing configurations of the purpose-built agents."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

AGENTS = Path(__file__).parent
ConfigWriter = Callable[..., Path]


def hostile_start(mode: str) -> str:
    """An agent.start line for the hostile agent in `mode`."""
    return f'start = "{sys.executable} {AGENTS / "hostile_agent.py"} --port {{port}} --mode {mode}"'
