"""``GET /Client/v1/Configuration``: the chat SDK's first request after connecting.

The reply (client-protocol 3.2) tells the SDK where everything is: absolute ``links`` for the
chat resources of the token's service, ``options`` from the service, and the unique names of
the user's two Sync maps. The links keep the host label the SDK used for this request: it is
only a label (the gateway routes by path), and keeping it means an app that overrides
``Chat.apiUri`` sees its own host back. ``media_service`` is the exception: media travels over
plain HTTP, so it points at this server itself.
"""

from __future__ import annotations

from urllib.parse import quote

from chinwag.api.urls import media_base
from chinwag.domain.services import fetch_client_service
from chinwag.domain.users import fetch_user
from chinwag.realtime.context import Client, Request, Response, json_response

#: the SDK's own default (configuration.js), kept: reads cached for 100 x this in ms
HTTP_CACHE_INTERVAL = "PT5S"
USER_INFOS_TO_SUBSCRIBE = 100


def chat_base(host: str, service_sid: str) -> str:
    """The root of a service's chat resources inside the socket, under the SDK's host label."""
    return f"https://{host}/Client/v1/Services/{service_sid}"


def user_info_map(user_sid: str) -> str:
    """Unique name of a user's info map (Sync; ``friendlyName``, ``attributes``...)."""
    return f"{user_sid}.info"


def user_channels_map(user_sid: str) -> str:
    """Unique name of a user's channels map ("my conversations")."""
    return f"{user_sid}.channels"


async def fetch_configuration(client: Client, request: Request) -> Response:
    service = await fetch_client_service(client.deps, client.caller, client.service_sid)
    user = await fetch_user(client.deps, client.caller, client.service_sid, client.identity)
    base = chat_base(request.host or "aim.chinwag.local", service.sid)
    me = f"{base}/Users/{quote(user.identity, safe='')}"
    return json_response(
        {
            "identity": user.identity,
            "links": {
                "my_conversations": f"{me}/Channels",
                "conversations": f"{base}/Channels",
                "users": f"{base}/Users",
                "current_user": me,
                "typing": f"{base}/Typing",
                "media_service": media_base(client.public_url, service.sid),
                "messages_receipts": f"{base}/Receipts",
            },
            "options": {
                "reachability_enabled": service.reachability_enabled,
                "user_infos_to_subscribe": USER_INFOS_TO_SUBSCRIBE,
                "http_cache_interval": HTTP_CACHE_INTERVAL,
                "consumption_report_interval": f"PT{service.consumption_report_interval}S",
            },
            "sync_objects": {
                "my_user_info": user_info_map(user.sid),
                "my_conversations": user_channels_map(user.sid),
            },
        }
    )
