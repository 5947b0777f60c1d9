"""Faker scenario records: seeded pools, unique where it matters, the same on any day."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from readiness.config.model import ScenarioConfig
from readiness.scenarios import ScenarioError, ScenarioRecords, records
from readiness.scenarios._faker_pools import _factory
from readiness.scenarios._pinned_clock import REFERENCE, pinned_clock
from readiness.scenarios._unique import ScrambledDigits

PRODUCTION = {"name": "name", "email": "email", "company": "company", "message": "paragraph"}
DATES = {"when": "date_time", "born": "date_of_birth", "this_year": "date_this_year",
         "soon": "future_date", "stamp": "iso8601", "day": "date"}


def take(count: int, **config: Any) -> list[dict[str, Any]]:
    """The first `count` records of a faker scenario with this configuration."""
    return list(itertools.islice(records(ScenarioConfig(**config), Path(".")), count))


def test_same_seed_same_records() -> None:
    first = take(1000, fields=PRODUCTION, seed=7)
    assert first == take(1000, fields=PRODUCTION, seed=7)  # pools kept for the process
    _factory.cache_clear()
    assert first == take(1000, fields=PRODUCTION, seed=7)  # pools filled anew
    assert first != take(1000, fields=PRODUCTION, seed=8)


def test_dates_do_not_follow_the_clock() -> None:
    today = take(200, fields=DATES, seed=3)
    _factory.cache_clear()  # fill the pools again, on another day
    with pinned_clock(at=dt.datetime(2031, 6, 1)):  # the machine's clock, five years on
        assert Faker().date_this_year().year == 2031  # raw Faker does follow it
        later = take(200, fields=DATES, seed=3)
    assert later == today
    assert all(record["when"] <= str(REFERENCE) for record in today)


def test_adding_a_field_leaves_the_others_unchanged() -> None:
    alone = take(100, fields={"email": "email"}, seed=1)
    together = take(100, fields={"name": "name", "email": "email"}, seed=1)
    assert [r["email"] for r in alone] == [r["email"] for r in together]


def test_emails_unique_over_200000_records() -> None:
    emails = [r["email"] for r in take(200_000, fields={"email": "email"}, seed=5)]
    assert len(set(emails)) == len(emails)
    assert all(e.count("@") == 1 and "." in e.rpartition("@")[2] for e in emails[:1000])


def test_phones_unique_and_keep_their_shape() -> None:
    phones = [r["phone"] for r in take(20_000, fields={"phone": "phone_number"}, seed=5)]
    assert len(set(phones)) == len(phones)
    assert all(sum(ch.isdigit() for ch in p) >= 10 for p in phones)


def test_names_combine_pools_into_many_distinct_values() -> None:
    names = [r["name"] for r in take(20_000, fields={"name": "name"}, seed=2)]
    assert len(set(names)) > 15_000
    assert all(" " in name for name in names)


def test_paragraphs_are_sentences_and_rarely_repeat() -> None:
    messages = [r["message"] for r in take(5000, fields={"message": "paragraph"}, seed=2)]
    assert len(set(messages)) > 4500
    assert all(m.endswith(".") and m[0].isupper() for m in messages)


def test_every_configured_field_is_present() -> None:
    fields = {**PRODUCTION, "phone": "phone_number", "city": "city", "job": "job",
              "id": "uuid4", "amount": "pyint", "ok": "boolean", **DATES}
    for record in take(50, fields=fields, seed=4):
        assert set(record) == set(fields)
        assert all(isinstance(v, str | int | float | bool) for v in record.values())


def test_default_fields() -> None:
    assert set(take(1)[0]) == {"name", "email", "message"}


def test_unique_forces_a_suffix_on_pooled_providers() -> None:
    plain = [r["job"] for r in take(20_000, fields={"job": "job"}, seed=9)]
    assert len(set(plain)) < 1000  # a pool: values repeat
    forced = [r["job"] for r in take(20_000, fields={"job": "job"}, seed=9, unique=("job",))]
    assert len(set(forced)) == len(forced)


def test_scrambled_digits_never_collide() -> None:
    digits = ScrambledDigits("seed")
    grown = [digits.growing(i) for i in range(12_000)]
    assert len(set(grown)) == len(grown)
    widths = [len(grown[i]) for i in (0, 999, 1000, 10_999, 11_000)]
    assert widths == [3, 3, 4, 4, 5]
    fixed = [digits.fixed(i, 4) for i in range(10_000)]
    assert sorted(fixed) == [f"{i:04d}" for i in range(10_000)]


def test_records_is_an_iterator() -> None:
    stream = records(ScenarioConfig(fields={"name": "name"}), Path("."))
    assert isinstance(stream, ScenarioRecords)
    assert iter(stream) is stream
    next(stream)
    assert (stream.produced, stream.skipped, stream.summary()) == (1, 0, None)


@pytest.mark.parametrize(("fields", "message"), [
    ({"x": "nmae"}, "[scenario] fields.x: Faker has no provider 'nmae'; use a provider name"),
    ({"x": "seed"}, "[scenario] fields.x: Faker has no provider 'seed'"),
    ({"x": "_Generator__config"}, "Faker has no provider '_Generator__config'"),
    ({"x": "parse"}, "Faker has no provider 'parse'"),
    ({"x": "random_sample"}, None),  # callable without arguments: fine
])
def test_unknown_provider_is_a_clear_error(fields: dict[str, str], message: str | None) -> None:
    if message is None:
        assert take(1, fields=fields)
        return
    with pytest.raises(ScenarioError) as caught:
        records(ScenarioConfig(fields=fields), Path("."))
    assert message in str(caught.value)


def test_provider_needing_arguments_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match=r"fields\.x: the Faker provider 'enum' failed when "
                       r"called without arguments \(TypeError: .*\); use a provider that"):
        records(ScenarioConfig(fields={"x": "enum"}), Path("."))


def test_unknown_locale_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match=r"\[scenario\] locale: Faker has no locale 'xx_YY'"):
        records(ScenarioConfig(locale="xx_YY"), Path("."))


@pytest.mark.parametrize("locale", ["de_DE", "ja_JP", "zh_CN"])
def test_other_locales(locale: str) -> None:
    batch = take(500, fields={**PRODUCTION, "phone": "phone_number"}, seed=1, locale=locale)
    assert len({r["email"] for r in batch}) == len({r["phone"] for r in batch}) == 500
