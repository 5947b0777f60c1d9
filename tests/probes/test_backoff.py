"""The backoff judge: classification accuracy on synthetic, noisy retry timings, and edge cases.

Each policy generates hundreds of trial sets (5-8 trials x 3-4 retries, as the
observer can afford) from a seeded `random.Random`, with timing noise of +-10 ms
and an occasional scheduling hiccup of up to 25 ms, so the test is deterministic.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest

from readiness.probes._backoff import PASSING, Policy, classify

SETS = 400
# One retry's delay: (retry index k from 0, policy parameters, rng, previous delay) -> seconds.
Delay = Callable[[int, dict[str, float], random.Random, float], float]


def noisy(delay: float, rng: random.Random) -> float:
    """A delay as measured on a loaded machine: +-10 ms, sometimes a 0-25 ms hiccup."""
    noise = rng.uniform(-0.010, 0.010)
    if rng.random() < 0.01:
        noise += rng.uniform(0.0, 0.025)
    return max(0.0, delay + noise)


def trial_sets(delay: Delay, seed: int, retries: tuple[int, int] = (3, 4),
               trials: tuple[int, int] = (5, 8)) -> list[list[list[float]]]:
    """SETS trial sets: each trial is the list of measured gaps before its retries."""
    rng = random.Random(seed)
    sets = []
    for _ in range(SETS):
        params = {"base": rng.uniform(0.05, 0.5), "fixed": rng.uniform(0.1, 1.0),
                  "start": rng.uniform(0.1, 0.5), "step": rng.uniform(0.1, 0.5)}
        count, depth = rng.randint(*trials), rng.randint(*retries)
        one_set = []
        for _ in range(count):
            previous, gaps = params["base"], []
            for k in range(depth):
                previous = delay(k, params, rng, previous)
                gaps.append(noisy(previous, rng))
            one_set.append(gaps)
        sets.append(one_set)
    return sets


POLICIES: dict[str, tuple[Delay, bool, Policy | None]] = {
    # name: (delay, should pass, expected label or None when only pass/fail is asserted)
    "full_jitter": (lambda k, p, r, _: r.uniform(0, p["base"] * 2**k), True,
                    Policy.EXPONENTIAL_JITTER),
    "fixed": (lambda k, p, r, _: p["fixed"], False, Policy.FIXED),
    "linear": (lambda k, p, r, _: p["start"] + p["step"] * k, False, None),
    "immediate": (lambda k, p, r, _: r.uniform(0, 0.005), False, Policy.IMMEDIATE),
    "exponential_no_jitter": (lambda k, p, r, _: p["base"] * 2**k, False, Policy.EXPONENTIAL),
}
SHOULD_PASS: dict[str, Delay] = {
    "equal_jitter": lambda k, p, r, _: p["base"] * 2**k / 2 + r.uniform(0, p["base"] * 2**k / 2),
    "decorrelated_jitter": lambda k, p, r, prev: min(10.0, r.uniform(p["base"], prev * 3)),
    # the openai SDK: min(0.5 * 2**k, 8) * (1 - 0.25 * random())
    "proportional_jitter": lambda k, p, r, _: min(0.5 * 2**k, 8.0) * (1 - 0.25 * r.random()),
    # tenacity's wait_exponential_jitter(initial=1, jitter=1)
    "additive_jitter": lambda k, p, r, _: 2**k + r.uniform(0, 1),
    "capped_full_jitter": lambda k, p, r, _: r.uniform(0, min(p["base"] * 2**k, 4 * p["base"])),
}


def accuracy(delay: Delay, seed: int, should_pass: bool) -> tuple[float, Counter[str]]:
    verdicts = [classify(s) for s in trial_sets(delay, seed)]
    right = sum(v.ok is should_pass for v in verdicts)
    return right / len(verdicts), Counter(v.policy.value for v in verdicts)


@pytest.mark.parametrize("name", list(POLICIES))
def test_required_policies_are_judged_right_99_percent(name: str) -> None:
    delay, should_pass, _ = POLICIES[name]
    rate, labels = accuracy(delay, seed=1000 + list(POLICIES).index(name), should_pass=should_pass)
    assert rate >= 0.99, (name, rate, labels)


@pytest.mark.parametrize("name", [n for n, (_, _, label) in POLICIES.items() if label])
def test_labels_name_the_policy(name: str) -> None:
    delay, _, label = POLICIES[name]
    assert label is not None
    verdicts = [classify(s) for s in trial_sets(delay, seed=2000 + list(POLICIES).index(name))]
    assert sum(v.policy is label for v in verdicts) / len(verdicts) >= 0.98


def test_linear_is_mostly_named_linear() -> None:
    _, labels = accuracy(POLICIES["linear"][0], seed=3000, should_pass=False)
    assert labels["linear"] / SETS >= 0.9, labels


@pytest.mark.parametrize("name", list(SHOULD_PASS))
def test_other_jitter_schemes_pass(name: str) -> None:
    rate, labels = accuracy(SHOULD_PASS[name], seed=4000 + list(SHOULD_PASS).index(name),
                            should_pass=True)
    assert rate >= 0.97, (name, rate, labels)


def test_the_smallest_affordable_sample_still_separates_full_jitter_from_plain() -> None:
    jitter = [classify(s) for s in trial_sets(POLICIES["full_jitter"][0], 5, (3, 3), (5, 5))]
    plain = [classify(s) for s in trial_sets(POLICIES["exponential_no_jitter"][0], 6,
                                             (3, 3), (5, 5))]
    assert sum(v.ok for v in jitter) / SETS >= 0.98
    assert not any(v.ok for v in plain)


# --- edge cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("trials", [[], [[]], [[], [], []]])
def test_no_retries(trials: list[list[float]]) -> None:
    verdict = classify(trials)
    assert (verdict.policy, verdict.ok) == (Policy.NO_RETRIES, False)
    assert "no trial retried" in verdict.reason


def test_two_trials_are_too_few_to_judge_jitter() -> None:
    verdict = classify([[0.1, 0.2], [0.3, 0.1]])
    assert verdict.policy is Policy.UNDETERMINED
    assert "too few trials" in verdict.reason


def test_one_retry_per_trial_judges_only_jitter() -> None:
    jittered = classify([[0.05], [0.31], [0.18], [0.44], [0.12]])
    assert (jittered.policy, jittered.ok) == (Policy.JITTERED, True)
    assert "growth not judged" in jittered.reason
    same = classify([[0.50], [0.51], [0.50], [0.49], [0.50]])
    assert (same.policy, same.ok) == (Policy.NO_JITTER, False)
    assert "growth not judged" in same.reason and "thundering herd" in same.reason


def test_exponential_without_jitter_says_no_jitter() -> None:
    verdict = classify([[0.1, 0.2, 0.4, 0.8]] * 5)
    assert (verdict.policy, verdict.ok) == (Policy.EXPONENTIAL, False)
    assert verdict.reason.startswith("exponential backoff (100 ms, 200 ms, 400 ms, 800 ms, x2.0")
    assert "no jitter" in verdict.reason and "thundering herd" in verdict.reason


@pytest.mark.parametrize(("gaps", "policy", "fragment"), [
    ([0.001, 0.002, 0.0], Policy.IMMEDIATE, "retries are immediate"),
    ([0.3, 0.3, 0.3], Policy.FIXED, "fixed interval (300 ms, 300 ms, 300 ms)"),
    ([0.2, 0.5, 0.8, 1.1], Policy.LINEAR, "linear spacing (200 ms, 500 ms, 800 ms, 1100 ms)"),
])
def test_named_failures(gaps: list[float], policy: Policy, fragment: str) -> None:
    verdict = classify([gaps] * 6)
    assert (verdict.policy, verdict.ok) == (policy, False)
    assert fragment in verdict.reason, verdict.reason


def test_two_retries_without_jitter_grow_but_are_not_named() -> None:
    verdict = classify([[0.2, 0.4]] * 5)
    assert verdict.policy is Policy.GROWING and "no jitter" in verdict.reason


def test_jitter_without_growth_fails() -> None:
    verdict = classify([[0.9, 0.5, 0.7], [0.6, 0.95, 0.55], [0.5, 0.7, 0.9], [0.8, 0.6, 0.5],
                        [0.7, 0.85, 0.6]])
    assert (verdict.policy, verdict.ok) == (Policy.JITTER_WITHOUT_GROWTH, False)
    assert "not backing off" in verdict.reason


def test_one_hiccup_does_not_look_like_jitter() -> None:
    trials = [[0.1, 0.2, 0.4]] * 5 + [[0.1, 0.26, 0.4]]
    assert classify(trials).policy is Policy.EXPONENTIAL


def test_negative_gaps_from_clock_skew_count_as_zero() -> None:
    verdict = classify([[-0.004, 0.001]] * 4)
    assert verdict.policy is Policy.IMMEDIATE
    assert min(verdict.retries[0].gaps) == 0.0


def test_uneven_trials_and_evidence_shape() -> None:
    verdict = classify([[0.04, 0.15, 0.3], [0.09, 0.05], [0.01, 0.19, 0.7], [0.07, 0.11, 0.22],
                        [0.02, 0.17]])
    assert verdict.ok, verdict.reason
    data = verdict.to_json()
    assert data["policy"] == "exponential_jitter"
    assert [r["trials"] for r in data["per_retry"]] == [5, 5, 3]
    assert set(data["per_retry"][0]) == {"retry", "trials", "min_ms", "median_ms", "max_ms",
                                         "spread_ms", "noise_allowance_ms", "jittered"}
    assert {Policy.EXPONENTIAL_JITTER, Policy.JITTERED} == PASSING
