"""`readiness init`: a commented readiness.toml and operator-document skeletons for an agent.

It detects what it can from the repository (the agent's name, packages, how it starts,
the upstreams it reads from the environment, versioned prompt/tool/rule folders,
CODEOWNERS) and leaves placeholders for what only a person can declare: the owner,
the documents' contents, the data handling. The placeholders fail items 8 (docs) and 9
(owner) until someone fills them. It never overwrites a file.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from readiness._init_detect import Detected, Upstream, detect, read_text

CONFIG_FILE = "readiness.toml"
DOCS = {"runbook": "docs/runbook.md", "faq": "docs/faq.md",
        "escalation": "docs/escalation.md", "training": "docs/training.md"}
# Placeholders: item 9 reads "TODO" (readiness.probes._text.PLACEHOLDERS) in these values.
OWNER_TODO = {
    "owner_name": "TODO: the production owner's full name",
    "owner_role": "TODO: the owner's role",
    "owner_contact": "TODO: the owner's email, phone or chat handle",
    "backup_name": "TODO: the backup's full name",
    "backup_contact": "TODO: the backup's email, phone or chat handle",
}
# The same, in the escalation skeleton (markers that item 8 reads as placeholders).
ESCALATION_TODO = {
    "owner_name": "`<owner name>`", "owner_role": "`<fill in the owner role>`",
    "owner_contact": "`<owner email or phone>`", "backup_name": "`<backup name>`",
    "backup_contact": "`<backup email or phone>`",
}
QUESTIONS = {
    "owner_name": "Full name of the person who owns the agent in production",
    "owner_role": "Their role",
    "owner_contact": "Their email, phone number or chat handle",
    "backup_name": "Full name of their backup",
    "backup_contact": "The backup's email, phone number or chat handle",
}
_MARKER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class InitResult:
    """The files written, those skipped (with the reason), and what was detected."""

    root: Path
    written: tuple[Path, ...]
    skipped: Mapping[Path, str]
    detected: Detected


def init_project(root: Path, *, interactive: bool = False,
                 ask: Callable[[str], str] = input) -> InitResult:
    """Write readiness.toml and the four operator-document skeletons into `root`.

    Detects what it can (see `detect`) and writes placeholders elsewhere; when
    `interactive`, asks (through `ask`) only for what it cannot detect: the owner and
    the backup. An answer left empty keeps the placeholder. Existing files are never
    overwritten: they are reported in `skipped`, and so is readiness.toml when
    pyproject.toml already has a [tool.readiness] table.

    Raises:
        OSError: a file could not be written (the message names it).
    """
    root = root.resolve()
    detected = detect(root)
    people = _ask_people(ask, detected.git_user) if interactive else {}
    docs = _declared_docs(root)
    files = {root / CONFIG_FILE: render_config(detected, people, docs)}
    for kind, relative in docs.items():
        files[root / relative] = render_document(kind, detected.name, people)
    written: list[Path] = []
    skipped: dict[Path, str] = {}
    tool_config = _tool_readiness(root / "pyproject.toml")
    for path, text in files.items():
        if path.name == CONFIG_FILE and tool_config:
            skipped[path] = "pyproject.toml already has [tool.readiness]"
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:  # "x": never overwrite
                handle.write(text)
        except FileExistsError:
            skipped[path] = "it exists (init never overwrites a file)"
            continue
        written.append(path)
    return InitResult(root, tuple(written), skipped, detected)


def init_command(root: Path, *, interactive: bool | None = None) -> int:
    """`readiness init` in `root`: write, then print what was detected, written and skipped.

    Asks for the owner only when `interactive` (by default: when stdin is a terminal).
    Returns 0, or 2 when `root` is not a folder or a file cannot be written.
    """
    if not root.is_dir():
        print(f"readiness init: {root} is not a folder; run it in the agent's repository",
              file=sys.stderr)
        return 2
    if interactive is None:
        interactive = sys.stdin.isatty()
    try:
        result = init_project(root, interactive=interactive)
    except OSError as exc:
        print(f"readiness init: could not write {exc.filename or root}: "
              f"{exc.strerror or exc}; check the folder's permissions", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nreadiness init: stopped; nothing was written", file=sys.stderr)
        return 2
    print(summary(result))
    return 0


def summary(result: InitResult) -> str:
    """What init found and did, for the terminal."""
    found = result.detected
    lines = ["readiness init: detected", f"  agent name: {found.name} ({found.name_origin})"]
    lines.append(f"  source: {', '.join(found.packages) or 'no Python package found'}")
    if found.start:
        lines.append(f"  start: {found.start} ({found.start_origin})")
    if found.app:
        lines.append(f"  ASGI app: {found.app} ({found.app_origin})")
    if not (found.start or found.app):
        lines.append("  start: not found (no __main__.py or ASGI app): fill [agent] start")
    for up in found.upstreams:
        target = up.target or "target unknown: table commented out, fill it in"
        lines.append(f"  upstream {up.name}: {up.kind}, {up.env} ({up.found_in}), {target}")
    if found.alerts_env:
        lines.append(f"  alerts webhook: {found.alerts_env} ({found.alerts_origin})")
    lines.append(f"  versioned files: {', '.join(found.version_files) or 'none found'}")
    lines.append(f"  CODEOWNERS: {found.codeowners or 'none found'}")

    def shown(path: Path) -> str:
        return str(path.relative_to(result.root)) if path.is_relative_to(result.root) else str(
            path)

    lines += [f"wrote {shown(path)}" for path in result.written]
    lines += [f"skipped {shown(path)}: {why}" for path, why in result.skipped.items()]
    if result.written:
        lines.append("next: replace every TODO and <...> marker in the files written (the "
                     "owner must be a real person who agreed to it), then run "
                     "`readiness run --only docs,owner` to see what is left")
    else:
        lines.append("nothing written: every file exists")
    return "\n".join(lines)


def _tool_readiness(pyproject: Path) -> bool:
    try:
        tool = tomllib.loads(read_text(pyproject)).get("tool", {})
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(tool, dict) and "readiness" in tool


def _declared_docs(root: Path) -> dict[str, str]:
    """The documents an existing configuration declares, else the defaults."""
    docs = dict(DOCS)
    places = ((CONFIG_FILE, ("docs",)), ("pyproject.toml", ("tool", "readiness", "docs")))
    for file, table in places:
        try:
            declared: object = tomllib.loads(read_text(root / file))
        except tomllib.TOMLDecodeError:
            continue
        for key in table:
            declared = declared.get(key, {}) if isinstance(declared, dict) else {}
        if isinstance(declared, dict):
            docs.update({k: v for k, v in declared.items()
                         if k in DOCS and isinstance(v, str) and v.strip()})
    return docs


def _ask_people(ask: Callable[[str], str], git_user: str | None) -> dict[str, str]:
    """The owner and backup, asked for; empty answers keep the placeholders."""
    answers = {}
    for key, question in QUESTIONS.items():
        if key == "owner_name" and git_user:  # a hint to confirm, never a default
            question += f" (git config names {git_user}; type it only if they do)"
        answer = ask(f"{question} (Enter to leave a TODO): ").strip()
        if answer:
            answers[key] = answer
    return answers


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes, plus DEL, which TOML does not allow raw."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _fill(template: str, values: Mapping[str, str]) -> str:
    text = (resources.files("readiness") / "templates" / "init" / template).read_text(
        encoding="utf-8")
    return _MARKER.sub(lambda m: values[m.group(1)], text)


def _comment(origin: str) -> str:
    return f"  # {origin}" if origin else ""


def render_config(found: Detected, people: Mapping[str, str],
                  docs: Mapping[str, str] = DOCS) -> str:
    """readiness.toml's text: detected values, commented options, TODO placeholders."""
    owner = {key: toml_string(people.get(key, todo)) for key, todo in OWNER_TODO.items()}
    hint = ""
    if found.git_user and not people:
        hint = (f"\n# `git config` names {found.git_user}.\n# If they own the agent in "
                "production, write them below: the owner is a declaration, not a default.")
    codeowners = ("# CODEOWNERS is found at " + found.codeowners + "; give the owner the "
                  "[version] files there" if found.codeowners else
                  "# TODO: add a CODEOWNERS file (or .github/CODEOWNERS) giving the owner the "
                  "[version] files;\n# codeowners = \"path/to/CODEOWNERS\"   # only if it is "
                  "somewhere else")
    return _fill("readiness.toml", {
        "name": found.name, "name_value": toml_string(found.name),
        "name_origin": found.name_origin,
        "reach": _reach(found),
        "source": _toml_list(found.packages),
        "source_origin": "" if found.packages else "  (TODO: no Python package found)",
        "invoke_env": found.tokens.get("invoke", "AGENT_INVOKE_TOKEN"),
        "invoke_origin": "named in the agent's code" if "invoke" in found.tokens
        else "TODO: the variable holding the invoke token",
        "operator_env": found.tokens.get("operator", "AGENT_OPERATOR_TOKEN"),
        "operator_origin": "named in the agent's code" if "operator" in found.tokens
        else "TODO: the variable holding the operator token",
        "upstreams": _upstream_tables(found.upstreams),
        "alerts_env": toml_string(found.alerts_env or "ALERT_WEBHOOK_URL"),
        "alerts_origin": f" ({found.alerts_origin})" if found.alerts_env else "",
        "version_files": _toml_list(found.version_files),
        "version_origin": "  # detected folders" if found.version_files else
        "  # TODO: the prompt, tool and rule files, e.g. [\"my_agent/prompts/**\"]",
        "git_hint": hint, "codeowners": codeowners,
        **owner, **{kind: toml_string(path) for kind, path in docs.items()},
    })


def _reach(found: Detected) -> str:
    app = f"app = {toml_string(found.app)}" if found.app else ""
    if found.start:
        lines = [f"start = {toml_string(found.start)}{_comment(found.start_origin)}",
                 '# url = "http://127.0.0.1:{port}"   # the default with start; or the fixed '
                 "URL of a running agent"]
        if app:
            lines.append(f"# {app}   # or in-process, instead of start/url "
                         f"({found.app_origin})")
        return "\n".join(lines)
    if app:
        return "\n".join([f"{app}{_comment('an ASGI app, run in-process: ' + found.app_origin)}",
                          '# start = "python -m my_agent --port {port}"   # or a process the '
                          "harness starts"])
    return "\n".join([
        'start = "TODO: the command that starts the agent, with {port} where its port goes"',
        '# url = "http://127.0.0.1:8080"          # or the URL of an agent already running',
        '# app = "my_agent.app:app"               # or an ASGI app, imported in-process'])


def _upstream_tables(upstreams: tuple[Upstream, ...]) -> str:
    if not upstreams:
        return "\n".join([
            "# TODO: no *_URL environment variable found in the code; declare each upstream:",
            "# [upstreams.llm]", '# kind = "llm"', '# target = "sim:openai"',
            '# env = "LLM_BASE_URL"'])
    tables = []
    for up in upstreams:
        target = up.target or "http://127.0.0.1:9101"
        lines = [f"[upstreams.{up.name}]", f'kind = "{up.kind}"',
                 f"target = {toml_string(target)}",
                 f'env = "{up.env}"   # read in {up.found_in}']
        if up.kind == "tool":
            lines.append('writes = []   # TODO: the writes it may receive, e.g. '
                         '["POST /leads/*/assign"]')
        if up.target is None:  # a made-up address must not look like a declaration
            lines = ["# TODO: set target to the service's URL (or a test instance's), then "
                     "uncomment:"] + [f"# {line}" for line in lines]
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


def render_document(kind: str, name: str, people: Mapping[str, str]) -> str:
    """One operator-document skeleton; only the escalation path takes the answers given."""
    values = {"name": name}
    for key, marker in ESCALATION_TODO.items():
        values[key] = people[key].replace("|", "\\|") if key in people else marker
    return _fill(f"{kind}.md", values)
