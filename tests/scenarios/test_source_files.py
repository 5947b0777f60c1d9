"""JSONL and CSV scenario records: malformed lines fail the run or are skipped, never lost."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from readiness.config.model import ScenarioConfig
from readiness.scenarios import ScenarioError, records
from readiness.scenarios.source import KEPT_PROBLEMS

JSONL = (b'{"name": "Ada"}\n'
         b"\n"                              # blank: not a record, not a problem
         b"not json\n"                      # line 3
         b"[1, 2]\n"                        # line 4
         b'{"name": "Bob"}\n'
         b'{"name": "\xff"}\n'              # line 6: not UTF-8
         b'{"name": "Cy"}')                 # no final newline
CSV = (b"name,email\n"
       b"Ada,ada@example.org\n"
       b'"Bob, Jr",bob@example.org,extra\n'  # line 3: three fields
       b"\n"
       b'Cy,"two\nlines"\n'                   # lines 5-6: one quoted field across lines
       b"Dee\n"                               # line 7: one field
       b"\xff,eve@example.org\n"              # line 8: not UTF-8
       b"Eve,eve@example.org\n")


def scenario(tmp_path: Path, name: str, data: bytes, on_bad_record: str = "fail"
             ) -> ScenarioConfig:
    (tmp_path / name).write_bytes(data)
    kind = name.rpartition(".")[2]
    return ScenarioConfig(source=f"{kind}:{name}", on_bad_record=on_bad_record)


def test_jsonl_skip_counts_and_keeps_line_numbers(tmp_path: Path) -> None:
    stream = records(scenario(tmp_path, "leads.jsonl", JSONL, "skip"), tmp_path)
    assert [r["name"] for r in stream] == ["Ada", "Bob", "Cy"]
    path = tmp_path / "leads.jsonl"
    assert (stream.produced, stream.skipped, stream.skipped_lines) == (3, 3, [3, 4, 6])
    assert stream.problems == [f"{path}:3: not valid JSON (Expecting value at column 1)",
                               f"{path}:4: expected a JSON object, found an array",
                               f"{path}:6: not UTF-8 (byte 11 of the line)"]
    assert stream.summary() == f"skipped 3 malformed records of {path} (lines 3, 4, 6)"


def test_jsonl_fail_names_path_and_line(tmp_path: Path) -> None:
    stream = records(scenario(tmp_path, "leads.jsonl", JSONL), tmp_path)
    assert next(stream) == {"name": "Ada"}
    with pytest.raises(ScenarioError) as caught:
        next(stream)
    assert str(caught.value) == (
        f"{tmp_path / 'leads.jsonl'}:3: not valid JSON (Expecting value at column 1); write one "
        'JSON object per line, or set [scenario] on_bad_record = "skip" to skip malformed records')


def test_csv_skip_counts_and_keeps_line_numbers(tmp_path: Path) -> None:
    stream = records(scenario(tmp_path, "leads.csv", CSV, "skip"), tmp_path)
    assert list(stream) == [{"name": "Ada", "email": "ada@example.org"},
                            {"name": "Cy", "email": "two\nlines"},
                            {"name": "Eve", "email": "eve@example.org"}]
    path = tmp_path / "leads.csv"
    assert (stream.skipped, stream.skipped_lines) == (3, [3, 7, 8])
    assert stream.problems == [f"{path}:3: 3 fields where the header has 2",
                               f"{path}:7: 1 field where the header has 2",
                               f"{path}:8: not UTF-8"]


def test_csv_fail_names_path_and_line(tmp_path: Path) -> None:
    stream = records(scenario(tmp_path, "leads.csv", CSV), tmp_path)
    with pytest.raises(ScenarioError, match=r"leads\.csv:3: 3 fields where the header has 2; "
                       r"quote fields that contain commas.*on_bad_record = \"skip\""):
        list(stream)


def test_only_the_first_problems_are_kept_but_all_are_counted(tmp_path: Path) -> None:
    data = b"".join(b"oops\n" if i % 2 else b'{"n": %d}\n' % i for i in range(100))
    stream = records(scenario(tmp_path, "many.jsonl", data, "skip"), tmp_path)
    assert sum(1 for _ in stream) == 50
    assert stream.skipped == 50
    assert stream.skipped_lines == list(range(2, 2 * KEPT_PROBLEMS + 1, 2))
    summary = stream.summary()
    assert summary is not None
    assert summary.endswith("(lines 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, ...)")


@pytest.mark.parametrize(("data", "message"), [
    (b"", ": no records; add at least one record"),
    (b"\n\n", ": no records; add at least one record"),
    (b"x\n[]\n", ": no usable record: every one of the 2 records was malformed (first: "),
])
def test_nothing_usable_is_an_error_not_an_empty_run(tmp_path: Path, data: bytes,
                                                     message: str) -> None:
    stream = records(scenario(tmp_path, "empty.jsonl", data, "skip"), tmp_path)
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        next(stream)


@pytest.mark.parametrize(("data", "message"), [
    (b"", r"empty\.csv: no header row; the first line of a CSV scenario names the columns"),
    (b"name,name\nA,B\n", r"empty\.csv:1: the column 'name' appears twice in the header"),
    (b"\xffname\nA\n", r"empty\.csv:1: the header is not UTF-8; save the file as UTF-8"),
])
def test_unusable_csv_header(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        next(records(scenario(tmp_path, "empty.csv", data, "skip"), tmp_path))


def test_byte_order_marks_are_not_data(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    assert next(records(scenario(tmp_path, "a.jsonl", bom + b'{"a": 1}\n'), tmp_path)) == {"a": 1}
    assert next(records(scenario(tmp_path, "a.csv", bom + b"a\n1\n"), tmp_path)) == {"a": "1"}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"\[scenario\] source: .*nope\.jsonl does not exist"):
        records(ScenarioConfig(source="jsonl:nope.jsonl"), tmp_path)


def test_streams_lazily(tmp_path: Path) -> None:
    """A malformed line far down is not read before the records above it are used."""
    data = b'{"n": 1}\n' * 1000 + b"broken\n"
    stream = records(scenario(tmp_path, "big.jsonl", data), tmp_path)
    assert len(list(itertools.islice(stream, 1000))) == 1000
    with pytest.raises(ScenarioError, match=r"big\.jsonl:1001: "):
        next(stream)
