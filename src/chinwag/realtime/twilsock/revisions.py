"""Where a connection's notification types come from, whichever SDK revision it runs.

A connection receives a ``notification`` only of a ``message_type`` it registered. The SDKs
register them in one of two ways (docs/client-versions.md):

- **in ``init``**: twilio-chat 6 passes ``registrations: [{…, "message_types": [...]}]``
  in its ``init`` frame (client-protocol 1.5);
- **as notification contexts**: twilio-chat 3, 4 and 5 send ``init`` with ``registrations:
  null`` and then, once connected and again whenever a library subscribes to a new type,
  ``put_notification_ctx`` with a ``notification_ctx_id`` and the payload ``{"product_id",
  "notification_protocol_version", "endpoint_platform", "message_types"}``
  (twilio-notifications' ``TwilsockConnector``). Their Sync client only subscribes once that
  reply arrives (its ``transportReady``), so the types are in force before any subscription.

:class:`Registrations` keeps both and answers their union. Everything it holds is bounded: a
client that sends more contexts or types than :data:`MAX_CONTEXTS` and :data:`MAX_TYPES` is
refused (400), and nothing is kept of the refused request.
"""

from __future__ import annotations

from typing import Any

import orjson

from chinwag import errors

#: notification contexts one connection may hold (the SDKs use one per product)
MAX_CONTEXTS = 16
#: message types per registration or context (the SDKs register at most nine)
MAX_TYPES = 64
#: a message type is a short dotted name (``com.twilio.rtd.cds.document``)
MAX_TYPE_LENGTH = 128
#: a context id is the SDK's UUID
MAX_CONTEXT_ID = 128


def _types(found: Any) -> frozenset[str] | None:
    """The message types of one registration or context; None if they are not well formed."""
    if found is None:
        return frozenset()
    if not isinstance(found, list) or len(found) > MAX_TYPES:
        return None
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_TYPE_LENGTH for t in found):
        return None
    return frozenset(found)


class Registrations:
    """A connection's registered notification types: its ``init`` ones and its contexts'."""

    __slots__ = ("_contexts", "_init", "types")

    def __init__(self) -> None:
        self._init: frozenset[str] = frozenset()
        self._contexts: dict[str, frozenset[str]] = {}
        #: the union, recomputed on each change (read for every notification sent)
        self.types: frozenset[str] = frozenset()

    def from_init(self, registrations: Any) -> None:
        """The ``registrations`` of an ``init`` frame (client-protocol 1.5); anything that is
        not a list of objects registers nothing, as before."""
        found: set[str] = set()
        for registration in registrations if isinstance(registrations, list) else ():
            types = registration.get("message_types") if isinstance(registration, dict) else None
            found.update(t for t in types or () if isinstance(t, str))
        self._init = frozenset(found)
        self._update()

    def put(self, context_id: Any, payload: bytes) -> None:
        """``put_notification_ctx``: replace the context's types (an empty payload registers
        none). 400 (20001) for a request that is not well formed or over the bounds."""
        if not isinstance(context_id, str) or not 0 < len(context_id) <= MAX_CONTEXT_ID:
            raise errors.InvalidParameterError(
                name="notification_ctx_id", expected=f"a string of 1 to {MAX_CONTEXT_ID} characters"
            )
        try:
            context = orjson.loads(payload) if payload.strip() else None
        except orjson.JSONDecodeError:
            raise errors.MalformedRequestError(detail="Notification context is not JSON") from None
        if context is not None and not isinstance(context, dict):
            raise errors.MalformedRequestError(detail="Notification context is not an object")
        types = _types(None if context is None else context.get("message_types"))
        if types is None:
            raise errors.InvalidParameterError(
                name="message_types",
                expected=f"a list of at most {MAX_TYPES} names of {MAX_TYPE_LENGTH} characters",
            )
        if context_id not in self._contexts and len(self._contexts) >= MAX_CONTEXTS:
            raise errors.InvalidParameterError(
                name="notification_ctx_id", expected=f"one of at most {MAX_CONTEXTS} contexts"
            )
        self._contexts[context_id] = types
        self._update()

    def delete(self, context_id: Any) -> None:
        """``delete_notification_ctx``: forget the context (an unknown id changes nothing)."""
        if isinstance(context_id, str):
            self._contexts.pop(context_id, None)
            self._update()

    def _update(self) -> None:
        self.types = self._init.union(*self._contexts.values())
