"""agent-readiness: decide, with evidence, whether an AI agent is ready for production.

The core runs the nine-point readiness suite from a configuration and returns a
scorecard; the pytest plugin (`pytest --readiness`) and the CLI (`readiness run`)
are thin layers over it.
"""

__version__ = "0.1.0"

from readiness.config import Config, ConfigError, load_config
from readiness.items import ITEM_KEYS, ITEMS, Item
from readiness.registry import REGISTRY, observer, probe
from readiness.results import (
    Finding,
    Interrupted,
    Outcome,
    ProbeResult,
    errored,
    failed,
    not_applicable,
    passed,
)

__all__ = [
    "ITEMS",
    "ITEM_KEYS",
    "REGISTRY",
    "Config",
    "ConfigError",
    "Finding",
    "Interrupted",
    "Item",
    "Outcome",
    "ProbeResult",
    "__version__",
    "errored",
    "failed",
    "load_config",
    "not_applicable",
    "observer",
    "passed",
    "probe",
]
