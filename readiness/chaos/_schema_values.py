"""Seeded strings and numbers within a JSON Schema's bounds: the leaves `generate` reaches.

`SchemaError` lives here, the bottom of the import chain, and is public from `_schema_gen`.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

_DEFAULT_SPAN = 100  # width of the range drawn from when a number has no bounds
_WORDS = (
    "amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor",
    "indigo", "juniper", "kestrel", "lumen", "maple", "nectar", "orbit", "pebble",
)  # fmt: skip


class SchemaError(ValueError):
    """A schema no value can satisfy, or one using a feature the generator does not support.

    The message starts with the JSON pointer of the offending subschema (`#/properties/x`).
    """


def _word(rng: random.Random) -> str:
    """One word of the fixed vocabulary."""
    return rng.choice(_WORDS)


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "email": lambda rng: f"{_word(rng)}.{_word(rng)}@example.com",
    "date": lambda rng: (date(2024, 1, 1) + timedelta(days=rng.randrange(1000))).isoformat(),
    "date-time": lambda rng: (
        datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(86_400_000))
    ).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "time": lambda rng: f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
    "uri": lambda rng: f"https://example.com/{_word(rng)}/{rng.randrange(1000)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "hostname": lambda rng: f"{_word(rng)}.example.com",
    "ipv4": lambda rng: f"192.0.2.{rng.randrange(1, 255)}",  # TEST-NET-1: never routable
}


def seeded_string(schema: Mapping[str, Any], where: str, rng: random.Random) -> str:
    """A string of words, or a value of the declared `format`, within the length bounds."""
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if high is not None and high < low:
        raise SchemaError(f"{where}: minLength {low} is greater than maxLength {high}")
    make = _FORMATS.get(schema.get("format", ""))
    if make is not None:
        text = make(rng)
        # Length bounds are assertions and formats by default only annotations: bounds win.
        if low <= len(text) and (high is None or len(text) <= high):
            return text
    floor = low or min(4, high if high is not None else 4)
    length = rng.randint(floor, min(floor + 20, high if high is not None else floor + 20))
    text = ""
    while len(text) < length:
        text = f"{text} {_word(rng)}" if text else _word(rng)
    text = text[:length]
    return text if not text.endswith(" ") else text[:-1] + "s"


def seeded_number(
    schema: Mapping[str, Any], where: str, rng: random.Random, *, integral: bool
) -> int | float:
    """A number within the bounds that is a multiple of `multipleOf` when given."""
    step_raw = schema.get("multipleOf")
    step = Fraction(str(step_raw)) if step_raw is not None else Fraction(1 if integral else 0)
    if integral:
        step = Fraction(step.numerator)  # smallest integer that is a multiple of the step
    low, low_open, high, high_open = _bounds(schema)
    span = max(Fraction(_DEFAULT_SPAN), step * 10)
    low = low if low is not None else (high - span if high is not None else Fraction(0))
    high = high if high is not None else low + span
    if step:
        first = math.ceil(low / step) + (1 if low_open and (low / step).denominator == 1 else 0)
        last = math.floor(high / step) - (1 if high_open and (high / step).denominator == 1 else 0)
        if first > last:
            what = "integer" if integral else "number"
            what += f" multiple of {step_raw}" if step_raw is not None else ""
            raise SchemaError(f"{where}: no {what} lies between {low} and {high}")
        return _multiple(first, last, step, integral, rng)
    if high < low or (high == low and (low_open or high_open)):
        raise SchemaError(f"{where}: the bounds leave no number ({float(low)}..{float(high)})")
    value = round(float(low) + rng.random() * float(high - low), 2)
    if value < low or value > high or (low_open and value == low) or (high_open and value == high):
        value = float((low + high) / 2)  # rounding left the range: the midpoint never does
    return value


def _multiple(
    first: int, last: int, step: Fraction, integral: bool, rng: random.Random
) -> int | float:
    """`k * step` for a seeded k in [first, last], exact when the value is a float."""
    k = rng.randint(first, last)
    if integral or (k * step).denominator == 1:
        return int(k * step)
    # Validators check multipleOf with float division (0.3 / 0.1 != 3): prefer a k whose
    # float survives that check, so agents validating with jsonschema accept the value.
    for candidate in [k, *range(first, min(last, first + 64) + 1)]:
        value, divisor = float(candidate * step), float(step)
        if (value / divisor).is_integer():
            return value
    return float(k * step)


def _bounds(schema: Mapping[str, Any]) -> tuple[Fraction | None, bool, Fraction | None, bool]:
    """(low, low exclusive, high, high exclusive), reading both exclusive* spellings."""
    result: list[Any] = []
    for inclusive, exclusive, pick in (
        ("minimum", "exclusiveMinimum", max),
        ("maximum", "exclusiveMaximum", min),
    ):
        bound, open_ = schema.get(inclusive), schema.get(exclusive)
        candidates: list[tuple[Fraction, bool]] = []
        if bound is not None:
            candidates.append((Fraction(str(bound)), open_ is True))  # draft 4: a flag
        if open_ is not None and not isinstance(open_, bool):
            candidates.append((Fraction(str(open_)), True))
        if not candidates:
            result += [None, False]
            continue
        # The stricter bound wins; at equal values the exclusive one is stricter.
        value = pick(c[0] for c in candidates)
        result += [value, any(c[1] for c in candidates if c[0] == value)]
    return result[0], result[1], result[2], result[3]
