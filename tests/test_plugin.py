"""The pytest plugin, through pytester: items per probe, -k, junitxml, gate, usage errors."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

GOOD_CONFIG = """
[agent]
name = "tiny"
app = "tiny_agent:app"
[auth]
invoke_token = "invoke"
operator_token = "operator"
[version]
files = ["prompts/**"]
{gate}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A folder with a readiness.toml for the tiny agent and one committed prompt."""
    prompts = pytester.path / "prompts"
    prompts.mkdir()
    (prompts / "route.md").write_text("Route the lead.\n")
    monkeypatch.setenv("TINY_COMPONENT_DIR", str(prompts))
    monkeypatch.setenv("TINY_COMPONENT_BASE", str(pytester.path))
    pytester.makepyfile(test_ordinary='def test_ordinary():\n    assert "a".upper() == "A"\n')
    return pytester


def _commit(path: Path) -> None:
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@t.io"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "add", "prompts"], check=True)
    subprocess.run([*git, "commit", "-qm", "prompts"], check=True)


def test_each_probe_is_an_item_and_the_gate_fails_the_session(project: pytest.Pytester) -> None:
    project.makefile(".toml", readiness=GOOD_CONFIG.format(gate=""))
    result = project.runpytest("--readiness", "-rs", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*agent readiness*", "NOT READY: release gate failed*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 4  # the ordinary test plus passing probes
    assert (project.path / "readiness-report" / "scorecard.json").exists()
    result.stdout.fnmatch_lines(["*load*agent on a socket*"])  # in-process: no campaign


def test_k_selects_probes_and_junitxml_lists_them(project: pytest.Pytester) -> None:
    project.makefile(".toml", readiness=GOOD_CONFIG.format(gate=""))
    result = project.runpytest("--readiness", "-k", "reports_version or component_hashes",
                               "--junitxml=junit.xml", "--readiness-out", "out")
    result.assert_outcomes(passed=2, deselected=result.parseoutcomes()["deselected"])
    cases = {(case.get("classname"), case.get("name"))
             for case in ET.parse(project.path / "junit.xml").iter("testcase")}
    assert cases == {("readiness.versioning", "reports_version"),
                     ("readiness.versioning", "component_hashes_match_files")}
    card = json.loads((project.path / "out" / "scorecard.json").read_text())
    ran = [p["id"] for i in card["items"] for p in i["probes"]]
    assert sorted(ran) == ["component_hashes_match_files", "reports_version"]


def test_gate_pass_lets_the_session_pass(project: pytest.Pytester) -> None:
    project.makefile(".toml", readiness=GOOD_CONFIG.format(
        gate='[gate]\nrequired = ["versioning"]'))
    _commit(project.path)
    result = project.runpytest("--readiness", "-k", "versioning or ordinary")
    result.assert_outcomes(passed=5, skipped=1,
                           deselected=result.parseoutcomes()["deselected"])
    assert result.ret == pytest.ExitCode.OK


def test_failing_probe_shows_message_fix_and_evidence(project: pytest.Pytester,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_AUDIT_VERSION", "0.0.1")
    project.makefile(".toml", readiness=GOOD_CONFIG.format(gate=""))
    result = project.runpytest("--readiness", "-k", "audit_records_name_version")
    result.assert_outcomes(failed=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["*FAIL: audit record * names agent_version '0.0.1'*",
                                 "fix: Write the version*", "evidence: {*"])


def test_a_waived_failure_is_an_xfail_naming_the_waiver(project: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_AUDIT_VERSION", "0.0.1")
    project.makefile(".toml", readiness=GOOD_CONFIG.format(gate='[gate]\nwaivers = "w.toml"'))
    project.makefile(".toml", w='[[waiver]]\nprobe = "audit_records_name_version"\n'
                                'reason = "version field lands in 2.1"\nowner = "Priya Raman"\n'
                                'expires = 2999-01-31\n')
    result = project.runpytest("--readiness", "-rx", "-k", "audit_records_name_version")
    result.assert_outcomes(xfailed=1, deselected=result.parseoutcomes()["deselected"])
    result.stdout.fnmatch_lines(["XFAIL *audit_records_name_version*waived until 2999-01-31 by "
                                 "Priya Raman: version field lands in 2.1*"])


def test_bad_config_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makefile(".toml", readiness='[agent]\nname = "x"\nurl = "http://127.0.0.1:1"\n'
                                       'deadline_s = "soon"\n')
    result = project.runpytest("--readiness")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*readiness.toml: [[]agent[]] deadline_s: expected a number*"])


def test_without_the_option_nothing_changes(project: pytest.Pytester) -> None:
    result = project.runpytest()
    result.assert_outcomes(passed=1)
    assert not (project.path / "readiness-report").exists()
