"""Attempt timelines as inline SVG: well-formed, inert, escaped, and drawn to scale."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from reports_cards import HOSTILE, SCRIPT, valid

from readiness.reports import render_html
from readiness.reports.charts import charts_for, latency_svg, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
RETRIED: list[dict[str, Any]] = [
    {"attempt": 1, "t_ms": 0, "end_ms": 30, "fault": "server_error", "status": 503},
    {"attempt": 2, "t_ms": 180, "end_ms": 200, "fault": "reset", "status": None},
    {"attempt": 3, "t_ms": 650, "end_ms": 700, "fault": None, "status": 200},
]
GAVE_UP: list[dict[str, Any]] = [
    {"attempt": 1, "t_ms": 0, "end_ms": 5000, "fault": None, "status": None},
    {"attempt": 2, "t_ms": 5200, "fault": None, "status": 502},
]


def parse(svg: str) -> ET.Element:
    """The SVG as XML; fails the test if it is not well-formed."""
    return ET.fromstring(svg)


def inert(svg: str) -> None:
    """No scripts, links, event handlers, external references or style sheets."""
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        assert element.tag.removeprefix(SVG) in {"svg", "g", "title", "text", "line", "rect",
                                                  "circle", "path"}, element.tag
        for name in element.attrib:
            assert not name.lower().startswith("on") and "href" not in name.lower(), name
    lowered = svg.lower()
    for forbidden in ("<script", "href", "url(", "javascript:", "<style", "<foreignobject",
                      "<image", "<use"):
        assert forbidden not in lowered, forbidden


def markers(svg: str) -> list[tuple[str, str]]:
    """(marker element, tooltip) for every attempt drawn, in drawing order."""
    found = []
    for group in parse(svg).iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        shape = next(child for child in group if child.tag != f"{SVG}title")
        found.append((shape.tag.removeprefix(SVG), (title.text or "") if title is not None else ""))
    return found


@pytest.mark.parametrize("trials", [[], [[]], [[], []], [[{"attempt": 1, "t_ms": "soon"}]],
                                    [[{"attempt": 1, "t_ms": float("nan")}]]])
def test_nothing_to_draw(trials: list[list[dict[str, Any]]]) -> None:
    svg = timeline_svg(trials)
    inert(svg)
    assert "no attempts recorded" in svg


def test_each_attempt_is_a_marker_shaped_by_its_outcome() -> None:
    svg = timeline_svg([RETRIED, GAVE_UP])
    inert(svg)
    assert markers(svg) == [
        ("rect", "attempt 1 at 0 ms: server_error, 503"),
        ("rect", "attempt 2 at 180 ms: reset"),
        ("circle", "attempt 3 at 650 ms: 200"),
        ("path", "attempt 1 at 0 ms: no answer"),
        ("path", "attempt 2 at 5.2 s: 502"),
    ]
    assert 'aria-label="5 attempts in 2 trials over 5.2 s"' in svg
    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert texts[:2] == ["trial 1", "trial 2"]
    assert {"answered 2xx", "fault injected", "no answer (reset, timeout)",
            "other answer"} <= set(texts)


def test_attempts_are_placed_to_scale_on_one_axis() -> None:
    svg = timeline_svg([RETRIED])
    fault_x = float(re.findall(r'<rect x="([\d.]+)"', svg)[0]) + 4.5
    success_x = float(re.findall(r'<circle cx="([\d.]+)"', svg)[0])
    tick = re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="10" text-anchor="middle" '
                      r'fill="#57606a">([^<]+)</text>', svg)
    assert tick[0] == (f"{fault_x:.1f}", "0 ms")
    zero, last = float(tick[0][0]), float(tick[-1][0])
    span_ms = float(tick[-1][1].removesuffix(" ms"))
    assert success_x == pytest.approx(zero + (last - zero) * 650 / span_ms, abs=0.1)


def test_hostile_labels_are_escaped_and_xml_safe() -> None:
    svg = timeline_svg([RETRIED, RETRIED], labels=[HOSTILE, 'a"b<c>&\x00\x1b'])
    inert(svg)
    assert SCRIPT not in svg
    texts = [t.text or "" for t in parse(svg).iter(f"{SVG}text")]
    assert texts[0].startswith("<script>") and texts[0].endswith("…")
    assert texts[1] == 'a"b<c>&'


def test_hostile_timeline_values_cannot_inject_markup() -> None:
    entry = {"attempt": SCRIPT, "t_ms": 10, "fault": '"/><script>x</script>',
             "status": "<b>", "end_ms": True}
    svg = timeline_svg([[entry]])
    inert(svg)
    [(shape, tip)] = markers(svg)
    assert shape == "rect" and tip.startswith(f"attempt {SCRIPT} at 10 ms: ")


def test_missing_labels_fall_back_to_numbers() -> None:
    texts = [t.text for t in parse(timeline_svg([RETRIED] * 3, labels=["first"])).iter(
        f"{SVG}text")]
    assert texts[:3] == ["first", "trial 2", "trial 3"]


def test_the_chart_renders_inside_the_html_report() -> None:
    card = valid("not_ready")
    svg = timeline_svg([RETRIED])
    html = render_html(card, charts={"backs_off_with_jitter": svg})
    assert html.count(svg) == 1


def test_charts_for_draws_one_chart_per_probe_with_trial_timelines() -> None:
    from readiness.reports.charts import charts_for

    timeline = [{"attempt": 1, "t_ms": 0, "end_ms": 3, "fault": "server_error", "status": 503},
                {"attempt": 2, "t_ms": 180, "end_ms": 190, "fault": None, "status": 200}]
    card = {"items": [{"probes": [
        {"id": "backs_off_with_jitter", "evidence": {"trials": [
            {"scenario": "503 <b>twice</b>", "timeline": timeline}]}},
        {"id": "docs_exist", "evidence": {"files": {}}},
        {"id": "empty_trials", "evidence": {"trials": [{"scenario": "x", "timeline": []}]}}]}]}
    charts = charts_for(card)
    assert set(charts) == {"backs_off_with_jitter"}
    svg = charts["backs_off_with_jitter"]
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg


def test_a_load_campaign_history_becomes_a_latency_chart() -> None:
    history = [{"t": t, "p50_ms": 10.0 + t, "p95_ms": 40.0 + 3 * t} for t in range(12)]
    card = {"items": [{"probes": [{"id": "load_holds_p95", "evidence": {"history": history}},
                                  {"id": "other", "evidence": {"history": "not a list"}}]}]}
    charts = charts_for(card)
    assert set(charts) == {"load_holds_p95"}
    svg = charts["load_holds_p95"]
    assert svg.count("<polyline") == 2 and "p95 latency" in svg and "<script" not in svg


def test_a_latency_chart_of_nothing_is_still_valid_svg() -> None:
    svg = latency_svg([{"t": "x", "p95_ms": None}])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<polyline" not in svg
