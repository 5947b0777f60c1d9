"""Finding the agent's files: declared source paths, walked without environments or caches."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

# Third-party code and caches inside a source tree are not the agent's own code; hidden
# directories (.venv, .git, .mypy_cache) and any virtualenv (it has pyvenv.cfg) are skipped too.
_SKIPPED_DIRS = frozenset({"__pycache__", "site-packages", "node_modules"})


def resolve_sources(root: Path, sources: Sequence[str]) -> list[Path]:
    """The declared source paths under `root`; a missing one raises ValueError naming it."""
    paths = []
    for source in sources:
        path = root / source
        if not path.exists():
            raise ValueError(
                f"agent.source names {source!r}, but {path} does not exist. Source paths are "
                f"relative to the directory of the config file ({root}); correct the entry "
                "in [agent] source, or remove it.")
        paths.append(path)
    return paths


def walk(path: Path) -> Iterator[Path]:
    """Files under `path` (or `path` itself), skipping hidden dirs, caches and virtualenvs."""
    if not path.is_dir():
        yield path
        return
    for directory, subdirs, files in os.walk(path):
        subdirs[:] = sorted(name for name in subdirs if not _skipped(Path(directory, name)))
        for name in sorted(files):
            yield Path(directory, name)


def relative(root: Path, path: Path) -> str:
    """`path` relative to `root`, with forward slashes, as reports and baselines name it."""
    return Path(os.path.relpath(path, root)).as_posix()


def _skipped(directory: Path) -> bool:
    return (directory.name.startswith(".") or directory.name in _SKIPPED_DIRS
            or (directory / "pyvenv.cfg").exists())
