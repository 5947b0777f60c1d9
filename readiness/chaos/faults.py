"""The fault catalogue: validated `Fault`s, what each does (pure), and the proxy step.

One catalogue serves both injectors. The pure part, `outcome(fault, request,
response)`, says what the agent gets: a (damaged) `Response`, or a transport
action (`Hang`, `Reset`, `Refuse`, `Delay`, `Slow`, `HugeBody`) that each injector
carries out in its own way: the recording proxy on the agent's socket
(`FaultStep`, here), the in-process injector with genuine httpx exceptions and
streams (`readiness.chaos.inprocess`).

```python
slow_down = Fault("rate_limit", {"retry_after": 2})
proxy = RecordingProxy("llm", target, recorder, steps=[slow_down.step()])
```

Faults whose `forwards` is True see the real upstream answer first and damage it;
the others answer (or fail) without the target seeing the request. When the
answer offers nothing to damage (e.g. an LLM fault on an error answer), the
genuine answer is passed through and the exchange is not recorded as faulted.
"""

from __future__ import annotations

import asyncio
import difflib
import math
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from readiness.chaos import _transport_faults as transport
from readiness.chaos._llm_faults import EDITS as LLM_EDITS
from readiness.chaos._llm_faults import llm_fault
from readiness.chaos._malformed import MALFORMED, parse_path, prompt_injection
from readiness.chaos._serialize import serialize_response
from readiness.chaos._transport_faults import HugeBody
from readiness.chaos.catalogue import FAULT_NAMES, PARAMS, Param
from readiness.chaos.messages import Request, Response
from readiness.chaos.steps import Forward, StepContext

__all__ = [
    "FAULT_NAMES",
    "Delay",
    "Fault",
    "FaultStep",
    "Hang",
    "HugeBody",
    "Outcome",
    "Refuse",
    "Reset",
    "Slow",
    "as_step",
    "inject",
    "outcome",
]


@dataclass(frozen=True)
class Fault:
    """One fault of the catalogue with its parameters, validated and completed.

    `Fault("rate_limit", {"retry_after": 2})`: an unknown name or parameter, or a
    value of the wrong type or range, raises `ValueError` with a one-line fix.
    `params` then holds every parameter (defaults filled in), read-only.
    `str(fault)` is its `--fault` spec, e.g. `rate_limit:retry_after=2`.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(_validate(self.name, self.params)))

    @property
    def forwards(self) -> bool:
        """Whether the fault needs the real upstream answer (forward first, then damage)."""
        name = self.name
        if name == "reset":
            return bool(self.params["when"] == "after")
        if name == "timeout":
            return bool(self.params["forward"])
        return name not in _ANSWERS_ALONE

    def step(self) -> FaultStep:
        """This fault as a proxy step hitting every request (see `FaultSchedule` to choose)."""
        return FaultStep(self)

    def __str__(self) -> str:
        defaults = {param.name: param.default for param in PARAMS[self.name]}
        changed = [
            f"{key}={_spec_value(value)}"
            for key, value in self.params.items()
            if value != defaults[key]
        ]
        return self.name + (":" + ",".join(changed) if changed else "")


_ANSWERS_ALONE = frozenset(
    {"rate_limit", "server_error", "client_error", "latency", "refused", "timeout"}
)


def _spec_value(value: object) -> str:
    """A parameter value as the spec parser reads it back."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe="/;:*.[]_-")


def _validate(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check `given` against the catalogue and fill in the defaults."""
    if name not in PARAMS:
        raise ValueError(
            f"unknown fault {name!r}{did_you_mean(name, FAULT_NAMES)}; "
            f"valid faults: {', '.join(FAULT_NAMES)}"
        )
    specs = {param.name: param for param in PARAMS[name]}
    values = {key: param.default for key, param in specs.items()}
    for key, value in given.items():
        if key not in specs:
            valid = f"valid parameters: {', '.join(specs)}" if specs else "it takes no parameters"
            raise ValueError(
                f"unknown parameter {key!r} for fault {name}{did_you_mean(key, specs)}; {valid}"
            )
        values[key] = check_value(name, specs[key], value)
    if values.get("field"):
        try:
            parse_path(values["field"])
        except ValueError as exc:
            raise ValueError(f"fault {name}: {exc}") from None
    return values


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a close candidate exists, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_value(fault: str, param: Param, value: Any) -> Any:
    """The value, typed and range-checked for `param`; `ValueError` saying what is expected."""
    if value is None and param.optional:
        return None
    kind = param.kind
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if kind is float and ok and not math.isfinite(value):
        ok = False  # inf or nan would sleep forever or compare as nothing
    expected = expected_value(param)
    if not ok:
        raise ValueError(f"fault {fault}: {param.name} must be {expected}, got {value!r}")
    too_low = param.minimum is not None and value < param.minimum
    too_high = param.maximum is not None and value > param.maximum
    if (param.choices and value not in param.choices) or too_low or too_high:
        raise ValueError(f"fault {fault}: {param.name} must be {expected}, got {value!r}")
    return value


def expected_value(param: Param) -> str:
    """What a parameter accepts, in words."""
    if param.choices:
        text = "one of " + ", ".join(str(choice) for choice in param.choices)
    else:
        text = {int: "a whole number", float: "a number", bool: "true or false"}.get(
            param.kind, "text"
        )
        if param.minimum is not None and param.maximum is not None:
            text += f" from {param.minimum:g} to {param.maximum:g}"
        elif param.minimum is not None:
            text += f" >= {param.minimum:g}"
    return text + (" (or none)" if param.optional else "")


# --- what the agent gets ---------------------------------------------------------------


@dataclass(frozen=True)
class Hang:
    """Never answer: the agent's own timeout (or its giving up) ends the exchange."""


@dataclass(frozen=True)
class Refuse:
    """Fail the connection before any response byte (in-process: `httpx.ConnectError`)."""


@dataclass(frozen=True)
class Reset:
    """Reset the connection; after `partial`'s head and first `body_bytes` body bytes
    when `partial` is set, else before any response byte."""

    partial: Response | None = None
    body_bytes: int = 0


@dataclass(frozen=True)
class Delay:
    """Wait `seconds`, then forward and deliver the genuine answer."""

    seconds: float


@dataclass(frozen=True)
class Slow:
    """Deliver `response`: the head at once, then the body in `chunk`-byte slices
    `interval` seconds apart."""

    response: Response
    chunk: int
    interval: float


Outcome = Response | Hang | Refuse | Reset | Delay | Slow | HugeBody


def outcome(
    fault: Fault,
    request: Request,
    response: Response | None,
    *,
    rng: random.Random | None = None,
    now: float | None = None,
) -> Outcome:
    """What the agent gets for `request` under `fault` (pure, given `rng` and `now`).

    `response` is the genuine upstream answer when `fault.forwards`, else None.
    `rng` draws latency jitter; `now` (epoch seconds) dates Retry-After.
    """
    name, params = fault.name, fault.params
    if name == "rate_limit":
        return transport.rate_limited(params, request, time.time() if now is None else now)
    if name == "server_error":
        return transport.server_error(params, request)
    if name == "client_error":
        return transport.client_error(params, request)
    if name == "latency":
        jitter = (rng or random.Random(0)).uniform(0, params["jitter_ms"])
        return Delay((params["ms"] + jitter) / 1000)
    if name == "timeout":
        return Hang()
    if name == "refused":
        return Refuse()
    if name == "html_error_page":
        return transport.html_error_page(params)
    if name == "huge_body":
        return transport.huge_body(params, response)
    if name == "reset" and params["when"] == "before":
        return Reset()
    if response is None:  # every fault below damages the real answer
        raise ValueError(f"fault {name} needs the upstream's response (Fault.forwards is True)")
    if name == "reset":
        cut = params["after_bytes"]
        cut = len(response.body) // 2 if cut is None else min(cut, max(len(response.body) - 1, 0))
        return Reset(response, cut)
    if name == "slow_body":
        if params["bytes_per_s"] is not None:
            # Ten slices a second: smooth enough for a rate, few enough writes.
            chunk = max(1, int(params["bytes_per_s"] / 10))
            return Slow(response, chunk, chunk / params["bytes_per_s"])
        return Slow(response, params["chunk"], params["interval_ms"] / 1000)
    if name in LLM_EDITS:
        return llm_fault(name, params, request, response)
    if name in MALFORMED:
        return MALFORMED[name](params, response)
    if name == "prompt_injection":
        return prompt_injection(params, response)
    raise AssertionError(f"fault {name} has no implementation")  # catalogue and code disagree


# --- the recording proxy's injector ----------------------------------------------------


class FaultStep:
    """A proxy step injecting one fault into every request it sees.

    `seed` seeds latency jitter, so a run replays the same delays.
    """

    def __init__(self, fault: Fault, *, seed: int = 0) -> None:
        self.fault = fault
        self.rng = random.Random(f"{seed}:{fault}")

    async def __call__(self, ctx: StepContext, forward: Forward) -> Response:
        return await inject(self.fault, ctx, forward, self.rng)


def as_step(fault: Fault, *, seed: int = 0) -> FaultStep:
    """`fault` as a proxy step (same as `fault.step()`, with a jitter seed)."""
    return FaultStep(fault, seed=seed)


async def inject(fault: Fault, ctx: StepContext, forward: Forward, rng: random.Random) -> Response:
    """Apply `fault` to the exchange in `ctx` on the agent's real socket."""
    request = ctx.request
    genuine = await forward(request) if fault.forwards else None
    result = outcome(fault, request, genuine, rng=rng)
    if isinstance(result, Response):
        if result is not genuine:  # an untouched answer is not a fault the agent got
            ctx.fault = fault.name
        return result
    ctx.fault = fault.name
    if isinstance(result, Delay):
        await asyncio.sleep(result.seconds)
        return await forward(request)
    if isinstance(result, Hang):
        # Never done: the proxy cancels this step when the agent gives up or it closes.
        await asyncio.get_running_loop().create_future()
    if isinstance(result, Reset) and result.partial is not None:
        wire, head = _wire(result.partial)
        await ctx.send_raw(wire[: head + result.body_bytes])
    if isinstance(result, Refuse | Reset):
        # Through a proxy the agent's connect already succeeded: the closest honest
        # "refused" is dropping the connection before any response byte.
        ctx.abort()
    if isinstance(result, Slow):
        return await _send_slowly(ctx, result)
    assert isinstance(result, HugeBody)
    announced = result.head()
    await ctx.send_raw(serialize_response(announced, close=True, head_request=True))
    for chunk in result.chunks():
        await ctx.send_raw(chunk)  # drains: the agent's reading paces us, memory stays flat
    return announced  # recorded with the true Content-Length and a 64 KiB body preview


def _wire(response: Response) -> tuple[bytes, int]:
    """The response's bytes and the length of its head."""
    wire = StepContext.wire(response)
    return wire, len(wire) - len(response.body)


async def _send_slowly(ctx: StepContext, slow: Slow) -> Response:
    """Write the head, then the body slice by slice with pauses."""
    wire, head = _wire(slow.response)
    await ctx.send_raw(wire[:head])
    for start in range(head, len(wire), slow.chunk):
        await asyncio.sleep(slow.interval)
        await ctx.send_raw(wire[start : start + slow.chunk])
    return slow.response
