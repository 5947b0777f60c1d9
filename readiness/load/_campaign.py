"""Run a Locust campaign in its own processes, bounded in time, and read its results."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import readiness
from readiness.lifecycle import free_port, log_tail
from readiness.load._results import (
    merge_acknowledgements,
    read_exceptions,
    read_failures,
    read_history,
    read_totals,
)
from readiness.load._spec import CampaignResult, CampaignSpec
from readiness.load._traffic import ACK_PART_GLOB, PROCESS_ENV, SPEC_ENV, RecordFeed
from readiness.scenarios import ScenarioError

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STARTUP_S = 30.0  # Locust's imports, workers connecting, record pools generated
GRACE_S = 10.0  # past duration + stop timeout before the campaign counts as overrunning
KILL_AFTER_S = 5.0  # after SIGINT (beyond the stop timeout), before SIGKILL
POLL_S = 0.05


def run_campaign(spec: CampaignSpec, *, cancel: threading.Event | None = None) -> CampaignResult:
    """Run one Locust campaign and return what it measured; blocks until it ends.

    Locust runs headless in its own processes (never in this one: it monkey-patches
    the standard library with gevent), each in its own session, stopped by PID: one
    process, or with `spec.workers` a master and that many workers on 127.0.0.1.
    Setting `cancel` interrupts the campaign (as Ctrl-C does; Locust still writes its
    statistics) and marks the result incomplete. Nothing raises for a campaign that
    cannot run: the result's `problem` says why. From async code, run it through
    `asyncio.to_thread`.
    """
    out_dir = spec.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "locust"
    acknowledged = out_dir / "acknowledged.jsonl"
    _clear(out_dir, prefix, acknowledged)
    port = free_port() if spec.workers else 0
    commands = _commands(spec, prefix, port)
    try:  # a bad scenario fails here, in one clear line, not in every worker's log
        RecordFeed(spec.scenario, pool=1)
    except (ScenarioError, OSError) as exc:
        acknowledged.touch()
        return _result(spec, prefix, acknowledged, 0, incomplete=False, command=commands[0],
                       problems=[f"the scenario cannot make inputs: {exc}"])
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _start(spec, commands, out_dir, processes)
        incomplete, problems = _supervise(spec, processes, cancel)
    finally:
        for process in processes:
            _kill(process)
    code = processes[0].returncode
    if code not in (0, 1) and not incomplete:  # 1 only says that some request failed
        problems.append(f"Locust exited with code {code}{_tails(out_dir, 'locust')}")
    count = merge_acknowledgements(out_dir, acknowledged)
    return _result(spec, prefix, acknowledged, count, incomplete=incomplete,
                   command=commands[0], problems=problems)


def _clear(out_dir: Path, prefix: Path, acknowledged: Path) -> None:
    """Remove the files an earlier campaign left in out_dir (only names this module writes)."""
    names = [f"{prefix.name}{suffix}" for suffix in
             ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")]
    stale = [out_dir / name for name in names] + [acknowledged]
    stale += [*out_dir.glob(ACK_PART_GLOB), *out_dir.glob("locust*.log"),
              *out_dir.glob("locust*.out")]
    for path in stale:
        path.unlink(missing_ok=True)


def _commands(spec: CampaignSpec, prefix: Path, port: int) -> list[tuple[str, ...]]:
    """The master's (or the single process's) command line, then each worker's."""
    base = (sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING")
    out_dir = prefix.parent
    main = (*base, "--logfile", str(out_dir / "locust.log"), "--headless",
            "--users", str(spec.users), "--spawn-rate", f"{spec.spawn_rate:g}",
            "--run-time", f"{spec.run_time_s}s", "--host", spec.host,
            "--csv", str(prefix), "--csv-full-history", "--only-summary",
            "--stop-timeout", str(spec.stop_time_s))
    if not spec.workers:
        return [main]
    master = (*main, "--master", "--expect-workers", str(spec.workers),
              "--expect-workers-max-wait", f"{STARTUP_S:.0f}",
              "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port))
    return [master] + [
        (*base, "--logfile", str(out_dir / f"locust-worker-{index}.log"), "--worker",
         "--master-host", "127.0.0.1", "--master-port", str(port),
         "--exit-code-on-error", "0")  # so that only a crashed worker exits non-zero
        for index in range(spec.workers)
    ]


def _start(spec: CampaignSpec, commands: list[tuple[str, ...]], out_dir: Path,
           processes: list[subprocess.Popen[bytes]]) -> None:
    """Start every process in its own session, appending each to `processes` as it starts
    (the caller stops those even if a later one fails); output goes to locust*.out."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    env[SPEC_ENV] = spec.wire()  # the token travels here, never on a command line
    # Last on the path: it only helps a checkout that is not installed, and never shadows
    package_root = str(Path(readiness.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), package_root]))
    for index, command in enumerate(commands):
        role = f"worker:{index - 1}:{spec.workers}" if index else (
            "master" if spec.workers else "local")
        name = f"locust-worker-{index - 1}.out" if index else "locust.out"
        with (out_dir / name).open("wb") as output:
            processes.append(subprocess.Popen(
                command, cwd=out_dir,  # no locust.conf or pyproject.toml of the user's
                env={**env, PROCESS_ENV: role}, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True))


def _supervise(spec: CampaignSpec, processes: list[subprocess.Popen[bytes]],
               cancel: threading.Event | None) -> tuple[bool, list[str]]:
    """Wait for the master to end; interrupt it on cancel, a dead worker or overrun."""
    master, workers = processes[0], processes[1:]
    bound = STARTUP_S + spec.run_time_s + spec.stop_time_s + GRACE_S
    deadline = time.monotonic() + bound
    interrupted_at: float | None = None
    problems: list[str] = []
    while master.poll() is None:
        now = time.monotonic()
        if interrupted_at is None:
            reason = None
            dead = [(index, worker.returncode) for index, worker in enumerate(workers)
                    if worker.poll()]  # 0: the master told it to quit
            if cancel is not None and cancel.is_set():
                reason = "the campaign was cancelled before it ended"
            elif dead:
                index, code = dead[0]
                reason = (f"Locust worker {index} exited with code {code} before the campaign "
                          f"ended{_tails(spec.out_dir.resolve(), f'locust-worker-{index}')}")
            elif now > deadline:
                reason = (f"Locust did not finish within {bound:g} s (start-up, duration, stop "
                          "timeout and grace); it was interrupted")
            if reason is not None:
                problems.append(reason)
                _signal(master, signal.SIGINT)
                interrupted_at = now
        elif now > interrupted_at + spec.stop_time_s + KILL_AFTER_S:
            problems.append("Locust did not stop after SIGINT; it was killed")
            return True, problems
        time.sleep(POLL_S)
    workers_deadline = time.monotonic() + spec.stop_time_s + KILL_AFTER_S
    for worker in workers:  # the master told them to quit; give them their stop timeout
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(max(0.0, workers_deadline - time.monotonic()))
    return interrupted_at is not None, problems


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group we started if its leader still runs (Locust forks
    nothing here; a reaped leader's PID may belong to someone else by now); reap."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(KILL_AFTER_S)


def _tails(out_dir: Path, stem: str) -> str:
    """The last lines of a process's output and log, for a problem message."""
    parts = [f"\n  {path}:\n{tail}" for path in (out_dir / f"{stem}.out", out_dir / f"{stem}.log")
             if (tail := log_tail(path))]
    return "".join(parts) or f" (no output in {out_dir / stem}.out/.log)"


def _result(spec: CampaignSpec, prefix: Path, acknowledged: Path, count: int, *,
            incomplete: bool, command: tuple[str, ...], problems: list[str]) -> CampaignResult:
    """Assemble the result from the CSVs; a missing CSV or a script exception is a problem."""
    totals = read_totals(prefix)
    if totals is None and not problems:
        problems.append(f"Locust wrote no statistics{_tails(prefix.parent, 'locust')}")
    raised = read_exceptions(prefix)
    if raised:
        problems.append(f"the load script raised {'; '.join(raised[:3])} "
                        f"(all in {prefix}_exceptions.csv)")
    requests = totals.requests if totals else 0
    if totals is not None and requests == 0 and not problems:
        problems.append(f"no request completed in {spec.run_time_s} s "
                        f"(users {spec.users}, spawn rate {spec.spawn_rate:g}/s)")
    failures = totals.failures if totals else 0
    rps = totals.rps if totals else 0.0
    return CampaignResult(
        requests=requests, failures=failures, rps=rps,
        p50_ms=totals.p50_ms if totals else None, p95_ms=totals.p95_ms if totals else None,
        p99_ms=totals.p99_ms if totals else None, max_ms=totals.max_ms if totals else None,
        error_rate=failures / requests if requests else 0.0,
        history=read_history(prefix), failures_by_kind=read_failures(prefix),
        acknowledged=acknowledged, acknowledged_count=count,
        duration_s=requests / rps if rps else 0.0,
        incomplete=incomplete, problem="; ".join(problems) or None, command=command,
    )
