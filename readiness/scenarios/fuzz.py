"""Unexpected invoke inputs, generated and shrunk by Hypothesis.

Each case is a (kind, body) pair built from a valid scenario record. For the
strict kinds (a field of the wrong type, a huge string, an empty input, a body or
input that is not an object, no request id) the agent must answer 4xx with a
JSON error. For the lenient kinds (some fields missing, extra fields, empty
strings, odd Unicode) a defined decision is also acceptable: the harness cannot
know which fields an agent requires (a lead without a company may be fine).
Every kind forbids 5xx, a broken exchange, a stack trace and a non-JSON answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from readiness.client import Reply

STRICT = frozenset({"wrong_type", "huge_string", "empty_input", "body_not_object",
                    "input_not_object", "missing_request_id"})
LENIENT = frozenset({"missing_field", "extra_field", "empty_string", "odd_unicode"})
DECISION_STATUSES = frozenset({"executed", "pending_review", "manual", "failed"})
ODD_STRINGS = ("\u202eevil\u202c", "\x00", "\ud800", "🦄" * 50, "e\u0301" * 20, "\ufeff",
               "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "\n\r\t", "\u200b" * 10)
HUGE_LENGTH = 200_000


@dataclass(frozen=True)
class FuzzFailure:
    """One generated bad input (shrunk) the agent mishandled, and what it answered.

    `input` is the request body sent (JSON-able; raw bytes as text); `body` the
    answer's text; `error` why no answer came (timeout, reset); `problem` the
    fuzzer's own note when `bad_input_problem` would not say why it failed.
    """

    input: Any
    status: int | None
    body: str = ""
    error: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class FuzzResult:
    """Generated bad invoke inputs: how many were sent, which were mishandled, or why none."""

    count: int
    failures: tuple[FuzzFailure, ...] = ()
    error: str | None = None
    kinds: Mapping[str, int] = field(default_factory=dict)


def judge(kind: str, reply: Reply, status_field: str = "status") -> str | None:
    """Why this answer to a `kind` input is wrong, or None when it is acceptable."""
    from readiness.probes._answers import bad_input_problem, leaked_trace

    if kind in LENIENT and reply.ok and reply.error is None:
        body = reply.json()
        if trace := leaked_trace(reply.text):
            return f"answered HTTP {reply.status} with a stack trace ({trace!r})"
        if not isinstance(body, dict) or body.get(status_field) not in DECISION_STATUSES:
            return f"answered HTTP {reply.status} without a defined decision status"
        return None
    return bad_input_problem(reply.status, reply.text, reply.error)


def cases(request_id: str, record: Mapping[str, Any]) -> Any:
    """A Hypothesis strategy of (kind, body) invoke bodies derived from `record`."""
    from hypothesis import strategies as st

    fields = sorted(record)
    text = st.text(max_size=40)
    wrong_values = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(),
                             st.none(), st.lists(text, max_size=3),
                             st.dictionaries(text, text, max_size=2))

    def body(inputs: Any, rid: Any = request_id) -> dict[str, Any]:
        return {"request_id": rid, "input": inputs}

    def without(names: set[str]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in names}

    def replaced(name: str, value: Any) -> dict[str, Any]:
        return {**record, name: value}

    some_field = st.sampled_from(fields) if fields else st.just("input")
    return st.one_of(
        st.sets(some_field, min_size=1).map(lambda n: ("missing_field", body(without(n)))),
        st.tuples(some_field, wrong_values).map(
            lambda c: ("wrong_type", body(replaced(*c)))),
        some_field.map(lambda n: ("huge_string", body(replaced(n, "x" * HUGE_LENGTH)))),
        st.one_of(st.lists(text, max_size=2), text, st.integers(), st.none()).map(
            lambda b: ("body_not_object", b)),
        st.one_of(st.lists(text, max_size=2), text, st.integers()).map(
            lambda i: ("input_not_object", body(i))),
        st.just(("missing_request_id", {"input": dict(record)})),
        st.just(("empty_input", body({}))),
        st.tuples(st.text(min_size=1, max_size=20).filter(lambda k: k not in record), text).map(
            lambda kv: ("extra_field", body({**record, kv[0]: kv[1]}))),
        some_field.map(lambda n: ("empty_string", body(replaced(n, "")))),
        st.tuples(some_field, st.sampled_from(ODD_STRINGS)).map(
            lambda c: ("odd_unicode", body(replaced(*c)))),
    )


def fuzz_invoke(send: Callable[[Any], Reply], record: Mapping[str, Any], *,
                max_examples: int = 60, seed: int = 0) -> FuzzResult:
    """Send generated bad bodies through `send`; the first failure is shrunk and kept.

    `send` is called from this (worker) thread; Hypothesis replays the shrunk
    failing example last, so the recorded failure is the minimal one.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    kinds: dict[str, int] = {}
    last: list[FuzzFailure] = []
    count = 0

    @fixed_seed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None,
              phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(cases("readiness-fuzz", record))
    def check(case: tuple[str, Any]) -> None:
        nonlocal count
        kind, body = case
        count += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        reply = send(body)
        problem = judge(kind, reply)
        if problem:
            last[:] = [FuzzFailure(_shown(body), reply.status, reply.text[:2000], reply.error,
                                   f"{kind}: {problem}")]
            raise AssertionError(problem)

    try:
        with warnings.catch_warnings():
            # the failing example is reported by us, abbreviated; Hypothesis's own repr of a
            # 200 kB input is only a warning on the user's terminal
            warnings.filterwarnings("ignore", message="Generating overly large repr")
            check()
    except AssertionError:
        return FuzzResult(count, tuple(last), kinds=kinds)
    except Exception as exc:  # Hypothesis itself failed (e.g. unsatisfiable strategy)
        return FuzzResult(count, (), f"{type(exc).__name__}: {exc}", kinds)
    return FuzzResult(count, (), kinds=kinds)


def _shown(body: Any) -> Any:
    """The input as evidence, with huge strings abbreviated."""
    if isinstance(body, str) and len(body) > 200:
        return f"<{len(body)} characters: {body[:20]!r}...>"
    if isinstance(body, dict):
        return {k: _shown(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_shown(v) for v in body]
    return body
