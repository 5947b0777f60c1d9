"""write_reports and the package's public surface."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from reports_cards import valid

import readiness.reports as reports
from readiness.reports import ScorecardSchemaError, write_reports

FILES = {"json": "scorecard.json", "html": "scorecard.html", "markdown": "scorecard.md",
         "junit": "junit.xml", "sarif": "scorecard.sarif"}


def test_public_names() -> None:
    assert sorted(reports.__all__) == [
        "SCHEMA", "ScorecardSchemaError", "dump_scorecard", "render_html", "render_junit",
        "render_markdown", "render_sarif", "render_terminal", "validate_scorecard",
        "write_reports"]
    for name in reports.__all__:
        assert getattr(reports, name) is not None


def test_package_data_is_reachable_through_importlib_resources() -> None:
    package = files("readiness.reports")
    assert package.joinpath("scorecard.schema.json").is_file()
    assert package.joinpath("templates", "scorecard.html.j2").is_file()


def test_writes_the_five_reports(tmp_path: Path) -> None:
    card = valid("not_ready")
    out = tmp_path / "nested" / "readiness-report"
    paths = write_reports(card, out)
    assert paths == {kind: out / name for kind, name in FILES.items()}
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    text = paths["json"].read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "schema": "readiness.scorecard/v1"')
    assert json.loads(text) == card
    assert paths["html"].read_text(encoding="utf-8").startswith("<!doctype html>")
    assert paths["markdown"].read_text(encoding="utf-8").startswith("## ❌ NOT READY")
    assert paths["junit"].read_bytes().startswith(b"<?xml")
    assert json.loads(paths["sarif"].read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_non_ascii_stays_readable_in_json(tmp_path: Path) -> None:
    card = valid("ready")
    card["agent"]["name"] = "routeur-de-prospects-é"
    paths = write_reports(card, tmp_path)
    assert "routeur-de-prospects-é" in paths["json"].read_text(encoding="utf-8")


def test_hostile_card_round_trips_even_with_a_lone_surrogate(tmp_path: Path) -> None:
    card = valid("hostile")
    paths = write_reports(card, tmp_path)
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == card
    for path in paths.values():
        path.read_text(encoding="utf-8")  # every file is valid UTF-8


def test_invalid_card_writes_nothing(tmp_path: Path) -> None:
    card = valid("ready")
    card["items"][0]["score"] = 11
    out = tmp_path / "report"
    with pytest.raises(ScorecardSchemaError, match=r"\$\.items\[0\]\.score"):
        write_reports(card, out)
    assert not out.exists()


def test_overwrites_previous_reports_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_reports(valid("not_ready"), tmp_path)
    paths = write_reports(valid("ready"), tmp_path)
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["verdict"] == "ready"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES.values())


def test_charts_reach_the_html(tmp_path: Path) -> None:
    chart = '<svg viewBox="0 0 1 1"></svg>'
    paths = write_reports(valid("ready"), tmp_path, charts={"honours_retry_after": chart})
    assert chart in paths["html"].read_text(encoding="utf-8")
