"""Side files of [[table]] entries: one reader for waivers and the security baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import ConfigError
from readiness.config.entries import check_keys, read_entries


def _read(tmp_path: Path, text: str | None) -> list[dict[str, object]]:
    path = tmp_path / "side.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return read_entries(path, "accept", kind="a baseline file", setting="[security] baseline",
                        noun="accepted finding")


def test_entries_are_read_in_order(tmp_path: Path) -> None:
    text = '[[accept]]\ntest_id = "B608"\n[[accept]]\ntest_id = "B105"\n'
    assert [e["test_id"] for e in _read(tmp_path, text)] == ["B608", "B105"]
    assert _read(tmp_path, "") == []


@pytest.mark.parametrize(("text", "key", "expected", "fix"), [
    (None, "", "a baseline file", "correct the [security] baseline path"),
    ("[[accept]\n", "", "valid TOML", "correct the TOML syntax"),
    ('[accepted]\nx = 1\n', "accepted", "only [[accept]] entries",
     "put each accepted finding in its own [[accept]] table"),
    ('accept = "B608"\n', "accept", "an array of [[accept]] tables",
     "write each accepted finding as [[accept]]"),
], ids=["missing", "syntax", "other-table", "not-tables"])
def test_file_mistakes_name_the_file_key_and_fix(tmp_path: Path, text: str | None, key: str,
                                                 expected: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _read(tmp_path, text)
    assert caught.value.file == str(tmp_path / "side.toml")
    assert (caught.value.key, caught.value.expected) == (key, expected)
    assert fix in caught.value.fix


def test_an_unknown_key_suggests_the_closest_known_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[\[accept\]\] #2 reasn.*rename it to 'reason'"):
        check_keys(tmp_path, "[[accept]] #2", {"reasn": "x"}, ("test_id", "reason"))
    with pytest.raises(ConfigError, match="remove it, or check its spelling"):
        check_keys(tmp_path, "[[accept]] #1", {"zzz": 1}, ("test_id", "reason"))
    check_keys(tmp_path, "[[accept]] #1", {"reason": "r"}, ("test_id", "reason"))
