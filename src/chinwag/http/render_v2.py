"""Chat v2's shapes of the resources v1 has: v1's body with ``/v2/`` URLs and v2's fields.

v2 differs from v1 (the two specs, compared field by field) in: the Service (no ``webhooks``;
retry counts, the notification log switch, sounds, the new-message badge switch and ``media``),
the Member (``attributes``), the Message (``type``, ``media``, ``last_updated_by``) and the
User Channel (``user_sid``, ``url``, ``notification_level``; its ``status`` is ``joined`` or
``invited``, a row existing only for one of the two, so neither spelling of v1's
``not_participating`` / v2's ``notParticipating`` is ever shown).
Every other body is v1's with its URLs moved to ``/v2/``. Links to the resources only v2 has
(a Service's and a User's bindings, a Channel's webhooks) are added here too.
"""

from __future__ import annotations

from typing import Any

from chinwag.http import render
from chinwag.model.records import (
    Channel,
    Credential,
    Invite,
    Member,
    Message,
    Notification,
    Role,
    Service,
    User,
    UserChannel,
)

_MB = 1024 * 1024


def _moved(body: dict[str, Any], base: str) -> dict[str, Any]:
    """``body`` (a v1 shape) with its ``url`` and ``links`` under ``/v2/``."""
    v1, v2 = f"{base}/v1/", f"{base}/v2/"
    url = body.get("url")
    if url is not None:
        body["url"] = v2 + url[len(v1) :]
    links = body.get("links")
    if links:
        body["links"] = {
            name: None if link is None else v2 + link[len(v1) :] for name, link in links.items()
        }
    return body


def _notification(kind: str, n: Notification) -> dict[str, Any]:
    """As v1 shows it (``template`` only when set), plus ``sound`` when set and, for new
    messages, ``badge_count_enabled``."""
    shown: dict[str, Any] = {"enabled": n.enabled}
    if n.template:
        shown["template"] = n.template
    if n.sound:
        shown["sound"] = n.sound
    if kind == "new_message":
        shown["badge_count_enabled"] = n.badge_count_enabled
    return shown


class V2Renderer:
    """The v2 shapes; ``media_max_bytes`` is the server's upload limit, which a Service shows
    as ``media.size_limit_mb``."""

    def __init__(self, media_max_bytes: int) -> None:
        self._size_limit_mb = max(1, media_max_bytes // _MB)

    def credential(self, c: Credential, base: str) -> dict[str, Any]:
        return _moved(render.credential(c, base), base)

    def service(self, s: Service, base: str) -> dict[str, Any]:
        body = _moved(render.service(s, base), base)
        del body["webhooks"]
        body["pre_webhook_retry_count"] = s.pre_webhook_retry_count
        body["post_webhook_retry_count"] = s.post_webhook_retry_count
        body["notifications"] = {
            "log_enabled": s.notifications_log_enabled,
            **{kind: _notification(kind, n) for kind, n in s.notifications.items()},
        }
        body["media"] = {
            "size_limit_mb": self._size_limit_mb,
            "compatibility_message": s.media_compatibility_message,
        }
        body["links"]["bindings"] = f"{body['url']}/Bindings"
        return body

    def role(self, r: Role, base: str) -> dict[str, Any]:
        return _moved(render.role(r, base), base)

    def user(self, u: User, base: str, *, in_list: bool = False) -> dict[str, Any]:
        body = _moved(render.user(u, base, in_list=in_list), base)
        body["links"]["user_bindings"] = f"{body['url']}/Bindings"
        return body

    def user_channel(self, uc: UserChannel, base: str) -> dict[str, Any]:
        body = _moved(render.user_channel(uc, base), base)
        user_sid = uc.user_sid
        body["user_sid"] = user_sid
        users = f"{base}/v2/Services/{uc.service_sid}/Users"
        body["url"] = f"{users}/{user_sid}/Channels/{uc.channel_sid}"
        body["notification_level"] = uc.notification_level
        return body

    def channel(self, c: Channel, base: str, *, in_list: bool = False) -> dict[str, Any]:
        """In list rows too with its attributes: v2 drops v1's "only on a single fetch"."""
        body = _moved(render.channel(c, base), base)
        body["links"]["webhooks"] = f"{body['url']}/Webhooks"
        return body

    def member(self, m: Member, base: str) -> dict[str, Any]:
        body = _moved(render.member(m, base), base)
        body["attributes"] = "{}" if m.attributes is None else m.attributes
        return body

    def invite(self, i: Invite, base: str) -> dict[str, Any]:
        return _moved(render.invite(i, base), base)

    def message(self, m: Message, base: str) -> dict[str, Any]:
        body = _moved(render.message(m, base), base)
        body["last_updated_by"] = m.last_updated_by
        media = m.media
        if media is None:
            body["type"] = "text"
            body["media"] = None
        else:
            body["type"] = "media"
            body["media"] = {
                "sid": media.sid,
                "size": media.size,
                "content_type": media.content_type,
                "filename": media.filename,
            }
        return body
