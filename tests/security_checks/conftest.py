"""Fixtures for the static security checks: small agent trees written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import WriteTree


@pytest.fixture
def tree(tmp_path: Path) -> WriteTree:
    """Write files (relative path -> text) under tmp_path/"project" and return that root."""
    root = tmp_path / "project"

    def write(files: dict[str, str]) -> Path:
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return write
