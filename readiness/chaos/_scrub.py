"""Scrub secrets and personal data out of recorded traffic, by rule, before it is saved.

Rules (`[upstreams.NAME] scrub` adds to the defaults; `parse_rule` validates one):

- `header:NAME`: the header's value (request and response) becomes `<scrubbed>`;
- `query:NAME`: the query parameter's value becomes `<scrubbed>`;
- `json:KEY` (the key at any depth, case and `_`/`-` ignored) or `json:$.a.b` (that
  path from the root; `*` is any key, list items are stepped through): the value
  becomes `<scrubbed>`;
- `regex:PATTERN`: every match in a body, a path or a query value becomes `<scrubbed>`.

The defaults cover credentials (Authorization, Cookie, API-key headers and query
parameters, password/secret/token/api_key JSON keys, bearer tokens and provider key
shapes anywhere) and personal data (e-mail and phone JSON keys, e-mail addresses and
phone numbers anywhere). `[data] pii` names become JSON key rules too, for plain values
only (an OpenAI answer's `message` is an object) and not inside LLM protocol objects
(tool and function declarations and calls), whose `name` is the tool's; and `learn()`
adds exact values (the personal fields of the inputs the
recorder sent), scrubbed wherever they appear, as vcrpy's `filter_sensitive_data` does.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCRUBBED = "<scrubbed>"
RULE_KINDS = ("header", "query", "json", "regex")

DEFAULT_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "openai-organization", "openai-project", "x-goog-api-key", "x-amz-security-token",
    "x-auth-token", "x-access-token", "x-csrf-token", "x-xsrf-token", "x-session-id",
})
_SECRET_HEADER_ENDINGS = ("-token", "-secret", "-api-key", "-apikey", "-password", "-signature",
                          "-credential")
DEFAULT_QUERY = frozenset({
    "api_key", "apikey", "api-key", "key", "token", "access_token", "id_token", "refresh_token",
    "auth", "sig", "signature", "password", "secret", "client_secret", "code", "session",
    "sessionid", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "x-goog-signature", "x-goog-credential",
})
# normalised: lower case, letters and digits only
DEFAULT_JSON_KEYS = frozenset({
    "password", "passwd", "pwd", "secret", "clientsecret", "token", "accesstoken",
    "refreshtoken", "idtoken", "sessiontoken", "authtoken", "apikey", "privatekey",
    "authorization", "cookie", "email", "emailaddress", "phone", "phonenumber", "mobile",
    "ssn", "creditcard", "cardnumber", "iban",
})
_EXTENSION = r"(?:\s*(?:x|ext\.?)\s*\d{1,6})?"
_SEVEN_DIGITS = r"(?=(?:[ .()-]*\d){7})"
DEFAULT_PATTERNS: Mapping[str, str] = {
    "e-mail address": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    # +CC and North American forms; local forms are caught as learned values or JSON keys
    "international phone number":
        rf"(?<![\w+])\+{_SEVEN_DIGITS}\d{{1,3}}(?:[ .-]?\(?\d{{1,5}}\)?){{2,5}}{_EXTENSION}(?!\w)",
    "phone number":
        rf"(?<![\w.])(?:\(\d{{3}}\) ?|\d{{3}}[.-])\d{{3}}[.-]\d{{4}}{_EXTENSION}(?!\w)",
    "bearer token": r"\bBearer\s+[A-Za-z0-9._~+/=-]{8,}",
    "OpenAI or Anthropic key": r"\bsk-[A-Za-z0-9_-]{16,}",
    "Stripe key": r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    "AWS access key id": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}",
    "JSON web token": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
}
# objects of LLM protocols whose "name" is a tool's, not a person's
_PROTOCOL_KEYS = frozenset({"function", "functions", "tools", "tool_calls", "tool_choice"})
_PROTOCOL_TYPES = frozenset({"function", "tool", "tool_use", "server_tool_use", "custom"})
_MIN_LITERAL = 3


def _normal_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def parse_rule(text: str) -> tuple[str, str]:
    """`"KIND:VALUE"` -> (kind, value); `ValueError` with a one-line reason when unusable."""
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in RULE_KINDS:
        raise ValueError(f"unknown rule kind {kind!r}: rules start with "
                         + ", ".join(f"{k}:" for k in RULE_KINDS))
    if not value.strip():
        raise ValueError(f"nothing after {kind}:")
    if kind == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression ({exc})") from None
    elif kind == "json" and value.startswith("$") and not re.fullmatch(r"\$(\.[^.\s]+)+", value):
        raise ValueError("a JSON path is $.key.key (dots between keys, * for any key)")
    return kind, value.strip() if kind != "regex" else value


class Scrubber:
    """Replaces what the rules find with `<scrubbed>`; counts what it replaced, by kind.

    Its `before_record_request` and `before_record_response` are vcrpy hooks (same
    signatures), so the same rules serve `vcr.VCR(before_record_request=...)` too.
    """

    def __init__(self, rules: Iterable[str] = (), *, pii: Iterable[str] = (),
                 literals: Iterable[str] = ()) -> None:
        self.headers = set(DEFAULT_HEADERS)
        self.query = set(DEFAULT_QUERY)
        self.json_keys = set(DEFAULT_JSON_KEYS)
        self.pii_keys = {_normal_key(name) for name in pii} - self.json_keys
        self.json_paths: list[tuple[str, ...]] = []
        patterns = list(DEFAULT_PATTERNS.values())
        for rule in rules:
            kind, value = parse_rule(rule)
            if kind == "header":
                self.headers.add(value.lower())
            elif kind == "query":
                self.query.add(value.lower())
            elif kind == "regex":
                patterns.append(value)
            elif value.startswith("$"):
                self.json_paths.append(tuple(value.split(".")[1:]))
            else:
                self.json_keys.add(_normal_key(value))
        self._patterns = re.compile("|".join(f"(?:{p})" for p in patterns))
        self._literals: set[str] = set()
        self._literal_pattern: re.Pattern[str] | None = None
        self.counts: Counter[str] = Counter()
        self.learn(literals)

    def learn(self, values: Iterable[str]) -> None:
        """Scrub these exact values wherever they appear from now on (and their JSON forms)."""
        fresh = set()
        for value in values:
            if len(value.strip()) < _MIN_LITERAL:
                continue
            escaped = json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]
            fresh.update({value, *escaped})
        if fresh - self._literals:
            self._literals |= fresh
            ordered = sorted(self._literals, key=len, reverse=True)  # longest first
            self._literal_pattern = re.compile(
                "|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in ordered))

    # --- pieces -------------------------------------------------------------------------

    def header_hit(self, name: str) -> bool:
        """Whether a header's value is scrubbed."""
        lowered = name.lower()
        return lowered in self.headers or lowered.endswith(_SECRET_HEADER_ENDINGS)

    def text(self, text: str) -> str:
        """Patterns and learned values replaced in free text."""
        scrubbed, found = self._patterns.subn(SCRUBBED, text)
        self.counts["pattern"] += found
        if self._literal_pattern is not None:
            scrubbed, found = self._literal_pattern.subn(SCRUBBED, scrubbed)
            self.counts["value"] += found
        return scrubbed

    def target(self, target: str) -> str:
        """A path and query: secret parameters, patterns and learned values scrubbed."""
        parts = urlsplit(target)
        path = self.text(parts.path)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            scrubbed = []
            for name, value in pairs:
                if name.lower() in self.query:
                    self.counts["query"] += 1
                    scrubbed.append((name, SCRUBBED))
                else:
                    scrubbed.append((name, self.text(value)))
            if scrubbed != pairs:
                query = urlencode(scrubbed)
        return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))

    def body(self, body: bytes, content_type: str | None = None) -> bytes:
        """A body with the rules applied: JSON walked, SSE per `data:` line, text searched."""
        if not body:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # binary: nothing a text rule could find
        kind = (content_type or "").lower()
        if "event-stream" in kind:
            lines = [self._sse_line(line) for line in text.split("\n")]
            return "\n".join(lines).encode()
        stripped = text.lstrip()
        if "json" in kind or stripped[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                before = sum(self.counts.values())
                scrubbed = self._walk(data, (), False)
                if sum(self.counts.values()) == before:
                    return body  # untouched: keep the bytes as they were
                return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")).encode()
        return self.text(text).encode()

    def _sse_line(self, line: str) -> str:
        if not line.startswith("data:"):
            return self.text(line)
        payload = line[5:].strip()
        if payload and payload[0] in "{[":
            return "data: " + self.body(payload.encode(), "application/json").decode()
        return self.text(line)

    def _walk(self, value: Any, path: tuple[str, ...], protocol: bool) -> Any:
        if isinstance(value, dict):
            inside = protocol or value.get("type") in _PROTOCOL_TYPES
            out = {}
            for key, item in value.items():
                here = (*path, key)
                if item not in (None, "") and self._key_hit(key, here, inside, item):
                    self.counts["json"] += 1
                    out[key] = SCRUBBED
                else:
                    out[key] = self._walk(item, here, inside or key in _PROTOCOL_KEYS)
            return out
        if isinstance(value, list):
            return [self._walk(item, path, protocol) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _key_hit(self, key: str, path: tuple[str, ...], protocol: bool, value: Any) -> bool:
        normal = _normal_key(key)
        if normal in self.json_keys:
            return True
        if normal in self.pii_keys:  # a person's data is a value, not an object ("message")
            return not protocol and not isinstance(value, dict | list)
        return any(len(rule) == len(path) and all(r in ("*", p) for r, p in zip(rule, path,
                                                                                  strict=True))
                   for rule in self.json_paths)

    # --- vcrpy hooks --------------------------------------------------------------------

    def before_record_request(self, request: Any) -> Any:
        """vcrpy's request hook: URI, headers and body of a `vcr.request.Request`, scrubbed."""
        parts = urlsplit(request.uri)
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        request.uri = origin + self.target(urlunsplit(("", "", parts.path, parts.query, "")))
        headers = dict(request.headers)
        for name in headers:
            if self.header_hit(name):
                headers[name] = SCRUBBED
                self.counts["header"] += 1
        request.headers = headers
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, bytes):
            request.body = self.body(body, _get(headers, "content-type"))
        return request

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's response hook: headers and body of a response dict, scrubbed."""
        headers: dict[str, list[str]] = response.get("headers") or {}
        for name, values in headers.items():
            if self.header_hit(name):
                headers[name] = [SCRUBBED for _ in values]
                self.counts["header"] += len(values)
        body = response.get("body") or {}
        data = body.get("string")
        if isinstance(data, str):
            data = data.encode()
        if isinstance(data, bytes):
            content_type = next((v[0] for k, v in headers.items()
                                 if k.lower() == "content-type" and v), None)
            body["string"] = self.body(data, content_type)
        return response


def _get(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
