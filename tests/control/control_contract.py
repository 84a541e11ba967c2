"""Checks control API exchanges against ``spec/control.yaml``, shipped in the package.

The control API's document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, so
jsonschema validates bodies directly (unlike the REST spec, see ``spec_contract``). Errors
are checked by ``spec_contract`` as every other error body is: exactly Twilio's four keys.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import Any

import httpx
import jsonschema
import yaml

import spec_contract


@functools.cache
def load_spec() -> dict[str, Any]:
    resource = importlib.resources.files("chinwag") / "spec" / "control.yaml"
    spec: dict[str, Any] = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return spec


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> the operation object."""
    return {
        (method.upper(), path): operation
        for path, item in load_spec()["paths"].items()
        for method, operation in item.items()
    }


def _schema(ref_holder: dict[str, Any]) -> dict[str, Any]:
    """A schema that resolves ``#/components/...`` against the whole document."""
    return {**ref_holder, "components": load_spec()["components"]}


def check_exchange(method: str, path: str, status: int, body: str) -> list[str]:
    """Problems with one control API response (empty: it conforms)."""
    operation = operations().get((method.upper(), re.sub(r"\?.*", "", path)))
    if operation is None:
        return [f"{method} {path} is no operation of control.yaml"]
    if str(status) not in operation["responses"]:
        return [f"{operation['operationId']}: status {status} is not declared"]
    if status >= 400:
        return spec_contract.check_exchange(method, path, status, body)
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(_schema(schema))
    return [
        f"{operation['operationId']}: {error.json_path}: {error.message}"
        for error in validator.iter_errors(json.loads(body))
    ]


def check_request(method: str, path: str, body: Any) -> list[str]:
    """Problems with a request body against the operation's declared request schema."""
    operation = operations()[(method.upper(), path)]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft202012Validator(_schema(schema))
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(body)]


def checking_client(url: str, auth: tuple[str, str] | None) -> httpx.Client:
    """An httpx client that fails the test on any response the document does not describe."""

    def check(response: httpx.Response) -> None:
        response.read()
        request = response.request
        problems = check_exchange(
            request.method, request.url.path, response.status_code, response.text
        )
        assert not problems, f"{request.method} {request.url.path}:\n" + "\n".join(problems)

    return httpx.Client(base_url=url, auth=auth, event_hooks={"response": [check]})
