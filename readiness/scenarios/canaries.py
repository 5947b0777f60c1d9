"""Canary personal data: Faker-made people unique to one run, planted in scenario records.

Every value carries a random tag (the e-mail's local part, the phone's last digits,
a coined surname), so finding it anywhere (a log line, an alert, an upstream request)
proves it came from this run's inputs, not from coincidence or an earlier run.
Phone numbers use the 555-01xx range reserved for fiction.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SYLLABLES = ("bra", "dell", "fen", "gor", "hal", "kin", "lom", "mar", "nov", "quist",
              "rell", "sen", "tov", "vik", "wyn", "zan")


@dataclass(frozen=True)
class Canary:
    """One invented person; `values()` are the strings to look for."""

    name: str
    email: str
    phone: str

    def values(self) -> tuple[str, ...]:
        return self.name, self.email, self.phone

    def found_in(self, text: str) -> list[str]:
        """Which of this person's values `text` contains (e-mail case-insensitively)."""
        lowered = text.lower()
        hits = [v for v in (self.name, self.phone) if v in text]
        if self.email.lower() in lowered:
            hits.append(self.email)
        return hits


def make_canary(locale: str = "en_US") -> Canary:
    """A new person with a coined surname, a tagged e-mail and a fictional phone."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(secrets.randbits(64))
    first = fake.first_name()
    surname = "".join(secrets.choice(_SYLLABLES) for _ in range(3)).capitalize()
    tag = secrets.token_hex(3)
    digits = "".join(secrets.choice("0123456789") for _ in range(6))
    local = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode() or "lead"
    return Canary(name=f"{first} {surname}",
                  email=f"{local}.{surname}.{tag}@example.com".lower(),
                  phone=f"+1 555 01{digits[:2]} {digits[2:]}")


def plant(record: Mapping[str, Any], canary: Canary,
          fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`record` with its name, e-mail and phone fields replaced by the canary's.

    Fields are recognised by name or by their Faker provider in `fields`. Free-text
    fields (message, note, text, paragraph...) also get the e-mail and phone, the way
    people write them. A record with none of these gets the e-mail in its first text field.
    """
    planted = dict(record)
    providers = dict(fields or {})
    touched = False
    for key, value in record.items():
        kind = f"{key} {providers.get(key, '')}".lower()
        if not isinstance(value, str):
            continue
        if "email" in kind:
            planted[key], touched = canary.email, True
        elif "phone" in kind:
            planted[key], touched = canary.phone, True
        elif "name" in re.split(r"[^a-z]+", kind) and "company" not in kind:
            planted[key], touched = canary.name, True
        elif any(w in kind for w in ("message", "note", "text", "paragraph", "sentence",
                                     "comment", "body", "description")):
            planted[key] = f"{value} Reach me at {canary.email} or {canary.phone}."
            touched = True
    if not touched:
        text = next((k for k, v in record.items() if isinstance(v, str)), None)
        if text is not None:
            planted[text] = f"{record[text]} ({canary.email})"
    return planted
