"""Signed scorecards: in-toto Statement v1 in a DSSE envelope, Ed25519 (readiness.signing)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import readiness.signing as signing
from readiness.items import ITEMS
from readiness.reports import validate_scorecard
from readiness.results import Outcome, ProbeResult
from readiness.scorecard import build
from readiness.scoring import evaluate_gate, score_item
from readiness.signing import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    SigningUsageError,
    VerificationError,
    build_statement,
    dump_envelope,
    generate_keypair,
    git_commit,
    keygen_command,
    pae,
    sign,
    sign_run_output,
    verify,
    verify_command,
    write_keypair,
)

COMPONENTS = {"lead_router/prompts/route_lead.md": "sha256:" + "ab" * 32,
              "lead_router/rules/routing.yaml": "sha256:" + "0" * 64}
KEYS = generate_keypair()
OTHER_KEYS = generate_keypair()


def small_card(*, ready: bool = True, name: str = "lead-router") -> dict[str, Any]:
    """A real scorecard from readiness.scorecard.build: three items run, the rest not_run."""
    outcome = Outcome.PASS if ready else Outcome.FAIL
    items = [score_item(item, [ProbeResult(
        id=f"{item.key}_holds", item=item.key, title="Holds", outcome=outcome,
        message="2 retries, 1.9 s apart", evidence={"gaps_s": [1.9]}, remediation="Back off.")]
        if index < 3 else [], 7.0) for index, item in enumerate(ITEMS)]
    required = [item.key for item in ITEMS[:3]]
    started = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    card = build(agent_name=name, agent_version="1.4.0", components=COMPONENTS,
                 started=started, finished=started + dt.timedelta(seconds=42), items=items,
                 gate=evaluate_gate(items, required, 7.0), incomplete=False, notes=[],
                 run={"config": "readiness.toml", "only": required, "duration_s": 42.0},
                 changes=None)
    validate_scorecard(card)
    return card


def signed_file(card: dict[str, Any] | None = None, **kwargs: Any) -> bytes:
    return dump_envelope(sign(card or small_card(), KEYS[0], **kwargs))


def sign_statement(statement: dict[str, Any], private_pem: bytes = KEYS[0]) -> bytes:
    """Sign any statement, bypassing build_statement: a signer who made a bad statement."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    payload = json.dumps(statement).encode()
    return dump_envelope({
        "payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": signing.keyid(key.public_key()),
                        "sig": base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()}]})


def reasons(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(VerificationError) as caught:
        verify(data, KEYS[1], **kwargs)
    return str(caught.value)


def test_exported_names_exist() -> None:
    assert all(hasattr(signing, name) for name in signing.__all__)


def test_round_trip_follows_dsse_and_in_toto_statement_v1() -> None:
    card = small_card()
    data = signed_file(card, commit="c" * 40)
    assert data == signed_file(card, commit="c" * 40)  # deterministic
    envelope = json.loads(data)
    assert list(envelope) == ["payload", "payloadType", "signatures"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    payload = base64.b64decode(envelope["payload"])
    statement = json.loads(payload)
    listing = "".join(f"{p}\t{d}\n" for p, d in sorted(COMPONENTS.items())).encode()
    assert statement == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "agent:lead-router",
                     "digest": {"sha256": hashlib.sha256(listing).hexdigest()}},
                    {"name": "git-commit", "digest": {"gitCommit": "c" * 40}}],
        "predicateType": PREDICATE_TYPE, "predicate": card}
    # The signature is over PAE as the DSSE protocol spells it, checked independently here.
    public = serialization.load_pem_public_key(KEYS[1])
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(envelope["signatures"][0]["sig"]),
                  b"DSSEv1 28 application/vnd.in-toto+json %d %b" % (len(payload), payload))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert envelope["signatures"][0]["keyid"] == hashlib.sha256(raw).hexdigest()

    result = verify(data, KEYS[1], components=COMPONENTS)
    assert (result.card, result.agent, result.version, result.verdict, result.finished_at,
            result.commit, result.dirty) == (card, "lead-router", "1.4.0", "ready",
                                             "2026-11-25T10:00:42Z", "c" * 40, False)
    assert result.keyid == envelope["signatures"][0]["keyid"]
    assert result.statement == statement


def test_flipping_any_single_byte_fails_verification() -> None:
    data = signed_file()
    assert 2_000 < len(data) < 10_000  # a small file: every position is flipped below
    rng = random.Random(7)
    # Every position XOR 0x01, then 2,000 seeded positions with any other non-zero mask
    # (this is where whitespace could turn into other whitespace, or base64 padding bits flip).
    edits = [(i, 0x01) for i in range(len(data))]
    edits += [(rng.randrange(len(data)), rng.randrange(2, 256)) for _ in range(2_000)]
    survived = []
    for position, mask in edits:
        edited = bytearray(data)
        edited[position] ^= mask
        try:
            verify(bytes(edited), KEYS[1])
        except VerificationError:
            continue
        survived.append((position, mask))
    assert survived == []


def test_appended_or_removed_bytes_fail() -> None:
    data = signed_file()
    for edited in (data + b"\n", data[:-1], b" " + data, data.replace(b"\n", b"\r\n")):
        reasons(edited)


def test_another_key_names_both_keyids() -> None:
    data = signed_file()
    with pytest.raises(VerificationError) as caught:
        verify(data, OTHER_KEYS[1])
    signer = json.loads(data)["signatures"][0]["keyid"]
    other = serialization.load_pem_public_key(OTHER_KEYS[1])
    assert isinstance(other, Ed25519PublicKey)
    assert str(caught.value) == (
        f"no signature by this key: the file is signed by key(s) {signer[:16]}, the key given "
        f"is {signing.keyid(other)[:16]}. Fix: use the public key of whoever signed the "
        "scorecard")


def test_a_forged_keyid_does_not_help() -> None:
    envelope = json.loads(signed_file())
    other = serialization.load_pem_public_key(OTHER_KEYS[1])
    assert isinstance(other, Ed25519PublicKey)
    envelope["signatures"][0]["keyid"] = signing.keyid(other)
    with pytest.raises(VerificationError, match=r"^bad signature: the file was changed after it "
                       r"was signed, or signed with another key$"):
        verify(dump_envelope(envelope), OTHER_KEYS[1])


def test_an_edited_predicate_re_encoded_fails_the_signature() -> None:
    envelope = json.loads(signed_file(small_card(ready=False)))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"] = "ready"
    statement["predicate"]["gate"]["failed"] = []
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    assert reasons(dump_envelope(envelope)).startswith("bad signature: the file was changed")


def test_a_signed_subject_that_does_not_match_its_predicate_fails() -> None:
    statement = build_statement(small_card())
    statement["predicate"]["agent"]["components"]["lead_router/rules/routing.yaml"] = (
        "sha256:" + "1" * 64)  # the predicate now describes other files than the subject
    message = reasons(sign_statement(statement))
    assert message.startswith("the subject does not match the scorecard: no subject "
                              "'agent:lead-router' with sha256 ")
    assert message.endswith("the predicate was altered")
    renamed = build_statement(small_card())
    renamed["predicate"]["agent"]["name"] = "other-agent"
    assert "no subject 'agent:other-agent'" in reasons(sign_statement(renamed))


@pytest.mark.parametrize(("change", "expected"), [
    ({"_type": "https://in-toto.io/Statement/v0.1"}, "not an in-toto Statement v1"),
    ({"subject": "agent"}, "not an in-toto Statement v1"),
    ({"predicate": []}, "not an in-toto Statement v1"),
    ({"predicateType": "https://slsa.dev/provenance/v1"}, "this statement is not a scorecard"),
])
def test_a_signed_payload_that_is_not_our_statement_fails(change: dict[str, Any],
                                                          expected: str) -> None:
    statement = build_statement(small_card()) | change
    assert expected in reasons(sign_statement(statement))


def test_a_signed_predicate_that_is_not_a_scorecard_fails() -> None:
    statement = build_statement(small_card())
    del statement["predicate"]["verdict"]
    assert "not a readiness scorecard" in reasons(sign_statement(statement))


def test_the_buyers_components_must_match() -> None:
    data = signed_file()
    assert verify(data, KEYS[1], components=dict(COMPONENTS)).verdict == "ready"
    theirs = dict(COMPONENTS, **{"lead_router/rules/routing.yaml": "sha256:" + "f" * 64,
                                 "lead_router/tools/crm.py": "sha256:" + "e" * 64})
    del theirs["lead_router/prompts/route_lead.md"]
    assert reasons(data, components=theirs) == (
        "this scorecard is for other components than yours: changed: "
        "'lead_router/rules/routing.yaml'; not in the scorecard: 'lead_router/tools/crm.py'; "
        "only in the scorecard: 'lead_router/prompts/route_lead.md'")


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "not JSON"),
    (b"\xff\xfe{}", "not JSON"),
    (b"[]", "not a DSSE envelope: expected a JSON object"),
    (b'{"payloadType": "x", "signatures": []}', "the 'payload' field is missing"),
    (b'{"payload": "", "signatures": []}', "the 'payloadType' field is missing"),
    (b'{"payload": "", "payloadType": "x"}', "the 'signatures' field is missing"),
    (b'{"payload": 1, "payloadType": "x", "signatures": []}', "must be strings"),
    (b'{"payload": "", "payloadType": "x", "signatures": [{"keyid": "k"}]}',
     "signatures must be a list"),
    (b'{"schema": "readiness.scorecard/v1"}', "this is an unsigned scorecard.json"),
])
def test_not_an_envelope_says_what_is_missing(data: bytes, expected: str) -> None:
    assert expected in reasons(data)


def test_wrong_payload_type_and_missing_signature() -> None:
    envelope = json.loads(signed_file())
    assert "payloadType is 'application/json', expected 'application/vnd.in-toto+json'" in (
        reasons(dump_envelope(envelope | {"payloadType": "application/json"})))
    assert "signed by key(s) (none)" in reasons(dump_envelope(envelope | {"signatures": []}))


def test_a_reformatted_envelope_is_an_edit_too() -> None:
    envelope = json.loads(signed_file())
    reformatted = json.dumps(envelope, indent=4).encode()
    assert "bytes outside the signed payload were edited" in reasons(reformatted)
    extra = dump_envelope(envelope | {"note": "added later"})
    assert "bytes outside the signed payload were edited" in reasons(extra)


def test_components_listing_is_unambiguous() -> None:
    tricky = {"a\tsha256:x\nb": "sha256:y"}
    plain = {"a": "sha256:x", "b": "sha256:y"}
    assert signing.components_listing(tricky) != signing.components_listing(plain)
    assert signing.components_listing(plain) == b"a\tsha256:x\nb\tsha256:y\n"


def test_commit_subject_with_dirty_annotation_and_bad_commit() -> None:
    statement = build_statement(small_card(), commit="d" * 40 + "-dirty")
    assert statement["subject"][1] == {"name": "git-commit", "digest": {"gitCommit": "d" * 40},
                                       "annotations": {"dirty": True}}
    result = verify(signed_file(commit="d" * 40 + "-dirty"), KEYS[1])
    assert (result.commit, result.dirty) == ("d" * 40, True)
    with pytest.raises(ValueError, match="is not a git sha"):
        build_statement(small_card(), commit="main")


def test_keygen_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    private_path, public_path = write_keypair(tmp_path / "keys", "vendor")
    assert (private_path.name, public_path.name) == ("vendor.key", "vendor.pub")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    before = private_path.read_bytes()
    with pytest.raises(SigningUsageError, match=r"already exist.*refusing to overwrite"):
        write_keypair(tmp_path / "keys", "vendor")
    public_path.unlink()  # even half a pair is not overwritten
    with pytest.raises(SigningUsageError, match=r"vendor\.key already exist"):
        write_keypair(tmp_path / "keys", "vendor")
    assert private_path.read_bytes() == before
    with pytest.raises(SigningUsageError, match="not a plain file name"):
        write_keypair(tmp_path, "../escape")


def rsa_pems() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def test_wrong_keys_are_usage_errors_with_a_fix() -> None:
    rsa_private, rsa_public = rsa_pems()
    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"))
    cases = [
        (lambda: sign(small_card(), rsa_private), "the private key is an RSA key; scorecards "
         "are signed with Ed25519 keys only. Fix: create an Ed25519 pair with `readiness keygen`."),
        (lambda: verify(signed_file(), rsa_public), "the public key is an RSA key; scorecards "
         "are signed with Ed25519 keys only"),
        (lambda: verify(signed_file(), KEYS[0]), "the public key is a private key"),
        (lambda: sign(small_card(), KEYS[1]), "the private key is a public key"),
        (lambda: sign(small_card(), encrypted), "is encrypted with a passphrase"),
        (lambda: sign(small_card(), b"not a key"), "is not a PEM private key"),
        (lambda: verify(signed_file(), b""), "is not a PEM public key"),
    ]
    for call, expected in cases:
        with pytest.raises(SigningUsageError) as caught:
            call()
        assert expected in str(caught.value)
        assert isinstance(caught.value, ValueError)


def test_commands_sign_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert keygen_command(tmp_path / "keys", "vendor") == 0
    out = capsys.readouterr().out
    private, public = tmp_path / "keys" / "vendor.key", tmp_path / "keys" / "vendor.pub"
    assert f"private key: {private}" in out and f"public key:  {public}" in out
    assert "Keep the private key secret" in out

    path = sign_run_output(small_card(), private, tmp_path / "report", "a" * 40)
    assert path == tmp_path / "report" / "scorecard.signed.json"
    assert [p.name for p in path.parent.iterdir()] == ["scorecard.signed.json"]
    assert verify_command(path, public, None) == 0
    keyid = json.loads(path.read_bytes())["signatures"][0]["keyid"]
    assert capsys.readouterr().out == (
        "VERIFIED: lead-router 1.4.0, verdict ready, finished 2026-11-25T10:00:42Z, signed by "
        f"key {keyid[:16]}\n  tested at git commit {'a' * 40}\n")

    not_ready = sign_run_output(small_card(ready=False), private, tmp_path / "nr", None)
    assert verify_command(not_ready, public, None) == 1
    out = capsys.readouterr().out
    assert out.startswith("VERIFIED: lead-router 1.4.0, verdict not_ready")
    assert "genuine but NOT READY (gate failed: error_handling, audit, rollback); exit 1" in out

    path.write_bytes(path.read_bytes().replace(b'"payloadType"', b'"payloadtype"'))
    assert verify_command(path, public, None) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"NOT VERIFIED: {path}: not a DSSE envelope: the 'payloadType' "
                            "field is missing\n")


@pytest.mark.parametrize("form", ["map", "version", "scorecard"])
def test_verify_command_reads_the_buyers_components(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str) -> None:
    private, public = write_keypair(tmp_path)
    path = sign_run_output(small_card(), private, tmp_path, None)
    content = {"map": COMPONENTS, "version": {"version": "1.4.0", "components": COMPONENTS},
               "scorecard": small_card()}[form]
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(content))
    assert verify_command(path, public, mine) == 0
    assert f"components match {mine} (2 files)" in capsys.readouterr().out
    mine.write_text(json.dumps({"other.md": "sha256:" + "1" * 64}))
    assert verify_command(path, public, mine) == 1
    assert "for other components than yours" in capsys.readouterr().err


def test_verify_command_usage_errors(tmp_path: Path) -> None:
    private, public = write_keypair(tmp_path)
    path = sign_run_output(small_card(), private, tmp_path, None)
    bad = tmp_path / "bad.json"
    bad.write_text('["not", "a", "map"]')
    cases = [
        ((path, None, None), "no key given"),
        ((path, tmp_path / "missing.pub", None), "cannot read the public key"),
        ((tmp_path / "missing.json", public, None), "cannot read the signed scorecard"),
        ((path, public, tmp_path / "missing.json"), "cannot read the components file"),
        ((path, public, bad), "expected the agent's component hashes as JSON"),
        ((path, private, None), f"the public key {private} is a private key"),
    ]
    for arguments, expected in cases:
        with pytest.raises(SigningUsageError) as caught:
            verify_command(*arguments)
        assert expected in str(caught.value)
    with pytest.raises(SigningUsageError, match="cannot read the private key"):
        sign_run_output(small_card(), tmp_path / "missing.key", tmp_path, None)


def test_agent_strings_cannot_drive_the_terminal(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    private, public = write_keypair(tmp_path)
    card = small_card(name="evil\x1b]0;pwned\x07\x1b[2J\nVERIFIED: fake\u202e")
    path = sign_run_output(card, private, tmp_path, None)
    assert verify_command(path, public, None) == 0
    out = capsys.readouterr().out
    assert out.startswith("VERIFIED: evil VERIFIED: fake 1.4.0, verdict ready")
    assert "\x1b" not in out and "\u202e" not in out and out.count("\n") == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None  # not a work tree (tmp_path is outside any repo)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                               "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    assert git_commit(tmp_path) is None  # no commit yet
    (tmp_path / "prompt.md").write_text("v1")
    git("add", "prompt.md")
    git("commit", "-q", "-m", "v1")
    head = git("rev-parse", "HEAD")
    (tmp_path / "readiness-report").mkdir()
    (tmp_path / "readiness-report" / "scorecard.json").write_text("{}")  # untracked: clean
    assert git_commit(tmp_path) == head
    (tmp_path / "prompt.md").write_text("v2")
    assert git_commit(tmp_path) == f"{head}-dirty"
    assert build_statement(small_card(), commit=git_commit(tmp_path))["subject"][1][
        "annotations"] == {"dirty": True}
