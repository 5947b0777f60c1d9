"""Wall time of a whole `readiness run` on the production-grade reference agent.

Usage: python benchmarks/run_wall_time.py [--repeat N] [--json]
Each repetition is a fresh `readiness run` process (agent, CRM and simulator
started and stopped), so the figure includes start-up and shutdown.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "production" / "readiness.toml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "AGENT_INVOKE_TOKEN": secrets.token_urlsafe(16),
           "AGENT_OPERATOR_TOKEN": secrets.token_urlsafe(16)}
    times = []
    verdicts = set()
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "readiness", "run", "--config",
                                   str(CONFIG), "--out", out, "--color", "never"], env=env,
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if done.returncode not in (0, 1):
                print(done.stdout, done.stderr, file=sys.stderr)
                return 3
            verdicts.add(json.loads((Path(out) / "scorecard.json").read_text())["verdict"])
    result = {"runs": len(times), "median_s": round(statistics.median(times), 2),
              "min_s": round(min(times), 2), "max_s": round(max(times), 2),
              "verdicts": sorted(verdicts)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"readiness run, production agent, {result['runs']} runs: median "
              f"{result['median_s']} s (min {result['min_s']}, max {result['max_s']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
