"""Push registrations as reachability sees them: whether a user can be notified.

The ERS endpoints that store registrations (client-protocol 5.1) belong to the push work;
this is the one question reachability asks of them.
"""

from __future__ import annotations

from chinwag.storage.database import Txn


async def has_push_registration_txn(txn: Txn, service_sid: str, identity: str) -> bool:
    """Whether the user has a push registration (``reachability.notifiable``).

    chinwag stores no push registrations yet, so no user is notifiable.
    """
    return False
