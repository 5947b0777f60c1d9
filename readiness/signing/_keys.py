"""Ed25519 key pairs for signing scorecards: generate, write, load, name (keyid)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from readiness.config.errors import ReadinessUsageError

KEYGEN_FIX = "create an Ed25519 pair with `readiness keygen`"


class SigningUsageError(ReadinessUsageError, ValueError):
    """A key or file the user named cannot be read or is the wrong kind; exit 2, no traceback."""


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as PEM: (unencrypted PKCS8 private key, SubjectPublicKeyInfo)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def write_keypair(directory: Path, name: str = "readiness") -> tuple[Path, Path]:
    """Write a new key pair as `NAME.key` (mode 0600) and `NAME.pub` in `directory`.

    Returns:
        (private key path, public key path).

    Raises:
        SigningUsageError: either file exists already (nothing is overwritten or
            written), or the directory cannot be written.
    """
    if not name or Path(name).name != name:
        raise SigningUsageError(f"key name {name!r} is not a plain file name; give a name such "
                                "as `readiness` and choose the folder separately")
    private_path, public_path = directory / f"{name}.key", directory / f"{name}.pub"
    existing = [str(p) for p in (private_path, public_path) if p.exists() or p.is_symlink()]
    if existing:
        raise SigningUsageError(
            f"{' and '.join(existing)} already exist(s); refusing to overwrite a signing key "
            "(scorecards signed with it could no longer be verified by anyone holding only the "
            "new public key). Fix: choose another name or folder, or move the old files away.")
    private, public = generate_keypair()
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, data, mode in ((private_path, private, 0o600), (public_path, public, 0o644)):
            _write_new(path, data, mode)
            written.append(path)
    except OSError as exc:
        for path in written:  # never leave half a pair behind (nor delete what we did not write)
            path.unlink(missing_ok=True)
        raise SigningUsageError(f"cannot write the key pair into {directory}: "
                                f"{exc.strerror or exc}. Fix: choose a writable folder and a "
                                "name not in use.") from None
    return private_path, public_path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (failing if it exists, even as a dangling link) with `mode`, then write."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as stream:
        os.fchmod(stream.fileno(), mode)  # the umask may only have narrowed it; be exact
        stream.write(data)


def keyid(public_key: Ed25519PublicKey) -> str:
    """The key's name in envelopes: sha256 hex of its 32 raw public-key bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def private_key_from_pem(pem: bytes, where: str = "the private key") -> Ed25519PrivateKey:
    """Parse an unencrypted PEM Ed25519 private key; SigningUsageError says what is wrong."""
    if b"PUBLIC KEY-----" in pem and b"PRIVATE KEY-----" not in pem:
        raise SigningUsageError(f"{where} is a public key; signing needs the private key (the "
                                "NAME.key file `readiness keygen` wrote).")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise SigningUsageError(
            f"{where} is encrypted with a passphrase; readiness reads unencrypted PKCS8 keys. "
            "Fix: protect the file by permissions or a secrets manager and decrypt it, e.g. "
            "`openssl pkey -in KEY -out KEY.plain`.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningUsageError(f"{where} is not a PEM private key. Fix: {KEYGEN_FIX}.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningUsageError(f"{where} is {_kind(key)} key; scorecards are signed with "
                                f"Ed25519 keys only. Fix: {KEYGEN_FIX}.")
    return key


def public_key_from_pem(pem: bytes, where: str = "the public key") -> Ed25519PublicKey:
    """Parse a PEM Ed25519 public key; SigningUsageError says what is wrong."""
    if b"PRIVATE KEY-----" in pem:
        raise SigningUsageError(
            f"{where} is a private key; verifying needs the public key (the NAME.pub file "
            "`readiness keygen` wrote). A vendor hands buyers the .pub file, never the .key.")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise SigningUsageError(f"{where} is not a PEM public key; expected the NAME.pub file "
                                "`readiness keygen` wrote (-----BEGIN PUBLIC KEY-----).") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningUsageError(f"{where} is {_kind(key)} key; scorecards are signed with "
                                "Ed25519 keys only. Fix: ask the vendor for the Ed25519 public "
                                "key (`readiness keygen` writes one).")
    return key


def read_key_file(path: Path, what: str) -> bytes:
    """The bytes of a key file, or a SigningUsageError naming the file and the problem."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningUsageError(f"cannot read the {what} {path}: {exc.strerror or exc}. "
                                f"Fix: give the path of the {what} file.") from None


def _kind(key: object) -> str:
    """'an RSA', 'an EC', 'a DSA': the key's algorithm with its article."""
    name = type(key).__name__.removesuffix("PrivateKey").removesuffix("PublicKey") or "another"
    return f"{'an' if name[0] in 'AEIORSX' else 'a'} {name}"
