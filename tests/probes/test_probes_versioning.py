"""Item 5 probes as pure functions of constructed observations, and parse_version."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from probes_support import (
    ProbeCase,
    assert_finding,
    assert_pass_and_fail_cases,
    probe_params,
    sha,
)

from readiness.client import Reply
from readiness.probes import versioning as v
from readiness.probes.versioning import AuditVersion, GitState, VersionInfo, VersioningObservations
from readiness.results import Finding, Outcome

PROMPT = sha("You route leads.")
RULES = sha("rules v1")
FILES = {"prompts/route.txt": PROMPT, "rules/main.yaml": RULES}
PASS, FAIL, ERROR, NA = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.NOT_APPLICABLE


def reply(status: int | None = 200, body: Any = None, error: str | None = None) -> Reply:
    """A /version reply; dicts and lists are sent as JSON, bytes as they are."""
    if body is None or isinstance(body, bytes):
        return Reply("GET", "/version", status, body or b"", error=error)
    return Reply("GET", "/version", status, json.dumps(body).encode(), error=error)


def reported(version: str = "1.4.0", components: dict[str, str] | None = None) -> VersionInfo:
    """A well-formed /version answer, parsed."""
    comps = dict(FILES) if components is None else components
    return v.parse_version(reply(body={"version": version, "components": comps}))


GOOD = VersioningObservations(
    reported=reported(), patterns=("prompts/**", "rules/**"), expected=dict(FILES),
    empty_patterns=(), git=GitState("/repo"), audit=AuditVersion("d-1", "1.4.0"), previous=None)
EMPTY = VersioningObservations(
    reported=v.parse_version(reply(body={})), patterns=(), expected={}, empty_patterns=(),
    git=GitState(None, problem="/x is not inside a git repository"),
    audit=AuditVersion(problem="the invocation failed: HTTP 404 None"), previous=None)
UNREACHABLE = v.parse_version(reply(None, error="ConnectError: refused"))


def obs(**changes: Any) -> VersioningObservations:
    """GOOD with some fields replaced."""
    return dataclasses.replace(GOOD, **changes)


def previous(version: str, components: dict[str, str] | None) -> dict[str, Any]:
    """A previous scorecard's agent block."""
    return {"agent": {"version": version, "components": components}}


# --- parse_version -------------------------------------------------------------------------


def test_parse_good_version() -> None:
    info = reported()
    assert (info.version, dict(info.components), info.problem, info.unreachable) == (
        "1.4.0", FILES, None, False)
    assert info.reply["request"] == "GET /version"
    assert info.reply["status"] == 200


@pytest.mark.parametrize(("answer", "problem"), [
    (reply(500, {"error": "boom"}), "answered HTTP 500"),
    (reply(404, b"Not Found"), "answered HTTP 404"),
    (reply(body=b"<html>1.4.0</html>"), "the body is not a JSON object"),
    (reply(body=["1.4.0"]), "the body is not a JSON object"),
    (reply(body=b""), "the body is not a JSON object"),
    (reply(body={"components": FILES}), "no non-empty string field 'version'"),
    (reply(body={"version": " ", "components": FILES}), "no non-empty string field 'version'"),
    (reply(body={"version": 14, "components": FILES}), "no non-empty string field 'version'"),
    (reply(body={"version": "1.4.0"}), "no 'components' with content hashes"),
    (reply(body={"version": "1.4.0", "components": {}}), "no 'components' with content hashes"),
    (reply(body={"version": "1.4.0", "components": ["a"]}), "no 'components' with content"),
    (reply(body={"version": "1.4.0", "components": {"a": "md5:abc"}}),
     "components not in the form 'sha256:<64 hex>': ['a']"),
    (reply(body={"version": "1.4.0", "components": {"b": PROMPT.upper(), "a": PROMPT[:-1]}}),
     "components not in the form 'sha256:<64 hex>': ['a', 'b']"),
    (reply(body={"version": "1.4.0", "components": {"a": PROMPT, "b": 7}}), "['b']"),
    (reply(body={"version": "1.4.0", "components": {"a": PROMPT + "\n"}}), "['a']"),
])
def test_parse_bad_version(answer: Reply, problem: str) -> None:
    info = v.parse_version(answer)
    assert problem in (info.problem or "")
    assert (dict(info.components), info.unreachable) == ({}, False)


def test_parse_keeps_the_version_when_components_are_bad() -> None:
    info = v.parse_version(reply(body={"version": "2.0", "components": {"a": "x"}}))
    assert info.version == "2.0"


@pytest.mark.parametrize("answer", [
    reply(None, error="ConnectError: refused"),
    reply(200, b'{"version": "1.4', error="response body exceeded 1048576 bytes"),
])
def test_parse_no_usable_answer_is_unreachable(answer: Reply) -> None:
    info = v.parse_version(answer)
    assert (info.unreachable, info.version) == (True, None)
    assert (info.problem or "").endswith(f"answer: {answer.error}")
    assert info.reply["error"] == answer.error


# --- probes --------------------------------------------------------------------------------

Probe = Callable[[VersioningObservations], Finding]
CASES: list[ProbeCase] = [
    (v.reports_version, GOOD, PASS, "version 1.4.0 with 2 component hashes"),
    (v.reports_version, obs(reported=v.parse_version(reply(503))), FAIL,
     "GET /version answered HTTP 503"),
    (v.reports_version, obs(reported=UNREACHABLE), ERROR,
     "GET /version could not be assessed: no usable answer: ConnectError: refused"),
    (v.reports_version, EMPTY, FAIL, "no non-empty string field 'version'"),

    (v.component_hashes_match_files, GOOD, PASS, "all 2 component hashes equal sha256"),
    (v.component_hashes_match_files, obs(patterns=()), FAIL, "declares no prompt"),
    (v.component_hashes_match_files, obs(expected={}, empty_patterns=("prompts/**",)), FAIL,
     "matched no file: ['prompts/**']"),
    (v.component_hashes_match_files, obs(reported=UNREACHABLE), ERROR, "did not answer"),
    (v.component_hashes_match_files, obs(reported=v.parse_version(reply(500))), FAIL,
     "reports no component hashes"),
    (v.component_hashes_match_files,
     obs(reported=reported(components={**FILES, "rules/main.yaml": PROMPT})), FAIL, "1 differ"),
    (v.component_hashes_match_files, obs(reported=reported(components={"rules/main.yaml": RULES})),
     FAIL, "1 files not reported"),
    (v.component_hashes_match_files, obs(reported=reported(components={**FILES, "x.py": RULES})),
     FAIL, "1 reported components are not versioned files"),
    (v.component_hashes_match_files, EMPTY, FAIL, "declares no prompt"),

    (v.versioned_files_committed, GOOD, PASS, "all 2 versioned files are committed"),
    (v.versioned_files_committed, obs(git=GitState(None, problem="/a is not inside a git")),
     FAIL, "not under version control: /a is not inside a git"),
    (v.versioned_files_committed, obs(expected={}), FAIL, "no versioned files to check"),
    (v.versioned_files_committed,
     obs(git=GitState("/repo", ("prompts/new.txt",), ("prompts/route.txt", "rules/main.yaml"))),
     FAIL, "1 untracked and 2 modified versioned files"),
    (v.versioned_files_committed, EMPTY, FAIL, "not under version control"),

    (v.audit_records_name_version, GOOD, PASS, "audit record d-1 names version 1.4.0"),
    (v.audit_records_name_version, obs(audit=AuditVersion("d-1", "1.3.9")), FAIL,
     "names agent_version '1.3.9', the agent reports '1.4.0'"),
    (v.audit_records_name_version, obs(audit=AuditVersion("d-1", None)), FAIL,
     "names agent_version None"),
    (v.audit_records_name_version, obs(audit=AuditVersion("d-1", no_audit_endpoint=True)), NA,
     "no audit endpoint"),
    (v.audit_records_name_version, obs(audit=AuditVersion(problem="HTTP 500")), ERROR,
     "could not read an audit record: HTTP 500"),
    (v.audit_records_name_version, obs(reported=v.parse_version(reply(500))), ERROR,
     "reports no version"),
    (v.audit_records_name_version, EMPTY, ERROR, "could not read an audit record"),

    (v.version_bumped_on_change, GOOD, NA, "no previous scorecard"),
    (v.version_bumped_on_change, obs(previous=previous("1.4.0", dict(FILES))), PASS,
     "0 components changed"),
    (v.version_bumped_on_change, obs(previous=previous("1.3.0", {"prompts/route.txt": RULES})),
     PASS, "2 components changed since the previous scorecard; version 1.3.0 -> 1.4.0"),
    (v.version_bumped_on_change, obs(previous=previous("1.4.0", {"prompts/route.txt": RULES})),
     FAIL, "2 components changed since '1.4.0' was scored, but the version is the same"),
    (v.version_bumped_on_change, obs(previous=previous("1.4.0", ["x"])), NA, "no component"),
    (v.version_bumped_on_change,
     obs(previous=previous("1.4.0", dict(FILES)), reported=v.parse_version(reply(500))), NA,
     "no component hashes to compare"),
    (v.version_bumped_on_change, EMPTY, NA, "no previous scorecard"),
]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         probe_params(CASES))
def test_probe(probe: Probe, observations: VersioningObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert_pass_and_fail_cases(CASES)


@pytest.mark.parametrize("before", [previous("1.4.0", None), previous("1.4.0", {}),
                                    {"agent": None}])
def test_no_previous_hashes_is_not_applicable(before: dict[str, Any]) -> None:
    assert v.version_bumped_on_change(obs(previous=before)).outcome is NA


def test_mismatch_evidence_names_each_file() -> None:
    agent = {"prompts/route.txt": RULES, "extra.txt": PROMPT}
    finding = v.component_hashes_match_files(obs(reported=reported(components=agent)))
    assert dict(finding.evidence["mismatched"]) == {
        "prompts/route.txt": {"file": PROMPT, "agent": RULES}}
    assert (finding.evidence["missing"], finding.evidence["extra"]) == (
        ["rules/main.yaml"], ["extra.txt"])


def test_uncommitted_evidence_lists_the_files() -> None:
    git = GitState("/repo", ("prompts/new.txt",), ("rules/main.yaml",))
    finding = v.versioned_files_committed(obs(git=git))
    assert (finding.evidence["untracked"], finding.evidence["modified"]) == (
        ["prompts/new.txt"], ["rules/main.yaml"])
    assert finding.evidence["repository"] == "/repo"


def test_changed_evidence_is_sorted() -> None:
    finding = v.version_bumped_on_change(obs(previous=previous("1.0", {"z": PROMPT})))
    assert finding.evidence["changed"] == ["prompts/route.txt", "rules/main.yaml", "z"]
