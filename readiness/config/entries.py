"""Side files made of one kind of [[table]] entry (waivers, the security baseline)."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from readiness.config.errors import ConfigError, describe


def read_entries(path: Path, table: str, *, kind: str, setting: str,
                 noun: str) -> list[dict[str, Any]]:
    """The ``[[table]]`` entries of a TOML file that may hold nothing else.

    `kind` names the file in errors ("a waiver file"), `setting` the config key
    that points at it ("[gate] waivers") and `noun` one entry ("waiver").

    Raises:
        ConfigError: for a missing, unreadable or invalid file, a top-level key
            other than `table`, or a `table` that is not an array of tables.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, "", kind, "no such file",
                          f"create it, or correct the {setting} path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, "", "a readable UTF-8 TOML file", str(err),
                          "check the file's permissions and encoding") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, "", "valid TOML", f"a syntax error ({err})",
                          "correct the TOML syntax at that line") from None
    for key in data:
        if key != table:
            raise ConfigError(path, key, f"only [[{table}]] entries", f"the unknown key {key!r}",
                              f"put each {noun} in its own [[{table}]] table")
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(path, table, f"an array of [[{table}]] tables", describe(entries),
                          f"write each {noun} as [[{table}]] followed by its keys")
    return entries


def check_keys(path: Path, where: str, raw: Mapping[str, Any], keys: Collection[str]) -> None:
    """Refuse a key of one entry that is not in `keys`, suggesting the closest one."""
    known = list(keys)
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            raise ConfigError(path, f"{where} {key}", f"one of the keys {', '.join(known)}",
                              f"the unknown key {key!r}", f"rename it to {close[0]!r}" if close
                              else "remove it, or check its spelling")
