"""Small inline SVG charts the harness draws from its own numbers, for `render_html(charts=)`.

The SVG is inert: no scripts, no links, no external references, no styles beyond
presentation attributes (the page's Content-Security-Policy forbids the rest), and
every piece of text is XML-escaped after the characters XML cannot carry are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from readiness.reports._text import xml_safe

WIDTH = 640
ROW = 22
LEFT = 128  # room for an 18-character row label at 11 px
RIGHT = 24  # room for half of the last tick's label
TOP = 10
AXIS = 34
LEGEND = 20

# (colour, label) per kind of attempt; shapes are drawn by _marker.
KINDS = {
    "success": ("#1a7f37", "answered 2xx"),
    "fault": ("#cf222e", "fault injected"),
    "no_answer": ("#57606a", "no answer (reset, timeout)"),
    "other": ("#bc4c00", "other answer"),
}


def timeline_svg(trials: Sequence[Sequence[Mapping[str, Any]]],
                 labels: Sequence[str] | None = None) -> str:
    """Attempts on a time axis, one row per trial, as a self-contained SVG string.

    Each trial is a list of timeline entries `{"attempt", "t_ms", "end_ms"?, "fault",
    "status"}` (see `readiness.probes._timeline`). A marker shows each attempt's
    start, coloured and shaped by how it went (fault injected, 2xx, no answer,
    other); a bar runs to its end when `end_ms` is given. `labels` name the rows
    (default "trial 1", "trial 2", ...). Entries without a numeric `t_ms` are skipped.
    """
    rows = [[e for e in trial if _number(e.get("t_ms")) is not None] for trial in trials]
    names = [str(labels[i]) if labels is not None and i < len(labels) else f"trial {i + 1}"
             for i in range(len(rows))]
    if not any(rows):
        return _svg(WIDTH, 40, ['<text x="8" y="24" font-size="12" fill="#57606a">'
                                "no attempts recorded</text>"], "no attempts recorded")
    span = max(max(_number(e.get("end_ms")) or 0.0, _number(e.get("t_ms")) or 0.0)
               for row in rows for e in row)
    step = _tick_step(span)
    end = max(step, math.ceil(span / step) * step)
    plot = WIDTH - LEFT - RIGHT
    height = TOP + ROW * len(rows) + AXIS + LEGEND

    def x(ms: float) -> float:
        return LEFT + plot * min(max(ms, 0.0), end) / end

    parts: list[str] = []
    for i, (name, row) in enumerate(zip(names, rows, strict=True)):
        y = TOP + ROW * i + ROW / 2
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#24292f">{_text(name, 18)}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     'stroke="#d0d7de" stroke-width="1"/>')
        for entry in row:
            parts.extend(_attempt(entry, y, x))
    axis_y = TOP + ROW * len(rows) + 4
    parts.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH - RIGHT}" y2="{axis_y}" '
                 'stroke="#57606a" stroke-width="1"/>')
    for k in range(round(end / step) + 1):
        ms = k * step
        parts.append(f'<line x1="{x(ms):.1f}" y1="{axis_y}" x2="{x(ms):.1f}" y2="{axis_y + 4}" '
                     'stroke="#57606a" stroke-width="1"/>')
        parts.append(f'<text x="{x(ms):.1f}" y="{axis_y + 16}" font-size="10" '
                     f'text-anchor="middle" fill="#57606a">{_duration(ms)}</text>')
    legend_y = axis_y + AXIS - 4
    lx = 12.0
    for kind, (_, label) in KINDS.items():  # each entry as wide as its label (10 px type)
        parts.extend(_marker(kind, lx, legend_y - 4))
        parts.append(f'<text x="{lx + 9:.0f}" y="{legend_y}" font-size="10" '
                     f'fill="#24292f">{escape(label)}</text>')
        lx += 9 + 5.6 * len(label) + 20
    count = sum(len(row) for row in rows)
    return _svg(WIDTH, height, parts, f"{count} attempts in {len(rows)} trials over "
                f"{_duration(span)}")


def _attempt(entry: Mapping[str, Any], y: float, x: Callable[[float], float]) -> list[str]:
    """One attempt: its duration bar, its marker, and a tooltip saying what happened."""
    start = _number(entry.get("t_ms")) or 0.0
    stop = _number(entry.get("end_ms"))
    kind = _kind(entry)
    colour = KINDS[kind][0]
    parts = []
    if stop is not None and stop > start:
        parts.append(f'<line x1="{x(start):.1f}" y1="{y:.1f}" x2="{x(stop):.1f}" y2="{y:.1f}" '
                     f'stroke="{colour}" stroke-width="3" stroke-opacity="0.45"/>')
    fault = entry.get("fault")
    status = entry.get("status")
    what = ", ".join(str(v) for v in (fault, status) if v is not None) or "no answer"
    tip = f"attempt {entry.get('attempt', '?')} at {_duration(start)}: {what}"
    parts.append(f"<g><title>{_text(tip, 120)}</title>")
    parts.extend(_marker(kind, x(start), y))
    parts.append("</g>")
    return parts


def _kind(entry: Mapping[str, Any]) -> str:
    status = entry.get("status")
    if entry.get("fault"):
        return "fault"
    if not isinstance(status, int) or isinstance(status, bool):
        return "no_answer"
    return "success" if 200 <= status < 300 else "other"


def _marker(kind: str, cx: float, cy: float) -> list[str]:
    """A circle for 2xx, a square for a fault, a cross for no answer, a diamond otherwise."""
    colour = KINDS[kind][0]
    if kind == "success":
        return [f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>']
    if kind == "fault":
        return [f'<rect x="{cx - 4.5:.1f}" y="{cy - 4.5:.1f}" width="9" height="9" '
                f'fill="{colour}"/>']
    if kind == "no_answer":
        return [f'<path d="M{cx - 4:.1f} {cy - 4:.1f}L{cx + 4:.1f} {cy + 4:.1f}M{cx - 4:.1f} '
                f'{cy + 4:.1f}L{cx + 4:.1f} {cy - 4:.1f}" stroke="{colour}" stroke-width="2.5"/>']
    return [f'<path d="M{cx:.1f} {cy - 5.5:.1f}L{cx + 5.5:.1f} {cy:.1f}L{cx:.1f} {cy + 5.5:.1f}'
            f'L{cx - 5.5:.1f} {cy:.1f}Z" fill="{colour}"/>']


def _svg(width: int, height: int, parts: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{_text(label, 200)}" '
            'font-family="system-ui, sans-serif">' + "".join(parts) + "</svg>")


def _number(value: Any) -> float | None:
    """A finite number, or None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _tick_step(span_ms: float) -> float:
    """A 1-2-5 step giving about five ticks."""
    raw = max(span_ms, 1.0) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def _duration(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{round(ms):d} ms"


def _text(value: str, limit: int) -> str:
    """Text made XML-safe, shortened and escaped (quotes too: it may sit in an attribute)."""
    clean = xml_safe(value)
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return escape(clean, quote=True)


SERIES = (("p95_ms", "#cf222e", "p95"), ("p50_ms", "#0969da", "p50"))


def latency_svg(history: Sequence[Mapping[str, Any]]) -> str:
    """p50 and p95 latency over a load campaign, one point per second of history."""
    points = [(t, row) for row in history if (t := _number(row.get("t"))) is not None]
    values = [v for _, row in points for key, _, _ in SERIES
              if (v := _number(row.get(key))) is not None]
    height = 200
    plot_h = height - TOP - AXIS - LEGEND
    span_t = max((t for t, _ in points), default=1.0) or 1.0
    top = max(values, default=1.0) or 1.0
    width_px = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + width_px * t / span_t

    def y(ms: float) -> float:
        return TOP + plot_h * (1 - ms / top)

    parts = [f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
             'stroke="#8c959f"/>']
    step = _tick_step(top)
    tick = 0.0
    while tick <= top + 1e-9:
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
                     f'text-anchor="end" fill="#57606a">{_text(_duration(tick), 12)}</text>')
        tick += step
    for key, colour, _ in SERIES:
        line = [f"{x(t):.1f},{y(v):.1f}" for t, row in points
                if (v := _number(row.get(key))) is not None]
        if len(line) > 1:
            parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP + plot_h + 16}" font-size="11" '
                 f'text-anchor="end" fill="#57606a">{_text(f"{span_t:g} s", 12)}</text>')
    for n, (_, colour, label) in enumerate(SERIES):
        lx = LEFT + n * 90
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="{height - 9}" font-size="11" fill="#24292f">'
                     f'{_text(label + " latency", 20)}</text>')
    return _svg(WIDTH, height, parts, "latency over the load campaign")


def charts_for(card: Mapping[str, Any]) -> dict[str, str]:
    """Timeline charts for every probe whose evidence carries trials with timelines.

    The SVG is drawn here, by the harness, from numbers and escaped labels, so it
    is safe to embed in the HTML report even though the card came from an agent run.
    """
    charts: dict[str, str] = {}
    for item in card.get("items", []):
        for found in item.get("probes", []):
            history = (found.get("evidence") or {}).get("history")
            if isinstance(history, list) and any(isinstance(h, Mapping) for h in history):
                charts[found["id"]] = latency_svg([h for h in history if isinstance(h, Mapping)])
                continue
            trials = (found.get("evidence") or {}).get("trials")
            if not isinstance(trials, list):
                continue
            rows = [t for t in trials if isinstance(t, Mapping)
                    and isinstance(t.get("timeline"), list) and t["timeline"]]
            if rows:
                labels = [str(r.get("scenario", "")) for r in rows]
                charts[found["id"]] = timeline_svg([r["timeline"] for r in rows], labels=labels)
    return charts
