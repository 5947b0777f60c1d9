"""Start, health-check and always stop the processes a run needs (the agent, upstreams)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


class StartError(Exception):
    """A process did not come up healthy; the message says why and shows its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def command_argv(command: str, port: int) -> list[str]:
    """Split a start command and fill {port}; a bare `python` means this interpreter."""
    argv = shlex.split(command.replace("{port}", str(port)))
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def log_tail(path: Path, lines: int = 12) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


class ManagedProcess:
    """A child process in its own session, logged to a file, stopped by its PID only."""

    def __init__(self, label: str, command: str, *, cwd: Path, log_path: Path,
                 env: Mapping[str, str], port: int) -> None:
        self.label = label
        self.command = command
        self.cwd = cwd
        self.log_path = log_path
        self.env = dict(env)
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Launch the command; output goes to the log file."""
        argv = command_argv(self.command, self.port)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self.proc = subprocess.Popen(
                    argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )
            except OSError as exc:
                raise StartError(f"{self.label}: could not run {self.command!r} in {self.cwd}: "
                                 f"{exc.strerror or exc}. Check the start command.") from None

    @property
    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    async def wait_healthy(self, url: str, timeout_s: float) -> None:
        """Poll `url` until it answers 2xx; fail early if the process exits."""
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        last = "no answer yet"
        async with httpx.AsyncClient(timeout=httpx.Timeout(2.0), trust_env=False) as client:
            while True:
                if self.exit_code is not None:
                    raise StartError(
                        f"{self.label} exited with code {self.exit_code} before it became healthy"
                        f" (command: {self.command!r}). Last lines of {self.log_path}:\n"
                        f"{log_tail(self.log_path)}")
                try:
                    response = await client.get(url)
                    if 200 <= response.status_code < 300:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if time.monotonic() >= deadline:
                    raise StartError(
                        f"{self.label} did not become healthy within {timeout_s:g}s: {url} gave "
                        f"{last}. Raise startup_timeout_s, or check the health path and the log "
                        f"{self.log_path}:\n{log_tail(self.log_path)}")
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL after `grace_s`; idempotent."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5.0)
