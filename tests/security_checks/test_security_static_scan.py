"""bandit over declared source: what is found, what is left out, and where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from security_support import WriteTree

from readiness.security_checks import Baseline, CodeFinding, ScanResult, scan
from readiness.security_checks.baseline import Acceptance

REPO = Path(__file__).resolve().parents[2]

EVAL = "def route(model_output):\n    return eval(model_output)\n"
SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
YAML = "import yaml\n\n\ndef rules(text):\n    return yaml.load(text)\n"
CLEAN = "import json\n\n\ndef parse(text):\n    return json.loads(text)\n"


@pytest.mark.parametrize(("code", "test_id", "line", "severity", "flagged"), [
    pytest.param(EVAL, "B307", 2, "MEDIUM", "return eval(model_output)", id="eval"),
    pytest.param(SHELL, "B602", 5, "HIGH", "subprocess.call(cmd, shell=True)", id="shell"),
    pytest.param(YAML, "B506", 5, "MEDIUM", "yaml.load(text)", id="yaml-load"),
])
def test_dangerous_calls_are_found_with_file_and_line(
        tree: WriteTree, code: str, test_id: str, line: int, severity: str,
        flagged: str) -> None:
    root = tree({"agent/__init__.py": "", "agent/core.py": code})
    result = scan(root, ["agent"])
    [finding] = [f for f in result.findings if f.test_id == test_id]
    assert (finding.file, finding.line, finding.severity) == ("agent/core.py", line, severity)
    assert flagged in finding.code
    assert finding.message and finding.test_name and finding.accepted is None
    assert result.blocking == result.findings
    assert result.files_scanned == 2 and result.errors == ()


def test_clean_module_has_no_findings(tree: WriteTree) -> None:
    root = tree({"agent/core.py": CLEAN})
    assert scan(root, ["agent"]) == ScanResult(findings=(), low=0, files_scanned=1, errors=())


def test_empty_sources_scan_nothing(tree: WriteTree) -> None:
    assert scan(tree({}), []) == ScanResult((), 0, 0, ())


def test_low_findings_are_left_out_but_counted(tree: WriteTree) -> None:
    # assert (B101) and importing subprocess (B404) are LOW severity: counted, not listed.
    root = tree({"agent/core.py": "import subprocess\n\n\ndef check(x):\n    assert x\n"})
    result = scan(root, ["agent"])
    assert result.findings == () and result.low == 2


def test_multiline_call_reports_every_flagged_line(tree: WriteTree) -> None:
    code = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(\n" \
           "        cmd,\n        shell=True,\n    )\n"
    [finding] = scan(tree({"agent/core.py": code}), ["agent"]).findings
    assert finding.code == "return subprocess.call(\ncmd,\nshell=True,\n)"


def test_long_code_is_trimmed_to_300_characters(tree: WriteTree) -> None:
    code = f"def run(x):\n    return eval(x + {'1 + ' * 120}1)\n"
    [finding] = scan(tree({"agent/core.py": code}), ["agent"]).findings
    assert len(finding.code) == 300 and finding.code.endswith("...")


def test_nosec_is_honoured_and_counted(tree: WriteTree) -> None:
    code = "def route(out):\n    return eval(out)  # nosec B307\n"
    result = scan(tree({"agent/core.py": code}), ["agent"])
    assert result.findings == () and result.suppressed == 1


def test_unparseable_file_is_an_error_not_a_crash(tree: WriteTree) -> None:
    root = tree({"agent/bad.py": "def broken(:\n", "agent/core.py": EVAL})
    result = scan(root, ["agent"])
    assert result.errors == ("agent/bad.py: syntax error while parsing AST from file",)
    assert result.files_scanned == 1 and len(result.findings) == 1


def test_missing_source_path_names_it(tree: WriteTree) -> None:
    root = tree({"agent/core.py": CLEAN})
    with pytest.raises(ValueError, match=r"agent\.source names 'lead_router', but .* does "
                                         r"not exist"):
        scan(root, ["agent", "lead_router"])


def test_walk_skips_environments_and_caches_but_not_declared_tests(tree: WriteTree) -> None:
    root = tree({
        "agent/core.py": CLEAN,
        "agent/tests/test_core.py": EVAL,
        "agent/.venv/lib/bad.py": EVAL,
        "agent/env/pyvenv.cfg": "home = /usr\n",
        "agent/env/lib/bad.py": EVAL,
        "agent/vendor/site-packages/bad.py": EVAL,
        "agent/__pycache__/bad.py": EVAL,
        "agent/notes.txt": "eval(x)\n",
    })
    result = scan(root, ["agent"])
    assert [(f.file, f.test_id) for f in result.findings] == [
        ("agent/tests/test_core.py", "B307")]
    assert result.files_scanned == 2


def test_a_named_file_is_scanned_whatever_its_suffix(tree: WriteTree) -> None:
    root = tree({"bin/route": EVAL, "agent/core.py": CLEAN})
    result = scan(root, ["bin/route", "agent/core.py", "agent/core.py"])
    assert [(f.file, f.line) for f in result.findings] == [("bin/route", 2)]
    assert result.files_scanned == 2


def _baseline(*entries: Acceptance) -> Baseline:
    return Baseline(None, entries)


@pytest.mark.parametrize(("entry", "accepted"), [
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307", line=2), True,
                 id="by-line"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307",
                            code="eval(model_output)"), True, id="by-code"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307",
                            code="return   eval(model_output)"), True,
                 id="by-code-whitespace-insensitive"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307"), True,
                 id="whole-file"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307", line=3), False,
                 id="other-line"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B307", code="eval(x)"),
                 False, id="other-code"),
    pytest.param(Acceptance("agent/other.py", "reviewed", test_id="B307"), False,
                 id="other-file"),
    pytest.param(Acceptance("agent/core.py", "reviewed", test_id="B602"), False,
                 id="other-test"),
    pytest.param(Acceptance("agent/core.py", "reviewed", secret_type="Secret Keyword"), False,
                 id="secret-entry"),
])
def test_baseline_marks_accepted_findings(tree: WriteTree, entry: Acceptance,
                                          accepted: bool) -> None:
    result = scan(tree({"agent/core.py": EVAL}), ["agent"], _baseline(entry))
    [finding] = result.findings
    assert finding.accepted == ("reviewed" if accepted else None)
    assert result.blocking == (() if accepted else (finding,))


def test_blocking_keeps_only_unaccepted_findings() -> None:
    a = CodeFinding("a.py", 1, "B307", "blacklist", "MEDIUM", "HIGH", "m", "eval(x)")
    b = CodeFinding("b.py", 1, "B307", "blacklist", "MEDIUM", "HIGH", "m", "eval(x)", "ok")
    assert ScanResult((a, b), 0, 2, ()).blocking == (a,)


@pytest.mark.parametrize("logging_setup", [
    pytest.param("", id="logging-unconfigured"),
    pytest.param("import logging; logging.basicConfig(level=logging.ERROR)\n",
                 id="errors-logged"),
])
def test_a_scan_is_quiet_under_warnings_as_errors(tmp_path: Path, logging_setup: str) -> None:
    """No warning from bandit's import (stevedore's deprecation), no rerouted warnings
    (detect-secrets' captureWarnings), no bandit diagnostic printed to the terminal, no
    error logged for bandit's SARIF formatter (its optional dependency is absent)."""
    # "# nosec comments" makes bandit log a warning about an unknown test named "comments".
    (tmp_path / "core.py").write_text(EVAL + "X = 1  # nosec comments\n", encoding="utf-8")
    program = (
        logging_setup + "import sys, warnings\nfrom pathlib import Path\n"
        "before = warnings.showwarning\n"
        "from readiness.security_checks import scan, find_secrets\n"
        "assert len(scan(Path(sys.argv[1]), ['core.py']).findings) == 1\n"
        "assert find_secrets(Path(sys.argv[1]), [Path(sys.argv[1], 'core.py')]) == ()\n"
        "assert warnings.showwarning is before, 'warnings were rerouted'\n")
    done = subprocess.run([sys.executable, "-W", "error", "-c", program, str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_our_own_security_checks_pass_their_scan() -> None:
    result = scan(REPO, ["readiness/security_checks"])
    assert result.findings == () and result.errors == ()
