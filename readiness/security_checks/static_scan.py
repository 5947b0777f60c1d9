"""Bandit over the agent's declared source, through bandit's own Python API."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from readiness.security_checks._files import relative, resolve_sources, walk
from readiness.security_checks.baseline import Baseline

_PYTHON_SUFFIXES = (".py", ".pyw")  # bandit's own default include globs
_RANKS = ("UNDEFINED", "LOW", "MEDIUM", "HIGH")
_MAX_CODE = 300


@dataclass(frozen=True)
class CodeFinding:
    """One bandit finding, located relative to the project root."""

    file: str  # relative to the project root, posix
    line: int
    test_id: str  # e.g. "B307"
    test_name: str  # e.g. "blacklist", "yaml_load"
    severity: str  # "LOW" | "MEDIUM" | "HIGH"
    confidence: str
    message: str  # bandit's issue text
    code: str  # the offending line(s), trimmed, at most 300 characters
    accepted: str | None = None  # the baseline's reason, when a reviewed finding was accepted


@dataclass(frozen=True)
class ScanResult:
    """What bandit found in the declared source."""

    findings: tuple[CodeFinding, ...]  # medium+ severity and medium+ confidence, accepted too
    low: int  # findings below that bar, left out
    files_scanned: int
    errors: tuple[str, ...]  # files bandit could not parse or read, with the reason
    suppressed: int = 0  # findings the code silences inline (bandit's nosec comments)

    @property
    def blocking(self) -> tuple[CodeFinding, ...]:
        """The findings no baseline entry accepts."""
        return tuple(finding for finding in self.findings if finding.accepted is None)


def scan(root: Path, sources: Sequence[str], baseline: Baseline | None = None) -> ScanResult:
    """Run bandit's full default test set over `sources` (paths relative to `root`).

    Directories are walked for ``*.py``/``*.pyw`` files, skipping hidden directories,
    ``__pycache__``, ``site-packages`` and virtualenvs; named files are scanned whatever
    their suffix. Inline ``# nosec`` comments are honoured (as bandit does) and counted
    in ``suppressed``. A finding a `baseline` entry covers is kept, marked with its reason.
    Raises ``ValueError`` naming a source path that does not exist.
    """
    files = sorted({str(path) for source in resolve_sources(root, sources)
                    for path in walk(source)
                    if path.suffix in _PYTHON_SUFFIXES or not source.is_dir()})
    manager = _run_bandit(files)
    findings, low = [], 0
    for issue in manager.get_issue_list("UNDEFINED", "UNDEFINED"):  # every issue, then split
        if _rank(issue.severity) < 2 or _rank(issue.confidence) < 2:
            low += 1
            continue
        findings.append(_finding(root, issue, baseline))
    findings.sort(key=lambda f: (f.file, f.line, f.test_id))
    totals = manager.metrics.data["_totals"]
    errors = tuple(f"{relative(root, Path(name))}: {reason}"
                   for name, reason in manager.get_skipped())
    return ScanResult(tuple(findings), low, len(manager.files_list), errors,
                      int(totals.get("nosec", 0)) + int(totals.get("skipped_tests", 0)))


def _run_bandit(files: list[str]) -> Any:
    bandit = _bandit()
    manager = bandit.core.manager.BanditManager(bandit.core.config.BanditConfig(), "file")
    # Named explicitly, every file is scanned (bandit's rule for files given on its CLI).
    manager.discover_files(files, recursive=False)
    manager.run_tests()
    return manager


def _finding(root: Path, issue: Any, baseline: Baseline | None) -> CodeFinding:
    file = relative(root, Path(issue.fname))
    line = int(issue.lineno)
    test_id = str(issue.test_id)
    code = _code(Path(issue.fname), [int(n) for n in issue.linerange] or [line])
    accepted = baseline.reason_for_code(file, test_id, line, code) if baseline else None
    return CodeFinding(file=file, line=line, test_id=test_id, test_name=str(issue.test),
                       severity=str(issue.severity), confidence=str(issue.confidence),
                       message=str(issue.text), code=code, accepted=accepted)


def _code(path: Path, line_numbers: list[int]) -> str:
    """The flagged lines, read afresh (bandit's own reader caches files via linecache)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    first, last = min(line_numbers), max(line_numbers)
    text = "\n".join(line.strip() for line in lines[first - 1:last] if line.strip())
    return text if len(text) <= _MAX_CODE else text[:_MAX_CODE - 3] + "..."


def _rank(level: object) -> int:
    return _RANKS.index(str(level)) if str(level) in _RANKS else 0


@functools.cache
def _bandit() -> ModuleType:
    """Import bandit once, without the deprecation warning its import triggers.

    bandit (1.9.4 and earlier) passes ``verify_requirements=False`` to stevedore's
    ExtensionManager when it loads its plugins at import; recent stevedore (5.10 here) warns the
    argument is a no-op. It is bandit's call, not ours, and harmless; under
    ``filterwarnings = error`` it would fail every import, so that one warning is ignored
    (by message, category and module) for the duration of the import only. Likewise
    stevedore's error that bandit's optional SARIF formatter lacks ``sarif_om`` (the
    ``bandit[sarif]`` extra): we never use bandit's formatters, and the line would read
    like a failure in our users' logs. A test plugin failing to load is still logged.
    """
    stevedore_log = logging.getLogger("stevedore.extension")
    stevedore_log.addFilter(_not_the_sarif_formatter)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The verify_requirements argument",
                                    category=DeprecationWarning, module=r"stevedore\.")
            import bandit.core.config  # type: ignore[import-untyped]  # no py.typed in bandit
            import bandit.core.manager  # type: ignore[import-untyped]  # no py.typed in bandit
    finally:
        stevedore_log.removeFilter(_not_the_sarif_formatter)
    # bandit logs its diagnostics (an unknown test named in a nosec comment) without a handler
    # of its own, so Python's last-resort handler would print them to our users' terminals.
    # A NullHandler, as the logging HOWTO asks of libraries; configured logging still gets them.
    logging.getLogger("bandit").addHandler(logging.NullHandler())
    return bandit  # type: ignore[no-any-return]  # an untyped module is Any to mypy


def _not_the_sarif_formatter(record: logging.LogRecord) -> bool:
    """False for stevedore's "Could not load 'sarif'" record (see `_bandit`)."""
    args = record.args if isinstance(record.args, tuple) else ()
    return not (str(record.msg).startswith("Could not load") and len(args) > 1
                and isinstance(args[0], str) and args[0] == "sarif")
