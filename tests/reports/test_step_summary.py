"""The Markdown scorecard appended to $GITHUB_STEP_SUMMARY in GitHub Actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from reports_cards import valid

from readiness.reports import render_markdown
from readiness.reports.step_summary import write_step_summary


def test_outside_github_actions_nothing_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert write_step_summary("## READY\n") is None
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "")
    assert write_step_summary("## READY\n") is None


def test_the_scorecard_is_appended_after_what_the_step_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step_summary_abc"
    summary.write_text("### Unit tests\nall green", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    card_md = render_markdown(valid("not_ready"))
    assert write_step_summary(card_md) == summary
    assert summary.read_text(encoding="utf-8") == "### Unit tests\nall green\n" + card_md


def test_a_missing_file_is_created_and_text_gets_its_final_newline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert write_step_summary("## ✅ READY") == summary
    assert summary.read_text(encoding="utf-8") == "## ✅ READY\n"


def test_an_unwritable_summary_is_a_warning_not_a_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a folder, not a file
    assert write_step_summary("## READY\n") is None
    assert "warning: could not append the scorecard to $GITHUB_STEP_SUMMARY" in \
        capsys.readouterr().err
