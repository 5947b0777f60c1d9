"""Item 5, versioning: the running agent is exactly the committed prompts, tools and rules."""

from __future__ import annotations

import glob
import hashlib
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.client import Reply
from readiness.context import RunContext
from readiness.registry import observer, probe
from readiness.results import Finding, errored, failed, not_applicable, passed

ITEM = "versioning"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class VersionInfo:
    """What GET /version answered, parsed; `problem` says what was wrong with it."""

    reply: dict[str, Any]
    version: str | None = None
    components: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    unreachable: bool = False


@dataclass(frozen=True)
class GitState:
    """Whether the versioned files are committed."""

    repo: str | None
    untracked: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class AuditVersion:
    """The agent_version an audit record carried, or why none could be read."""

    decision_id: str | None = None
    agent_version: Any = None
    problem: str | None = None
    no_audit_endpoint: bool = False
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VersioningObservations:
    reported: VersionInfo
    patterns: tuple[str, ...]
    expected: Mapping[str, str]
    empty_patterns: tuple[str, ...]
    git: GitState
    audit: AuditVersion
    previous: Mapping[str, Any] | None


async def fetch_version(ctx: RunContext) -> VersionInfo:
    """GET the agent's version endpoint and check its shape."""
    reply = await ctx.client.call(ctx.config.agent.endpoints["version"], timeout_s=10)
    return parse_version(reply)


def parse_version(reply: Reply) -> VersionInfo:
    """Parse a /version reply: {"version": str, "components": {path: "sha256:<hex>"}}."""
    summary = reply.summary()
    if reply.error is not None:  # no answer, or one broken off (oversize, timeout)
        return VersionInfo(summary, problem=f"no usable answer: {reply.error}", unreachable=True)
    if not reply.ok:
        return VersionInfo(summary, problem=f"answered HTTP {reply.status}")
    data = reply.json()
    if not isinstance(data, dict):
        return VersionInfo(summary, problem="the body is not a JSON object")
    version = data.get("version")
    components = data.get("components")
    if not isinstance(version, str) or not version.strip():
        return VersionInfo(summary, problem="no non-empty string field 'version'")
    if not isinstance(components, dict) or not components:
        return VersionInfo(summary, version, problem="no 'components' with content hashes")
    bad = {k: v for k, v in components.items()
           if not isinstance(v, str) or not _DIGEST.fullmatch(v)}
    if bad:
        return VersionInfo(summary, version, problem="components not in the form "
                           f"'sha256:<64 hex>': {sorted(bad)[:5]}")
    return VersionInfo(summary, version, dict(components))


def versioned_files(root: Path, patterns: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """sha256 of every file the patterns match (paths relative to root), and empty patterns."""
    digests: dict[str, str] = {}
    empty = []
    for pattern in patterns:
        matched = [m for m in glob.glob(pattern, root_dir=root, recursive=True)
                   if (root / m).is_file() and "__pycache__" not in Path(m).parts]
        if not matched:
            empty.append(pattern)
        for relative in matched:
            key = Path(relative).as_posix()
            digests[key] = "sha256:" + hashlib.sha256((root / relative).read_bytes()).hexdigest()
    return dict(sorted(digests.items())), empty


def git_state(root: Path, files: list[str]) -> GitState:
    """Which of `files` git does not track, or tracks with uncommitted changes."""
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return GitState(None, problem=f"git could not run: {exc}")
    if top.returncode != 0:
        return GitState(None, problem=f"{root} is not inside a git repository")
    if not files:
        return GitState(top.stdout.strip())
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain=v1", "-z",
                             "--untracked-files=all", "--", *files],
                            capture_output=True, text=True, timeout=20)
    untracked: list[str] = []
    modified: list[str] = []
    prefix = _relative_prefix(root, Path(top.stdout.strip()))
    for entry in filter(None, status.stdout.split("\0")):
        code, path = entry[:2], entry[3:]
        path = path[len(prefix):] if path.startswith(prefix) else path
        (untracked if code == "??" else modified).append(path)
    return GitState(top.stdout.strip(), tuple(sorted(untracked)), tuple(sorted(modified)))


def _relative_prefix(root: Path, top: Path) -> str:
    relative = root.resolve().relative_to(top.resolve()).as_posix()
    return "" if relative == "." else relative + "/"


async def audit_version(ctx: RunContext) -> AuditVersion:
    """Invoke once and read the agent_version of the audit record it left."""
    reply = await ctx.invoke()
    if not reply.ok:
        return AuditVersion(problem=f"the invocation failed: HTTP {reply.status} {reply.error}",
                            evidence={"invoke": reply.summary()})
    answer = reply.json()
    decision_id = answer.get(ctx.field("decision_id")) if isinstance(answer, dict) else None
    if not isinstance(decision_id, str) or not decision_id:
        return AuditVersion(problem="the invoke answer has no decision_id",
                            evidence={"invoke": reply.summary()})
    record = await ctx.client.call(ctx.config.agent.endpoints["audit"], decision_id=decision_id,
                                   timeout_s=10)
    evidence = {"invoke": reply.summary(), "audit": record.summary(600)}
    if record.status in (404, 405) and not isinstance(record.json(), dict):
        return AuditVersion(decision_id, no_audit_endpoint=True, evidence=evidence)
    data = record.json()
    if not record.ok or not isinstance(data, dict):
        return AuditVersion(decision_id, problem=f"the audit record could not be read "
                            f"(HTTP {record.status})", evidence=evidence)
    return AuditVersion(decision_id, data.get(ctx.field("agent_version"), None),
                        evidence=evidence)


@observer(ITEM)
async def observe(ctx: RunContext) -> VersioningObservations:
    reported = await ctx.once("version", lambda: fetch_version(ctx))
    patterns = ctx.config.version.files
    expected, empty = versioned_files(ctx.config.root, patterns)
    git = git_state(ctx.config.root, list(expected))
    audit = await audit_version(ctx) if not reported.unreachable else AuditVersion(
        problem="the agent did not answer")
    return VersioningObservations(reported, patterns, expected, tuple(empty), git, audit,
                                  ctx.previous)


@probe(ITEM, title="Reports its version and component hashes",
       why="Without a reported version and content hashes nobody can tell which prompts, tools "
           "and rules produced a decision, or whether what runs is what was reviewed.",
       fix="Serve GET /version as {\"version\": \"1.4.0\", \"components\": {\"path\": "
           "\"sha256:<hex>\"}}, hashing every prompt, tool and rule file at startup.",
       weight=2)
def reports_version(obs: VersioningObservations) -> Finding:
    reported = obs.reported
    if reported.unreachable:
        return errored(f"GET /version could not be assessed: {reported.problem}",
                       reply=reported.reply)
    if reported.problem:
        return failed(f"GET /version {reported.problem}", reply=reported.reply)
    return passed(f"version {reported.version} with {len(reported.components)} component hashes",
                  reply=reported.reply)


@probe(ITEM, title="Component hashes match the versioned files",
       why="A running prompt or rule that differs from the reviewed file is an unreviewed "
           "change in production.",
       fix="Hash exactly the files matched by [version] files (paths relative to the config's "
           "folder) and restart the agent after every change.", weight=2)
def component_hashes_match_files(obs: VersioningObservations) -> Finding:
    if not obs.patterns:
        return failed("[version] files declares no prompt, tool or rule files",
                      'add [version] files = ["my_agent/prompts/**", "my_agent/tools/**"]')
    if not obs.expected:
        return failed(f"[version] files matched no file: {list(obs.empty_patterns)}",
                      "fix the globs in [version] files; they are relative to the config file")
    if obs.reported.unreachable:
        return errored("the agent did not answer GET /version", reply=obs.reported.reply)
    if not obs.reported.components:
        return failed("the agent reports no component hashes to compare",
                      expected=dict(obs.expected))
    reported = obs.reported.components
    mismatched = {k: {"file": v, "agent": reported[k]} for k, v in obs.expected.items()
                  if k in reported and reported[k] != v}
    missing = sorted(k for k in obs.expected if k not in reported)
    extra = sorted(k for k in reported if k not in obs.expected)
    if mismatched or missing or extra:
        parts = [f"{len(mismatched)} differ" if mismatched else "",
                 f"{len(missing)} files not reported" if missing else "",
                 f"{len(extra)} reported components are not versioned files" if extra else ""]
        return failed("; ".join(p for p in parts if p), mismatched=mismatched, missing=missing,
                      extra=extra, empty_patterns=list(obs.empty_patterns))
    return passed(f"all {len(obs.expected)} component hashes equal sha256 of the files",
                  components=dict(obs.expected))


@probe(ITEM, title="Versioned files are committed",
       why="A prompt edited in place and never committed cannot be reviewed, diffed or restored.",
       fix="Commit the prompt, tool and rule files (git add, git commit) before scoring.")
def versioned_files_committed(obs: VersioningObservations) -> Finding:
    if obs.git.problem:
        return failed(f"the versioned files are not under version control: {obs.git.problem}",
                      "keep the agent in a git repository and commit its prompts, tools, rules")
    if not obs.expected:
        return failed("there are no versioned files to check ([version] files matched nothing)")
    if obs.git.untracked or obs.git.modified:
        return failed(f"{len(obs.git.untracked)} untracked and {len(obs.git.modified)} modified "
                      "versioned files", untracked=list(obs.git.untracked),
                      modified=list(obs.git.modified), repository=obs.git.repo)
    return passed(f"all {len(obs.expected)} versioned files are committed", repository=obs.git.repo)


@probe(ITEM, title="Audit records name the running version",
       why="An audit record that does not name the agent version cannot answer which prompt made "
           "a decision a month later.",
       fix="Write the version GET /version reports into agent_version of every audit record.")
def audit_records_name_version(obs: VersioningObservations) -> Finding:
    audit = obs.audit
    if audit.no_audit_endpoint:
        return not_applicable("the agent has no audit endpoint; the audit item covers this",
                              **audit.evidence)
    if audit.problem:
        return errored(f"could not read an audit record: {audit.problem}", **audit.evidence)
    if obs.reported.version is None:
        return errored("the agent reports no version to compare against", **audit.evidence)
    if audit.agent_version != obs.reported.version:
        return failed(f"audit record {audit.decision_id} names agent_version "
                      f"{audit.agent_version!r}, the agent reports {obs.reported.version!r}",
                      **audit.evidence)
    return passed(f"audit record {audit.decision_id} names version {obs.reported.version}",
                  **audit.evidence)


@probe(ITEM, title="Version changes when components change",
       why="If the prompts change but the version does not, two different agents share one "
           "name in every audit record and report.",
       fix="Bump the agent's version whenever a prompt, tool or rule file changes.",
       blocking=False)
def version_bumped_on_change(obs: VersioningObservations) -> Finding:
    previous = obs.previous
    if previous is None:
        return not_applicable("no previous scorecard in the output folder to compare with")
    before = (previous.get("agent") or {})
    old_components = before.get("components") or {}
    now = obs.reported.components
    if not now or not isinstance(old_components, dict) or not old_components:
        return not_applicable("no component hashes to compare")
    changed = sorted(k for k in set(now) | set(old_components)
                     if now.get(k) != old_components.get(k))
    if changed and before.get("version") == obs.reported.version:
        return failed(f"{len(changed)} components changed since {before.get('version')!r} was "
                      "scored, but the version is the same", changed=changed)
    return passed(f"{len(changed)} components changed since the previous scorecard"
                  + (f"; version {before.get('version')} -> {obs.reported.version}" if changed
                     else ""), changed=changed)
