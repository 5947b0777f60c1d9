"""Scenario records from Faker, JSONL or CSV, streamed one at a time in constant memory.

`records(scenario, root)` returns a `ScenarioRecords` iterator. Files are read a line at
a time, so their size does not matter. A malformed line (not JSON, not an object, a CSV
row with the wrong number of fields, bytes that are not UTF-8) either fails the run
with a `ScenarioError` naming `path:line`, or, with `[scenario] on_bad_record = "skip"`,
is skipped and counted: `skipped`, `skipped_lines` and `summary()` say what was left
out, so nothing disappears silently.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from readiness.config.model import ScenarioConfig
from readiness.scenarios._errors import ScenarioError

__all__ = ["KEPT_PROBLEMS", "ScenarioError", "ScenarioRecords", "records"]

KEPT_PROBLEMS = 10  # line numbers and messages kept for the report; the count is exact

Record = dict[str, Any]
BadRecord = Callable[[int, str, str], None]  # line, what is wrong, how to fix


class ScenarioRecords(Iterator[Record]):
    """The scenario's input records, one per `next()`, and what was skipped reading them.

    Attributes: `source` ("faker" or the file's path), `produced` (records handed
    out), `skipped` (malformed records left out, exact), `skipped_lines` and `problems`
    (line numbers and "path:line: what is wrong" messages of the first
    KEPT_PROBLEMS skipped records). A faker source never ends; a file source ends
    with the file, and raises ScenarioError if it had no usable record at all.
    """

    def __init__(self, source: str, read: Callable[[BadRecord], Iterator[Record]],
                 on_bad_record: str = "fail") -> None:
        self.source = source
        self.on_bad_record = on_bad_record
        self.produced = 0
        self.skipped = 0
        self.skipped_lines: list[int] = []
        self.problems: list[str] = []
        self._rows = read(self.bad_record)

    def __iter__(self) -> ScenarioRecords:
        return self

    def __next__(self) -> Record:
        try:
            record = next(self._rows)
        except StopIteration:
            if self.produced == 0:
                raise ScenarioError(self._nothing_usable()) from None
            raise
        self.produced += 1
        return record

    def summary(self) -> str | None:
        """One sentence for the report about skipped records, or None if none were."""
        if not self.skipped:
            return None
        lines = ", ".join(map(str, self.skipped_lines))
        more = ", ..." if self.skipped > len(self.skipped_lines) else ""
        plural = "s" if self.skipped != 1 else ""
        return (f"skipped {self.skipped} malformed record{plural} of {self.source} "
                f"(line{'s' if len(self.skipped_lines) != 1 else ''} {lines}{more})")

    def bad_record(self, line: int, what: str, fix: str) -> None:
        """A malformed record at `line`: raise under "fail", count and keep it under "skip"."""
        where = f"{self.source}:{line}: {what}"
        if self.on_bad_record != "skip":
            raise ScenarioError(f"{where}; {fix}, or set [scenario] on_bad_record = \"skip\" "
                                "to skip malformed records")
        self.skipped += 1
        if len(self.skipped_lines) < KEPT_PROBLEMS:
            self.skipped_lines.append(line)
            self.problems.append(where)

    def _nothing_usable(self) -> str:
        if self.skipped:
            return (f"{self.source}: no usable record: every one of the {self.skipped} "
                    f"records was malformed (first: {self.problems[0]}); fix the file")
        return f"{self.source}: no records; add at least one record to the file"


def records(scenario: ScenarioConfig, root: Path) -> ScenarioRecords:
    """The scenario's input records, as an iterator that also tells what it skipped.

    Faker: an endless stream; the same seed gives the same records on any day (Faker
    is only called once per field, to fill pools; see `_faker_pools`). Unknown providers
    or locales raise ScenarioError here. JSONL/CSV: the file's records in order, read
    lazily; malformed ones fail or are skipped as `[scenario] on_bad_record` says.
    """
    if scenario.source == "faker":
        from readiness.scenarios._faker_pools import field_makers

        makers = field_makers(dict(scenario.faker_fields), scenario.locale, scenario.seed,
                              scenario.unique)
        return ScenarioRecords("faker", lambda _bad: ({name: make(index) for name, make in makers}
                                                      for index in itertools.count()))
    kind, _, raw_path = scenario.source.partition(":")
    path = (root / raw_path).resolve()
    if not path.is_file():
        raise ScenarioError(f"[scenario] source: {path} does not exist; fix the path after "
                            f"'{kind}:' (relative paths start at {root})")
    read = _jsonl_records if kind == "jsonl" else _csv_records
    return ScenarioRecords(str(path), lambda bad: read(path, bad), scenario.on_bad_record)


def _jsonl_records(path: Path, bad: BadRecord) -> Iterator[Record]:
    fix = "write one JSON object per line"
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                bad(number, f"not valid JSON ({exc.msg} at column {exc.colno})", fix)
                continue
            except UnicodeDecodeError as exc:
                bad(number, f"not UTF-8 (byte {exc.start + 1} of the line)",
                    "save the file as UTF-8")
                continue
            if not isinstance(record, dict):
                bad(number, f"expected a JSON object, found {_json_kind(record)}", fix)
                continue
            yield record


def _csv_records(path: Path, bad: BadRecord) -> Iterator[Record]:
    undecodable: list[int] = []  # physical line numbers that were not UTF-8

    def text_lines(raw: Iterable[bytes]) -> Iterator[str]:
        for number, line in enumerate(raw, 1):
            try:
                yield line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                undecodable.append(number)
                yield line.decode("utf-8", "replace")

    with path.open("rb") as handle:
        reader = csv.reader(text_lines(handle))
        header = next((row for row in reader if row), None)
        if header is None:
            raise ScenarioError(f"{path}: no header row; the first line of a CSV scenario "
                                "names the columns, e.g. name,email,message")
        if undecodable:
            raise ScenarioError(f"{path}:{undecodable[0]}: the header is not UTF-8; save the "
                                "file as UTF-8")
        duplicate = next((c for i, c in enumerate(header) if c in header[:i]), None)
        if duplicate is not None:
            raise ScenarioError(f"{path}:{reader.line_num}: the column {duplicate!r} appears "
                                "twice in the header; give every column its own name")
        width = len(header)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                bad(start, f"unreadable CSV ({exc})", "fix the row's quoting")
                continue
            if not row:
                continue
            if undecodable and undecodable[-1] >= start:
                bad(undecodable[-1], "not UTF-8", "save the file as UTF-8")
            elif len(row) != width:
                fields = f"{len(row)} field" + ("s" if len(row) != 1 else "")
                bad(start, f"{fields} where the header has {width}",
                    "quote fields that contain commas, and give every row the header's columns")
            else:
                yield dict(zip(header, row, strict=True))


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", int: "a number", float: "a number",
             bool: "true or false", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)
