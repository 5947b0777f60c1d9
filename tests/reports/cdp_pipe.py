"""A headless Chromium driven over the DevTools protocol on a pipe, with the stdlib alone.

`chromium --remote-debugging-pipe` reads commands on its fd 3 and writes answers and
events on its fd 4, each a JSON message ended by a NUL byte: no websocket client is
needed. Every wait has a deadline; the browser is stopped by its own PID.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSERS = ("chromium", "chromium-browser")
INSTALL_HINT = ("install Debian's chromium (`apt-get install --no-install-recommends chromium`; "
                "`bash scripts/check` does it when run as root), or set "
                "READINESS_SKIP_BROWSER=1 to skip the browser tests")


class BrowserError(Exception):
    """Chromium could not be found, started or driven; the message says what happened."""


def find_chromium() -> str | None:
    """The Chromium executable on PATH, if any."""
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    return None


@dataclass
class PageEvents:
    """What one page did while it loaded: console, exceptions, requests, dialogs."""

    console: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[dict[str, Any]] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Every console or log entry at level error or warning, and every exception."""
        found = [f"console.{e['type']}: {e.get('args')}" for e in self.console
                 if e.get("type") in ("error", "warning", "assert")]
        found += [f"log {e['entry'].get('level')} ({e['entry'].get('source')}): "
                  f"{e['entry'].get('text')}" for e in self.log
                  if e["entry"].get("level") in ("error", "warning")]
        found += [f"exception: {e['exceptionDetails'].get('text')} "
                  f"{e['exceptionDetails'].get('exception', {}).get('description', '')}"
                  for e in self.exceptions]
        return found


@dataclass
class Tab:
    """One page being loaded: its DevTools session, navigation and what it did."""

    url: str
    session: str
    loader_id: str
    events: PageEvents = field(default_factory=PageEvents)
    idle: bool = False


class Browser:
    """One headless Chromium process and its DevTools pipe."""

    def __init__(self, executable: str, *, deadline_s: float = 20.0) -> None:
        self.deadline = time.monotonic() + deadline_s
        self._profile = tempfile.TemporaryDirectory(prefix="readiness-chromium-",
                                                    ignore_cleanup_errors=True)
        # a file, not a pipe: nobody reads stderr until something goes wrong
        self._log = open(os.path.join(self._profile.name, "stderr.log"), "wb")  # noqa: SIM115
        self._next_id = 0
        self._buffer = b""
        self._pending: list[dict[str, Any]] = []
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds() -> None:
            """In the child: fd 3 reads commands, fd 4 writes answers (copied via fds >= 10
            so that neither copy lands on 3 or 4 before its turn)."""
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            for target, fd in zip((3, 4), high, strict=True):
                os.dup2(fd, target, inheritable=True)
                os.close(fd)

        argv = [executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "about:blank"]
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._log, close_fds=False,  # fds 3 and 4 must survive; the
                preexec_fn=child_fds, start_new_session=True)  # others are close-on-exec
        except OSError as exc:
            self._log.close()
            self._profile.cleanup()
            raise BrowserError(f"could not run {executable}: {exc}") from None
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)

    def close(self) -> None:
        """Ask the browser to quit, then stop it by its PID if it has not."""
        try:
            if self.proc.poll() is None:
                self._send("Browser.close")
                self.proc.wait(timeout=5)
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        for fd in (self._to_browser, self._from_browser):
            with suppress(OSError):
                os.close(fd)
        self._log.close()
        self._profile.cleanup()

    def _send(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._next_id

    def _receive(self) -> dict[str, Any]:
        """The next message from the browser, waiting no later than the deadline."""
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer before the test's deadline")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium closed its DevTools pipe (exit code "
                                   f"{self.proc.poll()}): {self._stderr_tail()}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def _stderr_tail(self) -> str:
        self._log.flush()
        with open(self._log.name, "rb") as log:
            return log.read()[-1500:].decode(errors="replace") or "(no output)"

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        wanted = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method} failed: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._pending.append(message)

    def _next_event(self) -> dict[str, Any]:
        """The next event: one kept while waiting for an answer, else a new one."""
        if self._pending:
            return self._pending.pop(0)
        while True:
            message = self._receive()
            if "method" in message:
                return message

    def load(self, urls: Sequence[str]) -> list[Tab]:
        """Open each URL in its own tab, all at once, and record what each page does
        until it has loaded and its network has been idle (Chromium waits about 1 s)."""
        tabs = []
        for url in urls:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self.call("Target.attachToTarget",
                                {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                self.call(f"{domain}.enable", session=session)
            self.call("Page.setLifecycleEventsEnabled", {"enabled": True}, session=session)
            navigation = self.call("Page.navigate", {"url": url}, session=session)
            if "errorText" in navigation:
                raise BrowserError(f"Chromium could not open {url}: {navigation['errorText']}")
            tabs.append(Tab(url, session, navigation.get("loaderId", "")))
        by_session = {tab.session: tab for tab in tabs}
        while not all(tab.idle for tab in tabs):
            try:
                event = self._next_event()
            except BrowserError as exc:
                busy = {tab.url: tab.events.requests for tab in tabs if not tab.idle}
                raise BrowserError(f"{exc}; pages still busy, with their requests: "
                                   f"{busy}") from None
            tab = by_session.get(event.get("sessionId", ""))
            if tab is not None:
                self._record(tab, event["method"], event.get("params", {}))
        return tabs

    def _record(self, tab: Tab, method: str, params: dict[str, Any]) -> None:
        seen = tab.events
        if method == "Runtime.consoleAPICalled":
            seen.console.append(params)
        elif method == "Log.entryAdded":
            seen.log.append(params)
        elif method == "Runtime.exceptionThrown":
            seen.exceptions.append(params)
        elif method == "Network.requestWillBeSent":
            seen.requests.append(params["request"]["url"])
        elif method == "Page.javascriptDialogOpening":
            seen.dialogs.append(params)
            self.call("Page.handleJavaScriptDialog", {"accept": False}, session=tab.session)
        elif (method == "Page.lifecycleEvent" and params.get("name") == "networkIdle"
              and params.get("loaderId") == tab.loader_id):
            tab.idle = True

    def evaluate(self, session: str, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the tab."""
        answer = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression!r} threw: {answer['exceptionDetails']}")
        return answer["result"].get("value")


@contextmanager
def chromium(deadline_s: float = 20.0) -> Iterator[Browser]:
    """A running headless Chromium, closed (and killed if need be) on exit."""
    executable = find_chromium()
    if executable is None:
        raise BrowserError(f"Chromium is not on PATH (looked for {', '.join(BROWSERS)}): "
                           + INSTALL_HINT)
    browser = Browser(executable, deadline_s=deadline_s)
    try:
        browser.call("Browser.getVersion")
        yield browser
    finally:
        browser.close()


def file_url(path: Path) -> str:
    """The file:// URL Chromium reports for `path`."""
    return path.resolve().as_uri()
