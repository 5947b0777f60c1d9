"""`[upstreams.NAME] scrub`: extra scrubbing rules, validated with a one-paragraph error."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import ConfigError, load_config

HEAD = '[agent]\nname = "t"\napp = "pkg.app:app"\n[upstreams.llm]\nkind = "llm"\n' \
       'target = "cassette:llm.yaml"\nenv = "LLM_BASE_URL"\n'
EXPECTED = ('expected scrub rules such as "header:X-Secret", "query:sig", "json:customer.email", '
            '"json:$.customer.email" or "regex:PATTERN"')
FIX = '. Fix: write scrub = ["header:X-Secret", "json:customer.email"]'


def test_scrub_rules_are_read_into_the_upstream(tmp_path: Path) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text(HEAD + 'scrub = ["header:X-Tenant", "json:$.customer.email", '
                    '''"regex:ACME-\\\\d+"]\n''')
    upstream = load_config(path).upstreams["llm"]
    assert upstream.scrub == ("header:X-Tenant", "json:$.customer.email", r"regex:ACME-\d+")
    assert upstream.target == "cassette:llm.yaml"


@pytest.mark.parametrize(("value", "found"), [
    ('["cookie:session"]', "'cookie:session' (unknown rule kind 'cookie': rules start with "
                           "header:, query:, json:, regex:)"),
    ('["regex:(a"]', "'regex:(a' (invalid regular expression (missing ), unterminated subpattern"
                     " at position 0))"),
    ('["json:"]', "'json:' (nothing after json:)"),
])
def test_a_bad_rule_is_one_paragraph_naming_file_key_rule_and_fix(
        tmp_path: Path, value: str, found: str) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text(HEAD + f"scrub = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: [upstreams.llm] scrub: {EXPECTED}, found {found}{FIX}"


def test_scrub_must_be_strings(tmp_path: Path) -> None:
    path = tmp_path / "readiness.toml"
    path.write_text(HEAD + "scrub = [1]\n")
    with pytest.raises(ConfigError, match=r"\[upstreams.llm\] scrub: expected an array of "
                                          r"strings, found \[1\] \(an array\)"):
        load_config(path)
