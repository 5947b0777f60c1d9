"""A detect-secrets filter for values that stand in for a secret rather than being one.

detect-secrets already drops templates (``${VAR}``, ``{var}``, ``<var>``), indirect reads
(``os.environ[...]``) and non-alphanumeric runs (``****``); this adds the words people
type where a real secret will go (``changeme``, ``your-api-key-here``, ``EXAMPLE``) and the
names of secret types themselves (``secret_type = "AWS Access Key"`` in a baseline file).
"""

from __future__ import annotations

import re

from readiness.security_checks._detectors import known_secret_types

_WORDS = frozenset({
    "changeme", "changeit", "changethis", "replaceme", "placeholder", "redacted", "dummy",
    "notset", "unset", "none", "null", "nil", "todo", "tbd", "fixme", "secret", "password",
    "passwd", "token", "apikey", "example", "sample", "xxx", "test",
    # what OpenAI-compatible local servers and our sim:openai accept as a key
    "ollama", "lmstudio", "local", "sim",
})
_INSIDE = ("changeme", "placeholder", "example", "redacted", "replaceme")
_PREFIXES = ("your", "insert", "enter", "replace", "putyour", "addyour")
_FILLER = re.compile(r"^([xX*.#_-])\1*$")


def is_placeholder_secret(secret: str) -> bool:
    """Whether a detected value is a placeholder; detect-secrets injects ``secret``."""
    letters = re.sub(r"[^a-z0-9]", "", secret.lower())
    return (
        not letters
        or letters in _WORDS
        or any(word in letters for word in _INSIDE)
        or letters.startswith(_PREFIXES)
        or letters.endswith("here")
        or bool(_FILLER.match(secret))
        or secret in known_secret_types()
    )
