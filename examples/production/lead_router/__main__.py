"""``python -m lead_router --port N``: serve the agent on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from lead_router.app import create_app
from lead_router.logs import configure
from lead_router.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    """Start the agent; exit 2 with a readable message when it is misconfigured."""
    parser = argparse.ArgumentParser(prog="python -m lead_router", description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    configure()
    try:
        app = create_app(load_settings())
    except SettingsError as exc:
        print(f"lead_router cannot start: {exc}", file=sys.stderr)
        return 2
    # No access log: request lines add nothing the decision log lacks, and one process
    # keeps the SQLite writer single.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
