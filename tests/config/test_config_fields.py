"""The field converters and error helpers of readiness.config, used directly."""

from __future__ import annotations

import pytest

from readiness.config import ConfigError
from readiness.config import fields as f
from readiness.config.errors import describe

HERE = f.Where("readiness.toml", "[load] duration")


@pytest.mark.parametrize(("value", "shown"), [
    ("x", "'x' (a string)"), (True, "True (a boolean)"), (3, "3 (an integer)"),
    (0.5, "0.5 (a number)"), ([1], "[1] (an array)"), ({"a": 1}, "{'a': 1} (a table)"),
    ("y" * 100, "'" + "y" * 56 + "... (a string)"),
])
def test_describe(value: object, shown: str) -> None:
    assert describe(value) == shown


def test_config_error_without_file_or_key() -> None:
    error = ConfigError(None, "", "a thing", "nothing", "add it")
    assert (error.file, str(error)) == (
        "<config>", "<config>: expected a thing, found nothing. Fix: add it")


def test_where_error_accepts_a_found_description() -> None:
    error = HERE.error("a duration", f.Found("nothing usable"), "write one")
    assert str(error) == ("readiness.toml: [load] duration: expected a duration, "
                          "found nothing usable. Fix: write one")


@pytest.mark.parametrize("text", ["$HOME", "${}", "${1X}", "plain"])
def test_expand_env_leaves_non_references_alone(text: str) -> None:
    assert f.expand_env(text, HERE) == text


@pytest.mark.parametrize(("value", "seconds"), [
    (20, 20.0), (0.5, 0.5), ("20s", 20.0), ("2m", 120.0), ("1h30m", 5400.0),
    ("1h 0m 5s", 3605.0), (" 3m ", 180.0),
])
def test_duration_accepts(value: object, seconds: float) -> None:
    assert f.duration(value, HERE) == seconds


@pytest.mark.parametrize("value", [0, -1, True, "", "  ", "20", "5d", "s", "1m1h", None, [20]])
def test_duration_rejects(value: object) -> None:
    with pytest.raises(ConfigError, match="expected a positive duration"):
        f.duration(value, HERE)


def test_number_converts_to_float_or_int() -> None:
    assert (f.number(0, 1)(1, HERE), f.number(integer=True)(3, HERE)) == (1.0, 3)
    assert isinstance(f.number(integer=True)(3, HERE), int)


@pytest.mark.parametrize(("convert", "value", "expected"), [
    (f.number(0, 1), 1.01, "a number >= 0 and <= 1"),
    (f.number(0, exclusive_min=True), 0, "a number > 0"),
    (f.number(1, integer=True), 1.5, "an integer >= 1"),
    (f.number(), "1", "a number"),
])
def test_number_bounds_in_the_message(convert: f.Convert, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        convert(value, HERE)
    assert caught.value.expected == expected
