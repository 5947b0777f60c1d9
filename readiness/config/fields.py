"""Typed field specs: each converts a raw TOML value or raises ConfigError."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from readiness.config.errors import ConfigError, describe

Convert = Callable[[Any, "Where"], Any]


@dataclass(frozen=True)
class Where:
    """Where a value came from, for error messages."""

    file: str
    key: str

    @property
    def name(self) -> str:
        """The bare key name, without its [section] prefix."""
        return self.key.rpartition("] ")[2].rsplit(".", 1)[-1]

    def error(self, expected: str, found: object, fix: str) -> ConfigError:
        """A ConfigError at this place; `found` is the raw value, or a Found description."""
        shown = found.text if isinstance(found, Found) else describe(found)
        return ConfigError(self.file, self.key, expected, shown, fix)


@dataclass(frozen=True)
class Found:
    """A found-value description that is not the raw value itself."""

    text: str


@dataclass(frozen=True)
class Field:
    """One key: its converter, whether it is required, its default, and an example."""

    convert: Convert
    required: bool = False
    default: Any = None
    example: str = ""


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str, where: Where) -> str:
    """Replace ${VAR} (and ${VAR:-default}) from the environment."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise where.error(
            f"the environment variable {name} to be set (the value is {value!r})",
            Found(f"{name} unset"),
            f"export {name}=... before running, or write ${{{name}:-default}}",
        )

    return _ENV.sub(substitute, value)


def string(value: Any, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error("a string", value, f'write {where.name} = "..."')
    return expand_env(value, where)


def nonempty_string(value: Any, where: Where) -> str:
    text = string(value, where)
    if not text.strip():
        raise where.error("a non-empty string", value, "fill in a value or remove the key")
    return text


def boolean(value: Any, where: Where) -> bool:
    if not isinstance(value, bool):
        raise where.error("true or false", value, "write true or false without quotes")
    return value


def number(minimum: float | None = None, maximum: float | None = None,
           *, integer: bool = False, exclusive_min: bool = False) -> Convert:
    """A number (or integer) within bounds."""
    kind = "an integer" if integer else "a number"
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if exclusive_min else '>='} {minimum:g}")
    if maximum is not None:
        bounds.append(f"<= {maximum:g}")
    expected = kind + (" " + " and ".join(bounds) if bounds else "")

    def convert(value: Any, where: Where) -> float | int:
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            raise where.error(expected, value, f"write a bare {kind[3:] if integer else 'number'}"
                              " without quotes")
        too_low = minimum is not None and (value <= minimum if exclusive_min else value < minimum)
        if too_low or (maximum is not None and value > maximum):
            raise where.error(expected, value, f"use a value {' and '.join(bounds)}")
        return value if integer else float(value)

    return convert


def choice(*options: str) -> Convert:
    def convert(value: Any, where: Where) -> str:
        if not isinstance(value, str) or value not in options:
            raise where.error("one of " + ", ".join(repr(o) for o in options), value,
                              f"write {where.name} = {options[0]!r}")
        return value

    return convert


def string_list(value: Any, where: Where) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise where.error("an array of strings", value, 'write ["a", "b"]')
    return tuple(expand_env(v, where) for v in value)


def string_table(value: Any, where: Where) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise where.error("a table of string values", value, 'write { KEY = "value" }')
    return {str(k): expand_env(v, where) for k, v in value.items()}


def date(value: Any, where: Where) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise where.error("a date (YYYY-MM-DD)", value,
                      "write reviewed = 2026-11-01 (no quotes needed)")


_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^\s*(?:{_NUMBER}h)?\s*(?:{_NUMBER}m)?\s*(?:{_NUMBER}s)?\s*$")


def duration(value: Any, where: Where) -> float:
    """Seconds, from a number or a string like "20s", "2m", "1h30m"."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and value.strip():
        match = _DURATION.match(value)
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            total = hours * 3600 + minutes * 60 + seconds
            if total > 0:
                return total
    raise where.error('a positive duration such as "20s", "2m" or "1h30m"', value,
                      'write duration = "20s"')
