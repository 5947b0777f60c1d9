"""Signed scorecards a vendor hands to a buyer (DESIGN.md section 6).

A signed scorecard is an in-toto Statement v1 in a DSSE envelope signed with an
Ed25519 key (`scorecard.signed.json`):

- subject `agent:<name>`: sha256 of the agent's component listing
  (`components_listing`: sorted `path<TAB>sha256:<hex><LF>` lines), and, when
  known, subject `git-commit` with digest `{"gitCommit": sha}`;
- predicateType `PREDICATE_TYPE`; predicate: scorecard.json's content;
- payloadType `application/vnd.in-toto+json`; keyid: sha256 hex of the raw
  public key.

`verify` rejects any edited byte of the file, a signature by another key, and a
statement whose subject does not match its own predicate or, when the buyer
gives them, the buyer's copy of the component hashes.
"""

from __future__ import annotations

from readiness.signing._commands import (
    SIGNED_FILE,
    git_commit,
    keygen_command,
    sign_run_output,
    verify_command,
)
from readiness.signing._envelope import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    VerificationError,
    Verified,
    build_statement,
    components_listing,
    dump_envelope,
    pae,
    sign,
    verify,
)
from readiness.signing._keys import (
    SigningUsageError,
    generate_keypair,
    keyid,
    private_key_from_pem,
    public_key_from_pem,
    write_keypair,
)

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "SIGNED_FILE",
    "STATEMENT_TYPE",
    "SigningUsageError",
    "VerificationError",
    "Verified",
    "build_statement",
    "components_listing",
    "dump_envelope",
    "generate_keypair",
    "git_commit",
    "keygen_command",
    "keyid",
    "pae",
    "private_key_from_pem",
    "public_key_from_pem",
    "sign",
    "sign_run_output",
    "verify",
    "verify_command",
    "write_keypair",
]
