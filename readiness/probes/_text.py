"""Reading operator documents: placeholders, contact methods, headings, links."""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = re.compile(
    r"\b(?:TBD|TBA|TODO|FIXME|XXX+|lorem ipsum|John Doe|Jane Doe|John Smith|Your Name|"
    r"changeme|placeholder)\b|<[a-z _-]*(?:name|email|phone|fill[a-z ]*)>|\[(?:name|email|phone)\]"
    r"|@example\.(?:com|org|net)\b|\bexample\.(?:com|org|net)\b|\b555[-. ]?\d{4}\b"
    r"|\(555\)|\+1[-. ]?\d{3}[-. ]?555[-. ]?\d{4}",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PHONE = re.compile(r"(?<![\w/])(?:\+|\()?\d[\d\s().-]{6,}\d\b")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z][\w.-]{1,38}\b")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def placeholders(text: str) -> list[str]:
    """Distinct placeholder markers found in `text`, in order of appearance."""
    seen: list[str] = []
    for match in PLACEHOLDERS.finditer(text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return seen


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str


def contacts(text: str) -> list[Contact]:
    """Email addresses, phone numbers and chat handles in `text` (emails not as handles)."""
    found = [Contact("email", m.group(0)) for m in EMAIL.finditer(text)]
    digits = [m.group(0).strip() for m in PHONE.finditer(text)]
    found += [Contact("phone", d) for d in digits if _is_phone(d)]
    found += [Contact("chat", m.group(0)) for m in HANDLE.finditer(text)]
    return found


def is_working_contact(value: str) -> bool:
    """An email, phone number or chat handle that is not a placeholder."""
    value = value.strip()
    if not value or placeholders(value):
        return False
    return bool(EMAIL.fullmatch(value) or HANDLE.fullmatch(value)
                or (PHONE.fullmatch(value) and _is_phone(value)))


def _is_phone(candidate: str) -> bool:
    """Seven or more digits that are not a date."""
    return sum(c.isdigit() for c in candidate) >= 7 and not _DATE.fullmatch(candidate.strip())


def headings(markdown: str) -> list[str]:
    """Markdown ATX heading texts (not `# comments` inside fenced code blocks)."""
    return [match.group(2) for match in _HEADING.finditer(_FENCE.sub("", markdown))]


def relative_links(markdown: str) -> list[str]:
    """Link targets that point into the repository (no scheme, not a pure anchor)."""
    targets = []
    for match in _LINK.finditer(markdown):
        target = match.group(1).strip("<>")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        targets.append(target)
    return targets


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def codeowners_pattern(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS (gitignore-style) pattern as a regex over repository-relative paths."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    # a pattern naming a directory owns everything below it; `dir/*` only its direct files
    below = "" if body.endswith("/*") else "(?:/.*)?"
    return re.compile(prefix + out + below + "$")
