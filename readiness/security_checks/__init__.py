"""Item 6, static side: bandit over the agent's code, detect-secrets over its files.

Pure library code the security probes call; findings a team has reviewed are accepted,
with a reason, in a baseline file (``[security] baseline`` in the config).
"""

from readiness.security_checks.baseline import Acceptance, Baseline, load_baseline
from readiness.security_checks.secrets import SecretFinding, candidate_files, find_secrets
from readiness.security_checks.static_scan import CodeFinding, ScanResult, scan

__all__ = [
    "Acceptance",
    "Baseline",
    "CodeFinding",
    "ScanResult",
    "SecretFinding",
    "candidate_files",
    "find_secrets",
    "load_baseline",
    "scan",
]
