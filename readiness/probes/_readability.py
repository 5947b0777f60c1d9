"""Is an alert plain English? A reading grade and the machine text an operator cannot act on.

Syllables come from `pyphen`'s hyphenation dictionary (hyphenation points + 1 per word).
`textstat` would be the obvious choice, but its current versions depend on nltk and
download corpora at run time, which a harness running in CI must not do. Hyphenation
points slightly undercount syllables ("area" counts 1), so grades run a little low.
"""

from __future__ import annotations

import functools
import json
import re

import pyphen  # type: ignore[import-untyped]  # pyphen ships no type information

from readiness.probes._text import EMAIL, HANDLE, PHONE

_EXCERPT = 80

_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"']+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# a line break also ends a sentence: chat alerts put one statement per line, unpunctuated
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")

_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)"
    r'|^[ \t]*File "[^"\n]+", line \d+'
    r"|\bat [\w$.<>/]+\((?:[\w$-]+\.\w+:\d+|Native Method|Unknown Source)\)"
    r"|^[ \t]*at (?:[^\s()]+ )?\(?[^\s()]+\.\w+:\d+:\d+\)?",
    re.MULTILINE,
)
_DICT_FRAGMENT = re.compile(r"""\{\s*(?:"[^"\n]+"|'[^'\n]+')\s*:""")
_EXCEPTION_NAME = re.compile(
    r"\b(?:[a-z_]\w*\.)+[A-Z]?\w*(?:Error|Exception|Fault|Timeout)\b"  # a dotted path
    r"|\b[A-Z][A-Za-z0-9]*?[A-Za-z0-9](?:Error|Exception|Fault|Timeout)\b"  # an inner capital
)
_LEVEL = r"(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)"
# levels in capitals only: "Error: the CRM is down." is how a person writes too
_LOG_PREFIX = re.compile(
    rf"\b{_LEVEL}:[\w.]+:"  # logging's default format, ERROR:root:
    rf"|\d{{4}}-\d{{2}}-\d{{2}}[ T]\d{{2}}:\d{{2}}:\d{{2}}[^\n]{{0,40}}?\b{_LEVEL}\b"
    rf"|\[{_LEVEL}\]"
    r"|\blevel=(?:error|warn|warning|fatal|critical)\b"
)
_HTTP_DUMP = re.compile(r"\bfor url:? ['\"]?https?://|\bfor url '", re.IGNORECASE)


def grade_level(text: str) -> float | None:
    """Flesch-Kincaid grade of the prose in `text`; None when it has no words.

    Addresses, handles, phone numbers and `code` are removed first: an operator reads
    them as names, not as prose.
    """
    prose = _without_addresses(text)
    words = _WORD.findall(prose)
    if not words:
        return None
    sentences = max(1, sum(1 for part in _SENTENCE_END.split(prose) if _WORD.search(part)))
    syllables = sum(_syllables(word) for word in words)
    return 0.39 * (len(words) / sentences) + 11.8 * (syllables / len(words)) - 15.59


def machine_text(text: str) -> list[str]:
    """Why `text` is not plain English: one phrase per kind of machine text, with an excerpt."""
    reasons: list[str] = []

    def found(kind: str, match: re.Match[str] | None) -> None:
        if match is not None:
            reasons.append(f"{kind}: {_excerpt(text, match)}")

    found("a stack trace", _STACK_TRACE.search(text))
    if _is_json_dump(text):
        reasons.append(f"a JSON dump: {_clip(' '.join(text.split()))}")
    else:
        found("a JSON or dict dump", _DICT_FRAGMENT.search(text))
    links = [m.span() for m in _URL.finditer(text)]
    names = list(dict.fromkeys(
        m[0] for m in _EXCEPTION_NAME.finditer(text)
        if not any(start <= m.start() < end for start, end in links)  # a link, not a name
    ))
    if names:
        reasons.append(f"exception class names: {_clip(', '.join(names))}")
    found("a log line", _LOG_PREFIX.search(text))
    found("an HTTP client error message", _HTTP_DUMP.search(text))
    return reasons


def first_sentence(text: str) -> str:
    """The first sentence of `text`, or its first line when that is shorter, stripped."""
    text = text.strip()
    end = re.search(r"[.!?]+(?=\s|$)", text)
    sentence = text[: end.end()] if end else text
    return min(sentence, text.split("\n", 1)[0], key=len).strip()


def _without_addresses(text: str) -> str:
    text = _URL.sub(" ", _CODE.sub(" ", text))
    text = HANDLE.sub(" ", EMAIL.sub(" ", text))
    return PHONE.sub(lambda m: " " if sum(c.isdigit() for c in m.group(0)) >= 7 else m[0], text)


@functools.cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


@functools.lru_cache(maxsize=4096)
def _syllables(word: str) -> int:
    positions: list[int] = _dictionary().positions(re.sub(r"['’]", "", word.lower()))
    return len(positions) + 1


def _is_json_dump(text: str) -> bool:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        return isinstance(json.loads(stripped), dict | list)
    except ValueError:
        return False


def _excerpt(text: str, match: re.Match[str]) -> str:
    """The line holding `match`, clipped around it to at most 80 characters."""
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : line_end if line_end != -1 else len(text)]
    if len(line.strip()) <= _EXCERPT:
        return line.strip()
    column = match.start() - line_start
    offset = 0 if column + len(match[0]) < _EXCERPT else column - 20
    return _clip(("…" if offset else "") + line[offset:].strip())


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"
