"""Reading Locust's CSVs and merging acknowledgements (files written by hand, no Locust)."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.load import HistoryPoint
from readiness.load._results import (
    failure_kind,
    merge_acknowledgements,
    read_exceptions,
    read_failures,
    read_history,
    read_totals,
)

PERCENTILES = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
STATS = f"""Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,{PERCENTILES}
POST,/invoke,200,50,3,4.2,0.5,41.7,48,99.5,24.9,3,4,5,5,8,12,20,30,41,41,41
,Aggregated,200,50,3,4.2,0.5,41.7,48,99.5,24.9,3,4,5,5,8,12,20,30,41,41,41
"""
HISTORY_HEAD = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s," + PERCENTILES +
                ",Total Request Count,Total Failure Count,Total Median Response Time,"
                "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
                "Total Average Content Size\n")
NA = ",".join(["N/A"] * 11)
HISTORY = HISTORY_HEAD + f"""1000,0,,Aggregated,0,0,{NA},0,0,0,0,0,0,0
1001,5,POST,/invoke,0,0,2,2,2,2,3,4,5,6,7,7,7,90,10,2,2.1,0.5,7,48
1001,5,,Aggregated,0,0,2,2,2,2,3,4,5,6,7,7,7,90,10,2,2.1,0.5,7,48
1003,5,,Aggregated,0,0,3,3,3,3,4,9,9,9,9,9,9,290,50,3,3.3,0.5,9,48
1004,5,,Aggrega"""
FAILURES = """Method,Name,Error,Occurrences,First seen,Last seen
POST,/invoke,CatchResponseError('HTTP 500'),40,2026-01-01T00:00:00Z,2026-01-01T00:00:02Z
POST,/invoke,"CatchResponseError(""HTTP 200 without a decision_id"")",7,,
POST,/invoke,CatchResponseError('ConnectionRefusedError'),3,,
"""


def write(tmp_path: Path, **files: str) -> Path:
    for suffix, text in files.items():
        (tmp_path / f"locust_{suffix}.csv").write_text(text)
    return tmp_path / "locust"


def test_totals_come_from_the_aggregated_row(tmp_path: Path) -> None:
    totals = read_totals(write(tmp_path, stats=STATS))
    assert totals is not None
    assert (totals.requests, totals.failures, totals.rps) == (200, 50, 99.5)
    assert (totals.p50_ms, totals.p95_ms, totals.p99_ms, totals.max_ms) == (3, 12, 30, 41.7)


def test_no_request_means_no_percentiles(tmp_path: Path) -> None:
    empty = STATS.splitlines()[0] + "\n,Aggregated,0,0,0,0,0,0,0,0,0," + NA + "\n"
    totals = read_totals(write(tmp_path, stats=empty))
    assert totals is not None
    assert (totals.requests, totals.p50_ms, totals.max_ms) == (0, None, None)


def test_missing_files_read_as_nothing(tmp_path: Path) -> None:
    prefix = tmp_path / "locust"
    assert read_totals(prefix) is None
    assert read_history(prefix) == ()
    assert read_failures(prefix) == {}
    assert read_exceptions(prefix) == []


def test_history_rates_are_counted_between_rows_and_a_cut_row_is_skipped(
        tmp_path: Path) -> None:
    assert read_history(write(tmp_path, stats_history=HISTORY)) == (
        HistoryPoint(t=0, users=0, rps=0, failures_per_s=0, p50_ms=None, p95_ms=None),
        HistoryPoint(t=1, users=5, rps=90, failures_per_s=10, p50_ms=2, p95_ms=4),
        HistoryPoint(t=3, users=5, rps=100, failures_per_s=20, p50_ms=3, p95_ms=9),
    )


def test_failures_are_counted_by_kind_without_locust_wrapping(tmp_path: Path) -> None:
    assert read_failures(write(tmp_path, failures=FAILURES)) == {
        "HTTP 500": 40, "HTTP 200 without a decision_id": 7, "ConnectionRefusedError": 3}


@pytest.mark.parametrize(("error", "kind"), [
    ("CatchResponseError('HTTP 503')", "HTTP 503"),
    ('CatchResponseError("it\'s down")', "it's down"),
    ("RemoteDisconnected('closed')", "RemoteDisconnected('closed')"),
])
def test_failure_kind(error: str, kind: str) -> None:
    assert failure_kind(error) == kind


def test_exceptions_are_reported_with_their_count(tmp_path: Path) -> None:
    prefix = write(tmp_path, exceptions="Count,Message,Traceback,Nodes\n"
                                        "3,KeyError('x'),\"Traceback...\",local\n")
    assert read_exceptions(prefix) == ["3× KeyError('x')"]


def test_merge_concatenates_parts_drops_a_cut_line_and_removes_parts(tmp_path: Path) -> None:
    (tmp_path / "acknowledged.worker-0.part").write_text('{"a": 1}\n{"a": 2}\n')
    (tmp_path / "acknowledged.worker-1.part").write_text('{"b": 1}\n{"b": 2, "cut')
    target = tmp_path / "acknowledged.jsonl"
    assert merge_acknowledgements(tmp_path, target) == 3
    assert target.read_text() == '{"a": 1}\n{"a": 2}\n{"b": 1}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["acknowledged.jsonl"]
