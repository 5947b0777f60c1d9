"""The security baseline: reviewed scanner findings a team accepts, each with its reason.

A committed TOML file (``readiness-baseline.toml`` by convention)::

    [[accept]]
    test_id = "B608"                 # a bandit finding ...
    file = "lead_router/store.py"
    line = 120                       # optional: without line or code, every B608 in the file
    reason = "parameterised; the table name is a constant"

    [[accept]]
    secret_type = "AWS Access Key"   # ... or a detect-secrets finding
    file = "lead_router/fixtures.py"
    reason = "AWS's documented example key, used by a unit test"

``code = "..."`` may replace ``line`` for bandit findings: a piece of the flagged code,
which survives edits that move the line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from readiness.config.entries import check_keys, read_entries
from readiness.config.errors import ConfigError, describe
from readiness.security_checks._detectors import known_secret_types

_TEST_ID = re.compile(r"^B\d{3}$")
_CODE_KEYS = ("test_id", "file", "line", "code", "reason")
_SECRET_KEYS = ("secret_type", "file", "line", "reason")
_ALL_KEYS = ("test_id", "secret_type", "file", "line", "code", "reason")


@dataclass(frozen=True)
class Acceptance:
    """One ``[[accept]]`` entry: which finding it covers and why it is acceptable."""

    file: str
    reason: str
    test_id: str | None = None
    secret_type: str | None = None
    line: int | None = None
    code: str | None = None

    def covers_code(self, file: str, test_id: str, line: int, code: str) -> bool:
        """Whether this entry accepts a bandit finding."""
        if self.test_id != test_id or self.file != file:
            return False
        if self.line is not None:
            return self.line == line
        if self.code is not None:
            return _squash(self.code) in _squash(code)
        return True

    def covers_secret(self, file: str, secret_type: str, line: int) -> bool:
        """Whether this entry accepts a detect-secrets finding."""
        return (self.secret_type == secret_type and self.file == file
                and self.line in (None, line))


@dataclass(frozen=True)
class Baseline:
    """All accepted findings from one baseline file."""

    path: Path | None
    entries: tuple[Acceptance, ...] = ()

    def reason_for_code(self, file: str, test_id: str, line: int, code: str) -> str | None:
        """The reason a bandit finding was accepted, or None when nothing accepts it."""
        return next((entry.reason for entry in self.entries
                     if entry.covers_code(file, test_id, line, code)), None)

    def reason_for_secret(self, file: str, secret_type: str, line: int) -> str | None:
        """The reason a secret finding was accepted, or None when nothing accepts it."""
        return next((entry.reason for entry in self.entries
                     if entry.covers_secret(file, secret_type, line)), None)


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file.

    Raises ``ConfigError`` naming the file, the entry (``[[accept]] #N``, counted from 1)
    and the key for an unreadable file, an unknown key, a missing or empty ``reason``,
    or an entry that names neither ``test_id`` nor ``secret_type``.
    """
    entries = read_entries(path, "accept", kind="a baseline file",
                           setting="[security] baseline", noun="accepted finding")
    return Baseline(path, tuple(_entry(path, number, raw)
                                for number, raw in enumerate(entries, start=1)))


def _entry(path: Path, number: int, raw: Mapping[str, Any]) -> Acceptance:
    where = f"[[accept]] #{number}"
    check_keys(path, where, raw, _ALL_KEYS)
    if ("test_id" in raw) == ("secret_type" in raw):
        raise ConfigError(path, where, "exactly one of test_id (a bandit finding) or "
                          "secret_type (a detect-secrets finding)",
                          "both" if "test_id" in raw else "neither",
                          'add test_id = "B608" or secret_type = "AWS Access Key"')
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(path, f"{where} reason",
                          "a non-empty string saying why the finding is acceptable",
                          "it missing" if reason is None else describe(reason),
                          'add reason = "..." recording the review\'s conclusion')
    file = _string(path, where, raw, "file", 'file = "lead_router/store.py"')
    line = raw.get("line")
    if line is not None and (type(line) is not int or line < 1):
        raise ConfigError(path, f"{where} line", "a line number (an integer from 1)",
                          describe(line), "write line = 120, or remove it to accept the "
                          "finding anywhere in the file")
    if "secret_type" in raw:
        return _secret_entry(path, where, raw, file, line, reason.strip())
    test_id = _string(path, where, raw, "test_id", 'test_id = "B608"')
    if not _TEST_ID.match(test_id):
        raise ConfigError(path, f"{where} test_id", 'a bandit test id such as "B608"',
                          describe(test_id), "copy the test id from the scan's finding")
    code = raw.get("code")
    if code is not None:
        code = _string(path, where, raw, "code", 'code = "cursor.execute(query, params)"')
        if line is not None:
            raise ConfigError(path, f"{where} code", "either line or code, not both",
                              "both", "keep code (it survives edits that move the line)")
    return Acceptance(file, reason.strip(), test_id=test_id, line=line, code=code)


def _secret_entry(path: Path, where: str, raw: Mapping[str, Any], file: str,
                  line: int | None, reason: str) -> Acceptance:
    if "code" in raw:
        raise ConfigError(path, f"{where} code", f"only the keys {', '.join(_SECRET_KEYS)} "
                          "for a secret", "code", "remove code: a baseline must not repeat "
                          "the secret; use line, or nothing to accept the type file-wide")
    secret_type = _string(path, where, raw, "secret_type", 'secret_type = "AWS Access Key"')
    known = known_secret_types()
    if secret_type not in known:
        close = difflib.get_close_matches(secret_type, known, n=1)
        raise ConfigError(path, f"{where} secret_type", "a detect-secrets secret type such as "
                          '"AWS Access Key"', describe(secret_type),
                          f"write {close[0]!r}" if close
                          else f"use one of {', '.join(sorted(known))}")
    return Acceptance(file, reason, secret_type=secret_type, line=line)


def _string(path: Path, where: str, raw: Mapping[str, Any], key: str, example: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, f"{where} {key}", "a non-empty string",
                          "it missing" if value is None else describe(value), f"write {example}")
    if key == "file":
        return PurePosixPath(value.strip().replace("\\", "/")).as_posix()
    return value.strip()


def _squash(text: str) -> str:
    """Whitespace-insensitive form, so re-indentation does not break a code match."""
    return " ".join(text.split())
