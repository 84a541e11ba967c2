"""ERS endpoints the SDK's ``@twilio/notifications`` calls through the socket (client-protocol
5.1): ``POST {ersUrl}?productId=ip_messaging`` registers a device, ``DELETE {ersUrl}/{id}``
removes it. The registrant is always the connected identity, in its token's service, and the
registration keeps the credential the token named (``ChatGrant.push_credential_sid``).
"""

from __future__ import annotations

from chinwag.domain import push_registrations
from chinwag.realtime.context import Client, Request, Response, json_response


async def create_registration(client: Client, request: Request) -> Response:
    cmd = push_registrations.parse_register(request.json())
    registration = await push_registrations.register(
        client.deps,
        client.caller,
        client.service_sid,
        client.identity,
        cmd,
        credential_sid=client.push_credential_sid,
    )
    return json_response({"id": registration.sid}, 201)


async def delete_registration(client: Client, request: Request, sid: str) -> Response:
    await push_registrations.unregister(client.deps, client.service_sid, client.identity, sid)
    return json_response({}, 200)
