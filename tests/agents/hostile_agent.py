"""A hostile agent on a raw socket: `python hostile_agent.py --port N --mode MODE`.

/health always answers 200. Other requests, by mode:
  hang     accept and never answer
  huge     answer 200 with an endless body
  garbage  answer bytes that are not HTTP
  crash    exit the process on the first non-health request
With HOSTILE_NOTIFY=HOST:PORT it connects there and sends "pid N" at start and
each request line as it arrives, so tests wait on a socket instead of sleeping.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket

_notifier: socket.socket | None = None


def notify(line: str) -> None:
    """Tell the test what happened, if it is listening."""
    global _notifier
    address = os.environ.get("HOSTILE_NOTIFY")
    if not address:
        return
    if _notifier is None:
        host, port = address.rsplit(":", 1)
        _notifier = socket.create_connection((host, int(port)), timeout=10)
    _notifier.sendall(line.encode() + b"\n")


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode()
            if " /health " in line:
                writer.write(OK)
                await writer.drain()
                continue
            notify(line)
            if mode == "crash":
                os._exit(1)
            if mode == "garbage":
                writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            if mode == "huge":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                chunk = b"a" * 65536
                while True:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
            await asyncio.Event().wait()  # hang
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("hang", "huge", "garbage", "crash"), required=True)
    args = parser.parse_args()
    notify(f"pid {os.getpid()}")
    server = await asyncio.start_server(lambda r, w: serve(r, w, args.mode), "127.0.0.1",
                                        args.port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
