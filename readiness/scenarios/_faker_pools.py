"""Faker at production scale: Faker fills seeded pools once, records are sampled from them.

Raw Faker makes a few thousand records a second; a load test replays millions. So
Faker is called only to fill pools (a few thousand values per field, with the clock
pinned, see `_pinned_clock`), and each record is assembled from the pools with a
seeded `random.Random`. How a field is assembled depends on its provider:

- templates (`name`, `company`, `address`, `street_address`, `city`, `street_name`):
  the locale's own formats, each `{{token}}` drawn from a pool of that token (first
  name x last name x prefix ...): some 200,000 distinct en_US names in a million
  records, repeating now and then, as real names do;
- e-mail providers (`email`, `free_email`, `company_email`, ...): a pooled local part, a
  growing digit suffix and a pooled domain, unique for every record;
- phone providers (`phone_number`, `msisdn`, ...): a pooled number with its last 7 digits
  (fewer for short numbers) replaced by a scrambled counter, unique for the first
  10 million records;
- `sentence` from pooled words, `paragraph` from 1 to 4 pooled sentences, as Faker does;
- `uuid4` from the random generator, unique in practice;
- any other provider: a pool of 5,000 values, so its values repeat. A field listed in
  `[scenario] unique` gets a digit suffix instead (`"Acme LLC 4821"`), which makes it
  unique at the price of a visible number.

The same seed gives the same records on any day and machine (with the same Faker
version); each field has its own seeded generators, so adding a field leaves the
others' values unchanged. Filled pools are kept for the process (the last 64 fields,
a few MB), so another run with the same configuration starts at once.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from readiness.scenarios._errors import ScenarioError
from readiness.scenarios._pinned_clock import pinned_clock
from readiness.scenarios._unique import ScrambledDigits

Maker = Callable[[int], Any]  # record index -> field value
Factory = Callable[[random.Random, ScrambledDigits], Maker]  # fresh generators -> a maker

POOL_SIZE = 5000        # values per provider without a rule of its own
PART_POOL_SIZE = 1000   # values per part of a composed value: template tokens, e-mail, phone
FORMAT_DRAWS = 1000     # template formats drawn with Faker's own weights
TEMPLATES = {"name": "formats", "company": "formats", "address": "address_formats",
             "street_address": "street_address_formats", "city": "city_formats",
             "street_name": "street_name_formats"}
PHONE_DIGITS = 7
_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?)\s*\d+\s*$", re.IGNORECASE)
_FORBIDDEN = {"seed", "seed_instance", "seed_locale"}


def field_makers(fields: dict[str, str], locale: str, seed: int,
                 unique: Sequence[str] = ()) -> list[tuple[str, Maker]]:
    """One maker per field; Faker is called here (once per process), never per record."""
    fake = _faker(locale)
    for name, provider in fields.items():
        _provider(fake, name, provider)
    makers = []
    for name, provider in fields.items():
        key = f"{seed}/{name}"
        factory = _factory(locale, key, name, provider, name in unique)
        makers.append((name, factory(random.Random(f"{key}/records"), ScrambledDigits(key))))
    return makers


@functools.lru_cache(maxsize=8)
def _faker(locale: str) -> Any:
    from faker import Faker

    try:
        return Faker(locale)
    except AttributeError:
        raise ScenarioError(f"[scenario] locale: Faker has no locale {locale!r}; use one "
                            "such as en_US, en_GB, de_DE, fr_FR or ja_JP") from None


@functools.lru_cache(maxsize=64)
def _factory(locale: str, key: str, field: str, provider: str, unique: bool) -> Factory:
    """Fill one field's pools, seeded by `key` with the clock pinned; pools are read-only."""
    fake = _faker(locale)
    with pinned_clock():
        fake.seed_instance(key)
        return _Pools(fake, field, provider, unique).factory()


def _provider(fake: Any, field: str, provider: str) -> Callable[[], Any]:
    from faker.providers import BaseProvider

    method = None if provider.startswith("_") or provider in _FORBIDDEN else getattr(
        fake, provider, None)
    if not callable(method) or not isinstance(getattr(method, "__self__", None), BaseProvider):
        raise ScenarioError(f"[scenario] fields.{field}: Faker has no provider {provider!r};"
                            " use a provider name such as name, email, company, paragraph")
    return method  # type: ignore[no-any-return]


class _Pools:
    """Fills the pools of one field and returns the factory of its value makers."""

    def __init__(self, fake: Any, field: str, provider: str, unique: bool) -> None:
        self.fake, self.field, self.provider, self.unique = fake, field, provider, unique
        self.method = _provider(fake, field, provider)

    def factory(self) -> Factory:
        owner = self.method.__self__  # type: ignore[attr-defined]
        provider = self.provider
        if provider == "uuid4":
            return _uuid
        if "email" in provider or "phone" in provider or provider == "msisdn":
            values = [str(v) for v in self._pool(self.method, PART_POOL_SIZE)]
            if "email" in provider and all("@" in v for v in values):
                return _email(values)
            numbers = [_EXTENSION.sub("", v) for v in values]
            if "email" not in provider and all(_digits(n) >= 4 for n in numbers):
                return _phone(numbers)
            made = _sampled(values)
        elif provider in TEMPLATES and _templates(getattr(owner, TEMPLATES[provider], None)):
            made = self._template(owner, getattr(owner, TEMPLATES[provider]))
        elif provider == "sentence" and hasattr(owner, "word_connector"):
            made = _sentence(self._pool(self.fake.word, POOL_SIZE), owner.word_connector)
        elif provider == "paragraph" and hasattr(owner, "word_connector"):
            made = _paragraph(self._pool(self.fake.sentence, POOL_SIZE), owner.word_connector)
        else:
            made = _sampled(self._pool(self.method, POOL_SIZE))
        return _with_suffix(made) if self.unique else made

    def _pool(self, method: Callable[..., Any], size: int) -> list[Any]:
        try:
            return [_plain(method()) for _ in range(size)]
        except Exception as exc:  # a provider that needs arguments, or a broken locale
            name = getattr(method, "__name__", self.provider)
            raise ScenarioError(f"[scenario] fields.{self.field}: the Faker provider {name!r} "
                                f"failed when called without arguments ({type(exc).__name__}: "
                                f"{exc}); use a provider that needs none, such as name, "
                                "email, company, paragraph") from None

    def _template(self, owner: Any, formats: Any) -> Factory:
        draws = [owner.random_element(formats) for _ in range(FORMAT_DRAWS)]
        token_pools: dict[str, list[Any]] = {}
        compiled: dict[str, tuple[str, list[list[Any]]]] = {}
        for text in draws:
            if text not in compiled:
                tokens = _TOKEN.findall(text)
                for token in tokens:
                    if token not in token_pools:
                        token_pools[token] = self._pool(getattr(self.fake, token),
                                                        PART_POOL_SIZE)
                shape = _TOKEN.sub("\0", text).replace("{", "{{").replace("}", "}}")
                compiled[text] = (shape.replace("\0", "{}"), [token_pools[t] for t in tokens])
        return _rendered([compiled[text] for text in draws])


def _sampled(pool: list[Any]) -> Factory:
    size = len(pool)

    def build(rng: random.Random, _digits: ScrambledDigits) -> Maker:
        random_ = rng.random
        return lambda _index: pool[int(random_() * size)]

    return build


def _with_suffix(factory: Factory) -> Factory:
    """Unique values: the value's own trailing digits dropped, a growing digit suffix added."""

    def build(rng: random.Random, digits: ScrambledDigits) -> Maker:
        made, growing = factory(rng, digits), digits.growing

        def unique(index: int) -> str:
            value = str(made(index))
            if any(ch.isspace() for ch in value):
                return f"{value} {growing(index)}"
            return value.rstrip("0123456789") + growing(index)

        return unique

    return build


def _email(addresses: list[str]) -> Factory:
    locals_, domains = [], []
    for address in addresses:
        local, _, domain = address.rpartition("@")
        locals_.append(local.rstrip("0123456789") or "user")
        domains.append(domain)
    local_count, domain_count = len(locals_), len(domains)

    def build(rng: random.Random, digits: ScrambledDigits) -> Maker:
        random_, growing = rng.random, digits.growing
        return lambda index: (f"{locals_[int(random_() * local_count)]}{growing(index)}"
                              f"@{domains[int(random_() * domain_count)]}")

    return build


def _phone(numbers: list[str]) -> Factory:
    width = min(PHONE_DIGITS, min(_digits(n) for n in numbers) - 3)
    shapes = [_phone_shape(n, width) for n in numbers]
    count = len(shapes)

    def build(rng: random.Random, digits: ScrambledDigits) -> Maker:
        random_, fixed = rng.random, digits.fixed
        return lambda index: shapes[int(random_() * count)].format(*fixed(index, width))

    return build


def _uuid(rng: random.Random, _digits: ScrambledDigits) -> Maker:
    bits = rng.getrandbits
    return lambda _index: str(uuid.UUID(int=bits(128), version=4))


def _rendered(choices: list[tuple[str, list[list[Any]]]]) -> Factory:
    count = len(choices)

    def build(rng: random.Random, _digits: ScrambledDigits) -> Maker:
        random_ = rng.random

        def render(_index: int) -> str:
            shape, pools = choices[int(random_() * count)]
            return shape.format(*[pool[int(random_() * len(pool))] for pool in pools])

        return render

    return build


def _sentence(words: list[Any], connector: str) -> Factory:
    count = len(words)

    def build(rng: random.Random, _digits: ScrambledDigits) -> Maker:
        random_ = rng.random

        def sentence(_index: int) -> str:
            # Faker's own spread: 60% to 140% of 6 words, i.e. 3 to 8
            size = int(6 * (0.6 + 0.8 * random_()))
            picked = [str(words[int(random_() * count)]) for _ in range(size)]
            picked[0] = picked[0].title()
            return connector.join(picked) + "."

        return sentence

    return build


def _paragraph(sentences: list[Any], connector: str) -> Factory:
    count = len(sentences)

    def build(rng: random.Random, _digits: ScrambledDigits) -> Maker:
        random_ = rng.random

        def paragraph(_index: int) -> str:
            # Faker's own spread: 60% to 140% of 3 sentences, i.e. 1 to 4
            size = int(3 * (0.6 + 0.8 * random_()))
            return connector.join([str(sentences[int(random_() * count)])
                                   for _ in range(size)])

        return paragraph

    return build


def _templates(formats: Any) -> bool:
    """True if `formats` is a non-empty collection of Faker `{{token}}` templates."""
    try:
        return bool(formats) and all(isinstance(t, str) and _TOKEN.search(t) for t in formats)
    except TypeError:
        return False


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_shape(number: str, width: int) -> str:
    """The number as a format string whose last `width` digits are `{}` fields."""
    chars = list(number.replace("{", "{{").replace("}", "}}"))
    left = width
    for position in range(len(chars) - 1, -1, -1):
        if left and chars[position].isdigit():
            chars[position] = "{}"
            left -= 1
    return "".join(chars)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
