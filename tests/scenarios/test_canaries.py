"""Canary personal data: unique invented people, planted in scenario records, found again."""

from __future__ import annotations

import re
from typing import Any

import pytest

from readiness.scenarios.canaries import Canary, make_canary, plant

ADA = Canary(name="Ada Brafenlom", email="ada.brafenlom.a1b2c3@example.com",
             phone="+1 555 0142 7731")
FICTIONAL_PHONE = re.compile(r"\+1 555 01\d\d \d{4}")
LEAD = {"name": "Jane Roe", "email": "jane@acme.io", "phone": "+61 2 9999 0000",
        "company_name": "Acme Pty", "employees": 40, "message": "We need 40 seats."}


def test_canaries_are_unique() -> None:
    canaries = [make_canary() for _ in range(50)]
    assert len({c.email for c in canaries}) == 50


def test_email_is_lower_case_at_example_com() -> None:
    canary = make_canary()
    assert (canary.email == canary.email.lower(), canary.email.endswith("@example.com"),
            canary.email.count("@")) == (True, True, 1)


def test_phone_is_in_the_fictional_range() -> None:
    phones = [make_canary().phone for _ in range(20)]
    assert [p for p in phones if not FICTIONAL_PHONE.fullmatch(p)] == []


def test_name_is_a_first_name_and_a_coined_surname() -> None:
    canary = make_canary()
    first, _, surname = canary.name.rpartition(" ")
    assert (surname == surname.capitalize(), canary.email.startswith(
        f"{first}.{surname}.".lower())) == (True, True)


def test_values_are_what_is_searched_for() -> None:
    assert ADA.values() == (ADA.name, ADA.email, ADA.phone)


def test_plant_replaces_name_email_and_phone_by_field_name() -> None:
    planted = plant(LEAD, ADA)
    assert planted == {
        "name": ADA.name, "email": ADA.email, "phone": ADA.phone, "company_name": "Acme Pty",
        "employees": 40,
        "message": f"We need 40 seats. Reach me at {ADA.email} or {ADA.phone}."}


def test_plant_leaves_the_record_it_was_given_alone() -> None:
    before = dict(LEAD)
    plant(LEAD, ADA)
    assert before == LEAD


@pytest.mark.parametrize(("record", "fields", "planted"), [
    pytest.param({"contact": "jane@acme.io"}, {"contact": "email"}, {"contact": ADA.email},
                 id="email-provider"),
    pytest.param({"who": "Jane Roe"}, {"who": "name"}, {"who": ADA.name}, id="name-provider"),
    pytest.param({"tel": "555-1234"}, {"tel": "phone_number"}, {"tel": ADA.phone},
                 id="phone-provider"),
    pytest.param({"ask": "A demo."}, {"ask": "paragraph"},
                 {"ask": f"A demo. Reach me at {ADA.email} or {ADA.phone}."},
                 id="paragraph-provider"),
    pytest.param({"ask": "A demo."}, {"ask": "sentence"},
                 {"ask": f"A demo. Reach me at {ADA.email} or {ADA.phone}."},
                 id="sentence-provider"),
    pytest.param({"org": "Acme Pty", "who": "Jane Roe"}, {"org": "company", "who": "name"},
                 {"org": "Acme Pty", "who": ADA.name}, id="company-provider-left-alone"),
    pytest.param({"account": "Acme Pty", "who": "x"}, {"account": "company_name", "who": "name"},
                 {"account": "Acme Pty", "who": ADA.name}, id="company-name-provider-left-alone"),
    pytest.param({"username": "jroe", "name": "Jane"}, {},
                 {"username": "jroe", "name": ADA.name}, id="user-name-left-alone"),
    pytest.param({"Email": "JANE@ACME.IO"}, None, {"Email": ADA.email}, id="field-name-any-case"),
    pytest.param({"work_email": "j@acme.io", "mobile_phone": "0400"}, None,
                 {"work_email": ADA.email, "mobile_phone": ADA.phone}, id="name-contains-kind"),
    pytest.param({"notes": "Call back."}, None,
                 {"notes": f"Call back. Reach me at {ADA.email} or {ADA.phone}."},
                 id="free-text-by-name"),
    pytest.param({"name": 7, "email": None, "phone": ["555"], "other": "x"}, None,
                 {"name": 7, "email": None, "phone": ["555"], "other": f"x ({ADA.email})"},
                 id="non-strings-left-alone"),
    pytest.param({"missing": "x"}, {"absent": "email"}, {"missing": f"x ({ADA.email})"},
                 id="provider-for-an-absent-field-ignored"),
])
def test_plant(record: dict[str, Any], fields: dict[str, str] | None,
               planted: dict[str, Any]) -> None:
    assert plant(record, ADA, fields) == planted


@pytest.mark.parametrize(("record", "planted"), [
    pytest.param({"employees": 40, "summary": "Wants a demo", "country": "AU"},
                 {"employees": 40, "summary": f"Wants a demo ({ADA.email})", "country": "AU"},
                 id="first-text-field"),
    pytest.param({"company": "Acme Pty"}, {"company": f"Acme Pty ({ADA.email})"},
                 id="even-a-company-when-it-is-the-only-text"),
    pytest.param({"employees": 40, "active": True}, {"employees": 40, "active": True},
                 id="no-text-field-unchanged"),
    pytest.param({}, {}, id="empty"),
])
def test_plant_falls_back_to_the_first_text_field(record: dict[str, Any],
                                                   planted: dict[str, Any]) -> None:
    assert plant(record, ADA) == planted


def test_a_planted_record_is_found_again() -> None:
    text = str(plant(LEAD, ADA))
    assert ADA.found_in(text) == [ADA.name, ADA.phone, ADA.email]


@pytest.mark.parametrize(("text", "found"), [
    pytest.param(f"lead from {ADA.name} <{ADA.email}>, {ADA.phone}",
                 [ADA.name, ADA.phone, ADA.email], id="all-three"),
    pytest.param(f"contact {ADA.email.upper()}", [ADA.email], id="email-any-case"),
    pytest.param(f"Contact: {ADA.email.title()}", [ADA.email], id="email-title-case"),
    pytest.param(f"lead from {ADA.name.lower()}", [], id="name-exact-case"),
    pytest.param(f"lead from {ADA.name.upper()}", [], id="name-upper-case"),
    pytest.param(ADA.phone.replace(" ", ""), [], id="phone-exact-format"),
    pytest.param(f"call {ADA.phone} now", [ADA.phone], id="phone"),
    pytest.param("ada.brafenlom@example.com Ada", [], id="partial-values"),
    pytest.param("", [], id="empty"),
])
def test_found_in(text: str, found: list[str]) -> None:
    assert ADA.found_in(text) == found
