"""The IonQ v0.4 OpenAPI spec as JSON Schema validators, for spec-conformance tests.

`load_spec()` reads `<repo>/../shared/spec/ionq-openapi-v0.4.json` (skipping the test when it
is absent, failing it instead when the environment variable `CI` is set);
`validator_for("CloneJobPayload")` returns a jsonschema validator of that schema,
with every `$ref` resolvable and OpenAPI 3.0's `nullable: true` turned into a JSON Schema
`null` type. The conversion walks schema positions only, so a property *named* `format` or
`nullable` is left alone.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

__all__ = [
    "SPEC_PATH",
    "load_spec",
    "openapi_to_jsonschema",
    "read_spec",
    "schemas",
    "spec_missing",
    "validator_for",
]

SPEC_PATH = (
    Path(__file__).resolve().parents[1].parent / "shared" / "spec" / "ionq-openapi-v0.4.json"
)

# Keywords whose value is a schema, a list of schemas, or a name -> schema map.
_SCHEMA_KEYS = ("items", "not", "additionalProperties")
_LIST_KEYS = ("allOf", "anyOf", "oneOf")
_MAP_KEYS = ("properties", "patternProperties")


@functools.cache
def _read_spec() -> dict[str, Any] | None:
    if not SPEC_PATH.is_file():
        return None
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def read_spec() -> dict[str, Any] | None:
    """The parsed spec (a fresh copy), or None when the file is missing."""
    spec = _read_spec()
    return copy.deepcopy(spec) if spec is not None else None


def spec_missing() -> None:
    """Skip the calling test because the spec is missing (fail it when ``CI`` is set)."""
    reason = (
        f"IonQ OpenAPI spec not found at {SPEC_PATH}; spec conformance tests need "
        "../shared beside the repo"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


def load_spec() -> dict[str, Any]:
    """The parsed spec (a fresh copy); skips the calling test (fails under CI) if it is missing."""
    spec = read_spec()
    if spec is None:
        spec_missing()
    return spec


def openapi_to_jsonschema(schema: Any) -> Any:
    """One OpenAPI 3.0 schema object as JSON Schema (draft 4 semantics, `nullable` mapped)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_KEYS and isinstance(value, dict):
            out[key] = openapi_to_jsonschema(value)
        elif key in _LIST_KEYS and isinstance(value, list):
            out[key] = [openapi_to_jsonschema(v) for v in value]
        elif key in _MAP_KEYS and isinstance(value, dict):
            out[key] = {name: openapi_to_jsonschema(v) for name, v in value.items()}
        elif key == "nullable":
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if "$ref" in out or "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
        else:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
    return out


def schemas() -> dict[str, Any]:
    """Every `components.schemas` entry, converted to JSON Schema."""
    raw = load_spec()["components"]["schemas"]
    return {name: openapi_to_jsonschema(s) for name, s in raw.items()}


def validator_for(schema_name: str) -> jsonschema.protocols.Validator:
    """A Draft 4 validator of `components.schemas[schema_name]`, $refs resolved in-document."""
    if _read_spec() is None:
        load_spec()  # skips the calling test
    return _validator(schema_name)


@functools.cache
def _validator(schema_name: str) -> jsonschema.protocols.Validator:
    converted = schemas()
    if schema_name not in converted:
        raise KeyError(f"no schema {schema_name!r} in the IonQ spec")
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": {"schemas": converted}}
    jsonschema.Draft4Validator.check_schema(converted[schema_name])
    validator: jsonschema.protocols.Validator = jsonschema.Draft4Validator(root)
    return validator
