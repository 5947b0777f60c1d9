"""The ticket classifier: one chat-completions call with one tool, through the `openai` SDK.

Everything about retrying belongs to the SDK: how many attempts (`max_retries`), the
exponential backoff with jitter between them, and whether a `Retry-After` is honoured.
This module only configures `max_retries` (from `SDK_MAX_RETRIES`) and turns whatever
the SDK finally returns or raises into one of the ops contract's outcomes:

- a valid `classify_ticket` tool call -> `executed` with the tool's arguments as action;
- an answer the agent cannot use (no tool call, bad arguments, refusal, truncation,
  a body the SDK could not parse) -> `manual`: a person classifies the ticket;
- an upstream error once the SDK gives up, or the agent's own deadline -> `failed`.

Invocations always answer 200 with one of those outcomes; bad input answers 4xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sdk_agent import __version__

log = logging.getLogger("sdk_agent")

PACKAGE_DIR = Path(__file__).resolve().parent
PROMPT_FILE = PACKAGE_DIR / "prompts" / "classify_ticket.md"
TOOL_FILE = PACKAGE_DIR / "tools" / "classify_ticket.json"
TOOL_NAME = "classify_ticket"

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 20
FIELD_LIMITS = {"subject": 500, "body": 20_000}
OTHER_FIELD_LIMIT = 1_000
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


class SettingsError(Exception):
    """The environment does not configure the agent; the message says which variable."""


@dataclass(frozen=True)
class Settings:
    """What the environment configures."""

    llm_base_url: str
    api_key: str
    model: str
    max_retries: int | None  # None: the SDK's own default (2)
    timeout_s: float  # per attempt, passed to the SDK
    deadline_s: float  # the whole invocation, retries included


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{name}={raw!r} must be a positive number of seconds")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment (os.environ by default)."""
    env = os.environ if environ is None else environ
    base_url = env.get("LLM_BASE_URL", "").strip()
    if not base_url:
        raise SettingsError("LLM_BASE_URL is not set: point it at an OpenAI-compatible /v1 URL")
    raw_retries = env.get("SDK_MAX_RETRIES", "").strip().lower()
    max_retries: int | None = None
    if raw_retries not in ("", "default"):
        if not raw_retries.isdigit():
            raise SettingsError(f"SDK_MAX_RETRIES={raw_retries!r}: use a whole number >= 0, "
                                "or 'default' for the SDK's default")
        max_retries = int(raw_retries)
    return Settings(
        llm_base_url=base_url,
        # The simulator ignores the key; a real provider needs OPENAI_API_KEY.
        api_key=env.get("OPENAI_API_KEY", "").strip() or "sk-readiness-simulator",
        model=env.get("LLM_MODEL", "").strip() or "gpt-4o-mini",
        max_retries=max_retries,
        timeout_s=_number(env, "SDK_TIMEOUT_S", 8.0),
        deadline_s=_number(env, "AGENT_DEADLINE_S", 25.0),
    )


@dataclass(frozen=True)
class Components:
    """The versioned files, read once: the bytes hashed are the bytes used."""

    prompt: str
    tool: dict[str, Any]
    hashes: dict[str, str]

    @classmethod
    def load(cls) -> Components:
        hashes = {}
        texts = {}
        for path in (PROMPT_FILE, TOOL_FILE):
            data = path.read_bytes()
            texts[path] = data.decode("utf-8")
            hashes[_component_key(path)] = "sha256:" + hashlib.sha256(data).hexdigest()
        return cls(prompt=texts[PROMPT_FILE], tool=json.loads(texts[TOOL_FILE]), hashes=hashes)


def _component_key(path: Path) -> str:
    """The file's path relative to the working directory (the folder of readiness.toml)."""
    return Path(os.path.relpath(path, Path.cwd())).as_posix()


class InputError(ValueError):
    """The invocation's body is not what the contract asks for."""


def _reject_constant(name: str) -> float:
    raise InputError(f"{name} is not valid JSON")


def parse_invoke(raw: bytes) -> tuple[str, dict[str, str]]:
    """`(request_id, ticket)` from an /invoke body, or InputError saying what is wrong."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except InputError:
        raise
    except ValueError:  # includes invalid UTF-8
        raise InputError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InputError('the body must be a JSON object {"request_id": ..., "input": {...}}')
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip() or len(request_id) > 200:
        raise InputError("request_id must be a non-empty string of at most 200 characters")
    ticket = body.get("input")
    if not isinstance(ticket, dict):
        raise InputError('input must be an object such as {"subject": "...", "body": "..."}')
    if len(ticket) > MAX_FIELDS:
        raise InputError(f"input has more than {MAX_FIELDS} fields")
    for name, limit in FIELD_LIMITS.items():
        value = ticket.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"input.{name} must be a non-empty string")
        if len(value) > limit:
            raise InputError(f"input.{name} is longer than {limit} characters")
    for name, value in ticket.items():
        if not isinstance(value, str):
            raise InputError(f"input.{name} must be a string")
        if len(value) > FIELD_LIMITS.get(name, OTHER_FIELD_LIMIT):
            raise InputError(f"input.{name} is too long")
    return request_id, ticket


def upstream_headers(request: Request, request_id: str) -> dict[str, str]:
    """X-Request-ID and a child traceparent, so upstream calls can be attributed."""
    headers = {}
    incoming = request.headers.get("x-request-id", "").strip()
    if not incoming and request_id.isascii() and request_id.isprintable():
        incoming = request_id
    if incoming:
        headers["X-Request-ID"] = incoming
    match = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    if match and match.group(1) != "0" * 32:
        # Same trace, this agent's own span as the parent of the upstream call.
        headers["traceparent"] = f"00-{match.group(1)}-{secrets.token_hex(8)}-{match.group(3)}"
    return headers


@dataclass(frozen=True)
class Outcome:
    status: str
    action: dict[str, Any] | None = None
    confidence: float | None = None
    reason: str = ""


def read_tool_call(completion: Any, tool: Mapping[str, Any]) -> Outcome:
    """The outcome a completion stands for; anything unusable is `manual`."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        return Outcome("manual", reason="the completion has no choices")
    choice = choices[0]
    message = getattr(choice, "message", None)
    if getattr(choice, "finish_reason", None) == "length":
        return Outcome("manual", reason="the answer was cut off (finish_reason=length)")
    if getattr(message, "refusal", None):
        return Outcome("manual", reason="the model refused")
    calls = [c for c in (getattr(message, "tool_calls", None) or [])
             if getattr(getattr(c, "function", None), "name", None) == TOOL_NAME]
    if not calls:
        return Outcome("manual", reason=f"the model did not call {TOOL_NAME}")
    try:
        args = json.loads(calls[0].function.arguments)
    except (TypeError, ValueError):
        return Outcome("manual", reason="the tool arguments are not JSON")
    if not isinstance(args, dict):
        return Outcome("manual", reason="the tool arguments are not an object")
    schema = tool["function"]["parameters"]["properties"]
    action: dict[str, Any] = {"type": TOOL_NAME}
    for name in ("category", "priority"):
        if args.get(name) not in schema[name]["enum"]:
            return Outcome("manual", reason=f"the tool argument {name} is not an allowed value")
        action[name] = args[name]
    confidence = args.get("confidence")
    if (isinstance(confidence, bool) or not isinstance(confidence, int | float)
            or not 0 <= confidence <= 1):
        return Outcome("manual", reason="the tool argument confidence is not a number in [0, 1]")
    return Outcome("executed", action, float(confidence))


class Classifier:
    """Holds the SDK client; one instance per running app."""

    def __init__(self, settings: Settings, components: Components,
                 client: openai.AsyncOpenAI | None = None) -> None:
        self.settings = settings
        self.components = components
        if client is None:
            options: dict[str, Any] = {"base_url": settings.llm_base_url,
                                       "api_key": settings.api_key,
                                       "timeout": settings.timeout_s}
            if settings.max_retries is not None:
                options["max_retries"] = settings.max_retries
            client = openai.AsyncOpenAI(**options)
        self.client = client

    async def aclose(self) -> None:
        await self.client.close()

    async def classify(self, ticket: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self.components.prompt},
            {"role": "user", "content": json.dumps(dict(ticket))},
        ]
        try:
            async with asyncio.timeout(self.settings.deadline_s):
                completion = await self.client.chat.completions.create(
                    model=self.settings.model,
                    messages=messages,
                    tools=[cast(ChatCompletionFunctionToolParam, self.components.tool)],
                    tool_choice={"type": "function", "function": {"name": TOOL_NAME}},
                    extra_headers=dict(headers),
                )
        except TimeoutError:
            return Outcome("failed", reason=f"no answer within {self.settings.deadline_s:g}s")
        except openai.APIStatusError as exc:
            return Outcome("failed", reason=f"upstream answered HTTP {exc.status_code}")
        except openai.APIResponseValidationError:
            return Outcome("manual", reason="the upstream answer could not be parsed")
        except openai.APIError as exc:  # connection errors, SDK timeouts
            return Outcome("failed", reason=f"upstream unreachable ({type(exc).__name__})")
        except ValueError as exc:
            # A 200 whose body is not JSON (truncated, invalid, empty, not UTF-8): the SDK
            # raises json's own JSONDecodeError / UnicodeDecodeError, not an APIError.
            return Outcome("manual", reason=f"the upstream answer is not JSON "
                                            f"({type(exc).__name__})")
        except Exception as exc:  # e.g. a body the SDK half-parsed; never crash
            log.warning("unexpected error from the SDK: %r", exc)
            return Outcome("manual", reason=f"the upstream answer was unusable "
                                            f"({type(exc).__name__})")
        try:
            return read_tool_call(completion, self.components.tool)
        except Exception as exc:  # a malformed answer the SDK built without validating
            return Outcome("manual", reason=f"the upstream answer was unusable "
                                            f"({type(exc).__name__})")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def version(request: Request) -> JSONResponse:
    classifier: Classifier = request.app.state.classifier
    return JSONResponse({"version": __version__, "components": classifier.components.hashes})


async def invoke(request: Request) -> JSONResponse:
    body = await _read_body(request)
    if body is None:
        return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        request_id, ticket = parse_invoke(body)
    except InputError as exc:
        return _error(422, str(exc))
    classifier: Classifier = request.app.state.classifier
    outcome = await classifier.classify(ticket, upstream_headers(request, request_id))
    decision_id = uuid.uuid4().hex
    log.info("decision %s request %s: %s %s", decision_id, request_id, outcome.status,
             outcome.reason)
    return JSONResponse({"decision_id": decision_id, "request_id": request_id,
                         "status": outcome.status, "action": outcome.action,
                         "confidence": outcome.confidence})


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, "internal error")


def create_app(settings: Settings, client: openai.AsyncOpenAI | None = None) -> Starlette:
    """The ops API: /health, /version and /invoke."""
    components = Components.load()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        classifier = Classifier(settings, components, client)
        app.state.classifier = classifier
        try:
            yield
        finally:
            await classifier.aclose()

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/version", version, methods=["GET"]),
            Route("/invoke", invoke, methods=["POST"]),
        ],
        exception_handlers={Exception: _internal_error},
        lifespan=lifespan,
    )
