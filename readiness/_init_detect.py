"""What `readiness init` finds out without asking: name, packages, start, upstreams, files."""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from readiness.probes.owner import CODEOWNERS_PLACES

VERSIONED_FOLDERS = ("prompts", "tools", "rules")
LLM_HINTS = ("LLM", "OPENAI", "MODEL")
ALERT_HINTS = ("ALERT", "WEBHOOK", "SLACK")
# URLs of stores and brokers rather than HTTP services the agent acts on
NOT_UPSTREAMS = ("DATABASE", "DB_", "REDIS", "POSTGRES", "MYSQL", "MONGO", "AMQP", "BROKER",
                 "CELERY", "SENTRY", "KAFKA")
SKIPPED_DIRS = {"tests", "test", "docs", "examples", "scripts", "benchmarks", "build", "dist",
                "node_modules", "venv", "site-packages", "__pycache__"}
# quoted names: os.environ["X"], getenv("X"), or any settings helper's env.get("X")
_ENV_URL = re.compile(r"[\"']([A-Z][A-Z0-9_]*_URL)[\"']")
_ENV_DEFAULT = re.compile(r"(?:getenv|\.get)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']\s*,\s*"
                          r"[\"'](https?://[^\"'\s]+)[\"']")
_TOKEN = re.compile(r"[\"']([A-Z][A-Z0-9_]*(INVOKE|OPERATOR)[A-Z0-9_]*TOKEN)[\"']")
_ASGI = re.compile(r"^(\w+)\s*(?::[^=]+)?=\s*(?:Starlette|FastAPI)\(", re.MULTILINE)


@dataclass(frozen=True)
class Upstream:
    """An upstream guessed from an environment variable the agent's code reads."""

    name: str
    env: str
    kind: str
    target: str | None  # None: unknown, so the table is written commented out
    found_in: str


@dataclass(frozen=True)
class Detected:
    """What `readiness init` found in the repository, each with where it was found."""

    name: str
    name_origin: str
    packages: tuple[str, ...] = ()
    start: str | None = None
    start_origin: str = ""
    app: str | None = None
    app_origin: str = ""
    upstreams: tuple[Upstream, ...] = ()
    alerts_env: str | None = None
    alerts_origin: str = ""
    tokens: Mapping[str, str] = field(default_factory=dict)
    version_files: tuple[str, ...] = ()
    codeowners: str | None = None
    git_user: str | None = None


def detect(root: Path) -> Detected:
    """Everything init can find out without asking."""
    name, name_origin = _agent_name(root)
    packages = _packages(root)
    sources = {path: read_text(path) for package in packages
               for path in sorted((root / package).rglob("*.py"))
               if "__pycache__" not in path.parts}
    start, start_origin = _start(root, packages, name)
    app, app_origin = _asgi_app(root, sources)
    upstreams, alerts = _upstreams(root, sources)
    return Detected(
        name=name, name_origin=name_origin, packages=packages,
        start=start, start_origin=start_origin, app=app, app_origin=app_origin,
        upstreams=tuple(upstreams), alerts_env=alerts[0] if alerts else None,
        alerts_origin=alerts[1] if alerts else "", tokens=_tokens(sources),
        version_files=_version_files(root, packages), codeowners=_codeowners(root),
        git_user=_git_user(root))


def read_text(path: Path) -> str:
    """A file's text, or "" when it cannot be read (detection never fails on one file)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _agent_name(root: Path) -> tuple[str, str]:
    pyproject = root / "pyproject.toml"
    try:
        name = tomllib.loads(read_text(pyproject)).get("project", {}).get("name")
    except tomllib.TOMLDecodeError:
        name = None
    if isinstance(name, str) and name.strip():
        return " ".join(name.split()), "from pyproject.toml [project] name"
    return " ".join(root.name.split()) or "agent", "the folder's name"


def _packages(root: Path) -> tuple[str, ...]:
    """Top-level Python packages (folders with __init__.py), also under src/."""
    found = []
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if (folder.is_dir() and (folder / "__init__.py").is_file()
                    and not folder.name.startswith(".") and folder.name not in SKIPPED_DIRS):
                found.append(folder.relative_to(root).as_posix())
    return tuple(found)


def _module(package: str) -> str:
    return package.removeprefix("src/").replace("/", ".")


def _start(root: Path, packages: tuple[str, ...], name: str) -> tuple[str | None, str]:
    """`python -m PACKAGE --port {port}` for a package with __main__.py (the agent's first)."""
    runnable = [p for p in packages if (root / p / "__main__.py").is_file()]
    if not runnable:
        return None, ""
    wanted = re.sub(r"[-.]", "_", name.lower())
    package = next((p for p in runnable if _module(p) == wanted), runnable[0])
    origin = f"{package}/__main__.py"
    if "--port" not in read_text(root / package / "__main__.py"):
        origin += "; it must listen on the port given as --port {port}: check"
    return f"python -m {_module(package)} --port {{port}}", origin


def _asgi_app(root: Path, sources: Mapping[Path, str]) -> tuple[str | None, str]:
    """The first module-level `NAME = Starlette(...)` or `FastAPI(...)` assignment."""
    for path, text in sources.items():
        if match := _ASGI.search(text):
            relative = path.relative_to(root).with_suffix("")
            parts = relative.parts[1:] if relative.parts[0] == "src" else relative.parts
            module = ".".join(parts).removesuffix(".__init__")
            line = text.count("\n", 0, match.start()) + 1
            return f"{module}:{match.group(1)}", f"{relative.as_posix()}.py:{line}"
    return None, ""


def _upstreams(root: Path, sources: Mapping[Path, str]
               ) -> tuple[list[Upstream], tuple[str, str] | None]:
    """Upstreams from *_URL environment variables the code names; the alert webhook apart."""
    found: dict[str, Upstream] = {}
    alerts: tuple[str, str] | None = None
    defaults = {m.group(1): m.group(2) for text in sources.values()
                for m in _ENV_DEFAULT.finditer(text)}
    for path, text in sources.items():
        for match in _ENV_URL.finditer(text):
            env = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(root).as_posix()}:{line}"
            if any(hint in env for hint in ALERT_HINTS):
                alerts = alerts or (env, where)
                continue
            if env in found or any(hint in env for hint in NOT_UPSTREAMS):
                continue
            name = re.sub(r"_+", "_", env.removesuffix("_URL").removesuffix("_BASE")).lower()
            name = name.strip("_") or "upstream"
            if any(hint in env for hint in LLM_HINTS):
                found[env] = Upstream(name, env, "llm", "sim:openai", where)
            else:
                found[env] = Upstream(name, env, "tool", defaults.get(env), where)
    unique: dict[str, Upstream] = {}
    for up in found.values():  # two variables naming one upstream: keep the first
        unique.setdefault(up.name, up)
    return list(unique.values()), alerts


def _tokens(sources: Mapping[Path, str]) -> dict[str, str]:
    """The variables the agent reads its invoke and operator tokens from, if it names them."""
    tokens: dict[str, str] = {}
    for text in sources.values():
        for match in _TOKEN.finditer(text):
            tokens.setdefault(match.group(2).lower(), match.group(1))
    return tokens


def _version_files(root: Path, packages: tuple[str, ...]) -> tuple[str, ...]:
    """prompts/, tools/ and rules/ folders at the top or anywhere in a package."""
    found = [f"{folder}/**" for folder in VERSIONED_FOLDERS if (root / folder).is_dir()]
    for package in packages:
        for folder in sorted((root / package).rglob("*")):
            if folder.is_dir() and folder.name in VERSIONED_FOLDERS and "__pycache__" not in (
                    folder.parts):
                found.append(folder.relative_to(root).as_posix() + "/**")
    return tuple(found)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _codeowners(root: Path) -> str | None:
    """Where a CODEOWNERS file is, relative to `root` (or the repository top)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    for base in [root] + ([Path(top)] if top else []):
        for place in CODEOWNERS_PLACES:
            if (base / place).is_file():
                path = base / place
                return (path.relative_to(root).as_posix() if path.is_relative_to(root)
                        else str(path))
    return None


def _git_user(root: Path) -> str | None:
    name = _git(root, "config", "user.name")
    email = _git(root, "config", "user.email")
    return f"{name} <{email}>" if name and email else name
