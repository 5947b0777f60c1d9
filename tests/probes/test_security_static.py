"""Item 6 static probes as pure functions of constructed bandit and detect-secrets results."""

from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import ProbeCase, assert_finding, assert_pass_and_fail_cases

from readiness.probes.security import SecurityObservations
from readiness.probes.security_static import no_hardcoded_secrets, static_scan_clean
from readiness.results import Finding, Outcome, ProbeResult
from readiness.security_checks import CodeFinding, ScanResult, SecretFinding
from readiness.security_checks._masking import mask_line, mask_token

PASS, FAIL, ERROR = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
SARIF_KEYS = {"file", "line", "rule", "message"}

EVAL = CodeFinding(file="agent/router.py", line=5, test_id="B307", test_name="blacklist",
                   severity="MEDIUM", confidence="HIGH",
                   message="Use of possibly insecure function - consider using safer "
                           "ast.literal_eval.", code="return eval(reply)")
SHELL = CodeFinding(file="agent/tools.py", line=12, test_id="B602",
                    test_name="subprocess_popen_with_shell_equals_true", severity="HIGH",
                    confidence="HIGH", message="subprocess call with shell=True identified.",
                    code="subprocess.run(cmd, shell=True)")
REVIEWED = dataclasses.replace(SHELL, accepted="the command is a constant; reviewed 2026-01")
CLEAN_SCAN = ScanResult(findings=(), low=2, files_scanned=3, errors=())

# drawn at import so this repository never carries a key-shaped literal
_DRAW = random.Random(11)
KEY = "sk-" + "proj-" + "".join(_DRAW.choice(string.ascii_letters + string.digits)
                                for _ in range(40))
KEY_LINE = f'OPENAI_API_KEY = "{KEY}"'
LEAKED = SecretFinding(file="agent/settings.py", line=3, kind="OpenAI Token",
                       masked=mask_line(KEY_LINE, [KEY]) or "")
ONLY_VALUE = SecretFinding(file="prompts/system.md", line=9, kind="Secret Keyword",
                           masked=f"(value) {mask_token(KEY)}")
ACCEPTED = dataclasses.replace(LEAKED, file="tests/fixtures.py",
                               accepted="a revoked key kept as a test fixture")

NO_SOURCE = "[agent] source 'agent' does not exist"
GOOD = SecurityObservations(scan=CLEAN_SCAN, secrets=(), secrets_files=12)


def obs(**changes: Any) -> SecurityObservations:
    """GOOD with some observations replaced."""
    return dataclasses.replace(GOOD, **changes)


def scanned(*findings: CodeFinding, files: int = 3, errors: tuple[str, ...] = ()
            ) -> SecurityObservations:
    """GOOD whose bandit scan found `findings` in `files` files."""
    return obs(scan=ScanResult(findings, 2, files, errors))


CASES: list[tuple[str, ProbeCase]] = [
    ("clean", (static_scan_clean, GOOD, PASS, "bandit: no medium/high finding in 3 files")),
    ("eval", (static_scan_clean, scanned(EVAL), FAIL,
              "bandit: 1 medium/high finding(s), first at agent/router.py:5: B307 blacklist: Use "
              "of possibly insecure function - consider using safer ast.literal_eval. (severity "
              "MEDIUM, confidence HIGH)")),
    ("blocking-beside-accepted", (static_scan_clean, scanned(REVIEWED, EVAL), FAIL,
                                  "bandit: 1 medium/high finding(s), first at "
                                  "agent/router.py:5")),
    ("accepted-only", (static_scan_clean, scanned(REVIEWED), PASS,
                       "bandit: no medium/high finding in 3 files (1 accepted in the "
                       "baseline)")),
    ("scan-problem", (static_scan_clean, obs(scan=None, scan_problem="[agent] source is empty"),
                      ERROR, "the static scan did not run: [agent] source is empty")),
    ("problem-beats-result", (static_scan_clean, obs(scan_problem=NO_SOURCE), ERROR,
                              f"the static scan did not run: {NO_SOURCE}")),
    ("not-run", (static_scan_clean, obs(scan=None), ERROR, "the static scan did not run")),
    ("no-python-file", (static_scan_clean, scanned(files=0), ERROR,
                        "bandit found no Python file to scan in [agent] source")),

    ("no-secret", (no_hardcoded_secrets, GOOD, PASS, "no hard-coded secret in 12 files")),
    ("key-in-code", (no_hardcoded_secrets, obs(secrets=(LEAKED,)), FAIL,
                     f"1 hard-coded secret(s), first at agent/settings.py:3: OpenAI Token: "
                     f"{LEAKED.masked}")),
    ("two-secrets", (no_hardcoded_secrets, obs(secrets=(LEAKED, ONLY_VALUE, ACCEPTED)), FAIL,
                     "2 hard-coded secret(s), first at agent/settings.py:3")),
    ("accepted-only-secret", (no_hardcoded_secrets, obs(secrets=(ACCEPTED,)), PASS,
                              "no hard-coded secret in 12 files")),
    ("secrets-problem", (no_hardcoded_secrets, obs(secrets=None, secrets_problem=NO_SOURCE),
                         ERROR, f"the secret scan did not run: {NO_SOURCE}")),
    ("secrets-not-run", (no_hardcoded_secrets, obs(secrets=None), ERROR,
                         "the secret scan did not run")),
]

Probe = Callable[[SecurityObservations], Finding]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         [pytest.param(*case, id=f"{case[0].__name__}-{name}")
                          for name, case in CASES])
def test_probe(probe: Probe, observations: SecurityObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert_pass_and_fail_cases([case for _, case in CASES])


@pytest.mark.parametrize(("probe", "fragment"), [
    (static_scan_clean, "the static scan did not run"),
    (no_hardcoded_secrets, "the secret scan did not run"),
], ids=["static_scan_clean", "no_hardcoded_secrets"])
def test_empty_observations_are_an_error(probe: Probe, fragment: str) -> None:
    assert_finding(probe(SecurityObservations()), ERROR, fragment)


@pytest.mark.parametrize(("probe", "fragment"), [
    (static_scan_clean, "bandit: no medium/high finding in 3 files"),
    (no_hardcoded_secrets, "no hard-coded secret in 12 files"),
], ids=["static_scan_clean", "no_hardcoded_secrets"])
def test_the_static_checks_do_not_need_the_agent(probe: Probe, fragment: str) -> None:
    """The source is scanned before the agent is reached, so a down agent changes nothing."""
    assert_finding(probe(obs(unavailable="the agent is down: connection refused")), PASS,
                   fragment)


def test_blocking_findings_carry_the_sarif_fields() -> None:
    finding = static_scan_clean(scanned(EVAL, SHELL))
    assert [{k: f[k] for k in SARIF_KEYS} for f in finding.evidence["findings"]] == [
        {"file": "agent/router.py", "line": 5, "rule": "B307",
         "message": "B307 blacklist: Use of possibly insecure function - consider using safer "
                    "ast.literal_eval. (severity MEDIUM, confidence HIGH)"},
        {"file": "agent/tools.py", "line": 12, "rule": "B602",
         "message": "B602 subprocess_popen_with_shell_equals_true: subprocess call with "
                    "shell=True identified. (severity HIGH, confidence HIGH)"}]
    assert [(f["code"], f["accepted"]) for f in finding.evidence["findings"]] == [
        ("return eval(reply)", None), ("subprocess.run(cmd, shell=True)", None)]


def test_accepted_findings_show_their_reason_and_do_not_block() -> None:
    finding = static_scan_clean(scanned(REVIEWED, EVAL))
    assert [(f["rule"], f["accepted"]) for f in finding.evidence["accepted"]] == [
        ("B602", "the command is a constant; reviewed 2026-01")]
    assert [f["rule"] for f in finding.evidence["findings"]] == ["B307"]


def test_scan_evidence_counts_low_findings_and_unparsed_files() -> None:
    finding = static_scan_clean(scanned(errors=("agent/broken.py: syntax error",)))
    assert {k: finding.evidence[k] for k in ("files_scanned", "low_findings_left_out",
                                             "scan_errors", "accepted")} == {
        "files_scanned": 3, "low_findings_left_out": 2,
        "scan_errors": ["agent/broken.py: syntax error"], "accepted": []}


def test_no_python_file_error_keeps_the_evidence() -> None:
    finding = static_scan_clean(scanned(files=0))
    assert finding.evidence["files_scanned"] == 0


def test_shown_findings_are_capped_but_all_counted() -> None:
    many = tuple(dataclasses.replace(EVAL, line=n) for n in range(1, 26))
    finding = static_scan_clean(scanned(*many))
    assert (finding.message.startswith("bandit: 25 medium/high"),
            len(finding.evidence["findings"])) == (True, 20)


def test_secret_findings_carry_the_sarif_fields() -> None:
    finding = no_hardcoded_secrets(obs(secrets=(LEAKED, ONLY_VALUE)))
    assert finding.evidence["findings"] == [
        {"file": "agent/settings.py", "line": 3, "rule": "OpenAI Token",
         "message": f"OpenAI Token: {LEAKED.masked}", "accepted": None},
        {"file": "prompts/system.md", "line": 9, "rule": "Secret Keyword",
         "message": f"Secret Keyword: {ONLY_VALUE.masked}", "accepted": None}]


def test_accepted_secrets_show_their_reason() -> None:
    finding = no_hardcoded_secrets(obs(secrets=(ACCEPTED,)))
    assert [(f["file"], f["accepted"]) for f in finding.evidence["accepted"]] == [
        ("tests/fixtures.py", "a revoked key kept as a test fixture")]
    assert finding.evidence["files_scanned"] == 12


@pytest.mark.parametrize("secrets", [(LEAKED,), (ONLY_VALUE,), (LEAKED, ONLY_VALUE, ACCEPTED)],
                         ids=["masked-line", "masked-value", "with-accepted"])
def test_the_secret_is_never_shown_unmasked(secrets: tuple[SecretFinding, ...]) -> None:
    finding = no_hardcoded_secrets(obs(secrets=secrets))
    shown = ProbeResult("no_hardcoded_secrets", "security", "t", finding.outcome,
                        finding.message, finding.evidence, "").to_json()
    assert (KEY in repr(shown), KEY[:4] in finding.message) == (False, True)


def test_masking_fixture_hides_the_key() -> None:
    """The constructed findings are realistic: their lines keep only the key's first characters."""
    assert (KEY in LEAKED.masked, LEAKED.masked.startswith('OPENAI_API_KEY = "sk-p*')) == (
        False, True)
