"""The Locust side of a readiness load campaign.

Only Locust's own processes import this file (`python -m locust -f locustfile.py`,
started by `run_campaign`): Locust monkey-patches the standard library with
gevent on import, so the harness never imports it. The campaign arrives as JSON
in the READINESS_LOAD_SPEC environment variable (see CampaignSpec.wire); a
worker's share of the scenario records as READINESS_LOAD_PROCESS="worker:I:N"
(worker I of N; without it, every worker sends the same records).
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any

import gevent  # type: ignore[import-untyped]  # no stubs; used for one call
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from readiness.load._traffic import PROCESS_ENV, SPEC_ENV, Traffic, process_role

if SPEC_ENV not in os.environ:
    raise SystemExit(f"readiness: {SPEC_ENV} is not set; this locustfile is started by "
                     "readiness.load.run_campaign, not by hand")
WIRE: dict[str, Any] = json.loads(os.environ[SPEC_ENV])
ROLE, WORKER, WORKERS = process_role(os.environ.get(PROCESS_ENV))
_traffic: Traffic | None = None


class InvokeUser(FastHttpUser):
    """Invokes the agent with scenario records; 2xx with a decision_id is a success."""

    host = WIRE["host"]
    network_timeout = connection_timeout = float(WIRE["request_timeout_s"])
    wait_time = (constant(0) if WIRE["rate_per_user"] is None
                 else constant_throughput(float(WIRE["rate_per_user"])))

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # Invocations come from independent callers, so no cookie may carry state from one
        # to the next; http.cookiejar also costs ~13 µs a request, a tenth of Locust's own
        self.client.client.cookiejar = None

    @task
    def invoke(self) -> None:
        traffic = _traffic
        assert traffic is not None, "the init listener builds the traffic before users start"
        request_id, body, headers = traffic.request()
        with self.client.request(traffic.method, traffic.path, data=body,  # type: ignore[arg-type]
                                 headers=headers, catch_response=True) as response:
            # data: Locust annotates str | dict, but geventhttpclient sends bytes as they are
            failure = traffic.judge(request_id, response.status_code, response.content,
                                    getattr(response, "error", None))
            if failure is None:
                response.success()
            else:
                response.failure(failure)


def _role(environment: Environment) -> str:
    """"master", "worker" or "local", as Locust was started (by the harness or by hand)."""
    options = environment.parsed_options
    if options is not None and (options.master or options.worker):
        return "master" if options.master else "worker"
    return ROLE


def _build_traffic(environment: Environment, **_: Any) -> None:
    """Generate this process's records before the test starts (the master sends none)."""
    global _traffic
    role = _role(environment)
    if role != "master":
        label = f"worker-{WORKER}" if role == "worker" else "local"
        _traffic = Traffic(WIRE, worker=WORKER, workers=WORKERS, ack_label=label)
    # gevent's loop caches the time; without a refresh, the --run-time timer (armed next)
    # would count the seconds spent importing and generating records, and fire early
    gevent.get_hub().loop.update_now()


def _flush_acknowledgements(environment: Environment, **_: Any) -> None:
    if _traffic is not None:
        _traffic.acks.flush()


def _finish(environment: Environment, **_: Any) -> None:
    """Stop users still running (Ctrl-C, SIGTERM), then write the final CSVs exactly."""
    runner = environment.runner
    if _role(environment) != "worker" and runner is not None:
        if runner.state in (STATE_SPAWNING, STATE_RUNNING):
            runner.quit()
        _rewrite_csvs(environment)
    if _traffic is not None:
        _traffic.acks.close()


def _rewrite_csvs(environment: Environment) -> None:
    """Locust's CSV writer runs once a second, so its files miss the last second; rewrite
    them from the final stats (os.replace: Locust's open handle keeps the old file)."""
    prefix = environment.parsed_options.csv_prefix if environment.parsed_options else None
    if not prefix:
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (("_stats.csv", writer.requests_csv),
                          ("_failures.csv", writer.failures_csv),
                          ("_exceptions.csv", writer.exceptions_csv)):
        temporary = f"{prefix}{suffix}.tmp"
        with open(temporary, "w", newline="") as handle:
            write(csv.writer(handle))
        os.replace(temporary, prefix + suffix)


for _hook, _listener in ((events.init, _build_traffic), (events.test_stop, _flush_acknowledgements),
                         (events.quitting, _finish)):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]  # EventHook is unannotated
