"""The user guide lists every probe of the registry, with its title and its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.registry import load_probes

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


@pytest.mark.parametrize("probe_id", [p.id for p in load_probes().probes()])
def test_every_probe_is_in_the_guide(probe_id: str) -> None:
    probe = load_probes().get(probe_id)
    text = GUIDE.read_text(encoding="utf-8")
    assert f"| `{probe.id}`" in text, f"docs/guide.md has no row for {probe.id}"
    assert probe.title in text, f"docs/guide.md has an old title for {probe.id}"
