"""A fixed "now" for Faker, so a seed gives the same dates on any day.

Faker's date providers draw up to the current time unless given an end date
(`date_time`, `date_between`, `date_of_birth`, `date_this_year`, `future_date`, ...),
and a few locale providers (some national ID numbers) read today's date too. While
`pinned_clock()` is active, every `datetime`/`date` class (and `datetime` module)
that a loaded `faker.*` module refers to is swapped for one whose `now()`/`today()`
answer REFERENCE, the way freezegun does it, but only inside Faker's modules and
only for as long as the pools are filled. Real `datetime` and `date` objects still
pass `isinstance` checks against the swapped classes.

Known limit: `passport_dates` of en_US evaluates `date.today()` when Faker is
imported (a default argument), which no swap can reach.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REFERENCE = dt.datetime(2026, 1, 1)  # the "now" of every pinned Faker date; never change it

_REAL_DATETIME = dt.datetime
_REAL_DATE = dt.date
_LOCK = threading.RLock()  # threads filling pools must not restore each other's swap


class _PinnedDatetimeMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATETIME)


class _PinnedDateMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATE)


class _PinnedModule(types.SimpleNamespace):
    """The `datetime` module as seen by Faker modules that `import datetime`."""


def _stand_ins(at: dt.datetime) -> tuple[type[dt.datetime], type[dt.date], Any]:
    """A datetime class, a date class and a datetime module whose clock reads `at`."""

    class PinnedDatetime(dt.datetime, metaclass=_PinnedDatetimeMeta):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return at if tz is None else at.replace(tzinfo=dt.UTC).astimezone(tz)

        @classmethod
        def today(cls) -> dt.datetime:  # type: ignore[override]
            return at

        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return at

    class PinnedDate(dt.date, metaclass=_PinnedDateMeta):
        @classmethod
        def today(cls) -> dt.date:  # type: ignore[override]
            return at.date()

    module = _PinnedModule(**{**vars(dt), "datetime": PinnedDatetime, "date": PinnedDate})
    return PinnedDatetime, PinnedDate, module


def _stand_in(value: Any, pinned: tuple[type[dt.datetime], type[dt.date], Any]) -> Any:
    """The pinned replacement for a clock-reading global, or None if `value` reads no clock."""
    if value is dt or isinstance(value, _PinnedModule):
        return pinned[2]
    if isinstance(value, type) and issubclass(value, _REAL_DATETIME):
        return pinned[0]
    if isinstance(value, type) and issubclass(value, _REAL_DATE):
        return pinned[1]
    return None


@contextmanager
def pinned_clock(at: dt.datetime = REFERENCE) -> Iterator[None]:
    """Faker's modules see `at` (naive, UTC) as the current time inside this block."""
    pinned = _stand_ins(at)
    with _LOCK:
        swapped: list[tuple[dict[str, Any], str, Any]] = []
        try:
            for name, module in list(sys.modules.items()):
                if name != "faker" and not name.startswith("faker."):
                    continue
                namespace = vars(module)
                for attr, value in list(namespace.items()):
                    stand_in = _stand_in(value, pinned)
                    if stand_in is not None:
                        swapped.append((namespace, attr, value))
                        namespace[attr] = stand_in
            yield
        finally:
            for namespace, attr, value in reversed(swapped):
                namespace[attr] = value
