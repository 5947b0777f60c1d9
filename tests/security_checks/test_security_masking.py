"""Masking: the shown part of a secret, widening partial matches, long lines."""

from __future__ import annotations

import pytest

import readiness.security_checks as security_checks
from readiness.security_checks._masking import mask_line, mask_token
from readiness.security_checks._placeholders import is_placeholder_secret

TOKEN = "gh" + "p_" + "Q" * 36


@pytest.mark.parametrize(("token", "masked"), [
    pytest.param("abcdefghijklmnop", "abcd" + "*" * 12, id="long-keeps-4"),
    pytest.param("abcdefgh", "ab******", id="short-keeps-a-quarter"),
    pytest.param("abc", "***", id="tiny-keeps-nothing"),
    pytest.param("", "", id="empty"),
])
def test_mask_token(token: str, masked: str) -> None:
    assert mask_token(token) == masked


@pytest.mark.parametrize(("line", "secrets", "masked"), [
    pytest.param('  K = "abcdefghijklmnop"', ["abcdefghijklmnop"],
                 'K = "abcd************"', id="stripped"),
    pytest.param(f'GH = "{TOKEN}"', ["ghp"], f'GH = "ghp_{"*" * 36}"',
                 id="partial-match-widened-to-token"),
    pytest.param('a = "abcdefghijklmnop" + "abcdefghijklmnop"', ["abcdefghijklmnop"],
                 'a = "abcd************" + "abcd************"', id="every-occurrence"),
    pytest.param('p = ("abcdefghijklmnop", "zyxwvutsrqponmlk")',
                 ["abcdefghijklmnop", "zyxwvutsrqponmlk"],
                 'p = ("abcd************", "zyxw************")', id="several-secrets"),
    pytest.param("nothing here", ["abcdefghijklmnop"], None, id="absent"),
])
def test_mask_line(line: str, secrets: list[str], masked: str | None) -> None:
    assert mask_line(line, secrets) == masked


def test_long_lines_are_cut_around_the_masked_secret() -> None:
    secret = "abcdefghijklmnop"
    line = "x" * 500 + f' = "{secret}" ' + "y" * 500
    masked = mask_line(line, [secret])
    assert masked is not None and len(masked) == 300
    assert masked.startswith("...") and masked.endswith("...")
    assert "abcd" + "*" * 12 in masked and secret not in masked


@pytest.mark.parametrize(("value", "placeholder"), [
    ("changeme", True), ("Change-Me", True), ("your_api_key_here", True),
    ("<token>", True), ("XXXXXXXX", True), ("REDACTED", True), ("AWS Access Key", True),
    ("h7Fq9" + "!xQ2vLm", False), ("correct horse battery staple", False),
])
def test_placeholder_filter(value: str, placeholder: bool) -> None:
    assert is_placeholder_secret(value) is placeholder


def test_public_names_are_exported() -> None:
    assert sorted(security_checks.__all__) == [
        "Acceptance", "Baseline", "CodeFinding", "ScanResult", "SecretFinding",
        "candidate_files", "find_secrets", "load_baseline", "scan"]
    for name in security_checks.__all__:
        assert getattr(security_checks, name) is not None
