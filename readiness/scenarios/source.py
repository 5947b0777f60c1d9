"""Scenario records from Faker, JSONL or CSV, streamed one at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from readiness.config.model import ScenarioConfig


class ScenarioError(Exception):
    """A scenario source is unusable: unknown Faker provider, unreadable or malformed file."""


def records(scenario: ScenarioConfig, root: Path) -> Iterator[dict[str, Any]]:
    """Yield scenario input records; the same seed yields the same records."""
    if scenario.source == "faker":
        return _faker_records(scenario)
    kind, _, raw_path = scenario.source.partition(":")
    path = (root / raw_path).resolve()
    if not path.is_file():
        raise ScenarioError(f"[scenario] source: {path} does not exist; fix the path after "
                            f"'{kind}:' (relative paths start at {root})")
    return _jsonl_records(path) if kind == "jsonl" else _csv_records(path)


def _faker_records(scenario: ScenarioConfig) -> Iterator[dict[str, Any]]:
    from faker import Faker

    fake = Faker(scenario.locale)
    fake.seed_instance(scenario.seed)
    fields = scenario.fields or {"name": "name", "email": "email", "message": "sentence"}
    providers = {}
    for field, provider in fields.items():
        method = getattr(fake, provider, None)
        if not callable(method):
            raise ScenarioError(f"[scenario] fields.{field}: Faker has no provider {provider!r};"
                                " use a provider name such as name, email, company, paragraph")
        providers[field] = method
    while True:
        yield {field: _plain(method()) for field, method in providers.items()}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _jsonl_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ScenarioError(f"{path}:{number}: expected a JSON object per line")
            yield record


def _csv_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)
