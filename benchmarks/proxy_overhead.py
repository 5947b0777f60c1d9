"""Throughput and latency of a small-JSON target served directly vs through RecordingProxy.

    python benchmarks/proxy_overhead.py [--duration 10] [--connections 32] [--json]
        [--target-server uvicorn|readiness] [--compare-bare]

The target is the issue's reference setup, uvicorn + uvloop + httptools (the
standard production stack), or with `--target-server readiness` our own
HttpServer. The target and the proxy each run in their own process on uvloop;
the proxy records every exchange in memory (the JSONL sink is off unless
--jsonl). `--compare-bare` also measures a bare byte-copy proxy (uvloop
protocols, no parsing, no recording): the ceiling for any Python proxy here.
The load generator is wrk (`wrk -t2 -cN -dDs --latency`) when on PATH, installed
with apt-get when running as root on Debian, else a multi-process Python
keep-alive client (slower: it competes with the servers for CPU, so ratios are
kinder). The issue's target: proxy >= 0.8x the direct requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BODY = b'{"id":"lead-42","score":0.93,"owner":"ops@example.com"}'
TARGET_RATIO = 0.8


def serve_target(kind: str) -> None:
    """Child process: the trivial JSON target; prints its URL."""
    import uvloop

    if kind == "uvicorn":
        import uvicorn

        port = _free_port()

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})

        print(f"http://127.0.0.1:{port}", flush=True)
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=port,
            loop="uvloop",
            http="httptools",  # the standard production stack (h11 is 4x slower)
            log_level="warning",
            access_log=False,
        )
        return

    from readiness.chaos.messages import Request, Response
    from readiness.chaos.server import HttpServer

    async def handler(request: Request) -> Response:
        return Response(200, [("Content-Type", "application/json")], BODY)

    async def main() -> None:
        async with HttpServer(handler) as server:
            print(server.url, flush=True)
            await _until_signal()

    uvloop.run(main())


def serve_bare(target: str) -> None:
    """Child process: a bare byte-copy proxy (the ceiling); prints its URL."""
    import uvloop

    host, port = target.removeprefix("http://").rsplit(":", 1)

    class Pipe(asyncio.Protocol):
        peer: Pipe | None = None
        pending: list[bytes]

        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def data_received(self, data: bytes) -> None:
            if self.peer is None:
                self.pending.append(data)
            else:
                self.peer.transport.write(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.peer is not None:
                self.peer.transport.close()

    class Agent(Pipe):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.pending = []
            asyncio.get_running_loop().create_task(self.connect())

        async def connect(self) -> None:
            target = Pipe()
            target.peer = self
            await asyncio.get_running_loop().create_connection(lambda: target, host, int(port))
            self.peer = target
            for data in self.pending:
                target.transport.write(data)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Agent, "127.0.0.1", 0)
        print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await _until_signal()

    uvloop.run(main())


def serve_proxy(target: str, jsonl: str | None, max_kept: int | None,
                fault: str | None = None) -> None:
    """Child process: RecordingProxy (recording on, optionally a fault on every request);
    prints its URL, then the count."""
    import uvloop

    from readiness.chaos.fault_spec import parse_fault_spec
    from readiness.chaos.proxy import RecordingProxy, tune_gc
    from readiness.chaos.recorder import Recorder
    from readiness.chaos.schedule import FaultSchedule

    tune_gc()  # as `readiness proxy` (run_proxy) does
    steps = []
    if fault:
        schedule = FaultSchedule()
        schedule.add(parse_fault_spec(fault))
        steps.append(schedule)

    async def main() -> None:
        with Recorder(jsonl, max_kept=max_kept) as recorder:
            async with RecordingProxy("bench", target, recorder, steps=steps) as proxy:
                print(proxy.url, flush=True)
                await _until_signal()
            print(len(recorder), flush=True)

    uvloop.run(main())


async def _until_signal() -> None:
    """Wait for SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def _free_port() -> int:
    """A port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start this script in a child mode and read the URL it prints."""
    child = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    if not url.startswith("http://"):
        child.kill()
        raise SystemExit(f"child {args} did not start (printed {url!r})")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + 10
    while True:  # uvicorn prints before it binds: wait until it accepts
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return child, url


def _stop(child: subprocess.Popen[str]) -> str:
    """SIGTERM a child and return what it printed after its URL."""
    child.send_signal(signal.SIGTERM)
    try:
        out, _ = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        print(f"warning: {child.args} did not stop within 60 s; killed", file=sys.stderr)
    return out.strip()


def ensure_wrk(allow_install: bool) -> str | None:
    """wrk's path; installs it with apt-get when root on Debian and allowed."""
    found = shutil.which("wrk")
    if found or not allow_install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk not found: installing it with apt-get", file=sys.stderr)
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["apt-get", "update"], check=False, **quiet)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
    return shutil.which("wrk")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(wrk: str, url: str, connections: int, duration: float) -> dict[str, float]:
    """One wrk run; requests/s and p50/p99 latency in ms."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency", url + "/"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    result = {"rps": rps}
    for name, pct in (("p50_ms", "50"), ("p99_ms", "99")):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        result[name] = float(match.group(1)) * _UNITS[match.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def _client_worker(url: str, connections: int, duration: float, out: Any) -> None:
    """Fallback generator process: keep-alive GETs on raw sockets, latencies in ms."""
    import uvloop

    host, port = url.removeprefix("http://").rsplit(":", 1)
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    latencies: list[float] = []

    async def one(deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1e3)
        writer.close()

    async def main() -> None:
        deadline = time.perf_counter() + duration
        await asyncio.gather(*(one(deadline) for _ in range(connections)))

    uvloop.run(main())
    out.put(latencies)


def run_python_client(url: str, connections: int, duration: float) -> dict[str, float]:
    """The fallback generator: 2 processes sharing `connections`."""
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=_client_worker, args=(url, connections // 2, duration, queue)
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    latencies = sorted(latency for _ in workers for latency in queue.get())
    for worker in workers:
        worker.join()
    return {
        "rps": len(latencies) / duration,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "non_2xx": 0.0,
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run both configurations once, in one go, and compute the ratios."""
    wrk = ensure_wrk(not args.no_install)
    generator = (
        f"wrk -t2 -c{args.connections} -d{args.duration:g}s --latency"
        if wrk
        else f"python raw-socket keep-alive client, 2 processes, {args.connections} connections"
    )

    def load(url: str) -> dict[str, float]:
        if wrk:
            run_wrk(wrk, url, args.connections, 1)  # warm-up
            return run_wrk(wrk, url, args.connections, args.duration)
        return run_python_client(url, args.connections, args.duration)

    target, target_url = _spawn("--serve-target", args.target_server)
    jsonl_dir = tempfile.TemporaryDirectory()
    proxy_args = ["--serve-proxy", target_url]
    if args.max_kept is not None:
        proxy_args += ["--max-kept", str(args.max_kept)]
    if args.jsonl:
        proxy_args += ["--record-to", str(Path(jsonl_dir.name) / "record.jsonl")]
    rounds: list[dict[str, dict[str, float]]] = []
    bare = _spawn("--serve-bare", target_url) if args.compare_bare else None
    # the proxy with a fault that changes nothing: the cost of the fault machinery itself
    faulted = (_spawn(*proxy_args, "--fault-spec", "latency:ms=0")
               if args.compare_faults else None)
    try:
        proxy, proxy_url = _spawn(*proxy_args)
        try:
            # Interleaved rounds: on a shared machine the background load drifts,
            # and alternating keeps the configurations under the same conditions.
            for _ in range(args.rounds):
                one = {"direct": load(target_url)}
                if bare is not None:
                    one["bare"] = load(bare[1])
                one["proxy"] = load(proxy_url)
                if faulted is not None:
                    one["latency0"] = load(faulted[1])
                rounds.append(one)
        finally:
            printed = _stop(proxy).splitlines()
            recorded = int(printed[-1]) if printed and printed[-1].isdigit() else -1
    finally:
        if bare is not None:
            _stop(bare[0])
        if faulted is not None:
            _stop(faulted[0])
        _stop(target)
        jsonl_dir.cleanup()
    direct = _median([r["direct"] for r in rounds])
    proxied = _median([r["proxy"] for r in rounds])
    ratios = sorted(r["proxy"]["rps"] / r["direct"]["rps"] for r in rounds)
    extra: dict[str, Any] = {}
    if bare is not None:
        extra["bare"] = _median([r["bare"] for r in rounds])
        extra["ratio_rps_bare"] = extra["bare"]["rps"] / direct["rps"]
    if faulted is not None:
        extra["latency0"] = _median([r["latency0"] for r in rounds])
        extra["ratio_rps_latency0"] = extra["latency0"]["rps"] / direct["rps"]
    return {
        "generator": generator,
        "target_server": args.target_server,
        "recording": (
            ("in memory, all kept" if args.max_kept is None else f"max_kept={args.max_kept}")
            + (" + JSONL" if args.jsonl else ", JSONL sink off")
        ),
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "direct": direct,
        "proxy": proxied,
        "exchanges_recorded": recorded,
        "ratio_rps": proxied["rps"] / direct["rps"],
        "ratio_rps_per_round": ratios,
        "ratio_p50": proxied["p50_ms"] / direct["p50_ms"],
        "ratio_p99": proxied["p99_ms"] / direct["p99_ms"],
        "target_ratio_rps": TARGET_RATIO,
        "meets_target": proxied["rps"] / direct["rps"] >= TARGET_RATIO,
        **extra,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per-metric median over rounds."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


_TARGETS = {
    "uvicorn": "uvicorn + uvloop + httptools",
    "readiness": "readiness HttpServer on uvloop",
}


def print_table(result: dict[str, Any]) -> None:
    """Human-readable summary."""
    rounds = len(result["rounds"])
    print(f"generator: {result['generator']}; median of {rounds} interleaved rounds")
    target = _TARGETS[result["target_server"]]
    print(f"target: {target}; proxy recording {result['recording']}")
    print(f"{'':22}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    rows = [("direct", "direct"), ("bare byte pipe", "bare"), ("through proxy", "proxy"),
            ("proxy, latency 0 ms", "latency0")]
    for label, key in rows:
        if key in result:
            row = result[key]
            print(f"{label:22}{row['rps']:>12,.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}")
    ratios = (result["ratio_rps"], result["ratio_p50"], result["ratio_p99"])
    print(f"{'ratio proxy/direct':22}{ratios[0]:>11.2f}x{ratios[1]:>9.2f}x{ratios[2]:>9.2f}x")
    per_round = ", ".join(f"{ratio:.2f}" for ratio in result["ratio_rps_per_round"])
    print(f"{'req/s ratio per round':22}{per_round:>12}")
    if "bare" in result:
        print(f"{'bare pipe/direct req/s':22}{result['ratio_rps_bare']:>11.2f}x")
    if "latency0" in result:
        print(f"{'latency 0 ms/direct':22}{result['ratio_rps_latency0']:>11.2f}x")
    verdict = "met" if result["meets_target"] else "NOT met"
    recorded = result["exchanges_recorded"]
    print(f"target >= {TARGET_RATIO}x req/s: {verdict}; {recorded:,} exchanges recorded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument(
        "--target-server",
        choices=["uvicorn", "readiness"],
        default="uvicorn",
        help="uvicorn+uvloop+httptools (the issue's reference) or our own HttpServer",
    )
    parser.add_argument("--jsonl", action="store_true", help="also write the JSONL record")
    parser.add_argument(
        "--compare-bare", action="store_true", help="also measure a bare byte-copy proxy"
    )
    parser.add_argument(
        "--compare-faults", action="store_true",
        help="also measure the proxy with a 0 ms latency fault on every request",
    )
    parser.add_argument(
        "--max-kept", type=int, help="Recorder(max_kept=N); default keeps every exchange"
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve-target", metavar="KIND", help=argparse.SUPPRESS)
    parser.add_argument("--serve-proxy", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--record-to", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--fault-spec", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_target:
        return serve_target(args.serve_target)
    if args.serve_proxy:
        return serve_proxy(args.serve_proxy, args.record_to, args.max_kept, args.fault_spec)
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
