"""Schemathesis hooks for `cargo xtask ci`: teach the test generator the two limits our spec
states through vendor extensions, which JSON Schema generators do not read:

* `x-http-header-map: true`: the keys are HTTP header names (RFC 9110 tokens) and the values
  carry no control characters but tab;
* `x-max-depth: N`: objects and arrays nest at most N levels (the value itself is level 1).

It also filters path parameters that ECMA-262 patterns (OpenAPI's dialect) and Python's
differ on: a line terminator in a value matched against `.`.

Bodies that break them are not generated as "valid" examples, so the emulator refusing them is
not reported as a schema-valid request rejected. The spec file comes from MONIME_SPEC.
"""

import os
import re
import unicodedata

import schemathesis
import yaml

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

with open(os.environ["MONIME_SPEC"], encoding="utf-8") as handle:
    SPEC = yaml.safe_load(handle)


def follow(node):
    """The schema a `$ref` points to (local references only)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 16:
        target = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
        seen += 1
    return node


def depth(value):
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def fits(schema, value):
    schema = follow(schema)
    if not isinstance(schema, dict):
        return True
    limit = schema.get("x-max-depth")
    if limit is not None and depth(value) > limit:
        return False
    if schema.get("x-http-header-map") and isinstance(value, dict):
        for name, text in value.items():
            if not TOKEN.match(name):
                return False
            if isinstance(text, str) and any(
                unicodedata.category(c) == "Cc" and c != "\t" for c in text
            ):
                return False
    if isinstance(value, dict):
        for name, child in (schema.get("properties") or {}).items():
            if name in value and not fits(child, value[name]):
                return False
    return True


def body_schema(operation):
    raw = operation.definition.raw if operation is not None else None
    if not isinstance(raw, dict):
        return None
    body = follow(raw.get("requestBody"))
    if not isinstance(body, dict):
        return None
    return ((body.get("content") or {}).get("application/json") or {}).get("schema")


# OpenAPI patterns are ECMA-262 regular expressions, where `.` matches no line terminator;
# Python's `.` (which the generator uses) matches all of them but `\n`.
LINE_TERMINATORS = "\r\n\u2028\u2029"


@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    return not any(
        isinstance(value, str) and any(c in value for c in LINE_TERMINATORS)
        for value in (path_parameters or {}).values()
    )


@schemathesis.hook
def filter_body(context, body):
    schema = body_schema(context.operation)
    return schema is None or fits(schema, body)
