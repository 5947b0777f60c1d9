"""A tiny agent for load tests: answers invokes with a decision (uvicorn, own process).

    python decision_target.py --port P [--fail-every N] [--token T]

`--fail-every 2` answers HTTP 500 to every second invoke; a request without the
bearer token gets 401, one without X-Request-ID or traceparent 400, and one that
carries a cookie (every answer sets one) 400; GET /health answers 200.
"""

from __future__ import annotations

import argparse
import itertools
import json
from typing import Any


def make_app(token: str | None, fail_every: int) -> Any:
    """The raw ASGI app (no framework: the target must not be the bottleneck)."""
    counter = itertools.count(1)
    expected = f"Bearer {token}".encode() if token else None
    ok_headers = [(b"content-type", b"application/json"), (b"set-cookie", b"session=1; Path=/")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # drain the body
            message = await receive()
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        if scope["path"] == "/health":
            status, body = 200, b'{"ok": true}'
        elif expected is not None and headers.get(b"authorization") != expected:
            status, body = 401, b'{"error": "missing or wrong token"}'
        elif b"x-request-id" not in headers or b"traceparent" not in headers:
            status, body = 400, b'{"error": "no X-Request-ID or traceparent"}'
        elif b"cookie" in headers:
            status, body = 400, b'{"error": "a cookie was carried from an earlier answer"}'
        else:
            number = next(counter)
            if fail_every and number % fail_every == 0:
                status, body = 500, b'{"error": "boom"}'
            else:
                answer = {"decision_id": f"d-{number}", "status": "executed"}
                status, body = 200, json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status, "headers": ok_headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token")
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args()
    uvicorn.run(make_app(args.token, args.fail_every), host="127.0.0.1", port=args.port,
                loop="uvloop", http="httptools", log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
