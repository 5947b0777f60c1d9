"""Retry code nobody here wrote, graded right: the openai SDK with and without retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import load_config
from readiness.runner import run

SDK = Path(__file__).resolve().parents[2] / "examples" / "sdk"
RETRY_PROBES = ("retries_transient_errors", "backs_off_with_jitter", "honours_retry_after")


def _outcomes(grade: str, out: Path) -> dict[str, str]:
    card = run(load_config(SDK / grade / "readiness.toml"), out, only={"error_handling"}).card
    item = next(i for i in card["items"] if i["key"] == "error_handling")
    return {p["id"]: p["outcome"] for p in item["probes"]}


@pytest.mark.parametrize(("grade", "expected"), [
    ("default_retries", {"retries_transient_errors": "pass", "backs_off_with_jitter": "pass",
                         "honours_retry_after": "pass"}),
    ("no_retries", {"retries_transient_errors": "fail", "backs_off_with_jitter": "not_applicable",
                    "honours_retry_after": "not_applicable"}),
])
def test_sdk_retries_are_graded(grade: str, expected: dict[str, str], tmp_path: Path) -> None:
    outcomes = _outcomes(grade, tmp_path)
    assert {probe: outcomes[probe] for probe in RETRY_PROBES} == expected
