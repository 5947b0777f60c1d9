"""scorecard.html in real headless Chromium: it renders cleanly, loads nothing, runs nothing.

These tests need Debian's `chromium` on PATH; `bash scripts/check` installs it when it is
missing (as root or with password-less sudo). Without it they fail and say how to install
it. On a developer machine where it cannot be installed, set READINESS_SKIP_BROWSER=1 to
skip them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cdp_pipe import Browser, BrowserError, Tab, chromium, file_url
from reports_cards import NAMES, hostile_card, valid

from readiness.reports import render_html, validate_scorecard
from readiness.reports.charts import charts_for

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")
# Each payload, if the browser ever parsed it as markup, would set window.__pwned,
# retitle the page, open a dialog, make a request or navigate away.
PAYLOADS = [
    '<script>window.__pwned = "script"; document.title = "pwned"; alert(1)</script>',
    '"><img src=x onerror="window.__pwned = \'img\'">',
    "'><svg onload=\"window.__pwned = 'svg'\"></svg>",
    "</title><script>window.__pwned = 'title'</script>",
    "</style><script>window.__pwned = 'style'</script><style>",
    '</pre></details><iframe src="http://127.0.0.1:9/frame"></iframe>',
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    "javascript:window.__pwned='href'",
]
PAYLOAD = " ".join(PAYLOADS)
# What the page would hold if a payload had been parsed as markup; the harness-drawn
# chart SVG is counted on its own.
ACTIVE = "script, img, iframe, object, embed, link, meta[http-equiv=refresh], form"
HANDLERS = ("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
            ".filter(a => a.name.startsWith('on')).length")
# The whole module's budget, browser start included: a hung browser fails, never stalls.
DEADLINE_S = 20.0


def payload_card() -> dict[str, Any]:
    """The hostile card with executing payloads in every string an agent can touch,
    including the labels of a harness-drawn attempt timeline."""
    card = hostile_card()
    card["agent"]["name"] = PAYLOAD
    card["agent"]["version"] = PAYLOAD
    card["agent"]["components"] = {PAYLOAD: card["agent"]["components"].popitem()[1]}
    card["notes"] = [PAYLOAD, *PAYLOADS]
    card["run"]["config"] = PAYLOAD
    timeline = [{"attempt": 1, "t_ms": 0, "end_ms": 3, "fault": PAYLOAD, "status": 503},
                {"attempt": 2, "t_ms": 400, "end_ms": 410, "status": 200}]
    for item in card["items"]:
        item["reason"] = PAYLOAD
        for entry in item["probes"]:
            entry.update(title=PAYLOAD, message=PAYLOAD, remediation=PAYLOAD)
            entry["evidence"] = {"body": PAYLOAD, PAYLOAD: PAYLOADS,
                                 "trials": [{"scenario": PAYLOAD, "timeline": timeline}]}
    validate_scorecard(card)
    return card


@functools.cache
def scorecard_pages() -> dict[str, tuple[str, int]]:
    """Page name -> (HTML, number of charts drawn), for every fixture card and the payloads."""
    cards = {name: valid(name) for name in NAMES} | {"payloads": payload_card()}
    pages = {}
    for name, card in cards.items():
        charts = charts_for(card)
        pages[name] = (render_html(card, charts), len(charts))
    return pages


def control_pages() -> dict[str, str]:
    """Pages that must trip the checks: the payloads pasted raw, with and without the CSP."""
    raw = "".join(PAYLOADS[:3])
    head = "<!doctype html><html><head><title>Readiness scorecard: x</title>"
    csp = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    return {
        "unescaped": f"{head}</head><body>{raw}<script>console.error('canary')</script>"
                     '<img src="http://127.0.0.1:9/beacon.png"></body></html>',
        "blocked_by_csp": f"{head}{csp}</head><body>{raw}</body></html>",
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if os.environ.get("READINESS_SKIP_BROWSER") == "1":
        pytest.skip("READINESS_SKIP_BROWSER=1: the headless Chromium checks are skipped")
    try:
        with chromium(deadline_s=DEADLINE_S) as running:
            yield running
    except BrowserError as exc:
        pytest.fail(f"the HTML scorecard cannot be checked in a browser: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def pages(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Tab]:
    """Every page loaded at once, each in its own tab (Chromium's idle wait is ~1 s each)."""
    folder = tmp_path_factory.mktemp("html")
    html = {name: page for name, (page, _) in scorecard_pages().items()} | control_pages()
    for name, text in html.items():
        (folder / f"{name}.html").write_text(text, encoding="utf-8")
    try:
        tabs = browser.load([file_url(folder / f"{name}.html") for name in html])
    except BrowserError as exc:
        pytest.fail(f"the HTML scorecard could not be loaded in Chromium: {exc}", pytrace=False)
    return dict(zip(html, tabs, strict=True))


@pytest.mark.parametrize("name", [*NAMES, "payloads"])
def test_scorecard_renders_with_no_error_no_request_and_nothing_active(
        browser: Browser, pages: dict[str, Tab], name: str) -> None:
    tab, charts = pages[name], scorecard_pages()[name][1]
    assert tab.events.errors() == []
    assert tab.events.dialogs == []
    assert tab.events.requests == [tab.url]  # the page itself, nothing else
    assert browser.evaluate(tab.session, "location.href") == tab.url
    assert browser.evaluate(tab.session, "typeof window.__pwned") == "undefined"
    assert browser.evaluate(tab.session, "document.title").startswith("Readiness scorecard: ")
    assert browser.evaluate(tab.session, f"document.querySelectorAll({ACTIVE!r}).length") == 0
    assert browser.evaluate(tab.session, HANDLERS) == 0
    assert browser.evaluate(tab.session, "document.querySelectorAll('svg').length") == charts
    assert browser.evaluate(tab.session, "document.querySelectorAll('tr.item-row').length") == 9
    csp = "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content"
    policy = browser.evaluate(tab.session, csp)
    assert policy.startswith("default-src 'none';") and "script-src" not in policy


def test_payloads_in_agent_answers_are_shown_as_text(browser: Browser,
                                                     pages: dict[str, Tab]) -> None:
    tab = pages["payloads"]
    assert scorecard_pages()["payloads"][1] > 0, "the payload card should draw charts"
    visible = browser.evaluate(tab.session, "document.body.innerText")
    assert "<script>window.__pwned" in visible and "onerror=" in visible
    text = browser.evaluate(tab.session, "document.documentElement.textContent")
    assert [payload for payload in PAYLOADS if payload not in text] == []


def test_the_checks_catch_an_unescaped_page(browser: Browser, pages: dict[str, Tab]) -> None:
    """The control: the same payloads pasted raw trip every check the scorecard passes."""
    tab = pages["unescaped"]
    assert browser.evaluate(tab.session, "window.__pwned") in ("script", "img", "svg")
    assert any("canary" in error for error in tab.events.errors())
    assert "http://127.0.0.1:9/beacon.png" in tab.events.requests
    assert len(tab.events.dialogs) == 1  # alert(1), dismissed


def test_the_checks_catch_markup_the_csp_only_contained(browser: Browser,
                                                         pages: dict[str, Tab]) -> None:
    """Under the scorecard's CSP an injected script does not run, but each violation is a
    console error, so the checks above fail for markup that merely got blocked."""
    tab = pages["blocked_by_csp"]
    assert browser.evaluate(tab.session, "typeof window.__pwned") == "undefined"
    violations = [e for e in tab.events.errors() if "Content Security Policy" in e]
    assert len(violations) >= 3  # the inline script, the image, the inline handlers
