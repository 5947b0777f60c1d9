"""The probe registry: unique ids, probe crashes contained, entry points."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest

from readiness import registry as registry_module
from readiness.registry import DuplicateProbeError, Registry, _load_entry_points, load_probes
from readiness.results import Finding, Outcome, passed


def _register(reg: Registry, probe_id: str, func: Any, item: str = "docs") -> None:
    reg.probe(item, title="t", why="w", fix="f", id=probe_id)(func)


def test_duplicate_probe_id_fails_at_registration() -> None:
    reg = Registry()
    _register(reg, "has_runbook", lambda obs: passed("ok"))

    def other(obs: Any) -> Finding:
        return passed("ok")

    with pytest.raises(DuplicateProbeError, match="'has_runbook' is registered twice"):
        _register(reg, "has_runbook", other, item="owner")


def test_unknown_item_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown item 'speed'"):
        _register(Registry(), "fast", lambda obs: passed("ok"), item="speed")


def test_probe_exception_and_wrong_return_become_error_results() -> None:
    reg = Registry()

    def crashes(obs: Any) -> Finding:
        raise KeyError("status")

    _register(reg, "crashes", crashes)
    _register(reg, "returns_none", lambda obs: None)
    crashed, wrong = (p.evaluate({}) for p in reg.probes("docs"))
    assert crashed.outcome is Outcome.ERROR and "KeyError" in crashed.message
    assert "traceback" in crashed.evidence
    assert wrong.outcome is Outcome.ERROR and "expected Finding" in wrong.message


def test_finding_remediation_overrides_the_default_fix() -> None:
    reg = Registry()
    _register(reg, "specific", lambda obs: Finding(Outcome.FAIL, "m", {}, "do this instead"))
    assert reg.probes()[0].evaluate(None).remediation == "do this instead"


class _EntryPoint:
    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name, self.value, self.error, self.loaded = name, f"{name}:probes", error, False

    def load(self) -> None:
        if self.error:
            raise self.error
        self.loaded = True


def test_entry_point_plugins_load_and_a_broken_one_is_named() -> None:
    good = _EntryPoint("good")
    _load_entry_points([good])  # type: ignore[list-item]
    assert good.loaded
    with pytest.raises(RuntimeError, match=r"plugin 'broken'.*READINESS_DISABLE_PLUGIN_AUTOLOAD"):
        _load_entry_points([_EntryPoint("broken", ImportError("no module x"))])  # type: ignore[list-item]


def test_autoload_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(registry_module, "_loaded", False)
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: seen.append(group) or [])
    monkeypatch.setenv("READINESS_DISABLE_PLUGIN_AUTOLOAD", "1")
    load_probes()
    assert seen == []
    monkeypatch.setattr(registry_module, "_loaded", False)
    monkeypatch.delenv("READINESS_DISABLE_PLUGIN_AUTOLOAD")
    load_probes()
    assert seen == ["readiness.probes"]


def test_builtin_probe_ids_are_yes_no_snake_case_and_carry_texts() -> None:
    probes = load_probes().probes()
    assert len(probes) >= 14
    for probe in probes:
        assert probe.id.islower() and " " not in probe.id
        assert probe.title and probe.why and probe.fix


def test_the_package_exports_what_probe_authors_need() -> None:
    import readiness

    assert {"probe", "observer", "Finding", "Interrupted", "passed", "failed", "errored",
            "not_applicable", "load_config"} <= set(readiness.__all__)
    assert all(hasattr(readiness, name) for name in readiness.__all__)
