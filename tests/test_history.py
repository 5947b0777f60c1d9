"""Run history: record, list and reload scorecards in SQLite; layout, concurrency, errors."""

from __future__ import annotations

import copy
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from reports.reports_cards import HOSTILE, not_ready_card, ready_card

from readiness.cli import main
from readiness.config import ConfigError, load_config
from readiness.history import (
    SCHEMA_VERSION,
    HistoryError,
    history_command,
    history_path,
    list_runs,
    load_run,
    record_if_enabled,
    record_run,
)

AGENT = '[agent]\nname = "t"\napp = "pkg.app:app"\n'


def _card(finished: str = "2026-11-25T10:00:42Z", **agent: Any) -> dict[str, Any]:
    card = ready_card()
    card["finished_at"] = finished
    card["agent"].update(agent)
    return card


def test_a_recorded_run_lists_and_loads_back_whole(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "history.db"
    first = record_run(db, _card("2026-11-24T10:00:00Z", version="1.3.0"))
    second = record_run(db, not_ready_card())
    assert second > first
    newest, oldest = list_runs(db)
    assert (newest.id, newest.verdict, newest.version, newest.min_score, newest.failed) == (
        second, "not_ready", None, 0.0, ("audit", "security", "load"))
    assert (oldest.id, oldest.finished_at, oldest.agent, oldest.version) == (
        first, "2026-11-24T10:00:00Z", "lead-router", "1.3.0")
    assert load_run(db, second) == not_ready_card()
    assert [run.id for run in list_runs(db, limit=1)] == [second]


def test_a_run_limited_to_some_items_is_listed_as_such(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card())
    load_only = _card()
    load_only["run"]["only"] = ["load"]
    record_run(db, load_only)
    assert [run.only for run in list_runs(db)] == [("load",), None]
    assert history_command(db, 5) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[4] for line in lines[1:]] == ["load", "all"]


def test_the_database_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card())
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_two_runs_finishing_together_are_both_recorded(tmp_path: Path) -> None:
    db = tmp_path / "history.db"  # not created yet: both threads race to make the layout too
    start = threading.Barrier(2)
    ids: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait(timeout=10)
            for n in range(20):
                ids[name].append(record_run(db, _card(agent=None, name=f"{name}-{n}")))
        except BaseException as exc:  # reported below, where pytest can show it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    recorded = list_runs(db, limit=100)
    assert len(recorded) == 40
    assert sorted(run.id for run in recorded) == sorted(ids["a"] + ids["b"])
    assert {run.agent for run in recorded} == {f"{n}-{i}" for n in "ab" for i in range(20)}


def test_reading_a_missing_history_creates_nothing_and_says_where(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "history.db"
    with pytest.raises(HistoryError, match=r"no run history there yet; `readiness run` "
                       r"records each run in it \(see \[history\] path\)"):
        list_runs(db)
    assert not db.parent.exists()


def test_an_unknown_run_id_points_at_the_listing(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card())
    with pytest.raises(HistoryError, match=r"no run 7 in the history; `readiness history` "
                       "lists the recorded runs"):
        load_run(db, 7)


def test_a_newer_layout_is_refused_not_rewritten(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card())
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    for attempt in (lambda: record_run(db, _card()), lambda: list_runs(db)):
        with pytest.raises(HistoryError, match=r"has layout 2, newer than this agent-readiness "
                           r"understands \(1\); upgrade"):
            attempt()


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_file_that_is_no_history_is_a_usage_error(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "history.db"
    db.write_bytes(content)
    with pytest.raises(HistoryError, match=str(db)):
        list_runs(db)


def test_history_command_prints_a_table_with_inert_agent_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card(version="1.4.0"))
    hostile = not_ready_card()
    hostile["agent"]["name"] = HOSTILE
    record_run(db, hostile)
    assert history_command(db, 10) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "finished", "agent", "version", "items", "verdict",
                                "lowest", "failed"]
    assert lines[1].startswith("2 ") and "audit, security, load" in lines[1]
    assert lines[2].split()[:6] == ["1", "2026-11-25T10:00:42Z", "lead-router", "1.4.0",
                                    "all", "ready"]
    assert len(lines) == 3 and "\x1b" not in "".join(lines)


def test_history_command_on_an_empty_history(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    record_run(db, _card())
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM runs")
    connection.close()
    assert history_command(db, 5) == 0
    assert capsys.readouterr().out == f"{db}: no runs recorded yet\n"


def test_history_config_defaults_beside_the_config_and_can_be_switched_off(
        tmp_path: Path) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text(AGENT, encoding="utf-8")
    config = load_config(path)
    assert config.history.enabled
    assert history_path(config) == tmp_path / ".readiness" / "history.db"
    assert record_if_enabled(config, _card()) == 1
    assert list_runs(history_path(config))[0].id == 1

    path.write_text(AGENT + '[history]\nenabled = false\npath = "runs/h.db"\n', encoding="utf-8")
    config = load_config(path)
    assert history_path(config) == tmp_path / "runs" / "h.db"
    assert record_if_enabled(config, _card()) is None
    assert not (tmp_path / "runs").exists()


def test_an_unwritable_history_warns_and_leaves_the_verdict_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "readiness.toml"
    (tmp_path / "blocker").write_text("a file where a folder should be")
    path.write_text(AGENT + '[history]\npath = "blocker/history.db"\n', encoding="utf-8")
    assert record_if_enabled(load_config(path), _card()) is None
    assert "warning: this run was not recorded in the history" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "key", "message"), [
    ('[history]\nenabled = "yes"\n', "[history] enabled",
     "expected true or false, found 'yes' (a string). Fix: write true or false without quotes"),
    ('[history]\npath = ""\n', "[history] path",
     "expected a non-empty string, found '' (a string). Fix: fill in a value or remove the key"),
    ("[history]\npth = 1\n", "[history] pth", "expected one of the keys enabled, path, found "
     "the unknown key 'pth'. Fix: rename it to 'path'"),
    ("[histroy]\n", "[histroy]", "Fix: rename it to [history]"),
    ('[gate]\nwaivers = ""\n', "[gate] waivers",
     "expected a non-empty string, found '' (a string)"),
])
def test_history_and_waiver_settings_are_checked(tmp_path: Path, text: str, key: str,
                                                 message: str) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text(AGENT + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert message in str(caught.value)


def test_recorded_card_is_a_copy_not_a_reference(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    card = _card()
    original = copy.deepcopy(card)
    run_id = record_run(db, card)
    card["verdict"] = "edited after recording"
    assert load_run(db, run_id) == original


def test_history_command_finds_the_path_set_in_pyproject(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.readiness.agent]\nname = "t"\napp = "pkg.app:app"\n'
        '[tool.readiness.history]\npath = "runs/h.db"\n', encoding="utf-8")
    record_run(tmp_path / "runs" / "h.db", _card(version="3.0.0"))
    monkeypatch.chdir(tmp_path)
    assert main(["history"]) == 0
    assert "3.0.0" in capsys.readouterr().out
