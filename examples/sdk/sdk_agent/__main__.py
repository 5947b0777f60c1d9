"""``python -m sdk_agent --port N``: serve the example agent on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from sdk_agent.app import SettingsError, create_app, load_settings


def main(argv: list[str] | None = None) -> int:
    """Start the agent; exit 2 with a readable message when it is misconfigured."""
    parser = argparse.ArgumentParser(prog="python -m sdk_agent", description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    # INFO shows the SDK's own "Retrying request in X seconds" lines in the agent log.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(load_settings())
    except SettingsError as exc:
        print(f"sdk_agent cannot start: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
