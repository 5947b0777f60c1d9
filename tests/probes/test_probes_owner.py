"""Item 9 probes as pure functions of constructed observations, and CODEOWNERS handling."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from probes_support import (
    ProbeCase,
    assert_finding,
    assert_pass_and_fail_cases,
    commit_all,
    git,
    in_context,
    probe_params,
    write_tree,
)

from readiness.config import load_config
from readiness.config.model import OwnerConfig
from readiness.probes import owner as o
from readiness.probes.owner import CodeOwners, OwnerObservations
from readiness.results import Finding, Outcome

PASS, FAIL = Outcome.PASS, Outcome.FAIL
TODAY = dt.date(2026, 11, 25)
REPO = Path("/repo")
ADA = OwnerConfig(name="Ada Lovelace", role="Head of Sales Ops", contact="ada@corp.io",
                  backup="Alan Turing", backup_contact="@aturing", handle="@ada",
                  reviewed=TODAY - dt.timedelta(days=10))
RULES = (("*", ("@sales-platform",)), ("/prompts/", ("@ada", "@bob")),
         ("*.json", ("ada@corp.io",)))
ESCALATION = "1. Ada Lovelace, ada@corp.io\n2. alan turing, @aturing\n"


def codeowners(*rules: tuple[str, tuple[str, ...]]) -> CodeOwners:
    """A CODEOWNERS at the repository top with these rules (RULES by default)."""
    return CodeOwners(REPO / ".github/CODEOWNERS", REPO, rules or RULES)


GOOD = OwnerObservations(ADA, ESCALATION, REPO / "docs/escalation.md", codeowners(),
                         ("prompts/route.txt", "tools/assign.json"), REPO, TODAY)
EMPTY = OwnerObservations(OwnerConfig(), None, None, None, (), REPO, TODAY)


def obs(**changes: Any) -> OwnerObservations:
    """GOOD with some observation fields replaced."""
    return dataclasses.replace(GOOD, **changes)


def person(**changes: Any) -> OwnerConfig:
    """ADA's [owner] with some values replaced."""
    return dataclasses.replace(ADA, **changes)


def owner(**changes: Any) -> OwnerObservations:
    """GOOD with some [owner] values replaced."""
    return obs(owner=person(**changes))


def reviewed(days_ago: int, **changes: Any) -> OwnerObservations:
    """GOOD, reviewed `days_ago` days before TODAY."""
    return owner(reviewed=TODAY - dt.timedelta(days=days_ago), **changes)


Probe = Callable[[OwnerObservations], Finding]
CASES: list[ProbeCase] = [
    (o.owner_declared, GOOD, PASS, "Ada Lovelace (Head of Sales Ops) owns the agent; backup "
     "Alan Turing"),
    (o.owner_declared, owner(name="TBD"), FAIL, "the owner name 'TBD' is a placeholder (TBD)"),
    (o.owner_declared, owner(name="John Doe"), FAIL, "is a placeholder (John Doe)"),
    (o.owner_declared, owner(name="Ada"), FAIL, "the owner name 'Ada' is not a full name"),
    (o.owner_declared, owner(backup="Alan"), FAIL, "the backup name 'Alan' is not a full name"),
    (o.owner_declared, owner(backup=" ada lovelace "), FAIL, "the backup is the owner"),
    (o.owner_declared, owner(contact="ada"), FAIL,
     "the owner contact 'ada' is not a working email, phone or handle"),
    (o.owner_declared, owner(contact="ada@example.com"), FAIL, "owner contact 'ada@example.com'"),
    (o.owner_declared, owner(backup_contact="555-0100"), FAIL, "backup contact '555-0100'"),
    (o.owner_declared, owner(contact="+44 20 7946 0958", backup_contact="alan@corp.io"), PASS,
     "owns the agent"),
    (o.owner_declared, owner(name=" "), FAIL, "no owner name"),
    (o.owner_declared, owner(backup=None, backup_contact=None), FAIL,
     "no backup name; no backup contact"),
    (o.owner_declared, owner(role="TBD"), FAIL, "no real [owner] role"),
    (o.owner_declared, EMPTY, FAIL,
     "no owner name; no owner contact; no backup name; no backup contact; no real [owner] role"),

    (o.owner_in_escalation, GOOD, PASS,
     "/repo/docs/escalation.md names Ada Lovelace and Alan Turing"),
    (o.owner_in_escalation, obs(escalation_text="Call Alan Turing."), FAIL,
     "/repo/docs/escalation.md does not name: owner 'Ada Lovelace'"),
    (o.owner_in_escalation, obs(escalation_text="Call someone."), FAIL,
     "owner 'Ada Lovelace', backup 'Alan Turing'"),
    (o.owner_in_escalation, owner(backup=None), FAIL, "does not name: backup (not declared)"),
    (o.owner_in_escalation, obs(escalation_text=None), FAIL,
     "no escalation document to look in (/repo/docs/escalation.md)"),
    (o.owner_in_escalation, EMPTY, FAIL, "no escalation document to look in (undeclared)"),

    (o.owner_in_codeowners, GOOD, PASS, "/repo/.github/CODEOWNERS gives the owner all 2 "
     "versioned files"),
    (o.owner_in_codeowners, obs(versioned=("prompts/route.txt", "rules/main.yaml")), FAIL,
     "1 versioned files are not owned by ['@ada', 'ada@corp.io'] in /repo/.github/CODEOWNERS"),
    (o.owner_in_codeowners, owner(contact="someone@corp.io"), FAIL, "1 versioned files"),
    (o.owner_in_codeowners, obs(versioned=("prompts/a.txt", "prompts/deep/b.md")), PASS,
     "all 2 versioned files"),
    (o.owner_in_codeowners, owner(handle=None, contact="ADA@corp.io"),
     FAIL, "1 versioned files are not owned by ['ada@corp.io']"),
    (o.owner_in_codeowners, obs(owner=person(handle=None, contact="ADA@corp.io"),
                                versioned=("tools/a.json", "x/y/b.json")),
     PASS, "all 2 versioned files"),
    (o.owner_in_codeowners, obs(codeowners=codeowners(("/prompts/", ("@ADA",)), ("*", ("@x",)))),
     FAIL, "2 versioned files are not owned"),
    (o.owner_in_codeowners, owner(handle=None, contact=None), FAIL,
     "[owner] has no handle or contact email to look for in CODEOWNERS"),
    (o.owner_in_codeowners, obs(codeowners=None), FAIL,
     "no CODEOWNERS file (looked in CODEOWNERS, .github/CODEOWNERS, docs/CODEOWNERS)"),
    (o.owner_in_codeowners, obs(versioned=()), FAIL, "no versioned files ([version] files)"),
    (o.owner_in_codeowners, EMPTY, FAIL, "[owner] has no handle or contact email"),

    (o.owner_review_fresh, GOOD, PASS, "reviewed 10 days ago (2026-11-15)"),
    (o.owner_review_fresh, reviewed(0), PASS, "reviewed 0 days ago"),
    (o.owner_review_fresh, reviewed(90), PASS, "reviewed 90 days ago (2026-08-27)"),
    (o.owner_review_fresh, reviewed(91), FAIL,
     "reviewed 91 days ago (2026-08-26); the limit is 90 days"),
    (o.owner_review_fresh, reviewed(31, max_age_days=30), FAIL, "the limit is 30 days"),
    (o.owner_review_fresh, reviewed(-1), FAIL, "[owner] reviewed 2026-11-26 is in the future"),
    (o.owner_review_fresh, owner(reviewed=None), FAIL, "[owner] reviewed is not set"),
    (o.owner_review_fresh, EMPTY, FAIL, "[owner] reviewed is not set"),
]


@pytest.mark.parametrize(("probe", "observations", "outcome", "fragment"),
                         probe_params(CASES))
def test_probe(probe: Probe, observations: OwnerObservations, outcome: Outcome,
               fragment: str) -> None:
    assert_finding(probe(observations), outcome, fragment)


def test_every_probe_has_a_pass_and_a_fail_case() -> None:
    assert_pass_and_fail_cases(CASES)


def test_not_owned_evidence_names_the_files_and_their_owners() -> None:
    finding = o.owner_in_codeowners(obs(versioned=("rules/main.yaml", "prompts/a.txt")))
    assert dict(finding.evidence["not_owned"]) == {"rules/main.yaml": ["@sales-platform"]}


# --- CodeOwners, parse_codeowners, find_codeowners ----------------------------------------


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@sales-platform",)),
    ("prompts/route.txt", ("@ada", "@bob")),
    ("prompts/tools.json", ("ada@corp.io",)),
    ("agent/prompts/x.txt", ("@sales-platform",)),
])
def test_last_matching_rule_wins(path: str, owners: tuple[str, ...]) -> None:
    assert codeowners().owners_of(path) == owners


def test_a_later_rule_without_owners_unowns() -> None:
    rules = codeowners(("/prompts/", ("@ada",)), ("/prompts/generated/", ()))
    assert (rules.owners_of("prompts/a.txt"), rules.owners_of("prompts/generated/b.txt")) == (
        ("@ada",), ())
    assert rules.owners_of("elsewhere.txt") == ()


CODEOWNERS_TEXT = """# Owners of the lead router
*                 @sales-platform

/prompts/   @ada   ada@corp.io   # the owner reviews prompts
  *.json @tools-team
/generated/
"""


def test_parse_codeowners(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/CODEOWNERS": CODEOWNERS_TEXT})
    parsed = o.parse_codeowners(tmp_path / ".github/CODEOWNERS", tmp_path)
    assert (parsed.path, parsed.base) == (tmp_path / ".github/CODEOWNERS", tmp_path)
    assert parsed.rules == (("*", ("@sales-platform",)), ("/prompts/", ("@ada", "ada@corp.io")),
                            ("*.json", ("@tools-team",)), ("/generated/", ()))


def test_parse_empty_codeowners(tmp_path: Path) -> None:
    write_tree(tmp_path, {"CODEOWNERS": "# nothing yet\n\n"})
    assert o.parse_codeowners(tmp_path / "CODEOWNERS", tmp_path).rules == ()


def test_find_declared_codeowners(tmp_path: Path) -> None:
    write_tree(tmp_path, {"owners/TEAM": "* @ada\n", "CODEOWNERS": "* @other\n"})
    found = o.find_codeowners(tmp_path, tmp_path / "owners/TEAM")
    assert found is not None
    assert (found.path, found.rules) == (tmp_path / "owners/TEAM", (("*", ("@ada",)),))
    assert o.find_codeowners(tmp_path, tmp_path / "owners/MISSING") is None


@pytest.mark.parametrize(("present", "chosen"), [
    (["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"], "CODEOWNERS"),
    ([".github/CODEOWNERS", "docs/CODEOWNERS"], ".github/CODEOWNERS"),
    (["docs/CODEOWNERS"], "docs/CODEOWNERS"),
])
def test_find_codeowners_beside_the_config(git_env: Path, present: list[str],
                                           chosen: str) -> None:
    write_tree(git_env, {place: f"* @{place}\n" for place in present})
    found = o.find_codeowners(git_env, None)
    assert found is not None
    assert (found.path, found.base, found.rules[0][1]) == (git_env / chosen, git_env,
                                                           (f"@{chosen}",))


def test_find_codeowners_nowhere(git_env: Path) -> None:
    write_tree(git_env, {"agent/readiness.toml": ""})
    assert o.find_codeowners(git_env / "agent", None) is None


@pytest.fixture
def repo(git_env: Path) -> Path:
    """A git repository whose agent (and config root) lives in agent/."""
    write_tree(git_env, {".github/CODEOWNERS": "/agent/prompts/ @ada\n",
                         "agent/prompts/route.txt": "You route leads."})
    git(git_env, "init", "-q")
    commit_all(git_env)
    return git_env


def test_find_codeowners_at_the_repository_top(repo: Path) -> None:
    found = o.find_codeowners(repo / "agent", None)
    assert found is not None
    assert (found.path, found.base.resolve()) == (repo / ".github/CODEOWNERS", repo.resolve())
    assert found.owners_of("agent/prompts/route.txt") == ("@ada",)


def test_declared_codeowners_patterns_are_relative_to_the_repository(repo: Path) -> None:
    found = o.find_codeowners(repo / "agent", repo / ".github/CODEOWNERS")
    assert found is not None
    assert found.base.resolve() == repo.resolve()


# --- the observer --------------------------------------------------------------------------

CONFIG = """
[agent]
name = "lead-router"
app = "lead_router.app:app"
[version]
files = ["prompts/**"]
[docs]
escalation = "docs/escalation.md"
[owner]
name = "Ada Lovelace"
role = "Head of Sales Ops"
contact = "ada@corp.io"
backup = "Alan Turing"
backup_contact = "@aturing"
handle = "@ada"
reviewed = 2026-08-27
"""


def test_observer_feeds_every_owner_probe(repo: Path) -> None:
    root = repo / "agent"
    write_tree(root, {"readiness.toml": CONFIG, "docs/escalation.md": ESCALATION})
    config = load_config(root / "readiness.toml")
    observations = in_context(config, o.observe, today=TODAY)
    assert (observations.today, observations.versioned) == (TODAY, ("prompts/route.txt",))
    assert observations.escalation_text == ESCALATION
    assert observations.codeowners is not None
    for probe in (o.owner_declared, o.owner_in_escalation, o.owner_in_codeowners,
                  o.owner_review_fresh):
        assert probe(observations).outcome is PASS, probe(observations).message


def test_observer_without_escalation_file(git_env: Path) -> None:
    write_tree(git_env, {"readiness.toml": CONFIG})
    observations = in_context(load_config(git_env / "readiness.toml"), o.observe, today=TODAY)
    assert (observations.escalation_text, observations.versioned) == (None, ())
    assert observations.escalation_path == git_env.resolve() / "docs/escalation.md"
    assert observations.codeowners is None
