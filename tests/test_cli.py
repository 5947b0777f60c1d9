"""The `readiness` command: exit codes, usage errors without tracebacks, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agent_configs import ConfigWriter, hostile_start

from readiness.cli import main


def test_run_writes_every_report_and_exits_1_when_not_ready(
        write_config: ConfigWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.md").write_text("x")
    monkeypatch.setenv("TINY_COMPONENT_DIR", str(tmp_path / "p"))
    config = write_config('app = "tiny_agent:app"', '[version]\nfiles = ["p/**"]')
    out = tmp_path / "out"
    code = main(["run", "--config", str(config), "--out", str(out), "--only", "versioning",
                 "--color", "never"])
    assert code == 1
    assert {p.name for p in out.iterdir()} >= {"scorecard.json", "scorecard.html",
                                                "scorecard.md", "junit.xml"}
    printed = capsys.readouterr().out
    assert "versioning" in printed and "scorecard.json" in printed


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", "--only", "speed"], "unknown item key(s) speed"),
    (["run", "--config", "/nonexistent/readiness.toml"], "no such file"),
    (["bogus"], "invalid choice"),
    (["proxy", "--target", "ftp://x", "--listen", "127.0.0.1:0"], "http"),
    (["proxy", "--target", "http://127.0.0.1:1", "--listen", "nonsense"], "HOST:PORT"),
])
def test_usage_errors_exit_2_with_a_message_and_no_traceback(
        argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_config_error_is_one_paragraph_naming_file_and_key(
        write_config: ConfigWriter, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config('url = "http://127.0.0.1:1"\ndeadline_s = "thirty"')
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "[agent] deadline_s" in err and "Fix:" in err
    assert "Traceback" not in err and err.count("\n") == 1


class _Notifications:
    """Lines the hostile agent sends to a socket this test listens on (no polling)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(60)
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.connection: socket.socket | None = None
        self.stream: Any = None

    def __enter__(self) -> _Notifications:
        return self

    def __exit__(self, *exc: object) -> None:
        for closable in (self.stream, self.connection, self.server):
            if closable is not None:
                closable.close()

    def wait_for(self, prefix: str) -> str:
        if self.stream is None:
            self.connection, _ = self.server.accept()
            self.connection.settimeout(60)
            self.stream = self.connection.makefile("r")
        for line in self.stream:
            if line.startswith(prefix):
                return line.strip()
        raise AssertionError(f"the agent closed the notification socket before {prefix!r}")


def test_ctrl_c_writes_an_incomplete_scorecard_and_stops_the_agent(
        write_config: ConfigWriter, tmp_path: Path) -> None:
    with _Notifications() as notes:
        config = write_config(hostile_start("hang") + "\ndeadline_s = 60")
        out = tmp_path / "out"
        env = {**os.environ, "HOSTILE_NOTIFY": notes.address}
        proc = subprocess.Popen([sys.executable, "-m", "readiness", "run", "--config", str(config),
                                 "--out", str(out)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            agent_pid = int(notes.wait_for("pid ").split()[1])
            notes.wait_for("")  # a request line: the harness now waits on the hung agent
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 1, stderr
    card = json.loads((out / "scorecard.json").read_text())
    assert card["incomplete"] is True and card["verdict"] == "not_ready"
    assert (out / "agent.log").exists()
    assert "Traceback" not in stderr
    with pytest.raises(ProcessLookupError):
        os.kill(agent_pid, 0)


@pytest.mark.parametrize(("faults", "expected"), [
    ([], [("GET", "/leads?x=1", 200, None)] * 2),
    (["server_error:status=502,first=1"], [("GET", "/leads?x=1", 502, "server_error"),
                                           ("GET", "/leads?x=1", 200, None)]),
])
def test_proxy_command_forwards_injects_and_records_until_interrupted(
        faults: list[str], expected: list[tuple[Any, ...]], tmp_path: Path) -> None:
    import http.server
    import threading
    import urllib.error
    import urllib.request

    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"path": "%s"}' % self.path.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    record = tmp_path / "traffic.jsonl"
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target) as target:
        threading.Thread(target=target.serve_forever, daemon=True).start()
        proc = subprocess.Popen(
            [sys.executable, "-m", "readiness", "proxy", "--target",
             f"http://127.0.0.1:{target.server_address[1]}", "--record", str(record),
             *(arg for spec in faults for arg in ("--fault", spec))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()  # printed once listening
            url = banner.split()[2]
            for _ in expected:
                try:
                    with urllib.request.urlopen(f"{url}/leads?x=1", timeout=10) as response:
                        assert json.loads(response.read()) == {"path": "/leads?x=1"}
                except urllib.error.HTTPError as error:
                    error.close()
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
        finally:
            proc.kill()
            target.shutdown()
    assert proc.returncode == 0
    exchanges = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"], e["fault"]) for e in exchanges] == expected


def test_keygen_then_verify_a_signed_scorecard_through_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from readiness.signing import sign_run_output

    assert main(["keygen", "--out", str(tmp_path)]) == 0
    key, pub = tmp_path / "readiness.key", tmp_path / "readiness.pub"
    assert main(["keygen", "--out", str(tmp_path)]) == 2  # never overwrites a key
    for card, expected in ((_card(ready=True), 0), (_card(ready=False), 1)):
        signed = sign_run_output(card, key, tmp_path / f"out{expected}", None)
        capsys.readouterr()
        assert main(["verify", str(signed), "--key", str(pub)]) == expected
        assert "VERIFIED:" in capsys.readouterr().out
    data = bytearray(signed.read_bytes())
    data[len(data) // 2] ^= 1
    signed.write_bytes(bytes(data))
    assert main(["verify", str(signed), "--key", str(pub)]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().err


def _card(*, ready: bool) -> dict[str, Any]:
    """A real scorecard with one item run; ready or not."""
    import datetime as dt

    from readiness.items import ITEMS
    from readiness.results import Outcome, ProbeResult
    from readiness.scorecard import build
    from readiness.scoring import evaluate_gate, score_item

    first = ITEMS[0]
    items = [score_item(first, [ProbeResult(
        id="holds", item=first.key, title="Holds", outcome=Outcome.PASS if ready
        else Outcome.FAIL, message="m", evidence={}, remediation="r")], 7.0)]
    items += [score_item(item, [], 7.0) for item in ITEMS[1:]]
    moment = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    return build(agent_name="lead-router", agent_version="1.4.0",
                 components={"prompts/a.md": "sha256:" + "ab" * 32}, started=moment,
                 finished=moment, items=items, gate=evaluate_gate(items, [first.key], 7.0),
                 incomplete=False, notes=[], run={"config": "readiness.toml", "only": None,
                                                  "duration_s": 1.0}, changes=None)


def test_runs_are_recorded_and_diff_names_the_regressed_probe(
        write_config: ConfigWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    config = write_config('url = "http://127.0.0.1:9"\nstartup_timeout_s = 0.2',
                          '[history]\npath = "runs.db"')
    for out in ("one", "two"):
        main(["run", "--config", str(config), "--out", str(tmp_path / out), "--only", "owner"])
    assert summary.read_text(encoding="utf-8").count("NOT READY") == 2  # appended per run
    capsys.readouterr()
    assert main(["history", "--config", str(config)]) == 0
    assert capsys.readouterr().out.count("test-agent") == 2
    old = json.loads((tmp_path / "one" / "scorecard.json").read_text())
    (owner,) = [i for i in old["items"] if i["key"] == "owner"]
    regressed = owner["probes"][0]
    assert regressed["outcome"] == "fail"  # no owner declared
    better = json.loads(json.dumps(old))
    next(i for i in better["items"] if i["key"] == "owner")["probes"][0]["outcome"] = "pass"
    (tmp_path / "better.json").write_text(json.dumps(better))
    before, after = str(tmp_path / "better.json"), str(tmp_path / "one" / "scorecard.json")
    assert main(["diff", after, before, "--db", str(tmp_path / "runs.db")]) == 0
    capsys.readouterr()
    assert main(["diff", before, after, "--db", str(tmp_path / "runs.db")]) == 1
    shown = capsys.readouterr().out
    assert regressed["id"] in shown
    others = [p["id"] for i in old["items"] for p in i["probes"] if p["id"] != regressed["id"]]
    assert not [probe for probe in others if probe in shown]
