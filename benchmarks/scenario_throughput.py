"""Scenario records per second: raw Faker against the pooled scenario source, and memory.

Usage: python benchmarks/scenario_throughput.py [--records N] [--raw-records N] [--json]
The fields and seed are the production example's [scenario] (name, email, company,
paragraph). Raw Faker calls one provider per field per record. The scenario source
is streamed twice: once timed (with the growth of peak RSS), once under tracemalloc
(pools included; traced peak after a tenth of the records and after all of them:
flat memory shows as two equal figures).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
import tomllib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from readiness.config.model import ScenarioConfig
from readiness.scenarios import records
from readiness.scenarios._faker_pools import _factory

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "production" / "readiness.toml"
MIB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="records streamed from the scenario source (default 1,000,000)")
    parser.add_argument("--raw-records", type=int, default=20_000,
                        help="records made by raw Faker (default 20,000)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    section = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["scenario"]
    scenario = ScenarioConfig(fields=section["fields"], seed=section.get("seed", 0))
    result = {"fields": dict(scenario.fields), "raw_faker": raw_faker(scenario, args.raw_records),
              "scenario_source": pooled(scenario, args.records)}
    if args.json:
        print(json.dumps(result))
        return 0
    raw, source = result["raw_faker"], result["scenario_source"]
    print(f"scenario records, fields {', '.join(scenario.fields.values())} "
          f"(seed {scenario.seed}, {CONFIG.parent.name} example)")
    print(f"{'source':<16}{'records':>12}{'records/s':>12}{'setup s':>10}"
          f"{'traced peak MiB':>22}{'RSS growth MiB':>16}")
    print(f"{'raw Faker':<16}{raw['records']:>12,}{raw['per_s']:>12,}{raw['setup_s']:>10}"
          f"{'':>22}{'':>16}")
    peaks = f"{source['traced_peak_tenth_mib']} -> {source['traced_peak_mib']}"
    print(f"{'scenario source':<16}{source['records']:>12,}{source['per_s']:>12,}"
          f"{source['setup_s']:>10}{peaks:>22}{source['rss_growth_mib']:>16}")
    print(f"speed-up: {source['per_s'] / raw['per_s']:.0f}x")
    return 0


def raw_faker(scenario: ScenarioConfig, count: int) -> dict[str, Any]:
    """Records made the way the harness used to: one Faker call per field per record."""
    from faker import Faker

    started = time.perf_counter()
    fake = Faker(scenario.locale)
    fake.seed_instance(scenario.seed)
    methods = [(field, getattr(fake, provider)) for field, provider in scenario.fields.items()]
    setup = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(count):
        {field: method() for field, method in methods}
    elapsed = time.perf_counter() - started
    return {"records": count, "per_s": round(count / elapsed), "setup_s": round(setup, 2)}


def pooled(scenario: ScenarioConfig, count: int) -> dict[str, Any]:
    """The scenario source streamed: records/s, then memory under tracemalloc."""
    started = time.perf_counter()
    stream = records(scenario, Path("."))
    setup = time.perf_counter() - started
    rss_before = _max_rss()
    started = time.perf_counter()
    _drain(stream, count)
    elapsed = time.perf_counter() - started
    rss_growth = _max_rss() - rss_before
    _factory.cache_clear()  # pools are kept per process: fill them again, so they are traced
    tracemalloc.start()
    stream = records(scenario, Path("."))
    tracemalloc.reset_peak()
    _drain(stream, count // 10)
    tenth = tracemalloc.get_traced_memory()[1]
    _drain(stream, count - count // 10)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"records": count, "per_s": round(count / elapsed), "setup_s": round(setup, 2),
            "traced_peak_tenth_mib": round(tenth / MIB, 2), "traced_peak_mib": round(peak / MIB, 2),
            "rss_growth_mib": round(rss_growth / MIB, 1)}


def _drain(stream: Iterator[dict[str, Any]], count: int) -> None:
    for _ in itertools.islice(stream, count):
        pass


def _max_rss() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


if __name__ == "__main__":
    sys.exit(main())
