"""Read readiness.toml (or [tool.readiness] in pyproject.toml) into a validated Config."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from readiness.config import fields as f
from readiness.config.errors import ConfigError, describe
from readiness.config.model import (
    AgentConfig,
    AlertsConfig,
    AuthConfig,
    ComplianceConfig,
    Config,
    DataConfig,
    DocsConfig,
    GateConfig,
    HistoryConfig,
    LoadConfig,
    OwnerConfig,
    ProviderConfig,
    ScenarioConfig,
    SecurityConfig,
    UpstreamConfig,
    VersionConfig,
)
from readiness.config.spec import (
    AGENT,
    ALERTS,
    AUTH,
    COMPLIANCE,
    DATA,
    DOCS,
    GATE,
    HISTORY,
    LOAD,
    OWNER,
    PROVIDER,
    SCENARIO,
    SECTIONS,
    SECURITY,
    UPSTREAM,
    VERSION,
    Spec,
)
from readiness.contract import DEFAULT_ENDPOINTS, parse_endpoint


def find_config(start: Path) -> Path:
    """readiness.toml in `start`, else a pyproject.toml there with [tool.readiness]."""
    candidate = start / "readiness.toml"
    if candidate.is_file():
        return candidate
    pyproject = start / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool")
        if isinstance(tool, dict) and "readiness" in tool:
            return pyproject
    raise ConfigError(start / "readiness.toml", "", "a readiness.toml (or [tool.readiness] in "
                      "pyproject.toml) in this folder", "neither",
                      "run `readiness init` to write one, or pass --config PATH")


def load_config(path: Path | str | None = None) -> Config:
    """Parse and validate a configuration file; every mistake is a ConfigError."""
    file = Path(path) if path is not None else find_config(Path.cwd())
    data = _read_toml(file)
    if file.name == "pyproject.toml":
        tool = data.get("tool")
        table = tool.get("readiness") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(file, "[tool.readiness]", "a [tool.readiness] table", "none",
                              "add [tool.readiness.agent] etc., or use a readiness.toml")
        data = table
        prefix = "tool.readiness."
    else:
        prefix = ""
    return _build(file, data, prefix)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(file, "", "a readable TOML file", "no such file",
                          "check the path, or run `readiness init` to write one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", "a readable TOML file", f"it cannot be read ({exc})",
                          "check the file's permissions and encoding (UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "", "valid TOML", f"a syntax error: {exc}",
                          "correct the line the error names (strings need quotes)") from None


def _section(file: Path, data: Mapping[str, Any], name: str, spec: Spec, prefix: str,
             allow: tuple[str, ...] = ()) -> dict[str, Any]:
    raw = data.get(name, {})
    key = f"{prefix}{name}"
    if not isinstance(raw, dict):
        raise ConfigError(file, f"[{key}]", "a table", describe(raw), f"write [{key}] as a table")
    out: dict[str, Any] = {}
    for child, value in raw.items():
        if child in allow:
            continue
        if child not in spec:
            raise _unknown(file, key, child, list(spec) + list(allow))
        out[child] = spec[child].convert(value, f.Where(str(file), f"[{key}] {child}"))
    for child, field in spec.items():
        if child not in out:
            if field.required:
                raise ConfigError(file, f"[{key}] {child}", f"the required key {child}",
                                  "it missing", f"add {field.example or child + ' = ...'}")
            out[child] = field.default
    return out


def _unknown(file: Path, section: str, key: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    fix = f"rename it to {close[0]!r}" if close else "remove it, or check its spelling"
    return ConfigError(file, f"[{section}] {key}", f"one of the keys {', '.join(known)}",
                       f"the unknown key {key!r}", fix)


def _build(file: Path, data: Mapping[str, Any], prefix: str) -> Config:
    for name in data:
        if name not in SECTIONS:
            close = difflib.get_close_matches(name, list(SECTIONS), n=1)
            raise ConfigError(file, f"[{prefix}{name}]",
                              f"one of the tables {', '.join(SECTIONS)}",
                              f"the unknown table [{prefix}{name}]",
                              f"rename it to [{prefix}{close[0]}]" if close
                              else "remove it, or check its spelling")
    root = file.resolve().parent
    agent = _agent(file, data, prefix)
    upstreams = _upstreams(file, data.get("upstreams", {}), prefix)
    owner = _section(file, data, "owner", OWNER, prefix)
    if owner["codeowners"] is not None:
        owner["codeowners"] = root / owner["codeowners"]
    docs = {k: (root / v if v else None)
            for k, v in _section(file, data, "docs", DOCS, prefix).items()}
    security = _section(file, data, "security", SECURITY, prefix)
    if security["baseline"] is not None:
        security["baseline"] = root / security["baseline"]
    load = _section(file, data, "load", LOAD, prefix)
    load["duration_s"] = load.pop("duration")
    gate = _section(file, data, "gate", GATE, prefix)
    gate["waivers"] = root / gate["waivers"] if gate["waivers"] is not None else None
    history = _section(file, data, "history", HISTORY, prefix)
    history["path"] = root / history["path"]
    return Config(
        path=file.resolve(), root=root, agent=agent,
        auth=AuthConfig(**_section(file, data, "auth", AUTH, prefix)),
        upstreams=upstreams,
        scenario=_scenario(file, data, prefix),
        load=LoadConfig(**load),
        alerts=AlertsConfig(**_section(file, data, "alerts", ALERTS, prefix)),
        version=VersionConfig(**_section(file, data, "version", VERSION, prefix)),
        owner=OwnerConfig(**owner), docs=DocsConfig(**docs),
        provider=ProviderConfig(**_section(file, data, "provider", PROVIDER, prefix)),
        data=DataConfig(**_data(file, data, prefix, upstreams)),
        compliance=ComplianceConfig(**_section(file, data, "compliance", COMPLIANCE, prefix)),
        security=SecurityConfig(**security),
        gate=GateConfig(**gate), history=HistoryConfig(**history),
    )


def _scenario(file: Path, data: Mapping[str, Any], prefix: str) -> ScenarioConfig:
    scenario = ScenarioConfig(**_section(file, data, "scenario", SCENARIO, prefix))
    fields = list(scenario.faker_fields)
    for name in scenario.unique if scenario.source == "faker" else ():
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            raise ConfigError(file, f"[{prefix}scenario] unique", "names of scenario fields "
                              f"({', '.join(fields)})", repr(name),
                              f"rename it to {close[0]!r}" if close
                              else f"add {name} to [scenario] fields, or remove it from unique")
    return scenario


def _data(file: Path, data: Mapping[str, Any], prefix: str,
          upstreams: Mapping[str, UpstreamConfig]) -> dict[str, Any]:
    values = _section(file, data, "data", DATA, prefix)
    for name in values["shared_with"]:
        if name not in upstreams:
            raise ConfigError(file, f"[{prefix}data] shared_with", "names of [upstreams.NAME] "
                              f"tables ({', '.join(upstreams) or 'none declared'})",
                              repr(name), "name an upstream declared under [upstreams]")
    return values


def _agent(file: Path, data: Mapping[str, Any], prefix: str) -> AgentConfig:
    if "agent" not in data:
        raise ConfigError(file, f"[{prefix}agent]", "an [agent] table naming the agent and how "
                          "to reach it", "no [agent] table",
                          'add [agent] with name = "..." and start = "..." or url = "..."')
    values = _section(file, data, "agent", AGENT, prefix, allow=("paths",))
    section = f"[{prefix}agent]"
    modes = [k for k in ("start", "url", "app") if values[k]]
    if not modes:
        raise ConfigError(file, f"{section} start/url/app", "one way to reach the agent",
                          "none of start, url or app",
                          'add start = "python -m my_agent --port {port}", or url = "http://..."')
    if values["app"] and (values["start"] or values["url"]):
        raise ConfigError(file, f"{section} app", "app alone (in-process ASGI)",
                          "app together with start/url",
                          "keep app for in-process mode, or start/url for a separate process")
    if values["start"] and not values["url"]:
        values["url"] = "http://127.0.0.1:{port}"
    if values["url"] and not re.match(r"^https?://", values["url"]):
        raise ConfigError(file, f"{section} url", "an http:// or https:// URL",
                          describe(values["url"]), 'write url = "http://127.0.0.1:{port}"')
    if values["app"] and not re.match(r"^[\w.]+:[\w.]+$", values["app"]):
        raise ConfigError(file, f"{section} app", 'an import path "package.module:attribute"',
                          describe(values["app"]), 'write app = "my_agent.app:app"')
    endpoints = dict(DEFAULT_ENDPOINTS)
    paths = data["agent"].get("paths", {})
    if not isinstance(paths, dict):
        raise ConfigError(file, f"[{prefix}agent.paths]", "a table", describe(paths),
                          'write [agent.paths] with control = "PUT /admin/mode"')
    for key, spec in paths.items():
        where = f"[{prefix}agent.paths] {key}"
        if key not in DEFAULT_ENDPOINTS:
            raise _unknown(file, f"{prefix}agent.paths", key, list(DEFAULT_ENDPOINTS))
        try:
            endpoints[key] = parse_endpoint(f.string(spec, f.Where(str(file), where)),
                                            DEFAULT_ENDPOINTS[key])
        except ValueError:
            raise ConfigError(file, where, 'an endpoint such as "PUT /admin/mode" or "/admin/mode"',
                              describe(spec), f'write {key} = "{DEFAULT_ENDPOINTS[key]}"') from None
    values["endpoints"] = endpoints
    return AgentConfig(**values)


def _upstreams(file: Path, raw: Any, prefix: str) -> dict[str, UpstreamConfig]:
    if not isinstance(raw, dict):
        raise ConfigError(file, f"[{prefix}upstreams]", "tables such as [upstreams.llm]",
                          describe(raw), "write [upstreams.NAME] tables")
    upstreams = {}
    env_seen: dict[str, str] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(file, f"[{prefix}upstreams.{name}]", "a table", describe(table),
                              f"write [upstreams.{name}] with kind, target and env")
        values = _section(file, raw, name, UPSTREAM, f"{prefix}upstreams.")
        key = f"[{prefix}upstreams.{name}]"
        if "{port}" in values["target"] and not values["start"]:
            raise ConfigError(file, f"{key} target", "a fixed address (no {port}) when the "
                              "harness does not start this upstream", describe(values["target"]),
                              'add start = "..." so the harness starts it, or a fixed port')
        if values["env"] in env_seen:
            raise ConfigError(file, f"{key} env", "a variable no other upstream uses",
                              f"{values['env']!r}, also used by "
                              f"[upstreams.{env_seen[values['env']]}]",
                              "give each upstream its own environment variable")
        env_seen[values["env"]] = name
        upstreams[name] = UpstreamConfig(name=name, **values)
    return upstreams
