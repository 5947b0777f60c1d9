"""scorecard.md: a PR comment whose table and size hold whatever the agent wrote."""

from __future__ import annotations

import re

import pytest
from reports_cards import NAMES, valid

from readiness.items import ITEMS
from readiness.reports import render_markdown
from readiness.reports.markdown import MAX_CHARS, md

ROW = re.compile(r"^\| \d+ \| ")
OUR_TAGS = {"<details>", "</details>", "<summary>", "</summary>"}


def rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if ROW.match(line)]


def outside_code(text: str) -> str:
    """The text with fenced code blocks removed."""
    return re.sub(r"^```json\n.*?^```$", "", text, flags=re.S | re.M)


@pytest.mark.parametrize("name", [*NAMES, "many_failures"])
def test_table_has_nine_rows_of_six_cells(name: str) -> None:
    text = render_markdown(valid(name))
    table = rows(text)
    assert [int(row.split("|")[1]) for row in table] == [item.id for item in ITEMS]
    assert all(row.count("|") == 7 for row in table), table
    assert all(item.title in row for item, row in zip(ITEMS, table, strict=True))


@pytest.mark.parametrize("name", [*NAMES, "many_failures"])
def test_stays_within_githubs_limit(name: str) -> None:
    assert len(render_markdown(valid(name))) <= MAX_CHARS


def test_huge_evidence_is_cut_not_the_table() -> None:
    text = render_markdown(valid("huge"))
    assert len(rows(text)) == 9
    assert "evidence truncated" in text
    assert "Evidence omitted from this summary" in text
    assert text.count("#### ❌ fail") == 45


def test_hundreds_of_failures_keep_the_table_and_say_how_many_are_missing() -> None:
    text = render_markdown(valid("many_failures"))
    assert len(rows(text)) == 9
    assert re.search(r"_\d+ more probes need attention: see `scorecard.html`._", text)
    assert "Passing probes omitted" in text


@pytest.mark.parametrize("name", NAMES)
def test_the_only_html_is_ours(name: str) -> None:
    text = outside_code(render_markdown(valid(name)))
    assert set(re.findall(r"<[^>]*>", text)) <= OUR_TAGS
    assert re.findall(r"<(?!/?(details|summary)>)", text) == []


@pytest.mark.parametrize("name", NAMES)
def test_code_fences_only_open_and_close_evidence(name: str) -> None:
    fences = [line for line in render_markdown(valid(name)).splitlines()
              if line.startswith("```")]
    assert fences[0::2] == ["```json"] * (len(fences) // 2)
    assert fences[1::2] == ["```"] * (len(fences) // 2)


def test_hostile_strings_are_inert() -> None:
    text = render_markdown(valid("hostile"))
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    prose = outside_code(text)
    assert "&lt;script&gt;" in prose and "onerror=alert\\(1\\)&gt;" in prose
    # Unescaped backticks outside code blocks come only from our code spans of ids and keys.
    spans = re.findall(r"`[^`]*`", prose.replace("\\`", ""))
    assert spans and all(re.fullmatch(r"`[a-z0-9_.]+`", span) for span in spans), spans


def test_verdict_line_and_gate() -> None:
    ready = render_markdown(valid("ready"))
    assert ready.startswith("## ✅ READY: lead\\-router 1\\.4\\.0\n")
    assert "**Release gate:** passed." in ready
    not_ready = render_markdown(valid("not_ready"))
    assert not_ready.startswith("## ❌ NOT READY: lead\\-router\n")
    assert "failed on `audit`, `security`, `load`" in not_ready
    assert "> [!WARNING]" in render_markdown(valid("incomplete"))


def test_failed_probes_show_message_and_fix_and_passing_ones_are_collapsed() -> None:
    text = render_markdown(valid("not_ready"))
    assert "#### ❌ fail: Audit trail / `audit_effects_match_upstream`" in text
    assert "2 writes reached the CRM but the audit record lists 1" in text
    assert "**How to fix:** Make audit effects match upstream hold\\." in text
    assert "#### ⚠️ error: Security and data handling / `endpoints_require_auth`" in text
    assert "<details><summary>Passing and not-applicable probes (19)</summary>" in text
    passing = text.split("Passing and not-applicable probes")[1]
    assert "`honours_retry_after`" in passing and "#### " not in passing


def test_changes_are_listed() -> None:
    text = render_markdown(valid("ready"))
    assert "**Components changed since 1\\.3\\.0:** 2" in text
    assert "- changed lead\\_router/prompts/route\\_lead\\.md" in text


@pytest.mark.parametrize(("raw", "escaped"), [
    ("a | b", "a &#124; b"),
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ("`code` *em* _u_ [l](u)", "\\`code\\` \\*em\\* \\_u\\_ \\[l\\]\\(u\\)"),
    ("- item\n# heading", "\\- item \\# heading"),
    ("\x1b[31mred\x1b[0m\x00", "red"),
])
def test_md_escapes(raw: str, escaped: str) -> None:
    assert md(raw) == escaped


def test_md_limit_bounds_the_escaped_length() -> None:
    assert len(md("|" * 1_000, 60)) <= 61
    assert md("|" * 1_000, 60).endswith("…")
