"""Masking secrets in the lines we report, so no report ever carries one."""

from __future__ import annotations

import re

_MAX_LINE = 300
# Characters that continue a token: some detectors capture only part of one (detect-secrets'
# GitHub detector reports just "ghp"), so a match is widened to the whole token before masking.
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_\-+/.~]")


def mask_token(token: str) -> str:
    """Keep at most the first 4 characters (fewer for short values), star the rest."""
    shown = min(4, len(token) // 4)
    return token[:shown] + "*" * (len(token) - shown)


def spans(line: str, secret: str) -> list[tuple[int, int]]:
    """Where `secret` occurs in `line`, each occurrence widened to its whole token."""
    found = []
    start = line.find(secret) if secret else -1
    while start != -1:
        begin, end = start, start + len(secret)
        while begin > 0 and _TOKEN_CHAR.match(line[begin - 1]):
            begin -= 1
        while end < len(line) and _TOKEN_CHAR.match(line[end]):
            end += 1
        found.append((begin, end))
        start = line.find(secret, start + 1)
    return found


def mask_line(line: str, secrets: list[str]) -> str | None:
    """`line` with every occurrence of every secret masked, trimmed to 300 characters.

    None when no secret occurs in the line as written (a detector that reads a transformed
    file): the caller then shows only the masked value, never the raw line.
    """
    covered = sorted(span for secret in secrets for span in spans(line, secret))
    if not covered:
        return None
    merged: list[tuple[int, int]] = []
    for begin, end in covered:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    out, last = [], 0
    for begin, end in merged:
        out.append(line[last:begin] + mask_token(line[begin:end]))
        last = end
    masked = "".join(out) + line[last:]
    first = merged[0][0]
    lead = len(masked) - len(masked.lstrip())
    masked = masked.strip()
    if len(masked) > _MAX_LINE:
        start = max(0, first - lead - 60)
        masked = ("..." if start else "") + masked[start:start + _MAX_LINE - 6] + "..."
    return masked
