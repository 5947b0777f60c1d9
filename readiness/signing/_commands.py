"""What `readiness keygen`, `readiness verify` and `readiness run --sign` do, minus argparse.

User mistakes (unreadable or wrong keys and files) raise SigningUsageError, a
ReadinessUsageError that `readiness.cli.main` prints without a traceback, exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from readiness.reports._text import agent_label, clip, one_line
from readiness.signing._envelope import VerificationError, dump_envelope, sign, verify
from readiness.signing._keys import (
    SigningUsageError,
    private_key_from_pem,
    public_key_from_pem,
    read_key_file,
    write_keypair,
)

SIGNED_FILE = "scorecard.signed.json"


def keygen_command(out_dir: Path, name: str = "readiness") -> int:
    """Write a new key pair into `out_dir`, print both paths; 0, or SigningUsageError."""
    private_path, public_path = write_keypair(out_dir, name)
    print(f"private key: {private_path}  (mode 0600; signs scorecards: `readiness run --sign "
          f"{private_path}`)")
    print(f"public key:  {public_path}  (hand this to buyers: `readiness verify "
          f"{SIGNED_FILE} --key {public_path}`)")
    print("Keep the private key secret: store it in your CI's secret store, never commit it.")
    return 0


def sign_run_output(card: dict[str, Any], key: Path, out_dir: Path,
                    commit: str | None = None) -> Path:
    """Sign a run's scorecard with the private key file `key`; write OUT/scorecard.signed.json.

    The file is written atomically (temporary file, then rename) and is
    deterministic: the same card, key and commit give the same bytes.

    Raises:
        SigningUsageError: the key file is unreadable, encrypted or not Ed25519.
    """
    private_key = private_key_from_pem(read_key_file(key, "private key"),
                                       where=f"the private key {key}")
    data = dump_envelope(sign(card, private_key, commit=commit))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SIGNED_FILE
    fd, temporary = tempfile.mkstemp(prefix=f".{SIGNED_FILE}.", suffix=".tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def verify_command(file: Path, key: Path | None, components: Path | None = None) -> int:
    """Verify a signed scorecard for a buyer and print the outcome.

    Returns:
        0 when the signature verifies and the verdict is ready; 1 when
        verification fails (NOT VERIFIED on stderr, with the reason) or the
        genuine scorecard's verdict is not_ready (as `readiness run` exits).

    Raises:
        SigningUsageError: no key given, or the file, key or components file
            cannot be read or is the wrong kind (exit 2).
    """
    if key is None:
        raise SigningUsageError(f"{file}: no key given; a signed scorecard can only be checked "
                                "against its signer's key. Fix: add --key VENDOR.pub (the public "
                                "key the vendor published or sent you).")
    public_key = public_key_from_pem(read_key_file(key, "public key"),
                                     where=f"the public key {key}")
    expected = _read_components(components) if components is not None else None
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SigningUsageError(f"cannot read the signed scorecard {file}: "
                                f"{exc.strerror or exc}. Fix: give the path of "
                                f"{SIGNED_FILE}.") from None
    try:
        result = verify(data, public_key, components=expected)
    except VerificationError as exc:
        print(f"NOT VERIFIED: {file}: {one_line(str(exc))}", file=sys.stderr)
        return 1
    print(f"VERIFIED: {_shown(agent_label(result.card))}, "
          f"verdict {result.verdict}, finished {_shown(result.finished_at)}, "
          f"signed by key {result.keyid[:16]}")
    if result.commit:
        dirty = " with uncommitted changes" if result.dirty else ""
        print(f"  tested at git commit {result.commit}{dirty}")
    if components is not None:
        print(f"  components match {components} ({len(expected or {})} files)")
    if result.verdict == "ready":
        return 0
    failed = result.card.get("gate", {}).get("failed") or []
    names = ", ".join(_shown(str(k)) for k in failed) if isinstance(failed, list) else ""
    print(f"  the scorecard is genuine but NOT READY{f' (gate failed: {names})' if names else ''}"
          "; exit 1")
    return 1


def git_commit(root: Path) -> str | None:
    """HEAD's sha in the git work tree at `root`, with `-dirty` if tracked files changed.

    None outside a git work tree or without git. Untracked files do not count:
    the report folder is usually one. `build_statement` turns the suffix into
    the commit subject's `{"dirty": true}` annotation.
    """
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "--verify", "--quiet", "HEAD")
    if not sha:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}-dirty" if status else sha


def _read_components(path: Path) -> dict[str, str]:
    """The buyer's component hashes: a JSON map, an agent's /version body, or a scorecard."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SigningUsageError(f"cannot read the components file {path}: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
    if isinstance(data, dict) and isinstance(data.get("agent"), dict):
        data = data["agent"].get("components")  # a scorecard.json
    elif isinstance(data, dict) and isinstance(data.get("components"), dict):
        data = data["components"]  # the agent's GET /version body
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise SigningUsageError(
            f"{path}: expected the agent's component hashes as JSON: "
            '{"<path>": "sha256:<hex>"}, the agent\'s GET /version body, or a scorecard.json. '
            "Fix: save `curl AGENT/version` to a file and pass that.")
    return data


def _shown(text: str) -> str:
    """An agent-supplied string made safe for a terminal line."""
    return clip(one_line(text), 120)
