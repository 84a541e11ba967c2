"""Checks one HTTP exchange against the Chat OpenAPI spec of its version shipped in the package
(v1, v2 or v3, by the path's first segment).

Why this exists: chinwag's promise is that unmodified Twilio SDKs work against it, and the SDKs
are strict about shape (every property present, ISO dates, status 200 for list pages, the error
body's four keys). Passing every response the tests see through :func:`check_exchange` turns
the whole suite into a contract test, so a drifting field is caught by whichever test first
touches it rather than by a user's SDK in production.

The check is hand-written rather than delegated to jsonschema because the spec is OpenAPI 3.0
(``nullable``, ``format`` semantics jsonschema ignores by default) and because the properties
are not marked ``required`` in the spec while Twilio always sends every key: here an extra or
a missing key is a problem, and each problem names the exact JSON location.

Where the spec is looser than real Twilio, the stricter real behaviour is checked and noted:
``meta.previous_page_url`` / ``meta.next_page_url`` are ``null`` when there is no such page
(the spec omits ``nullable`` there), and ``format: date-time`` means exactly
``YYYY-MM-DDTHH:MM:SSZ`` (what every SDK parses), not any RFC 3339 form.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import yaml

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
META_KEYS = frozenset(
    {"page", "page_size", "first_page_url", "previous_page_url", "url", "next_page_url", "key"}
)
#: Meta URLs that are ``null`` when there is no such page (real Twilio; the spec omits it).
NULLABLE_META = frozenset({"previous_page_url", "next_page_url"})
ERROR_KEYS = frozenset({"code", "message", "more_info", "status"})
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_MAX_REPR = 120

JsonSchema = dict[str, Any]


#: the API versions the package ships a spec of; a path's first segment names its version
VERSIONS = ("v1", "v2", "v3")


@functools.cache
def load_spec(version: str = "v1") -> dict[str, Any]:
    """The spec of an API version as shipped inside the ``chinwag`` package (what the server
    claims to implement)."""
    resource = importlib.resources.files("chinwag") / "spec" / f"twilio_chat_{version}.yaml"
    spec: dict[str, Any] = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return spec


def version_of(path: str) -> str:
    """The API version a path (or URL) belongs to: its first segment, v1 for any other path."""
    first = _path_of(path).split("/")[1:2]
    return first[0] if first and first[0] in VERSIONS else "v1"


@functools.cache
def _operations(version: str = "v1") -> tuple[tuple[str, str, str, re.Pattern[str], int], ...]:
    """(operationId, METHOD, template, compiled path regex, literal segment count)."""
    rows = []
    for template, item in load_spec(version)["paths"].items():
        regex = re.compile(
            "^"
            + "/".join(
                "[^/]+" if re.fullmatch(r"\{[^}]+\}", seg) else re.escape(seg)
                for seg in template.split("/")
            )
            + "$"
        )
        literals = sum(1 for seg in template.split("/") if not seg.startswith("{"))
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and "operationId" in operation:
                rows.append((operation["operationId"], method.upper(), template, regex, literals))
    # Most literal segments first, so a literal path wins over a {Param} that could match it.
    rows.sort(key=lambda row: -row[4])
    return tuple(rows)


def spec_operations(version: str = "v1") -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, spec path template)."""
    return {op_id: (method, template) for op_id, method, template, _, _ in _operations(version)}


def _path_of(url: str) -> str:
    """The path of an absolute URL, a path with a query, or a bare path."""
    return urlsplit(url).path or "/"


def operation_for(method: str, path: str) -> str | None:
    """The operationId answering ``method`` on ``path`` (a URL is accepted too), or None."""
    path = _path_of(path)
    method = method.upper()
    for op_id, op_method, _, regex, _ in _operations(version_of(path)):
        if op_method == method and regex.match(path):
            return op_id
    return None


def _operation(op_id: str, spec: dict[str, Any], version: str) -> dict[str, Any]:
    method, template = spec_operations(version)[op_id]
    operation: dict[str, Any] = spec["paths"][template][method.lower()]
    return operation


def _resolve(schema: JsonSchema, spec: dict[str, Any]) -> JsonSchema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part]
    return _resolve(node, spec)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(value: Any, expected: str) -> bool:
    actual = _json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    return actual == expected


def _check_string(value: str, schema: JsonSchema, where: str) -> list[str]:
    problems = []
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        problems.append(f"{where}: {_short(value)} does not match pattern {pattern}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{where}: {_short(value)} shorter than minLength {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{where}: {_short(value)} longer than maxLength {schema['maxLength']}")
    fmt = schema.get("format")
    if fmt == "date-time":
        if not DATE_TIME.match(value):
            problems.append(f"{where}: {_short(value)} is not a date-time YYYY-MM-DDTHH:MM:SSZ")
        else:
            try:
                datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                problems.append(f"{where}: {_short(value)} is not a valid calendar date-time")
    elif fmt == "uri":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
            problems.append(f"{where}: {_short(value)} is not an absolute http(s) URL")
    return problems


def _check_value(
    value: Any, schema: JsonSchema, where: str, spec: dict[str, Any], nullable: bool = False
) -> list[str]:
    """Problems with ``value`` against an OpenAPI 3.0 property schema."""
    schema = _resolve(schema, spec)
    if value is None:
        if nullable or schema.get("nullable"):
            return []
        return [f"{where}: null but the spec does not allow null"]
    expected = schema.get("type")
    if expected is not None and not _type_ok(value, expected):
        return [f"{where}: expected {expected}, got {_json_type(value)} {_short(value)}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {_short(value)} not one of {schema['enum']}")
    if isinstance(value, str):
        problems += _check_string(value, schema, where)
    elif isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} below minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} above maximum {schema['maximum']}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += _check_value(item, schema["items"], f"{where}[{i}]", spec)
    elif isinstance(value, dict) and "properties" in schema:
        problems += _check_object(value, schema, where, spec)
    return problems


def _check_object(
    obj: dict[str, Any],
    schema: JsonSchema,
    where: str,
    spec: dict[str, Any],
    nullable_keys: frozenset[str] = frozenset(),
) -> list[str]:
    """Exactly the schema's keys (Twilio always sends every one), each value checked."""
    properties: dict[str, JsonSchema] = _resolve(schema, spec).get("properties", {})
    problems = []
    missing = sorted(set(properties) - set(obj))
    extra = sorted(set(obj) - set(properties))
    if missing:
        problems.append(f"{where}: missing properties {missing}")
    if extra:
        problems.append(f"{where}: properties not in the spec {extra}")
    for name, prop in properties.items():
        if name in obj:
            problems += _check_value(
                obj[name], prop, f"{where}.{name}", spec, name in nullable_keys
            )
    return problems


def _check_list(body: dict[str, Any], schema: JsonSchema, spec: dict[str, Any]) -> list[str]:
    properties: dict[str, JsonSchema] = schema["properties"]
    keys = [name for name in properties if name != "meta"]
    problems = []
    missing = sorted(set(properties) - set(body))
    extra = sorted(set(body) - set(properties))
    if missing:
        problems.append(f"$: missing properties {missing}")
    if extra:
        problems.append(f"$: properties not in the spec {extra}")
    for key in keys:
        records = body.get(key)
        if key not in body:
            continue
        if not isinstance(records, list):
            problems.append(f"$.{key}: expected array, got {_json_type(records)}")
            continue
        item_schema = _resolve(properties[key]["items"], spec)
        for i, record in enumerate(records):
            where = f"$.{key}[{i}]"
            if not isinstance(record, dict):
                problems.append(f"{where}: expected object, got {_json_type(record)}")
            else:
                problems += _check_object(record, item_schema, where, spec)
    meta = body.get("meta")
    if "meta" in body:
        if not isinstance(meta, dict):
            problems.append(f"$.meta: expected object, got {_json_type(meta)}")
        else:
            meta_schema = properties["meta"]
            if set(meta_schema.get("properties", {})) != META_KEYS:  # the spec itself drifted
                problems.append(f"spec: list meta properties are not {sorted(META_KEYS)}")
            problems += _check_object(meta, meta_schema, "$.meta", spec, NULLABLE_META)
            if len(keys) == 1 and meta.get("key") != keys[0]:
                problems.append(f"$.meta.key: {_short(meta.get('key'))} is not {keys[0]!r}")
    return problems


def _check_error(status: int, body: str) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return [f"error body is not JSON: {body[:_MAX_REPR]!r}"]
    if not isinstance(data, dict):
        return [f"error body is not a JSON object: {_short(data)}"]
    problems = []
    if set(data) != ERROR_KEYS:
        problems.append(f"error body keys {sorted(data)} are not exactly {sorted(ERROR_KEYS)}")
    code = data.get("code")
    if _json_type(code) != "integer":
        problems.append(f"$.code: expected integer, got {_json_type(code)} {_short(code)}")
    if _json_type(data.get("message")) != "string":
        problems.append(f"$.message: expected string, got {_short(data.get('message'))}")
    if _json_type(data.get("status")) != "integer" or data.get("status") != status:
        problems.append(f"$.status: {_short(data.get('status'))} is not the HTTP status {status}")
    if _json_type(code) == "integer" and data.get("more_info") != MORE_INFO.format(code=code):
        problems.append(
            f"$.more_info: {_short(data.get('more_info'))} is not {MORE_INFO.format(code=code)!r}"
        )
    return problems


def _check_success(op_id: str, version: str, status: int, body: str) -> list[str]:
    spec = load_spec(version)
    responses: dict[str, Any] = _operation(op_id, spec, version)["responses"]
    declared = sorted(responses)
    if str(status) not in responses:
        return [f"{op_id}: status {status} is not one the spec declares ({', '.join(declared)})"]
    if status == 204:
        return [] if body == "" else [f"{op_id}: 204 with a non-empty body {body[:_MAX_REPR]!r}"]
    content = responses[str(status)].get("content", {}).get("application/json")
    if content is None:
        return [] if body == "" else [f"{op_id}: {status} declares no body but one was sent"]
    try:
        data = json.loads(body)
    except ValueError:
        return [f"{op_id}: body is not JSON: {body[:_MAX_REPR]!r}"]
    if not isinstance(data, dict):
        return [f"{op_id}: body is not a JSON object: {_short(data)}"]
    schema: JsonSchema = content["schema"]
    single = "$ref" in schema  # a single resource; lists are inline (records + meta)
    problems = _check_object(data, schema, "$", spec) if single else _check_list(data, schema, spec)
    return [f"{op_id}: {problem}" for problem in problems]


def check_exchange(method: str, url: str, status: int, body: str) -> list[str]:
    """Problems with one response (empty list: it conforms to the spec)."""
    path = _path_of(url)
    if status >= 400:
        return _check_error(status, body)
    op_id = operation_for(method, path)
    if op_id is None:
        return [f"{method.upper()} {path} is no operation of the spec, yet answered {status}"]
    if not 200 <= status < 300:
        return [f"{op_id}: unexpected status {status}"]
    return _check_success(op_id, version_of(path), status, body)
