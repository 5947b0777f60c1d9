"""Hard-coded secrets in the agent's source, prompts, tools, rules and config (detect-secrets).

Every credential detector of detect-secrets runs (cloud, VCS, chat, payment and API keys,
JWTs, private keys, high-entropy strings, secret keywords), behind its own false-positive
filters and ours for placeholders (``changeme``, ``your-key-here``). No finding carries
the secret: each shows its line with the value masked.
"""

from __future__ import annotations

import glob
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from readiness.security_checks._detectors import (
    ENTROPY_TYPES,
    KEYWORD_TYPE,
    detector_settings,
)
from readiness.security_checks._files import relative, resolve_sources, walk
from readiness.security_checks._masking import mask_line, mask_token, spans
from readiness.security_checks.baseline import Baseline

if TYPE_CHECKING:
    from detect_secrets.core.potential_secret import PotentialSecret

TEXT_SUFFIXES = frozenset({".py", ".md", ".toml", ".yaml", ".yml", ".json", ".txt", ".cfg",
                           ".ini", ".env"})
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class SecretFinding:
    """A hard-coded secret; `masked` is its line with the value starred out."""

    file: str  # relative to the project root, posix
    line: int
    kind: str  # detect-secrets' secret type, e.g. "AWS Access Key"
    masked: str  # the line, the secret reduced to its first characters and stars
    accepted: str | None = None  # the baseline's reason, when a reviewed finding was accepted


def candidate_files(root: Path, sources: Sequence[str], extra: Sequence[str]) -> list[Path]:
    """The files to search for secrets: text files under `sources`, plus `extra` globs.

    Under `sources` (paths relative to `root`; a missing one raises ``ValueError``),
    files with a text suffix (``.py .md .toml .yaml .yml .json .txt .cfg .ini .env``),
    ``.env.*`` files and extensionless text files count. `extra` are glob patterns
    relative to `root` (``**`` recursive), such as the prompt, tool and rule patterns
    of ``[version] files`` and the config file; whatever text file they match counts, and
    a pattern that matches nothing is skipped.
    """
    chosen: dict[Path, Path] = {}
    for source in resolve_sources(root, sources):
        for path in walk(source):
            if not source.is_dir() or _text_by_name(path):
                chosen.setdefault(path.resolve(), path)
    for pattern in extra:
        for match in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            for path in walk(Path(match)):
                if _looks_like_text(path):
                    chosen.setdefault(path.resolve(), path)
    return sorted(chosen.values())


def find_secrets(root: Path, files: Sequence[Path],
                 baseline: Baseline | None = None) -> tuple[SecretFinding, ...]:
    """Scan `files` with detect-secrets; one finding per secret, most specific type first.

    When several detectors flag the same value (GitHub's token detector and the entropy
    detector, say), the named detector wins over the keyword detector, which wins over
    the entropy ones. A finding a `baseline` entry covers is kept, marked with its reason;
    the baseline file itself is not scanned.
    Not network-bound: detect-secrets' live verification of secrets stays off.
    """
    with detector_settings():
        from detect_secrets.core.secrets_collection import SecretsCollection

        collection = SecretsCollection(root=str(root))
        skipped = baseline.path.resolve() if baseline and baseline.path else None
        for path in files:
            if path.resolve() != skipped:  # it names secret types, it holds none
                collection.scan_file(os.path.relpath(path, root))
    findings = []
    for name, secrets in collection.data.items():
        by_line: dict[int, list[PotentialSecret]] = defaultdict(list)
        for secret in secrets:
            by_line[int(secret.line_number)].append(secret)
        lines = _read_lines(root / name)
        for number, found in by_line.items():
            line = lines[number - 1] if 0 < number <= len(lines) else ""
            findings.extend(_line_findings(relative(root, root / name), number, line,
                                           found, baseline))
    return tuple(sorted(findings, key=lambda f: (f.file, f.line, f.kind)))


def _line_findings(file: str, number: int, line: str, found: list[PotentialSecret],
                   baseline: Baseline | None) -> list[SecretFinding]:
    """One finding per distinct secret on a line, each showing the line fully masked."""
    values = [secret.secret_value or "" for secret in found]
    # The raw line is shown only when every value is located in it (and so masked there).
    masked_line = mask_line(line, values) if all(v and v in line for v in values) else None
    kept: list[SecretFinding] = []
    taken: list[tuple[int, int]] = []
    seen_kinds: set[str] = set()
    for secret in sorted(found, key=lambda s: (_specificity(s.type), s.type)):
        value = secret.secret_value or ""
        where = spans(line, value)
        if any(b < t_end and t_begin < e for b, e in where for t_begin, t_end in taken):
            continue  # a more specific detector already reported this value
        if not where and secret.type in seen_kinds:
            continue
        taken.extend(where)
        seen_kinds.add(secret.type)
        kind = secret.type
        accepted = baseline.reason_for_secret(file, kind, number) if baseline else None
        kept.append(SecretFinding(file, number, kind,
                                  masked_line if masked_line is not None
                                  else f"(value) {mask_token(value)}", accepted))
    return kept


def _specificity(kind: str) -> int:
    return 2 if kind in ENTROPY_TYPES else 1 if kind == KEYWORD_TYPE else 0


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _text_by_name(path: Path) -> bool:
    if path.suffix in TEXT_SUFFIXES or path.name.startswith(".env"):
        return True
    return not path.suffix and _looks_like_text(path)


def _looks_like_text(path: Path) -> bool:
    """UTF-8 without NUL bytes in its first 8 KiB."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 3  # a multi-byte character cut at the boundary
    return True
