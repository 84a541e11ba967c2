"""Changes a pre-event webhook may ask for in its 200 reply (reference 6.5).

The endpoint answers a JSON object; recognised keys replace the action's values before it
runs: ``body`` and ``attributes`` for messages, ``friendlyName``, ``uniqueName`` and
``attributes`` for channels. A replaced value passes the same checks as the client's own.
Attributes may be given as a JSON string or as a JSON value (object, array), which is encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from chinwag import errors


def text(changes: Mapping[str, Any], key: str, current: str | None) -> str | None:
    if key not in changes:
        return current
    value = changes[key]
    if value is not None and not isinstance(value, str):
        raise errors.WebhookRejectedError()
    return value


def attributes(changes: Mapping[str, Any], current: str | None) -> str | None:
    if "attributes" not in changes:
        return current
    value = changes["attributes"]
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
