"""pytest plugin: `pytest --readiness` runs the suite, one pytest item per probe.

The plugin only adapts the core: it registers its session object when the option
is on, adds the probes as items (so `-k` and `--junitxml` work), runs the
harness once for the selected probes, and fails the session when the gate fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from readiness.items import ITEMS

SESSION_PLUGIN = "readiness-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness", "agent readiness")
    group.addoption("--readiness", action="store_true", default=False,
                    help="run the nine-point readiness suite against the configured agent")
    group.addoption("--readiness-config", metavar="FILE", default=None,
                    help="readiness.toml or pyproject.toml (default: ./readiness.toml)")
    group.addoption("--readiness-out", metavar="DIR", default="readiness-report",
                    help="where the scorecard is written (default: readiness-report/)")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("readiness"):
        return
    from readiness.config import ConfigError, load_config

    path = config.getoption("readiness_config")
    try:
        loaded = load_config(Path(path) if path else None)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.addinivalue_line("markers", "readiness: a probe of the agent readiness suite")
    out = Path(config.getoption("readiness_out"))
    config.pluginmanager.register(ReadinessSession(loaded, out), SESSION_PLUGIN)


class ProbeOutcome(Exception):
    """A failed or errored probe, shown by ProbeItem.repr_failure."""

    def __init__(self, probe: dict[str, Any]) -> None:
        super().__init__(probe["message"])
        self.probe = probe


class ReadinessSession:
    """State of one readiness run inside a pytest session."""

    def __init__(self, config: Any, out: Path) -> None:
        self.config = config
        self.out = out
        self.card: dict[str, Any] | None = None
        self.paths: dict[str, Path] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session,
                                      items: list[pytest.Item]) -> None:
        # tryfirst: our items must exist before -k/-m deselection runs
        root = ReadinessCollector.from_parent(session, name="readiness", nodeid="readiness")
        items.extend(root.collect_items())

    def results(self, session: pytest.Session) -> dict[str, Any]:
        """Run the harness once, for the probes still selected, and write the reports."""
        if self.card is None:
            from readiness.history import record_if_enabled
            from readiness.reports import write_reports
            from readiness.reports.markdown import render_markdown
            from readiness.reports.step_summary import write_step_summary
            from readiness.runner import run

            selected = [i for i in session.items if isinstance(i, ProbeItem)]
            only = {i.item_key for i in selected}
            result = run(self.config, self.out, only=only,
                         probe_ids={i.probe_id for i in selected})
            self.card = result.card
            self.paths = write_reports(self.card, self.out)
            record_if_enabled(self.config, self.card)
            write_step_summary(render_markdown(self.card))
            if self.card.get("incomplete"):
                session.shouldstop = "the readiness run was interrupted"
        return self.card

    def probe(self, session: pytest.Session, item_key: str, probe_id: str) -> dict[str, Any]:
        card = self.results(session)
        item = next(i for i in card["items"] if i["key"] == item_key)
        for found in item["probes"]:
            if found["id"] == probe_id:
                return dict(found)
        return {"id": probe_id, "outcome": "not_run", "message": item["reason"],
                "evidence": {}, "remediation": ""}

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.card is not None and self.card["verdict"] != "ready" \
                and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.card is None:
            terminalreporter.write_line("readiness: no readiness probe was selected; "
                                        "no scorecard written")
            return
        from readiness.reports import render_terminal

        terminalreporter.section("agent readiness")
        color = bool(getattr(terminalreporter, "hasmarkup", False))
        for line in render_terminal(self.card, color=color).splitlines():
            terminalreporter.write_line(line)
        terminalreporter.write_line("reports: " + ", ".join(str(p) for p in self.paths.values()))


class ReadinessCollector(pytest.Collector):
    """The virtual `readiness` node holding one item per probe."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return list(self.collect_items())

    def collect_items(self) -> Iterator[pytest.Item]:
        from readiness.registry import load_probes

        registry = load_probes()
        for item in ITEMS:
            probes = registry.probes(item.key)
            if not probes:
                yield NotRunItem.from_parent(self, name=f"{item.key}::not_assessed",
                                             item_key=item.key)
            for found in probes:
                yield ProbeItem.from_parent(self, name=f"{item.key}::{found.id}",
                                            item_key=item.key, probe_id=found.id)


class ProbeItem(pytest.Item):
    """One probe of the readiness suite."""

    def __init__(self, *, item_key: str, probe_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item_key = item_key
        self.probe_id = probe_id
        self.add_marker(pytest.mark.readiness)
        self.outcome: dict[str, Any] | None = None

    def _session_plugin(self) -> ReadinessSession:
        plugin = self.config.pluginmanager.get_plugin(SESSION_PLUGIN)
        assert isinstance(plugin, ReadinessSession)
        return plugin

    def setup(self) -> None:
        self.outcome = self._session_plugin().probe(self.session, self.item_key, self.probe_id)
        if self.outcome["outcome"] == "error":
            raise ProbeOutcome(self.outcome)  # setup failures show as pytest errors

    def runtest(self) -> None:
        outcome = self.outcome or {}
        waived = outcome.get("waived")
        if outcome.get("outcome") == "fail" and isinstance(waived, dict):
            pytest.xfail(f"waived until {waived.get('expires')} by {waived.get('owner')}: "
                         f"{waived.get('reason')} ({outcome['message']})")
        if outcome.get("outcome") == "fail":
            raise ProbeOutcome(outcome)
        if outcome.get("outcome") in ("not_applicable", "not_run"):
            pytest.skip(f"{outcome['outcome']}: {outcome['message']}")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, ProbeOutcome):
            probe = excinfo.value.probe
            evidence = json.dumps(probe.get("evidence", {}), indent=2, default=str)
            if len(evidence) > 4000:
                evidence = evidence[:4000] + "\n... (full evidence in scorecard.json)"
            return (f"{probe['outcome'].upper()}: {probe['message']}\n"
                    f"fix: {probe.get('remediation', '')}\nevidence: {evidence}")
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "readiness", None, f"readiness::{self.item_key}::{self.probe_id}"


class NotRunItem(pytest.Item):
    """An item with no probes built yet: skipped here, failing the release gate."""

    def __init__(self, *, item_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item_key = item_key

    def runtest(self) -> None:
        pytest.skip(f"{self.item_key}: no probes for this item are built yet; it is not_run "
                    "and fails the release gate")

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "readiness", None, f"readiness::{self.item_key}::not_assessed"
