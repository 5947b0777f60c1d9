"""Seeded values that validate against a JSON Schema: tool arguments and structured output."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

# jsonschema ships neither inline types nor a py.typed marker.
from jsonschema import exceptions, validators  # type: ignore[import-untyped]

from readiness.chaos._schema_values import SchemaError, seeded_number, seeded_string

__all__ = ["JSONSchema", "SchemaError", "check_schema", "generate"]

JSONSchema = Mapping[str, Any] | bool
"""A JSON Schema: an object, or `true`/`false`."""

_MAX_DEPTH = 32  # past this a recursive schema is reported, not followed forever
_SHALLOW = 4  # from this depth on optional parts are left out, so recursive schemas end
_KINDS = ("object", "array", "string", "integer", "number", "boolean", "null")
# Bounds that combine by taking the stricter value when allOf or $ref siblings merge.
_STRICTER: dict[str, Callable[[Any, Any], Any]] = {
    "minimum": max, "exclusiveMinimum": max, "minLength": max, "minItems": max,
    "minProperties": max, "maximum": min, "exclusiveMaximum": min, "maxLength": min,
    "maxItems": min, "maxProperties": min,
}  # fmt: skip


def generate(schema: JSONSchema, rng: random.Random) -> Any:
    """Return a JSON value that validates against `schema`, every choice drawn from `rng`.

    Supported: `type` (a name or a list, `"null"` included), `enum`, `const`, objects
    (`properties`, `required`, `additionalProperties`, `min`/`maxProperties`), arrays
    (`items`, `prefixItems`, `min`/`maxItems`, `uniqueItems`), strings (`min`/`maxLength`,
    `format` email, date, date-time, time, uri, uuid, hostname, ipv4), numbers (`minimum`,
    `maximum`, `exclusiveMinimum`/`exclusiveMaximum` in both the draft-4 and the numeric
    form, `multipleOf`), `anyOf`, `oneOf`, `allOf`, and local `$ref` into `$defs` or
    `definitions`. `pattern` is not supported. Raises `SchemaError` when the schema cannot
    be satisfied.
    """
    return _Generator(schema, rng).value(schema, "#", 0)


def check_schema(schema: JSONSchema) -> None:
    """Raise `SchemaError` unless `schema` is valid against its draft's metaschema.

    The draft is the one `$schema` names, else 2020-12. Run it on schemas from outside
    before `generate`, which assumes keywords have the types the specification gives them.
    """
    problem = _metaschema_problem(json.dumps(schema, sort_keys=True))
    if problem is not None:
        raise SchemaError(problem)


# Agents send the same tools with every request, and a metaschema check costs milliseconds.
@functools.lru_cache(maxsize=256)
def _metaschema_problem(canonical: str) -> str | None:
    """What makes the schema (as canonical JSON) invalid, or None when it is valid."""
    schema = json.loads(canonical)
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        return "#" + "".join(f"/{part}" for part in exc.path) + f": {exc.message}"
    return None


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Both schemas' constraints in one schema, as allOf means (a shallow approximation)."""
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties":
            merged[key] = {**merged[key], **value}
        elif key == "required":
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key == "type":
            ours = [merged[key]] if isinstance(merged[key], str) else merged[key]
            theirs = [value] if isinstance(value, str) else value
            common = [kind for kind in ours if kind in theirs]
            if not common:
                raise SchemaError(f"{where}: allOf combines types {ours} and {theirs}")
            merged[key] = common
        elif key in _STRICTER and not isinstance(value, bool):
            merged[key] = _STRICTER[key](merged[key], value)
        else:
            merged[key] = value
    return merged


class _Generator:
    """One generation pass over one root schema (the root anchors `$ref`)."""

    def __init__(self, root: JSONSchema, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self._validator: Any = None

    def value(self, schema: JSONSchema, where: str, depth: int) -> Any:
        """A value for `schema`, found at JSON pointer `where`."""
        if depth > _MAX_DEPTH:
            raise SchemaError(
                f"{where}: nested deeper than {_MAX_DEPTH} levels; a $ref recursion "
                "must have an optional or empty way out"
            )
        flat = self._flatten(schema, where)
        if "const" in flat:
            return flat["const"]
        if "enum" in flat:
            if not isinstance(flat["enum"], list) or not flat["enum"]:
                raise SchemaError(f"{where}/enum: expected a non-empty array")
            return self.rng.choice(flat["enum"])
        for keyword in ("anyOf", "oneOf"):
            if keyword in flat:
                return self._branch(flat, keyword, where, depth)
        kind = self._kind(flat, where, depth)
        if kind == "object":
            return self._object(flat, where, depth)
        if kind == "array":
            return self._array(flat, where, depth)
        if kind == "string":
            return seeded_string(flat, where, self.rng)
        if kind in ("integer", "number"):
            return seeded_number(flat, where, self.rng, integral=kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None

    def _flatten(self, schema: JSONSchema, where: str, hops: int = 0) -> Mapping[str, Any]:
        """The schema with `$ref` followed and `allOf` merged in (`true` becomes `{}`)."""
        if hops > _MAX_DEPTH:
            raise SchemaError(f"{where}: $ref/allOf chain longer than {_MAX_DEPTH}; is it a cycle?")
        if schema is False:
            raise SchemaError(f"{where}: the schema `false` accepts no value")
        if schema is True:
            return {}
        if not isinstance(schema, Mapping):
            raise SchemaError(f"{where}: expected a schema object, got {type(schema).__name__}")
        flat: Mapping[str, Any] = schema
        if "$ref" in flat:
            target = self._flatten(self._resolve(flat["$ref"], where), where, hops + 1)
            siblings = {key: value for key, value in flat.items() if key != "$ref"}
            flat = _merge(target, siblings, where)
        if "allOf" in flat:
            merged = {key: value for key, value in flat.items() if key != "allOf"}
            for index, part in enumerate(flat["allOf"]):
                part_flat = self._flatten(part, f"{where}/allOf/{index}", hops + 1)
                merged = _merge(merged, part_flat, where)
            return merged
        return flat

    def _resolve(self, ref: object, where: str) -> JSONSchema:
        """The subschema a local `$ref` (`#/$defs/Name`) points at."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError(
                f"{where}/$ref: only local references such as '#/$defs/Name' "
                f"are supported, got {ref!r}"
            )
        node: Any = self.root
        for token in filter(None, unquote(ref[1:]).split("/")):
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise SchemaError(f"{where}/$ref: {ref!r} does not exist in this schema")
        if not isinstance(node, Mapping | bool):
            raise SchemaError(f"{where}/$ref: {ref!r} points at a {type(node).__name__}")
        return node

    def _branch(self, schema: Mapping[str, Any], keyword: str, where: str, depth: int) -> Any:
        """A value for one branch of `anyOf`/`oneOf` (for oneOf, one no other branch takes)."""
        branches = schema[keyword]
        if not isinstance(branches, list) or not branches:
            raise SchemaError(f"{where}/{keyword}: expected a non-empty array of schemas")
        rest = {key: value for key, value in schema.items() if key != keyword}
        order = list(range(len(branches)))
        self.rng.shuffle(order)
        # Several rounds: a branch may overlap another only for some of its values.
        for index in order * 4:
            here = f"{where}/{keyword}/{index}"
            branch = self._flatten(branches[index], here)
            candidate = self.value(_merge(rest, branch, here), here, depth + 1)
            if keyword == "anyOf" or self._matching(branches, candidate) == 1:
                return candidate
        raise SchemaError(
            f"{where}/oneOf: every value generated matched more than one branch; "
            "oneOf needs branches that exclude each other"
        )

    def _matching(self, branches: list[JSONSchema], candidate: Any) -> int:
        """How many of `branches` accept `candidate`."""
        if self._validator is None:
            self._validator = validators.validator_for(self.root)(self.root)
        return sum(bool(self._validator.evolve(schema=b).is_valid(candidate)) for b in branches)

    def _kind(self, schema: Mapping[str, Any], where: str, depth: int) -> str:
        """The JSON type to produce: declared, or inferred from the keywords present."""
        declared = schema.get("type")
        if declared is None:
            kinds = [_inferred_kind(schema)]
        elif isinstance(declared, str):
            kinds = [declared]
        elif isinstance(declared, list) and declared and all(isinstance(k, str) for k in declared):
            kinds = list(declared)
        else:
            raise SchemaError(
                f"{where}/type: expected a type name or a non-empty list of them, got {declared!r}"
            )
        unknown = [kind for kind in kinds if kind not in _KINDS]
        if unknown:
            raise SchemaError(
                f"{where}/type: unknown type {unknown[0]!r}; expected one of {_KINDS}"
            )
        if schema.get("nullable") is True:  # OpenAPI 3.0 spelling of ["...", "null"]
            kinds.append("null")
        concrete = [kind for kind in kinds if kind != "null"]
        # Mostly concrete values, so that nullable fields still exercise the agent's parsing.
        if not concrete or ("null" in kinds and (depth >= _SHALLOW or self.rng.random() < 0.25)):
            return "null"
        return self.rng.choice(concrete)

    def _object(self, schema: Mapping[str, Any], where: str, depth: int) -> dict[str, Any]:
        """An object with every required property and a seeded choice of the optional ones."""
        properties: Mapping[str, JSONSchema] = schema.get("properties", {})
        required: list[str] = list(schema.get("required", []))
        extra: JSONSchema = schema.get("additionalProperties", True)
        low, high = schema.get("minProperties", 0), schema.get("maxProperties")
        if high is not None and len(required) > high:
            raise SchemaError(
                f"{where}: {len(required)} required properties exceed maxProperties {high}"
            )
        optional = [name for name in properties if name not in required]
        picked = {name for name in optional if depth < _SHALLOW and self.rng.random() < 0.5}
        # minProperties first takes optional properties in order, then invents extra names.
        for name in optional:
            if len(required) + len(picked) >= low:
                break
            picked.add(name)
        kept = [name for name in optional if name in picked]
        kept = kept[: high - len(required)] if high is not None else kept
        names = [name for name in properties if name in required or name in kept]
        names += [name for name in required if name not in properties]
        if extra is not False:
            names += [f"extra_{n}" for n in range(low - len(names))]
        if len(names) < low:
            raise SchemaError(
                f"{where}: minProperties {low} cannot be met with additionalProperties false"
            )
        values: dict[str, Any] = {}
        for name in names:
            if name not in properties and extra is False:
                raise SchemaError(
                    f"{where}/required: {name!r} is required, but neither "
                    "declared in properties nor allowed as an additional one"
                )
            sub = properties.get(name, extra)
            values[name] = self.value(sub, f"{where}/properties/{name}", depth + 1)
        return values

    def _array(self, schema: Mapping[str, Any], where: str, depth: int) -> list[Any]:
        """An array within minItems/maxItems whose items follow `items`/`prefixItems`."""
        prefix: list[JSONSchema] = schema.get("prefixItems", [])
        rest: JSONSchema = schema.get("items", True)
        if isinstance(rest, list):  # draft 4-7 tuple form
            prefix, rest = rest, schema.get("additionalItems", True)
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        if high is not None and high < low:
            raise SchemaError(f"{where}: minItems {low} is greater than maxItems {high}")
        if depth >= _SHALLOW:
            count = low
        else:
            floor = max(low, 1 if high is None or high > 0 else 0)
            count = self.rng.randint(floor, floor + 2 if high is None else min(floor + 2, high))
        if rest is False:
            count = min(count, len(prefix))
        items: list[Any] = []
        seen: set[str] = set()
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else rest
            for _ in range(32):  # uniqueItems: redraws before giving up on this slot
                item = self.value(sub, f"{where}/items/{index}", depth + 1)
                key = json.dumps(item, sort_keys=True)
                if not schema.get("uniqueItems") or key not in seen:
                    break
            else:
                if len(items) >= low:
                    break
                raise SchemaError(f"{where}: cannot find {low} distinct items for uniqueItems")
            seen.add(key)
            items.append(item)
        if len(items) < low:
            raise SchemaError(f"{where}: minItems {low} but items beyond {len(items)} are false")
        return items


def _inferred_kind(schema: Mapping[str, Any]) -> str:
    """The type a schema without `type` most plausibly wants."""
    keywords = set(schema)
    if keywords & {"properties", "required", "additionalProperties", "minProperties"}:
        return "object"
    if keywords & {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}:
        return "array"
    if keywords & {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}:
        return "number"
    return "string"
