"""``python -m lead_router_demo --port N``."""

import argparse

import uvicorn

from lead_router_demo.app import app

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8000)
args = parser.parse_args()
uvicorn.run(app, host="127.0.0.1", port=args.port)
