"""What an answer gives away: `leaks()` over traces, paths, hosts and secrets, and `mask()`."""

from __future__ import annotations

import pytest

from readiness.probes._leaks import leaks, mask

# Key-shaped values are assembled here so the repository itself carries none: the
# harness's own secret scan runs over this code.
OPENAI = "sk-" + "proj-" + "Xy7Qw2Lm9Rt4" * 3
AWS = "AK" + "IA" + "QWERTYUIOPASDFGH"
GITHUB = "gh" + "p_" + "Zq1Wx2Yv3U" * 4
SLACK = "xo" + "xb-" + "1234567890-abcdefghij"
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE" + " KEY-----"
BEARER = "Bear" + "er " + "eyJhbGciOi.payload.sig"
INVOKE_CREDENTIAL = "readiness-" + "invoke-" + "0f3a9c"

CLEAN_ERROR = '{"error": "expected request_id and an input of short strings"}'
PY_TRACE = ('Traceback (most recent call last):\n  File "/app/agent/router.py", line 42, in '
            "route\nKeyError: 'country'")


@pytest.mark.parametrize(("text", "found"), [
    pytest.param(PY_TRACE, ["a stack trace (Traceback (most recent call last))",
                            "a file path (/app/agent/router.py)"], id="python-traceback"),
    pytest.param('{"error": "KeyError: \'country\'"}', ["a stack trace (KeyError:)"],
                 id="python-exception-class"),
    pytest.param("failed at com.acme.Router.route(Router.java:42)",
                 ["a stack trace (at com.acme.Router.route(Router.java:42))"],
                 id="java-stack-frame"),
    pytest.param("could not open /home/deploy/agent/config.toml",
                 ["a file path (/home/deploy/agent/config.toml)"], id="home-path"),
    pytest.param("loaded from /usr/lib/python3.12/json/decoder.py",
                 ["a file path (/usr/lib/python3.12/json/decoder.py)"], id="usr-lib-path"),
    pytest.param("cannot read C:\\agent\\config.toml", ["a file path (C:\\agent\\config.toml)"],
                 id="windows-path"),
    pytest.param("error in router/rules.py: no rule", ["a file path (router/rules.py)"],
                 id="module-path"),
    pytest.param('error in "rules.py"', ["a file path (rules.py)"], id="quoted-module-file"),
    pytest.param("upstream at localhost:9101 refused", ["an internal host (localhost:9101)"],
                 id="localhost-port"),
    pytest.param("upstream http://127.0.0.1:9101/leads refused",
                 ["an internal host (127.0.0.1:9101)"], id="loopback-url"),
    pytest.param("db 10.0.3.7 unreachable", ["an internal host (10.0.3.7)"], id="private-10"),
    pytest.param("cache 192.168.1.20:6379 down", ["an internal host (192.168.1.20:6379)"],
                 id="private-192-168"),
    pytest.param("broker 172.16.0.5 down", ["an internal host (172.16.0.5)"],
                 id="private-172-16"),
    pytest.param("broker 172.31.255.5 down", ["an internal host (172.31.255.5)"],
                 id="private-172-31"),
    pytest.param("resolver 172.15.0.5 and 172.32.0.5", [], id="public-172-either-side"),
    pytest.param("crm.internal refused the connection", ["an internal host (crm.internal)"],
                 id="internal-domain"),
    pytest.param("crm.default.svc.cluster.local:8080 refused",
                 ["an internal host (crm.default.svc.cluster.local)"], id="cluster-local"),
    pytest.param(CLEAN_ERROR, [], id="clean-error"),
    pytest.param("The CRM did not answer; please try again in a minute.", [], id="plain-english"),
    pytest.param('lead_router_invocations_total{status="ok"} 4', [], id="metric-line"),
    pytest.param('{"error": "not found: GET /metrics"}', [], id="route-is-not-a-path"),
    pytest.param("", [], id="empty"),
])
def test_leaks(text: str, found: list[str]) -> None:
    assert leaks(text) == found


@pytest.mark.parametrize("text", [
    pytest.param('{"version": "10.4.2"}', id="version-10-x"),
    pytest.param("retried 10.5.3 times on average", id="decimal-prose"),
])
def test_version_numbers_are_not_hosts(text: str) -> None:
    assert leaks(text) == []


def test_windows_path_in_a_json_body() -> None:
    found = leaks('{"error": "cannot read C:\\\\agent\\\\config.toml"}')
    assert [k.split(" (")[0] for k in found] == ["a file path"]


def test_everything_at_once_is_reported_once_per_kind_in_order() -> None:
    text = f"{PY_TRACE} calling crm.internal:8080 and 10.0.0.9 with {GITHUB}"
    assert [k.split(" (")[0] for k in leaks(text)] == [
        "a stack trace", "a file path", "an internal host", "a secret"]


@pytest.mark.parametrize("hosts", [["crm.example.com:9443"], ["", "crm.example.com:9443"]])
def test_named_hosts_are_internal(hosts: list[str]) -> None:
    assert leaks("the upstream crm.example.com:9443 is slow", hosts=hosts) == [
        "an internal host (crm.example.com:9443)"]


def test_named_host_is_preferred_to_a_pattern() -> None:
    found = leaks("crm.example.com via localhost:8080", hosts=["crm.example.com"])
    assert found == ["an internal host (crm.example.com)"]


def test_long_fragments_are_clipped() -> None:
    path = "/srv/" + "/".join(["segment"] * 20) + "/x.toml"
    (found,) = leaks(f"cannot read {path}")
    assert (found.startswith("a file path (/srv/segment"), found.endswith("…)"),
            len(found)) == (True, True, len("a file path ()") + 80)


@pytest.mark.parametrize("secret", [
    pytest.param(OPENAI, id="openai"),
    pytest.param(AWS, id="aws"),
    pytest.param(GITHUB, id="github"),
    pytest.param(SLACK, id="slack"),
    pytest.param(PRIVATE_KEY, id="private-key"),
    pytest.param(BEARER, id="bearer"),
])
def test_key_patterns_are_secrets_and_shown_masked(secret: str) -> None:
    found = leaks(f'upstream said: {{"auth": "{secret}"}}')
    assert found == [f"a secret ({mask(secret)})"]
    assert secret not in found[0]


@pytest.mark.parametrize("text", [
    pytest.param("sk-" + "short", id="openai-too-short"),
    pytest.param("AK" + "IA" + "lowercase000000000", id="aws-lower-case"),
    pytest.param("task-" + "a" * 30, id="sk-inside-a-word"),
    pytest.param("Bear" + "er " + "short", id="bearer-too-short"),
])
def test_near_misses_are_not_secrets(text: str) -> None:
    assert leaks(text) == []


def test_a_known_secret_is_found_and_masked() -> None:
    found = leaks(f"unauthorized: {INVOKE_CREDENTIAL} is not allowed here",
                  secrets=[INVOKE_CREDENTIAL])
    assert found == [f"a secret ({mask(INVOKE_CREDENTIAL)})"]
    assert (INVOKE_CREDENTIAL in found[0], found[0].startswith("a secret (read*")) == (False, True)


def test_a_known_secret_is_preferred_to_a_pattern() -> None:
    found = leaks(f"{INVOKE_CREDENTIAL} {GITHUB}", secrets=[INVOKE_CREDENTIAL])
    assert found == [f"a secret ({mask(INVOKE_CREDENTIAL)})"]


@pytest.mark.parametrize("secrets", [[""], ["abc12"], ["not-in-the-text"]],
                         ids=["empty", "shorter-than-6", "absent"])
def test_known_secrets_that_cannot_match(secrets: list[str]) -> None:
    assert leaks("status abc12 ok", secrets=secrets) == []


@pytest.mark.parametrize(("secret", "masked"), [
    pytest.param("abcdefghij", "ab********", id="a-quarter-shown"),
    pytest.param("abcdefghijklmnop", "abcd" + "*" * 12, id="exactly-12"),
    pytest.param("abcdefghijklmnop" * 4, "abcd" + "*" * 12, id="long-capped-at-12-stars"),
    pytest.param("abcde", "a****", id="short-shows-one"),
    pytest.param("", "****", id="empty"),
])
def test_mask(secret: str, masked: str) -> None:
    assert mask(secret) == masked


@pytest.mark.parametrize("length", [6, 8, 16, 40, 200])
def test_mask_never_shows_the_whole_value_nor_its_length(length: int) -> None:
    secret = "".join(chr(ord("a") + n % 26) for n in range(length))
    shown = mask(secret)
    kept = min(4, length // 4)
    assert (secret in shown, shown[:kept], 4 <= shown.count("*") <= 12) == (
        False, secret[:kept], True)
