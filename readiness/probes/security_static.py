"""Item 6, the static half: bandit over the agent's code, detect-secrets over its files.

Findings carry `file`, `line`, `rule` and `message` in their evidence (`findings`),
the shape the SARIF report turns into code-scanning alerts at the right line.
Findings accepted in the `[security] baseline` file are shown with their reason
and do not fail the probe.
"""

from __future__ import annotations

from typing import Any

from readiness.probes.security import ITEM, SecurityObservations
from readiness.registry import probe
from readiness.results import Finding, errored, failed, passed

_SHOWN = 20


def _code(finding: Any) -> dict[str, Any]:
    return {"file": finding.file, "line": finding.line, "rule": finding.test_id,
            "message": f"{finding.test_id} {finding.test_name}: {finding.message} "
                       f"(severity {finding.severity}, confidence {finding.confidence})",
            "code": finding.code, "accepted": finding.accepted}


def _secret(finding: Any) -> dict[str, Any]:
    return {"file": finding.file, "line": finding.line, "rule": finding.kind,
            "message": f"{finding.kind}: {finding.masked}", "accepted": finding.accepted}


@probe(ITEM, weight=2, title="bandit finds no medium or high issue in the agent's code",
       why="eval on model output, shell=True, unsafe YAML or pickle turn a prompt injection "
           "into code execution on the agent's host.",
       fix="Fix each finding (bandit's test id links to its explanation), or accept a reviewed "
           "one with its reason in the [security] baseline file.")
def static_scan_clean(obs: SecurityObservations) -> Finding:
    if obs.scan_problem:
        return errored(f"the static scan did not run: {obs.scan_problem}")
    scan = obs.scan
    if scan is None:
        return errored("the static scan did not run")
    accepted = [_code(f) for f in scan.findings if f.accepted]
    blocking = [_code(f) for f in scan.blocking]
    evidence: dict[str, Any] = {"files_scanned": scan.files_scanned,
                                "low_findings_left_out": scan.low, "accepted": accepted,
                                "scan_errors": list(scan.errors)}
    if blocking:
        first = blocking[0]
        return failed(f"bandit: {len(blocking)} medium/high finding(s), first at "
                      f"{first['file']}:{first['line']}: {first['message']}",
                      findings=blocking[:_SHOWN], **evidence)
    if scan.files_scanned == 0:
        return errored("bandit found no Python file to scan in [agent] source", **evidence)
    return passed(f"bandit: no medium/high finding in {scan.files_scanned} files"
                  + (f" ({len(accepted)} accepted in the baseline)" if accepted else ""),
                  **evidence)


@probe(ITEM, weight=3, title="No hard-coded secrets in code, prompts, tools, rules or config",
       why="A key committed once is in every clone, fork and backup forever; it must be "
           "rotated, not just deleted.",
       fix="Rotate the key, remove it from the file and its history, and read it from the "
           "environment or a secrets manager (${VAR} in readiness.toml).")
def no_hardcoded_secrets(obs: SecurityObservations) -> Finding:
    if obs.secrets_problem:
        return errored(f"the secret scan did not run: {obs.secrets_problem}")
    if obs.secrets is None:
        return errored("the secret scan did not run")
    accepted = [_secret(f) for f in obs.secrets if f.accepted]
    found = [_secret(f) for f in obs.secrets if not f.accepted]
    evidence: dict[str, Any] = {"files_scanned": obs.secrets_files, "accepted": accepted}
    if obs.secrets_files == 0:
        return errored("no file was found to scan for secrets", **evidence)
    if found:
        first = found[0]
        return failed(f"{len(found)} hard-coded secret(s), first at {first['file']}:"
                      f"{first['line']}: {first['message']}", findings=found[:_SHOWN], **evidence)
    return passed(f"no hard-coded secret in {obs.secrets_files} files", **evidence)
