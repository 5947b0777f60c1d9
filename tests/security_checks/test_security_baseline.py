"""The baseline file: accepted findings with reasons, and errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.config import ConfigError
from readiness.security_checks import Acceptance, Baseline, load_baseline

GOOD = '''
[[accept]]
test_id = "B608"
file = "lead_router/store.py"
line = 120
reason = "parameterised; the table name is a constant"

[[accept]]
test_id = "B307"
file = "./lead_router/eval_rules.py"
code = "eval(rule, {})"
reason = "rules are compiled from our own reviewed file"

[[accept]]
secret_type = "AWS Access Key"
file = "tests/fixtures.py"
reason = "  AWS's documented example key  "
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "readiness-baseline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_entries_are_read_and_normalised(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_baseline(path) == Baseline(path, (
        Acceptance("lead_router/store.py", "parameterised; the table name is a constant",
                   test_id="B608", line=120),
        Acceptance("lead_router/eval_rules.py",
                   "rules are compiled from our own reviewed file", test_id="B307",
                   code="eval(rule, {})"),
        Acceptance("tests/fixtures.py", "AWS's documented example key",
                   secret_type="AWS Access Key"),
    ))


def test_an_empty_file_accepts_nothing(tmp_path: Path) -> None:
    baseline = load_baseline(write(tmp_path, ""))
    assert baseline.entries == ()
    assert baseline.reason_for_code("a.py", "B307", 1, "eval(x)") is None


def test_reasons_are_looked_up_per_finding(tmp_path: Path) -> None:
    baseline = load_baseline(write(tmp_path, GOOD))
    assert baseline.reason_for_code("lead_router/store.py", "B608", 120, "q") == \
        "parameterised; the table name is a constant"
    assert baseline.reason_for_code("lead_router/store.py", "B608", 121, "q") is None
    assert baseline.reason_for_code("lead_router/eval_rules.py", "B307", 9,
                                    "return eval(rule,  {})") is not None
    assert baseline.reason_for_secret("tests/fixtures.py", "AWS Access Key", 3) == \
        "AWS's documented example key"
    assert baseline.reason_for_secret("tests/fixtures.py", "GitHub Token", 3) is None


ENTRY = '[[accept]]\ntest_id = "B307"\nfile = "a.py"\nreason = "ok"\n'


@pytest.mark.parametrize(("text", "where", "says"), [
    pytest.param(ENTRY + '[[accept]]\ntest_id = "B307"\nfile = "a.py"\n',
                 "[[accept]] #2 reason", "found it missing", id="missing-reason"),
    pytest.param('[[accept]]\ntest_id = "B307"\nfile = "a.py"\nreason = "  "\n',
                 "[[accept]] #1 reason", "a non-empty string saying why", id="empty-reason"),
    pytest.param('[[accept]]\ntest_id = "B307"\nfile = "a.py"\nreason = 3\n',
                 "[[accept]] #1 reason", "3 (an integer)", id="reason-not-string"),
    pytest.param('[[accept]]\ntest_id = "B307"\nfile = "a.py"\nreasn = "ok"\n',
                 "[[accept]] #1 reasn", "the unknown key 'reasn'. Fix: rename it to 'reason'",
                 id="unknown-key"),
    pytest.param('[[accept]]\nfile = "a.py"\nreason = "ok"\n',
                 "[[accept]] #1", "exactly one of test_id", id="neither-kind"),
    pytest.param('[[accept]]\ntest_id = "B307"\nsecret_type = "JSON Web Token"\n'
                 'file = "a.py"\nreason = "ok"\n', "[[accept]] #1", "found both",
                 id="both-kinds"),
    pytest.param('[[accept]]\ntest_id = "B307"\nreason = "ok"\n',
                 "[[accept]] #1 file", "found it missing", id="missing-file"),
    pytest.param('[[accept]]\ntest_id = "eval"\nfile = "a.py"\nreason = "ok"\n',
                 "[[accept]] #1 test_id", 'a bandit test id such as "B608"', id="bad-test-id"),
    pytest.param(ENTRY.replace('reason', 'line = 0\nreason'), "[[accept]] #1 line",
                 "a line number", id="line-zero"),
    pytest.param(ENTRY.replace('reason', 'line = "12"\nreason'), "[[accept]] #1 line",
                 "'12' (a string)", id="line-string"),
    pytest.param(ENTRY.replace('reason', 'line = 3\ncode = "eval(x)"\nreason'),
                 "[[accept]] #1 code", "either line or code, not both", id="line-and-code"),
    # A misspelt type name, not a secret:
    # pragma: allowlist nextline secret
    pytest.param('[[accept]]\nsecret_type = "AWS Key"\nfile = "a.py"\nreason = "ok"\n',
                 "[[accept]] #1 secret_type", "Fix: write 'AWS Access Key'",
                 id="unknown-secret-type"),
    pytest.param('[[accept]]\nsecret_type = "AWS Access Key"\nfile = "a.py"\ncode = "AKIA"\n'
                 'reason = "ok"\n', "[[accept]] #1 code", "must not repeat the secret",
                 id="code-on-secret"),
    pytest.param('[ignore]\ntest_id = "B307"\n', "ignore", "only [[accept]] entries",
                 id="unknown-table"),
    pytest.param('accept = "B307"\n', "accept", "an array of [[accept]] tables",
                 id="accept-not-tables"),
    pytest.param('[[accept]\n', "", "valid TOML", id="bad-toml"),
])
def test_mistakes_name_file_entry_key_and_fix(tmp_path: Path, text: str, where: str,
                                              says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_baseline(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}" if where else f"{path}:")
    assert says in message and "Fix: " in message


def test_a_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file\. Fix: create it, or correct the "
                                          r"\[security\] baseline path"):
        load_baseline(tmp_path / "absent.toml")
