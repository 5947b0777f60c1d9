"""Item 9, owner: a real, reachable person is accountable for the agent in production."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

from readiness.config.model import OwnerConfig
from readiness.context import RunContext
from readiness.probes import _text
from readiness.probes.versioning import versioned_files
from readiness.registry import observer, probe
from readiness.results import Finding, failed, passed

ITEM = "owner"
CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class CodeOwners:
    """A CODEOWNERS file's rules, and the folder its patterns are relative to."""

    path: Path
    base: Path
    rules: tuple[tuple[str, tuple[str, ...]], ...]

    def owners_of(self, relative_path: str) -> tuple[str, ...]:
        """Owners of a base-relative path: the last matching rule wins, as on GitHub."""
        owners: tuple[str, ...] = ()
        for pattern, rule_owners in self.rules:
            if _text.codeowners_pattern(pattern).match(relative_path):
                owners = rule_owners
        return owners


@dataclass(frozen=True)
class OwnerObservations:
    owner: OwnerConfig
    escalation_text: str | None
    escalation_path: Path | None
    codeowners: CodeOwners | None
    versioned: tuple[str, ...]
    root: Path
    today: dt.date


def parse_codeowners(path: Path, base: Path) -> CodeOwners:
    """Read CODEOWNERS rules: `pattern owner owner ...`, comments and blanks skipped."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *owners = line.split()
            rules.append((pattern, tuple(owners)))
    return CodeOwners(path, base, tuple(rules))


def _repository_top(folder: Path) -> Path | None:
    try:
        top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(top.stdout.strip()) if top.returncode == 0 else None


def find_codeowners(root: Path, declared: Path | None) -> CodeOwners | None:
    """The declared CODEOWNERS, else one beside the config, else at the repository top.

    Patterns are relative to the repository top (as on GitHub) for a declared file
    or one found there, and to the config's folder for one found beside it.
    """
    if declared is not None:
        if not declared.is_file():
            return None
        return parse_codeowners(declared, _repository_top(declared.parent) or root)
    top = _repository_top(root)
    for base in [root] + ([top] if top else []):
        for place in CODEOWNERS_PLACES:
            if (base / place).is_file():
                return parse_codeowners(base / place, base)
    return None


@observer(ITEM)
async def observe(ctx: RunContext) -> OwnerObservations:
    config = ctx.config
    escalation = config.docs.escalation
    text = None
    if escalation is not None and escalation.is_file():
        text = escalation.read_text(encoding="utf-8", errors="replace")
    files, _ = versioned_files(config.root, config.version.files)
    return OwnerObservations(config.owner, text, escalation,
                             find_codeowners(config.root, config.owner.codeowners),
                             tuple(files), config.root, ctx.today)


def _contact_near(text: str | None, name: str | None) -> str | None:
    """A contact on the escalation line that names `name` (the backup's own contact)."""
    if not text or not name:
        return None
    for line in text.splitlines():
        if name.lower() in line.lower() and (found := _text.contacts(line)):
            return found[0].value
    return None


def _identity_problems(label: str, name: str | None, contact: str | None) -> list[str]:
    problems = []
    if not name or not name.strip():
        problems.append(f"no {label} name")
    elif marks := _text.placeholders(name):
        problems.append(f"the {label} name {name!r} is a placeholder ({marks[0]})")
    elif len(name.split()) < 2:
        problems.append(f"the {label} name {name!r} is not a full name")
    if not contact:
        problems.append(f"no {label} contact")
    elif not _text.is_working_contact(contact):
        problems.append(f"the {label} contact {contact!r} is not a working email, phone or handle")
    return problems


@probe(ITEM, title="A named owner and backup are declared",
       why="An agent with no named owner has nobody to fix it, answer for it or switch it off.",
       fix="Fill [owner] name, role, contact, backup and backup_contact (or give the backup's "
           "contact on the escalation line that names them) with real people.",
       weight=2)
def owner_declared(obs: OwnerObservations) -> Finding:
    owner = obs.owner
    problems = _identity_problems("owner", owner.name, owner.contact)
    backup_contact = owner.backup_contact or _contact_near(obs.escalation_text, owner.backup)
    problems += _identity_problems("backup", owner.backup, backup_contact)
    if not owner.role or _text.placeholders(owner.role):
        problems.append("no real [owner] role")
    if owner.name and owner.backup and owner.name.strip().lower() == owner.backup.strip().lower():
        problems.append("the backup is the owner")
    declared = {"name": owner.name, "role": owner.role, "contact": owner.contact,
                "backup": owner.backup, "backup_contact": owner.backup_contact}
    if problems:
        return failed("; ".join(problems), declared=declared)
    return passed(f"{owner.name} ({owner.role}) owns the agent; backup {owner.backup}",
                  declared=declared)


@probe(ITEM, title="Owner and backup appear in the escalation path",
       why="If the escalation document does not name the owner, operators call the wrong people.",
       fix="Name the owner and the backup, with their contacts, in the escalation document.")
def owner_in_escalation(obs: OwnerObservations) -> Finding:
    if obs.escalation_text is None:
        return failed(f"no escalation document to look in ({obs.escalation_path or 'undeclared'})")
    lowered = obs.escalation_text.lower()
    people = {"owner": obs.owner.name, "backup": obs.owner.backup}
    missing = [f"{role} {name!r}" if name else f"{role} (not declared)"
               for role, name in people.items() if not name or name.lower() not in lowered]
    if missing:
        return failed(f"{obs.escalation_path} does not name: {', '.join(missing)}")
    return passed(f"{obs.escalation_path} names {obs.owner.name} and {obs.owner.backup}")


@probe(ITEM, title="The owner is in CODEOWNERS for the versioned files",
       why="If code review does not route prompt and rule changes to the owner, they change "
           "behind the owner's back.",
       fix="Add a CODEOWNERS rule giving the owner's handle or email ([owner] handle/contact) "
           "the prompt, tool and rule files.")
def owner_in_codeowners(obs: OwnerObservations) -> Finding:
    ids = {i.lower() for i in (obs.owner.handle, obs.owner.contact) if i}
    if not ids:
        return failed("[owner] has no handle or contact email to look for in CODEOWNERS")
    if obs.codeowners is None:
        return failed("no CODEOWNERS file (looked in " + ", ".join(CODEOWNERS_PLACES) + ")")
    codeowners = obs.codeowners
    if not obs.versioned:
        return failed("no versioned files ([version] files) to check ownership of")
    not_owned: dict[str, tuple[str, ...]] = {}
    for relative in obs.versioned:
        try:
            path = (obs.root / relative).resolve().relative_to(codeowners.base.resolve())
        except ValueError:  # outside the CODEOWNERS base: nothing there can own it
            not_owned[relative] = ()
            continue
        owners = codeowners.owners_of(path.as_posix())
        if not ids & {o.lower() for o in owners}:
            not_owned[relative] = owners
    if not_owned:
        return failed(f"{len(not_owned)} versioned files are not owned by {sorted(ids)} in "
                      f"{codeowners.path}", not_owned={k: list(v) for k, v in not_owned.items()})
    return passed(f"{codeowners.path} gives the owner all {len(obs.versioned)} versioned files")


@probe(ITEM, title="The ownership declaration is fresh",
       why="People change roles; an ownership entry nobody has confirmed for months may name "
           "someone who left.",
       fix="Confirm the owner and set [owner] reviewed to today's date.")
def owner_review_fresh(obs: OwnerObservations) -> Finding:
    reviewed = obs.owner.reviewed
    if reviewed is None:
        return failed("[owner] reviewed is not set")
    age = (obs.today - reviewed).days
    if age < 0:
        return failed(f"[owner] reviewed {reviewed} is in the future", today=str(obs.today))
    if age > obs.owner.max_age_days:
        return failed(f"reviewed {age} days ago ({reviewed}); the limit is "
                      f"{obs.owner.max_age_days} days", today=str(obs.today))
    return passed(f"reviewed {age} days ago ({reviewed})", today=str(obs.today))
