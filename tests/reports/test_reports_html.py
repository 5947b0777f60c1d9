"""scorecard.html: complete, self-contained and inert whatever the agent wrote."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from reports_cards import IMG, NAMES, SCRIPT, valid

from readiness.items import ITEMS
from readiness.reports import render_html

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Tags that load, run or submit something; none may come out of a scorecard.
ACTIVE_TAGS = {"script", "img", "iframe", "frame", "object", "embed", "link", "base", "form",
               "input", "button", "video", "audio", "source", "svg", "math"}


class Page(HTMLParser):
    """The parsed page: tags with attributes, text, style sheet and item rows."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.css: list[str] = []
        self.item_rows = 0
        self._in_style = False
        self._stack: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if tag == "tr" and dict(attrs).get("class") == "item-row":
            self.item_rows += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.css if self._in_style else self.text).append(data)

    def ids(self) -> list[str]:
        return [str(attrs["id"]) for _, attrs in self.tags if attrs.get("id")]


def render(name: str) -> tuple[str, Page]:
    html = render_html(valid(name))
    return html, Page(html)


@pytest.mark.parametrize("name", NAMES)
def test_page_has_the_csp_and_loads_nothing(name: str) -> None:
    _, page = render(name)
    metas = [attrs for tag, attrs in page.tags if tag == "meta"]
    csp = [m for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
    assert len(csp) == 1 and str(csp[0]["content"]).startswith(CSP)
    assert [tag for tag, _ in page.tags if tag in ACTIVE_TAGS] == []
    assert [tag for tag, _ in page.tags].count("style") == 1
    css = "".join(page.css)
    assert "url(" not in css and "@import" not in css and "://" not in css


@pytest.mark.parametrize("name", NAMES)
def test_no_attribute_carries_a_handler_url_or_foreign_style(name: str) -> None:
    _, page = render(name)
    for tag, attrs in page.tags:
        for attr, value in attrs.items():
            assert not attr.startswith("on"), (tag, attr)
            assert "://" not in (value or "") and "javascript:" not in (value or "").lower()
            if attr == "href":
                assert re.fullmatch(r"#item-[a-z_]+", str(value)), value
            if attr == "style":
                assert re.fullmatch(r"width: \d{1,3}%", str(value)), value


@pytest.mark.parametrize("name", NAMES)
def test_urls_occur_only_as_text(name: str) -> None:
    html, page = render(name)
    assert html.count("://") == "".join(page.text).count("://")


@pytest.mark.parametrize("name", NAMES)
def test_all_nine_items_and_the_verdict_are_shown(name: str) -> None:
    html, page = render(name)
    card = valid(name)
    assert page.item_rows == 9
    assert [f"item-{item.key}" for item in ITEMS] == [
        i for i in page.ids() if i.startswith("item-")]
    text = " ".join(page.text)
    for item in ITEMS:
        assert item.title in text
    verdict = "READY" if card["verdict"] == "ready" else "NOT READY"
    assert f'id="verdict">{verdict}</div>' in html
    assert ('id="incomplete"' in html) is card["incomplete"]


def test_hostile_strings_are_text_not_markup() -> None:
    html, page = render("hostile")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "onerror=" not in "".join(f"{a}={v}" for _, attrs in page.tags
                                     for a, v in attrs.items())
    text = "".join(page.text)
    assert SCRIPT in text and IMG in text  # shown to the reader, escaped
    assert "&lt;/style&gt;" in html
    assert "\x1b" not in html and "\x00" not in html and "\u202e" not in html


def test_evidence_is_pretty_json_inside_details() -> None:
    html, page = render("not_ready")
    assert [tag for tag, _ in page.tags].count("details") >= 20
    assert '<details><summary>Evidence</summary>\n<pre>{\n  &#34;calls&#34;: [' in html


def test_evidence_svg_is_escaped_and_only_harness_charts_are_inserted() -> None:
    card = valid("hostile")
    html = render_html(card)
    assert "<svg" not in html and "&lt;svg onload=alert(1)&gt;" in html
    chart = '<svg viewBox="0 0 10 10" role="img"><rect width="10" height="4"/></svg>'
    charted = render_html(card, charts={"records_version": chart})
    assert charted.count(chart) == 1
    assert charted.index(chart) > charted.index('id="probe-audit-records_version"')


def test_remediation_shown_for_failed_probes_only() -> None:
    html, _ = render("not_ready")
    assert html.count("How to fix:") == 3  # two audit failures and one advisory docs failure


def test_changes_and_components_are_listed() -> None:
    html, _ = render("ready")
    assert "changed <code>lead_router/prompts/route_lead.md</code>" in html
    assert "removed <code>lead_router/rules/old.yaml</code>" in html
    assert "Versioned components (2)" in html


def test_huge_evidence_is_cut_in_html_with_a_pointer_to_json() -> None:
    card = valid("ready")
    card["items"][0]["probes"][0]["evidence"] = {"body": "x" * 200_000}
    html = render_html(card)
    assert "evidence truncated" in html and len(html) < 150_000


def test_agent_text_is_not_a_template() -> None:
    card = valid("ready")
    card["agent"]["name"] = "{{ 7 * 7 }}{% raw %}"
    assert "{{ 7 * 7 }}{% raw %}" in render_html(card)

