"""detect-secrets over the agent's files: real secrets found and masked, placeholders not.

Every fake secret is assembled at run time, so this file carries no secret-shaped literal
and the repository's own scanners stay quiet (test_our_own_files_carry_no_secret).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import WriteTree

from readiness.security_checks import (
    Acceptance,
    Baseline,
    SecretFinding,
    candidate_files,
    find_secrets,
)

REPO = Path(__file__).resolve().parents[2]
OPENAI = "sk-" + "proj-" + "Zq4Lx8Vb2Nm6Kj1Hg5Fd" + "T3Blbk" + "FJ" + "Rt7Yu3Io9Pa5Sd1Fg6Hj2K"
AWS = "AK" + "IA" + "Z7Q2XK4MPL9RTW3B"
GITHUB = "gh" + "p_" + "a1Bzc3Dqe5Fw" + "g7Hyi9Jok1Lr" + "m3Nxo5Pvq7Rs"
KEY_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"
CHOSEN = "h7Fq9" + "!xQ2vLm"  # a person-chosen credential
PASS_WORD = "pass" + "word"


@pytest.mark.parametrize(("line", "kind", "secret"), [
    pytest.param(f'OPENAI_KEY = "{OPENAI}"', "OpenAI Token", OPENAI, id="openai"),
    pytest.param(f'AWS_ID = "{AWS}"', "AWS Access Key", AWS, id="aws"),
    pytest.param(f'GH = "{GITHUB}"', "GitHub Token", GITHUB, id="github"),
    pytest.param(f'{PASS_WORD} = "{CHOSEN}"', "Secret Keyword", CHOSEN, id="password"),
    pytest.param(f'PEM = """{KEY_HEADER}', "Private Key", KEY_HEADER, id="private-key"),
])
def test_hard_coded_secrets_are_found_and_masked(tree: WriteTree, line: str, kind: str,
                                                 secret: str) -> None:
    root = tree({"agent/settings.py": f"import os\n\n{line}\nMIIEpAIBAAKCAQEA7\n"})
    [finding] = find_secrets(root, candidate_files(root, ["agent"], []))
    assert (finding.file, finding.line, finding.kind) == ("agent/settings.py", 3, kind)
    assert secret not in finding.masked and secret[4:] not in finding.masked
    assert "*" * 4 in finding.masked and finding.accepted is None


def test_masked_line_keeps_the_context_and_first_characters(tree: WriteTree) -> None:
    root = tree({"agent/settings.py": f'AWS_ID = "{AWS}"  # the deploy key\n'})
    [finding] = find_secrets(root, [root / "agent/settings.py"])
    assert finding.masked == f'AWS_ID = "{AWS[:4]}{"*" * 16}"  # the deploy key'


def test_secrets_never_appear_unmasked_in_any_returned_value(tree: WriteTree) -> None:
    secrets = [OPENAI, AWS, GITHUB, CHOSEN]
    body = "".join(f'V{n} = "{s}"\n' for n, s in enumerate(secrets[:3]))
    root = tree({
        "agent/a.py": body + f'{PASS_WORD} = "{CHOSEN}"\n',
        "agent/config.toml": f'[auth]\ntoken = "{GITHUB}"\n',
        "agent/.env": f"OPENAI_API_KEY={OPENAI}\nAWS_ACCESS_KEY_ID={AWS}\n",
        "agent/both.py": f'pair = ("{AWS}", "{GITHUB}")\n',
    })
    findings = find_secrets(root, candidate_files(root, ["agent"], []))
    assert [(f.file, f.line, f.kind) for f in findings] == [
        ("agent/.env", 1, "OpenAI Token"), ("agent/.env", 2, "AWS Access Key"),
        ("agent/a.py", 1, "OpenAI Token"), ("agent/a.py", 2, "AWS Access Key"),
        ("agent/a.py", 3, "GitHub Token"), ("agent/a.py", 4, "Secret Keyword"),
        ("agent/both.py", 1, "AWS Access Key"), ("agent/both.py", 1, "GitHub Token"),
        ("agent/config.toml", 2, "GitHub Token")]
    shown = repr(findings)
    for secret in secrets:
        assert secret[4:] not in shown


@pytest.mark.parametrize("text", [
    pytest.param('token = os.environ["AGENT_INVOKE_TOKEN"]\n', id="environ-read"),
    pytest.param('invoke_token = "${AGENT_INVOKE_TOKEN}"\n', id="env-template"),
    pytest.param(f'{PASS_WORD} = "changeme"\n', id="changeme"),
    pytest.param(f'{PASS_WORD} = "CHANGE_ME"\n', id="change-me"),
    pytest.param('api_key = "<your-api-key>"\n', id="angle-placeholder"),
    pytest.param('api_key = "your-api-key-here"\n', id="your-key-here"),
    pytest.param(f'{PASS_WORD} = "xxxxxxxx"\n', id="xs"),
    pytest.param(f'{PASS_WORD} = "********"\n', id="stars"),
    pytest.param('aws_key = "AKIAIOSFODNN7' + 'EXAMPLE"\n', id="aws-documented-example"),
])
@pytest.mark.parametrize("suffix", [".py", ".toml"])
def test_placeholders_and_environment_reads_do_not_fire(tree: WriteTree, text: str,
                                                        suffix: str) -> None:
    body = ("import os\n\n" + text) if suffix == ".py" else f"[auth]\n{text}"
    root = tree({f"agent/settings{suffix}": body})
    assert find_secrets(root, [root / f"agent/settings{suffix}"]) == ()


def test_computed_values_do_not_fire(tree: WriteTree) -> None:
    code = ('import os\n\napi_key = os.getenv("OPENAI_API_KEY")\n'
            'secret = vault.read(path="agent/llm")["data"]\n')
    root = tree({"agent/settings.py": code})
    assert find_secrets(root, [root / "agent/settings.py"]) == ()


def test_one_value_flagged_by_several_detectors_is_one_finding(tree: WriteTree) -> None:
    # The GitHub detector captures only the prefix; the entropy detector the whole token.
    root = tree({"agent/a.py": f'GH = "{GITHUB}"\n'})
    [finding] = find_secrets(root, [root / "agent/a.py"])
    assert finding.kind == "GitHub Token" and GITHUB[4:] not in finding.masked


def test_baseline_accepts_a_reviewed_secret(tree: WriteTree) -> None:
    root = tree({"tests/fixtures.py": f'AWS_ID = "{AWS}"\n', "agent/a.py": f'K = "{AWS}"\n'})
    baseline = Baseline(None, (Acceptance("tests/fixtures.py", "a revoked test key",
                                          secret_type="AWS Access Key"),))
    found = find_secrets(root, [root / "agent/a.py", root / "tests/fixtures.py"], baseline)
    assert [(f.file, f.accepted) for f in found] == [
        ("agent/a.py", None), ("tests/fixtures.py", "a revoked test key")]


def test_the_baseline_file_itself_is_not_scanned(tree: WriteTree) -> None:
    entry = '[[accept]]\nsecret_type = "GitHub Token"\nfile = "a.py"\nreason = "test"\n'
    root = tree({"readiness-baseline.toml": entry + f'former = "{GITHUB}"\n'})
    path = root / "readiness-baseline.toml"
    assert len(find_secrets(root, [path])) == 1
    assert find_secrets(root, [path], Baseline(path, ())) == ()


def test_candidate_files_pick_text_under_sources_plus_extra_globs(tree: WriteTree) -> None:
    root = tree({
        "agent/app.py": "", "agent/notes.md": "", "agent/rules.yaml": "", "agent/tool.json": "",
        "agent/Procfile": "web: python -m agent\n", "agent/.env.local": "A=1\n",
        "agent/logo.png": "", "agent/page.html": "",
        "agent/.venv/lib/x.py": "", "agent/__pycache__/app.py": "",
        "prompts/route.j2": "Route the lead.\n", "prompts/deep/extra.prompt": "Hi\n",
        "readiness.toml": "[agent]\n", "docs/guide.md": "",
    })
    (root / "agent/blob").write_bytes(b"\x00\x01binary")
    (root / "prompts/model.bin").write_bytes(b"\x00\xff")
    files = candidate_files(root, ["agent"], ["prompts/**", "readiness.toml", "absent/**"])
    assert [f.relative_to(root).as_posix() for f in files] == [
        "agent/.env.local", "agent/Procfile", "agent/app.py", "agent/notes.md",
        "agent/rules.yaml", "agent/tool.json", "prompts/deep/extra.prompt",
        "prompts/route.j2", "readiness.toml"]


def test_candidate_files_take_a_named_source_file_and_drop_duplicates(tree: WriteTree) -> None:
    root = tree({"agent/app.py": "", "agent/run.sh": "echo hi\n"})
    files = candidate_files(root, ["agent/run.sh", "agent"], ["agent/*.py"])
    assert [f.relative_to(root).as_posix() for f in files] == ["agent/app.py", "agent/run.sh"]


def test_candidate_files_reject_a_missing_source(tree: WriteTree) -> None:
    with pytest.raises(ValueError, match=r"agent\.source names 'lead_router'"):
        candidate_files(tree({}), ["lead_router"], [])


def test_nothing_to_scan_finds_nothing(tree: WriteTree) -> None:
    assert find_secrets(tree({}), []) == ()


def test_our_own_files_carry_no_secret() -> None:
    files = candidate_files(REPO, ["readiness", "tests/security_checks"], ["pyproject.toml"])
    assert find_secrets(REPO, files) == ()


def test_finding_type_is_frozen() -> None:
    finding = SecretFinding("a.py", 1, "AWS Access Key", "K = AKIA****")
    with pytest.raises(AttributeError):
        finding.masked = "x"  # type: ignore[misc]
