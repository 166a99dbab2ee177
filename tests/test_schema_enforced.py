"""The schema a client sees is the schema enforced: every argument value the published schema allows
(its bounds, each enum member, each type of an anyOf) is accepted by the model that checks calls,
and the bounds just outside are refused. Values are built from the schema itself, not by hand.

The one rule beyond the schema is JSON's own: no integer past 2^53-1 (I-JSON, RFC 7493), which no
id reaches; test_arguments.py checks that such an id is refused before any request."""

from __future__ import annotations

import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import ValidationError

from focus_mcp.registry import SPECS, input_schema

PATTERN_SAMPLES = ["x", "12:x", "all"]


def examples(schema: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    """Values the (sub)schema allows: its edges and each of its alternatives."""
    if "$ref" in schema:
        return examples(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return [value for option in schema["anyOf"] for value in examples(option, defs)]
    if "enum" in schema:
        return list(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):  # `type: [integer, string]`: each type's keywords apply to it alone
        return [value for one in kind for value in examples({**schema, "type": one}, defs)]
    if kind == "integer":
        return [schema.get("minimum", 1), schema.get("maximum", schema.get("minimum", 1) + 1)]
    if kind == "boolean":
        return [True, False]
    if kind == "null":
        return [None]
    if kind == "string":
        if schema.get("format") == "date-time":
            return ["2026-01-02T03:04:05Z"]
        if "pattern" in schema:  # a sample the pattern takes, padded to the bounds
            sample = next(c for c in PATTERN_SAMPLES if re.search(schema["pattern"], c))
            return [sample, sample + "y" * (schema.get("maxLength", len(sample)) - len(sample))]
        shortest = max(schema.get("minLength", 1), 1)
        return ["x" * shortest, "y" * schema.get("maxLength", shortest)]
    if kind == "array":
        items = examples(schema.get("items", {"type": "string"}), defs)
        return [items[:1] * max(schema.get("minItems", 0), 1), items[:1] * schema.get("maxItems", 3)]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):  # a map: each value's examples
        return [{"k": value} for value in examples(schema["additionalProperties"], defs)] + [{}]
    raise AssertionError(f"no examples for {schema}")


def outside(schema: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    """Values just past the schema's bounds."""
    if "$ref" in schema:
        return outside(defs[schema["$ref"].split("/")[-1]], defs)
    refused: list[Any] = []
    if isinstance(schema.get("type"), list):
        return [value for one in schema["type"] for value in outside({**schema, "type": one}, defs)]
    if schema.get("type") == "integer":
        refused += [schema["minimum"] - 1] if "minimum" in schema else []
        refused += [schema["maximum"] + 1] if "maximum" in schema else []
    if schema.get("type") == "string" and "maxLength" in schema:
        refused.append("z" * (schema["maxLength"] + 1))
    if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        refused += [{"k": value} for value in outside(schema["additionalProperties"], defs)]
    return refused


CASES = [
    (spec, name, prop, schema)
    for spec in SPECS
    for schema in [input_schema(spec.args)]
    for name, prop in schema["properties"].items()
]


def required(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", {})
    return {name: examples(schema["properties"][name], defs)[0] for name in schema.get("required", [])}


@pytest.mark.parametrize(("spec", "name", "prop", "schema"), CASES, ids=[f"{c[0].name}.{c[1]}" for c in CASES])
def test_what_the_schema_allows_the_model_accepts_and_its_bounds_hold(
    spec: Any, name: str, prop: dict[str, Any], schema: dict[str, Any]
) -> None:
    defs = schema.get("$defs", {})
    for value in examples(prop, defs):
        arguments = {**required(schema), name: value}
        jsonschema.validate(arguments, schema)  # the example is one the client is told is allowed
        spec.args.model_validate(arguments)
    for value in outside(prop, defs):
        arguments = {**required(schema), name: value}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(arguments, schema)
        with pytest.raises(ValidationError):
            spec.args.model_validate(arguments)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_unknown_names_are_refused_by_both(spec: Any) -> None:
    schema = input_schema(spec.args)
    arguments = {**required(schema), "no_such_argument": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(arguments, schema)
    with pytest.raises(ValidationError):
        spec.args.model_validate(arguments)
