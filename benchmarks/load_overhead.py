"""Requests/s of the harness's load campaign against a plain Locust script, same target.

    python benchmarks/load_overhead.py [--duration 10] [--users 10] [--rounds 5] [--json]

The target is uvicorn + uvloop + httptools answering a fixed decision
(`{"decision_id": ..., "status": "executed"}`) in its own process. Two load
generators take turns against it, one Locust process each, same users, same
duration:

- plain: a minimal locustfile, a FastHttpUser POSTing one fixed body with the
  same headers, no response check;
- harness: `readiness.load.run_campaign` (Faker scenario records, a fresh
  request id and traceparent per request, the answer parsed and judged, every
  acknowledged decision written to a JSONL file).

Both figures are Locust's own (requests / time from test start to last request)
taken at shutdown. Rounds are interleaved because background load on a shared
machine drifts; with two CPUs or more, the target runs on one and the generators
on another, so that they never take turns on one core. CPU µs per request (the
generator process's user + system time, start-up included) is printed too: when
the target is the bottleneck, requests/s hide the generator's own cost.
The issue's target: harness >= 0.9x plain requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from readiness.lifecycle import free_port
from readiness.load import CampaignSpec, run_campaign

TARGET_RATIO = 0.9
ANSWER = b'{"decision_id":"d-0001","status":"executed","action":null,"confidence":0.9}'
SCENARIO = {"source": "faker", "fields": {"name": "name", "email": "email"}, "seed": 7}
PLAIN_LOCUSTFILE = '''
import json, os
from locust import FastHttpUser, constant, events, task

BODY = (b'{"request_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",'
        b'"input":{"name":"Ada Lovelace","email":"ada.lovelace@example.com"}}')
HEADERS = {"Content-Type": "application/json", "Accept": "application/json",
           "Authorization": "Bearer bench-token",
           "X-Request-ID": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",
           "traceparent": "00-6f1c2a9e3b4d4e5f8a7b9c0d1e2f3a4b-00f067aa0ba902b7-01"}

class PlainUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def invoke(self):
        self.client.post("/invoke", data=BODY, headers=HEADERS)

@events.quitting.add_listener
def report(environment, **_):
    total = environment.stats.total
    with open(os.environ["PLAIN_RESULT"], "w") as out:
        json.dump({"requests": total.num_requests, "failures": total.num_failures,
                   "rps": total.total_rps}, out)
'''


def serve_target(cpu: int | None) -> None:
    """Child process: the fixed-answer agent; prints its URL."""
    import uvicorn

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    port = free_port()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": ANSWER})

    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                log_level="warning", access_log=False)


def _spawn_target(cpu: int | None) -> tuple[subprocess.Popen[str], str]:
    pin = [] if cpu is None else ["--target-cpu", str(cpu)]
    child = subprocess.Popen([sys.executable, __file__, "--serve-target", *pin],
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    deadline = time.monotonic() + 10
    while True:  # uvicorn prints before it binds: wait until it accepts
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return child, url
        except OSError:
            if time.monotonic() > deadline:
                child.kill()
                raise SystemExit(f"the target did not start (printed {url!r})") from None
            time.sleep(0.05)


def run_plain(url: str, users: int, duration: int, work: Path) -> dict[str, float]:
    """The plain locustfile, one process, headless; Locust's figures at shutdown."""
    locustfile, result = work / "plain_locustfile.py", work / "plain.json"
    locustfile.write_text(PLAIN_LOCUSTFILE)
    result.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    subprocess.run([sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                    "--users", str(users), "--spawn-rate", str(users), "--run-time",
                    f"{duration}s", "--host", url, "--only-summary", "--loglevel", "WARNING",
                    "--stop-timeout", "1"], cwd=work, env={**env, "PLAIN_RESULT": str(result)},
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=duration + 60,
                   check=False)
    figures: dict[str, float] = json.loads(result.read_text())
    return figures


def run_harness(url: str, users: int, duration: int, work: Path) -> dict[str, float]:
    """readiness.load.run_campaign with the same users and duration, one process."""
    spec = CampaignSpec(host=url, token="bench-token", scenario=SCENARIO, users=users,
                        spawn_rate=users, duration_s=duration, stop_timeout_s=1,
                        out_dir=work / "campaign")
    result = run_campaign(spec)
    if result.problem:
        raise SystemExit(f"the harness campaign failed: {result.problem}")
    return {"requests": result.requests, "failures": result.failures, "rps": result.rps,
            "acknowledged": result.acknowledged_count}


def with_cpu(run: Any, *args: Any) -> dict[str, float]:
    """Run one generator; add the CPU its Locust process used per request (µs)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = run(*args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**figures, "cpu_us_per_request": cpu / max(figures["requests"], 1) * 1e6}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds of both generators against one target."""
    cpus = sorted(os.sched_getaffinity(0))
    pinned = args.pin and len(cpus) >= 2
    target, url = _spawn_target(cpus[-1] if pinned else None)
    if pinned:  # the generators (children of this process) on one CPU, the target on another
        os.sched_setaffinity(0, {cpus[0]})
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        with tempfile.TemporaryDirectory() as work:
            for _ in range(args.rounds):
                rounds.append({
                    "plain": with_cpu(run_plain, url, args.users, args.duration, Path(work)),
                    "harness": with_cpu(run_harness, url, args.users, args.duration,
                                        Path(work)),
                })
    finally:
        os.killpg(target.pid, signal.SIGTERM)
        target.wait(10)

    def median(generator: str, key: str) -> float:
        return statistics.median(one[generator][key] for one in rounds)

    plain, harness = median("plain", "rps"), median("harness", "rps")
    cpu_plain = median("plain", "cpu_us_per_request")
    cpu_harness = median("harness", "cpu_us_per_request")
    ratios = [one["harness"]["rps"] / one["plain"]["rps"] for one in rounds]
    return {"users": args.users, "duration_s": args.duration, "cpus": os.cpu_count(),
            "pinned": pinned, "rounds": rounds, "plain_rps": plain, "harness_rps": harness,
            "ratio": harness / plain, "ratio_per_round": ratios,
            "median_ratio_per_round": statistics.median(ratios),
            "plain_cpu_us_per_request": cpu_plain, "harness_cpu_us_per_request": cpu_harness,
            "cpu_ratio": cpu_plain / cpu_harness,
            "target_ratio": TARGET_RATIO, "meets_target": harness / plain >= TARGET_RATIO}


def print_table(result: dict[str, Any]) -> None:
    """Human-readable summary."""
    pinned = ", target and generator pinned to their own CPU" if result["pinned"] else ""
    print(f"target: uvicorn + uvloop + httptools, fixed answer; {result['users']} users, "
          f"{result['duration_s']} s, one Locust process each; median of "
          f"{len(result['rounds'])} interleaved rounds ({result['cpus']} CPUs{pinned})")
    print(f"{'':24}{'req/s':>10}{'CPU µs/request':>16}")
    for label, key in (("plain FastHttpUser", "plain"), ("harness run_campaign", "harness")):
        print(f"{label:24}{result[key + '_rps']:>10,.0f}"
              f"{result[key + '_cpu_us_per_request']:>16.1f}")
    per_round = ", ".join(f"{ratio:.2f}" for ratio in result["ratio_per_round"])
    print(f"{'ratio harness/plain':24}{result['ratio']:>9.2f}x{result['cpu_ratio']:>15.2f}x"
          f"   (CPU: plain/harness)")
    print(f"{'req/s ratio per round':24}{per_round}  (median "
          f"{result['median_ratio_per_round']:.2f})")
    verdict = "met" if result["meets_target"] else "NOT met"
    print(f"target >= {TARGET_RATIO}x req/s: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per campaign")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="do not pin the target and the generators to separate CPUs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve-target", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target-cpu", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_target:
        return serve_target(args.target_cpu)
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
