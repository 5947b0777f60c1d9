"""detect-secrets, imported lazily and configured for one scan at a time."""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

# Not credentials: a public IP address in a config is no hard-coded secret.
_NOT_SECRETS = frozenset({"Public IP (ipv4)"})
# Our own filter, plugged in through detect-secrets' filter mechanism (an import path).
PLACEHOLDER_FILTER = "readiness.security_checks._placeholders.is_placeholder_secret"
ENTROPY_TYPES = frozenset({"Base64 High Entropy String", "Hex High Entropy String"})
KEYWORD_TYPE = "Secret Keyword"

# detect-secrets keeps its settings in a process-wide singleton; one scan at a time.
_SETTINGS_LOCK = threading.Lock()


@functools.cache
def _detect_secrets() -> ModuleType:
    """Import detect-secrets without letting it reroute the process's warnings.

    Its logger module calls ``logging.captureWarnings(True)`` at import, which would
    send every later ``warnings.warn`` in the user's process to the logging system.
    Undo that unless the process had already asked for it.
    """
    before = warnings.showwarning
    import detect_secrets.settings

    if warnings.showwarning is not before:
        logging.captureWarnings(False)
    return detect_secrets


@functools.cache
def known_secret_types() -> tuple[str, ...]:
    """The secret types our scan reports, e.g. "AWS Access Key"."""
    _detect_secrets()
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(kind for kind in get_mapping_from_secret_type_to_class()
                 if kind not in _NOT_SECRETS)


@contextmanager
def detector_settings() -> Iterator[None]:
    """Every credential detector, detect-secrets' default filters and our placeholder filter.

    Held under a lock and restored afterwards, since the settings are global.
    """
    _detect_secrets()
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import Settings, transient_settings

    mapping: dict[str, type] = get_mapping_from_secret_type_to_class()
    plugins = [{"name": cls.__name__} for kind, cls in mapping.items() if kind not in _NOT_SECRETS]
    default_filters = sorted(set(Settings().filters) - Settings.DEFAULT_FILTERS)
    filters = [{"path": path} for path in [*default_filters, PLACEHOLDER_FILTER]]
    with _SETTINGS_LOCK, transient_settings({"plugins_used": plugins, "filters_used": filters}):
        yield
