"""readiness.probes._text: placeholders, contacts, headings, links and CODEOWNERS patterns."""

from __future__ import annotations

import pytest

from readiness.probes import _text
from readiness.probes._text import Contact

REAL_ESCALATION = """# Escalation
First call Ada Lovelace (ada.lovelace@corp.io, +44 20 7946 0958), then @aturing on Slack.
"""


@pytest.mark.parametrize(("text", "marks"), [
    ("Owner: TBD", ["TBD"]),
    ("TODO: write this. todo later", ["TODO", "todo"]),
    ("mail ops@example.com or visit example.org", ["@example.com", "example.org"]),
    ("Ask John Doe or jane doe", ["John Doe", "jane doe"]),
    ("Phone 555-0123 or (555) 010-9999", ["555-0123", "(555)"]),
    ("Call +1 415 555 0199", ["+1 415 555 0199"]),
    ("Owner: <name>, mail <owner email>", ["<name>", "<owner email>"]),
    ("Owner: [name] FIXME XXX lorem ipsum", ["[name]", "FIXME", "XXX", "lorem ipsum"]),
    ("TBD and TBD again", ["TBD"]),
])
def test_placeholders_found(text: str, marks: list[str]) -> None:
    assert _text.placeholders(text) == marks


@pytest.mark.parametrize("text", [
    "", REAL_ESCALATION, "The TBDs were removed; todos live in Jira. Call 415-867-5309.",
    "Use <b>bold</b> and List<String>.",
])
def test_placeholders_absent_from_real_text(text: str) -> None:
    assert _text.placeholders(text) == []


def test_contacts_in_real_text() -> None:
    assert _text.contacts(REAL_ESCALATION) == [
        Contact("email", "ada.lovelace@corp.io"), Contact("phone", "+44 20 7946 0958"),
        Contact("chat", "@aturing")]


@pytest.mark.parametrize("text", ["", "Call the team lead.", "Ext. 12345", "v1.2.3", "@a"])
def test_no_contacts(text: str) -> None:
    assert _text.contacts(text) == []


def test_a_date_is_not_a_phone_number() -> None:
    assert _text.contacts("Last reviewed 2026-11-01.") == []


@pytest.mark.parametrize(("value", "working"), [
    ("ada@corp.io", True), ("@aturing", True), ("+44 20 7946 0958", True), ("415-867-5309", True),
    (" ada@corp.io ", True), ("", False), ("   ", False), ("ada", False),
    ("ops@example.com", False), ("555-0123", False), ("TBD", False), ("<email>", False),
    ("ada@corp.io or @ada", False), ("12345", False),
])
def test_is_working_contact(value: str, working: bool) -> None:
    assert _text.is_working_contact(value) is working


def test_a_date_is_not_a_working_contact() -> None:
    assert not _text.is_working_contact("2026-11-01")


def test_parenthesised_area_code_is_a_working_contact() -> None:
    assert _text.is_working_contact("(415) 867-5309")


def test_headings() -> None:
    markdown = "# Runbook\ntext\n## Stop the agent ##\n####### seven\n#no space\n  ### Revert\n"
    assert _text.headings(markdown) == ["Runbook", "Stop the agent"]
    assert _text.headings("") == []


def test_comments_in_code_blocks_are_not_headings() -> None:
    markdown = "# Runbook\n```bash\n# revert the decision\ncurl -X POST http://a/x\n```\n"
    assert _text.headings(markdown) == ["Runbook"]


def test_relative_links() -> None:
    markdown = ('[a](guide.md) [b](https://x.io/y) [c](#top) ![img](pic.png) [d](<faq.md>) '
                '[e](faq.md#alerts "title") [f](mailto:a@b.io) [g](../up.md)')
    assert _text.relative_links(markdown) == ["guide.md", "faq.md", "faq.md#alerts", "../up.md"]
    assert _text.relative_links("no links [here] (either)") == []


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*", "README.md", True),
    ("*", "a/b/c.py", True),
    ("*.md", "docs/guide.md", True),
    ("*.md", "guide.md", True),
    ("*.md", "guide.mdx", False),
    ("/prompts/", "prompts/a.txt", True),
    ("/prompts/", "prompts/deep/a.txt", True),
    ("/prompts/", "agent/prompts/a.txt", False),
    ("prompts/", "agent/prompts/a.txt", True),
    ("prompts/", "prompts/a.txt", True),
    ("agent/prompts", "agent/prompts/a.txt", True),
    ("agent/prompts", "x/agent/prompts/a.txt", False),
    ("**/logs", "build/logs/x.log", True),
    ("**/logs", "logs/x.log", True),
    ("**/logs", "build/log/x.log", False),
    ("/docs/*", "docs/index.md", True),
    ("a/**/b", "a/x/y/b/c", True),
    ("a/**/b", "a/b", True),
    ("file?.txt", "file1.txt", True),
    ("file?.txt", "file10.txt", False),
    ("a.b", "aXb", False),
])
def test_codeowners_pattern(pattern: str, path: str, matches: bool) -> None:
    assert bool(_text.codeowners_pattern(pattern).match(path)) is matches


@pytest.mark.parametrize("pattern", ["docs/*", "/docs/*"])
def test_trailing_star_does_not_own_nested_files(pattern: str) -> None:
    assert not _text.codeowners_pattern(pattern).match("docs/build-app/troubleshooting.md")


def test_word_count() -> None:
    assert (_text.word_count(""), _text.word_count("one two, three-four")) == (0, 4)
