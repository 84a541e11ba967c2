"""The five Sync objects the chat SDK opens, named after the chat entity each one views.

Nothing here is stored: an object is identified by its kind and the SID of its owner (a
channel or a user), and both its SID and its unique name are derived from those, so either
resolves back without a lookup. The channel document's name, ``<CH sid>.channel``, is fixed by
the SDK; the other names follow the same pattern.

=================  ========  =====================  ==================  ======
object             kind      unique name            SID                 owner
=================  ========  =====================  ==================  ======
channel document   document  ``CH….channel``        ``ET`` + hex        channel
messages           list      ``CH….messages``       ``ES`` + hex        channel
roster             map       ``CH….roster``         ``MP`` + hex        channel
user channels      map       ``US….channels``       ``MC`` + hex        user
user info          map       ``US….info``           ``MI`` + hex        user
=================  ========  =====================  ==================  ======
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from chinwag import sids

Kind = Literal["document", "map", "list"]


class ObjectType(enum.Enum):
    """``(sid prefix, name suffix, kind, owner prefix)`` of each object type."""

    CHANNEL = (sids.SYNC_CHANNEL_DOCUMENT, "channel", "document", sids.CHANNEL)
    MESSAGES = (sids.SYNC_MESSAGES_LIST, "messages", "list", sids.CHANNEL)
    ROSTER = (sids.SYNC_ROSTER_MAP, "roster", "map", sids.CHANNEL)
    USER_CHANNELS = (sids.SYNC_USER_CHANNELS_MAP, "channels", "map", sids.USER)
    USER_INFO = (sids.SYNC_USER_INFO_MAP, "info", "map", sids.USER)

    @property
    def prefix(self) -> str:
        return self.value[0]

    @property
    def suffix(self) -> str:
        return self.value[1]

    @property
    def kind(self) -> Kind:
        kind: Kind = self.value[2]
        return kind

    @property
    def owner_prefix(self) -> str:
        return self.value[3]


_BY_PREFIX = {t.prefix: t for t in ObjectType}
_BY_SUFFIX = {(t.owner_prefix, t.suffix): t for t in ObjectType}


@dataclass(frozen=True, slots=True)
class SyncObject:
    type: ObjectType
    owner_sid: str

    @property
    def sid(self) -> str:
        return self.type.prefix + self.owner_sid[2:]

    @property
    def unique_name(self) -> str:
        return f"{self.owner_sid}.{self.type.suffix}"

    @property
    def kind(self) -> Kind:
        return self.type.kind


def channel_document(channel_sid: str) -> SyncObject:
    return SyncObject(ObjectType.CHANNEL, channel_sid)


def messages_list(channel_sid: str) -> SyncObject:
    return SyncObject(ObjectType.MESSAGES, channel_sid)


def roster_map(channel_sid: str) -> SyncObject:
    return SyncObject(ObjectType.ROSTER, channel_sid)


def user_channels_map(user_sid: str) -> SyncObject:
    return SyncObject(ObjectType.USER_CHANNELS, user_sid)


def user_info_map(user_sid: str) -> SyncObject:
    return SyncObject(ObjectType.USER_INFO, user_sid)


def channel_objects(channel_sid: str) -> tuple[SyncObject, ...]:
    return (channel_document(channel_sid), messages_list(channel_sid), roster_map(channel_sid))


def user_objects(user_sid: str) -> tuple[SyncObject, ...]:
    return (user_channels_map(user_sid), user_info_map(user_sid))


def resolve(kind: Kind, sid_or_name: str) -> SyncObject | None:
    """The object of ``kind`` with this SID or unique name; None for anything else."""
    found = _from_sid(sid_or_name) or _from_name(sid_or_name)
    return found if found is not None and found.kind == kind else None


def from_sid(sid: str) -> SyncObject | None:
    """The object with this SID (as subscription requests name objects), or None."""
    return _from_sid(sid)


def _from_sid(value: str) -> SyncObject | None:
    object_type = _BY_PREFIX.get(value[:2])
    if object_type is None:
        return None
    owner = object_type.owner_prefix + value[2:]
    return (
        SyncObject(object_type, owner) if sids.looks_like(object_type.owner_prefix, owner) else None
    )


def _from_name(value: str) -> SyncObject | None:
    owner, _, suffix = value.partition(".")
    object_type = _BY_SUFFIX.get((owner[:2], suffix))
    if object_type is None or not sids.looks_like(object_type.owner_prefix, owner):
        return None
    return SyncObject(object_type, owner)
