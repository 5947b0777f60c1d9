"""The demo: the harness against both reference agents, printing their verdicts.

Each agent gets fresh random tokens through the environment, as a deployment
would. Scorecards land in readiness-report/production and readiness-report/demo.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from readiness.config import load_config
from readiness.reports import render_terminal, write_reports
from readiness.runner import run

HERE = Path(__file__).resolve().parent
AGENTS = {"production": HERE / "production" / "readiness.toml",
          "demo": HERE / "demo" / "readiness.toml"}


def main() -> int:
    out_root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("readiness-report")
    os.environ.setdefault("AGENT_INVOKE_TOKEN", secrets.token_urlsafe(24))
    os.environ.setdefault("AGENT_OPERATOR_TOKEN", secrets.token_urlsafe(24))
    verdicts = {}
    for label, config_path in AGENTS.items():
        out = out_root / label
        print(f"\n=== {label}-grade lead router ({config_path.relative_to(HERE.parent)})")
        result = run(load_config(config_path), out)
        write_reports(result.card, out)
        print(render_terminal(result.card, color=sys.stdout.isatty()))
        verdicts[label] = result.card["verdict"]
        print(f"scorecard: {out / 'scorecard.html'}")
    print("\n" + "  ".join(f"{label}: {verdict}" for label, verdict in verdicts.items()))
    # the demo succeeds when the harness discriminates: production scored, demo not ready
    return 0 if verdicts["demo"] == "not_ready" else 1


if __name__ == "__main__":
    sys.exit(main())
