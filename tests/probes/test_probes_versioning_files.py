"""Item 5 observation helpers on real files: versioned_files and git_state."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from probes_support import commit_all, git, sha, write_tree

from readiness.probes.versioning import GitState, git_state, versioned_files

TREE = {
    "prompts/route.txt": "You route leads.",
    "prompts/deep/er/tone.md": "Be brief.",
    "prompts/__pycache__/cached.txt": "stale",
    "tools/assign.json": '{"name": "assign"}',
    "tools/notes.txt": "not a tool",
    "README.md": "hello",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_tree(tmp_path, TREE)
    return tmp_path


def test_globs_hash_every_matching_file(tree: Path) -> None:
    digests, empty = versioned_files(tree, ("prompts/**", "tools/*.json"))
    assert list(digests) == ["prompts/deep/er/tone.md", "prompts/route.txt", "tools/assign.json"]
    assert digests["prompts/route.txt"] == "sha256:" + hashlib.sha256(
        (tree / "prompts/route.txt").read_bytes()).hexdigest()
    assert digests["tools/assign.json"] == sha(TREE["tools/assign.json"])
    assert empty == []


def test_patterns_that_match_nothing_are_reported(tree: Path) -> None:
    digests, empty = versioned_files(tree, ("rules/**", "tools/*.json", "prompts/*.yaml"))
    assert list(digests) == ["tools/assign.json"]
    assert empty == ["rules/**", "prompts/*.yaml"]


def test_overlapping_patterns_count_a_file_once(tree: Path) -> None:
    digests, _ = versioned_files(tree, ("prompts/**", "prompts/*.txt", "**/route.txt"))
    assert list(digests) == ["prompts/deep/er/tone.md", "prompts/route.txt"]


def test_pycache_only_pattern_is_empty(tree: Path) -> None:
    assert versioned_files(tree, ("prompts/__pycache__/*",)) == ({}, ["prompts/__pycache__/*"])


def test_no_patterns(tree: Path) -> None:
    assert versioned_files(tree, ()) == ({}, [])


def test_digest_follows_the_bytes(tree: Path) -> None:
    before, _ = versioned_files(tree, ("prompts/route.txt",))
    (tree / "prompts/route.txt").write_bytes(b"You route leads!")
    after, _ = versioned_files(tree, ("prompts/route.txt",))
    assert before != after == {"prompts/route.txt": sha(b"You route leads!")}


# --- git_state -----------------------------------------------------------------------------


@pytest.fixture
def repo(git_env: Path) -> Path:
    """A committed repository: agent/ holds the config root and its versioned files."""
    write_tree(git_env, {f"agent/{k}": v for k, v in TREE.items()} | {"top.txt": "x"})
    git(git_env, "init", "-q")
    commit_all(git_env)
    return git_env


AGENT_FILES = ["prompts/route.txt", "prompts/deep/er/tone.md", "tools/assign.json"]


def test_clean_repository(repo: Path) -> None:
    state = git_state(repo / "agent", AGENT_FILES)
    assert state == GitState(str(repo.resolve()), (), (), None)


def test_modified_and_untracked_files_relative_to_a_subfolder_root(repo: Path) -> None:
    root = repo / "agent"
    (root / "prompts/route.txt").write_text("changed", encoding="utf-8")
    write_tree(root, {"prompts/new.txt": "new", "prompts/deep/er/later.md": "later"})
    files = [*AGENT_FILES, "prompts/new.txt", "prompts/deep/er/later.md"]
    state = git_state(root, files)
    assert state.untracked == ("prompts/deep/er/later.md", "prompts/new.txt")
    assert state.modified == ("prompts/route.txt",)
    assert (state.repo, state.problem) == (str(repo.resolve()), None)


def test_changes_outside_the_listed_files_are_ignored(repo: Path) -> None:
    (repo / "top.txt").write_text("changed", encoding="utf-8")
    write_tree(repo / "agent", {"tools/notes.txt": "changed", "scratch.txt": "new"})
    assert git_state(repo / "agent", AGENT_FILES) == GitState(str(repo.resolve()))


def test_staged_but_uncommitted_counts_as_modified(repo: Path) -> None:
    root = repo / "agent"
    write_tree(root, {"prompts/staged.txt": "staged"})
    git(repo, "add", "agent/prompts/staged.txt")
    assert git_state(root, ["prompts/staged.txt"]).modified == ("prompts/staged.txt",)


def test_repository_root_as_config_root(repo: Path) -> None:
    (repo / "top.txt").write_text("changed", encoding="utf-8")
    write_tree(repo, {"new file.txt": "spaces"})
    state = git_state(repo, ["top.txt", "new file.txt"])
    assert (state.modified, state.untracked) == (("top.txt",), ("new file.txt",))


def test_no_files_only_finds_the_repository(repo: Path) -> None:
    assert git_state(repo / "agent", []) == GitState(str(repo.resolve()))


def test_folder_outside_any_repository(git_env: Path) -> None:
    write_tree(git_env, {"prompts/a.txt": "a"})
    state = git_state(git_env, ["prompts/a.txt"])
    assert (state.repo, state.untracked, state.modified) == (None, (), ())
    assert state.problem == f"{git_env} is not inside a git repository"


def test_git_missing(git_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(git_env / "no-bin"))
    state = git_state(git_env, ["a.txt"])
    assert state.repo is None
    assert (state.problem or "").startswith("git could not run: ")
