"""Scorecards as in-toto Statement v1 in a DSSE envelope, signed and verified with Ed25519."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from readiness.signing._keys import keyid, private_key_from_pem, public_key_from_pem

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://agent-readiness.dev/scorecard/v1"
COMMIT_SUBJECT = "git-commit"
_COMMIT = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})(-dirty)?")
# Escaped in the component listing so that no two component maps list the same way.
_LISTING_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_CHANGED = "the file was changed after it was signed, or signed with another key"


class VerificationError(Exception):
    """The signed scorecard is not authentic, or not the one the buyer asked about."""


@dataclass(frozen=True)
class Verified:
    """What a verified envelope attests, all from the signed payload."""

    statement: dict[str, Any]
    card: dict[str, Any]
    agent: str
    version: str | None
    verdict: str
    finished_at: str
    keyid: str
    commit: str | None  # the git commit subject, if the signer knew it
    dirty: bool  # the signer's working tree had uncommitted changes to tracked files


def components_listing(components: Mapping[str, str]) -> bytes:
    """The bytes the agent subject's sha256 covers: sorted `path<TAB>digest<LF>` lines.

    Backslash, tab, newline and return inside a path or digest are written as
    `\\\\`, `\\t`, `\\n`, `\\r` (as sha256sum does), so the listing is unambiguous.
    """
    lines = (f"{p.translate(_LISTING_ESCAPES)}\t{d.translate(_LISTING_ESCAPES)}\n"
             for p, d in sorted(components.items()))
    return "".join(lines).encode("utf-8", errors="surrogatepass")


def build_statement(card: Mapping[str, Any], *, commit: str | None = None) -> dict[str, Any]:
    """The in-toto Statement v1 for a scorecard.

    Subjects: `agent:<name>` with the sha256 of `components_listing` of the
    card's components, and, when `commit` is given, `git-commit` with digest
    `{"gitCommit": sha}` (a `-dirty` suffix, as `git_commit` returns it, becomes
    the annotation `{"dirty": true}`). The predicate is the scorecard itself.

    Raises:
        ValueError: the card has no agent name or components, or `commit` is not a sha.
    """
    name, components = _agent_of(card, ValueError)
    subjects: list[dict[str, Any]] = [{
        "name": f"agent:{name}",
        "digest": {"sha256": hashlib.sha256(components_listing(components)).hexdigest()},
    }]
    if commit is not None:
        match = _COMMIT.fullmatch(commit)
        if match is None:
            raise ValueError(f"commit {commit!r} is not a git sha (40 or 64 lowercase hex "
                             "digits, optionally with -dirty)")
        subject: dict[str, Any] = {"name": COMMIT_SUBJECT, "digest": {"gitCommit": match[1]}}
        if match[2]:
            subject["annotations"] = {"dirty": True}
        subjects.append(subject)
    return {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": PREDICATE_TYPE,
            "predicate": dict(card)}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: the bytes the signature covers."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def sign(card: Mapping[str, Any], private_key: bytes | Ed25519PrivateKey, *,
         commit: str | None = None) -> dict[str, Any]:
    """The DSSE envelope of `build_statement(card, commit=commit)`, signed with an Ed25519 key.

    `private_key` is PEM bytes (unencrypted PKCS8) or a loaded key. Ed25519 is
    deterministic, so the same card, commit and key give the same envelope.
    """
    key = private_key if isinstance(private_key, Ed25519PrivateKey) else (
        private_key_from_pem(private_key))
    payload = json.dumps(build_statement(card, commit=commit), ensure_ascii=True,
                         separators=(",", ":")).encode("ascii")
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return _envelope(_b64(payload), PAYLOAD_TYPE,
                     [{"keyid": keyid(key.public_key()), "sig": _b64(signature)}])


def dump_envelope(envelope: Mapping[str, Any]) -> bytes:
    """An envelope file's exact bytes: ASCII JSON indented two spaces, trailing newline."""
    return (json.dumps(envelope, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def verify(envelope_bytes: bytes, public_key: bytes | Ed25519PublicKey, *,
           components: Mapping[str, str] | None = None) -> Verified:
    """Check a signed scorecard file byte for byte and return what it attests.

    The file must be exactly as `dump_envelope` wrote it: DSSE lets consumers
    ignore unknown fields and layout, but DESIGN.md section 6 asks that any
    edited byte be rejected, so this is stricter than DSSE (the files remain
    standard envelopes that other DSSE tools verify).

    Args:
        envelope_bytes: the content of scorecard.signed.json.
        public_key: the vendor's Ed25519 public key, PEM bytes or loaded.
        components: the buyer's own copy of the agent's component hashes
            (`{"path": "sha256:..."}`); when given, a scorecard about any other
            set of components is rejected.

    Raises:
        VerificationError: the message says which check failed and why.
        SigningUsageError: `public_key` is not an Ed25519 public key.
    """
    key = public_key if isinstance(public_key, Ed25519PublicKey) else (
        public_key_from_pem(public_key))
    envelope = _parse_envelope(envelope_bytes)
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise VerificationError(f"payloadType is {envelope['payloadType']!r}, expected "
                                f"{PAYLOAD_TYPE!r}: this envelope does not hold an in-toto "
                                "statement")
    own = keyid(key)
    candidates = [s for s in envelope["signatures"] if s["keyid"] in (own, "")]
    if not candidates:
        found = ", ".join(s["keyid"][:16] or "(none)" for s in envelope["signatures"])
        raise VerificationError(f"no signature by this key: the file is signed by key(s) "
                                f"{found or '(none)'}, the key given is {own[:16]}. Fix: use "
                                "the public key of whoever signed the scorecard")
    payload = _unb64(envelope["payload"], "payload")
    message = pae(PAYLOAD_TYPE, payload)
    if not any(_valid(key, _unb64(s["sig"], "signature"), message) for s in candidates):
        raise VerificationError(f"bad signature: {_CHANGED}")
    if dump_envelope(envelope) != envelope_bytes:
        raise VerificationError("the signature is valid, but bytes outside the signed payload "
                                "were edited (layout, key order or extra fields): only the "
                                "file exactly as `readiness` wrote it is accepted")
    return _attested(payload, own, components)


def _parse_envelope(data: bytes) -> dict[str, Any]:
    """The envelope's fields in their canonical order, or why it is not a DSSE envelope."""
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"not JSON ({exc}): the file was edited, or it is not a "
                                "signed scorecard") from None
    if not isinstance(envelope, dict):
        raise VerificationError("not a DSSE envelope: expected a JSON object")
    if envelope.get("schema") == "readiness.scorecard/v1":
        raise VerificationError("this is an unsigned scorecard.json; verify the "
                                "scorecard.signed.json that `readiness run --sign KEY` writes")
    for field in ("payload", "payloadType", "signatures"):
        if field not in envelope:
            raise VerificationError(f"not a DSSE envelope: the {field!r} field is missing")
    if not isinstance(envelope["payload"], str) or not isinstance(envelope["payloadType"], str):
        raise VerificationError("not a DSSE envelope: payload and payloadType must be strings")
    signatures = envelope["signatures"]
    if not isinstance(signatures, list) or not all(
            isinstance(s, dict) and isinstance(s.get("sig"), str)
            and isinstance(s.get("keyid", ""), str) for s in signatures):
        raise VerificationError("not a DSSE envelope: signatures must be a list of "
                                '{"keyid": str, "sig": str}')
    return _envelope(envelope["payload"], envelope["payloadType"],
                     [{"keyid": s.get("keyid", ""), "sig": s["sig"]} for s in signatures])


def _attested(payload: bytes, own: str, components: Mapping[str, str] | None) -> Verified:
    """Check the signed statement's shape and subjects; the facts it attests."""
    try:
        statement = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        statement = None
    if not (isinstance(statement, dict) and statement.get("_type") == STATEMENT_TYPE
            and isinstance(statement.get("subject"), list)
            and isinstance(statement.get("predicate"), dict)):
        raise VerificationError(f"the signed payload is not an in-toto Statement v1 "
                                f"(_type {STATEMENT_TYPE}, subject, predicate)")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise VerificationError(f"predicateType is {statement.get('predicateType')!r}, "
                                f"expected {PREDICATE_TYPE!r}: this statement is not a scorecard")
    card: dict[str, Any] = statement["predicate"]
    name, inside = _agent_of(card, VerificationError)
    subjects = {s.get("name"): s for s in statement["subject"] if isinstance(s, dict)}
    digest = hashlib.sha256(components_listing(inside)).hexdigest()
    signed_digest = (subjects.get(f"agent:{name}") or {}).get("digest") or {}
    if signed_digest.get("sha256") != digest:
        raise VerificationError(f"the subject does not match the scorecard: no subject "
                                f"'agent:{name}' with sha256 {digest[:16]}… (the digest of the "
                                "components inside the predicate); the predicate was altered")
    if components is not None and dict(components) != inside:
        raise VerificationError("this scorecard is for other components than yours: "
                                + _diff(components, inside))
    verdict, finished = card.get("verdict"), card.get("finished_at")
    version = card["agent"].get("version")
    if verdict not in ("ready", "not_ready") or not isinstance(finished, str) or not (
            version is None or isinstance(version, str)):
        raise VerificationError("the predicate is not a readiness scorecard (verdict, "
                                "finished_at or agent.version missing or of the wrong type)")
    commit = (subjects.get(COMMIT_SUBJECT) or {}).get("digest", {}).get("gitCommit")
    dirty = bool(((subjects.get(COMMIT_SUBJECT) or {}).get("annotations") or {}).get("dirty"))
    return Verified(statement, card, name, version, verdict, finished, own,
                    commit if isinstance(commit, str) else None, dirty)


def _agent_of(card: Mapping[str, Any], error: type[Exception]) -> tuple[str, dict[str, str]]:
    """The card's agent name and components, checked for type."""
    agent = card.get("agent")
    name = agent.get("name") if isinstance(agent, dict) else None
    components = agent.get("components") if isinstance(agent, dict) else None
    if not isinstance(name, str) or not isinstance(components, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in components.items()):
        raise error("the scorecard has no agent.name (a string) and agent.components "
                    '({"path": "sha256:..."})')
    return name, components


def _diff(expected: Mapping[str, str], signed: Mapping[str, str]) -> str:
    """Which paths differ between the buyer's components and the signed ones."""
    parts = []
    for label, paths in (
            ("changed", [p for p in expected if p in signed and signed[p] != expected[p]]),
            ("not in the scorecard", [p for p in expected if p not in signed]),
            ("only in the scorecard", [p for p in signed if p not in expected])):
        if paths:
            shown = ", ".join(repr(p) for p in sorted(paths)[:5])
            parts.append(f"{label}: {shown}{' and more' if len(paths) > 5 else ''}")
    return "; ".join(parts)


def _envelope(payload: str, payload_type: str, signatures: list[dict[str, str]]
              ) -> dict[str, Any]:
    return {"payload": payload, "payloadType": payload_type, "signatures": signatures}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, field: str) -> bytes:
    """Strict standard base64: any other spelling of the same bytes is an edit too."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = None
    if data is None or _b64(data) != text:
        raise VerificationError(f"the {field} is not valid base64: {_CHANGED}")
    return data


def _valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
