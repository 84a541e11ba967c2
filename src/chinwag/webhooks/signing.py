"""The ``X-Twilio-Signature`` header, computed as Twilio's own validators check it.

Receivers verify our webhooks with twilio-python's ``RequestValidator`` (or its twins in the
other SDKs), so the algorithm is theirs, byte for byte (reference section 6.8): the full URL as
requested, then ``name + value`` for every form parameter in sorted name order, signed with
HMAC-SHA1 keyed by the account's Auth Token and encoded in base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def signature(url: str, params: Mapping[str, str] | None, auth_token: str) -> str:
    """The ``X-Twilio-Signature`` value for one webhook request.

    Args:
        url: The URL exactly as requested: scheme, host, optional port, path and query. For a
            GET webhook this already carries the parameters.
        params: The form parameters of a POST body; ``None`` (or empty) for GET. A mapping holds
            one value per name, so the validator's "each distinct value, sorted" is that value.
        auth_token: The account's Auth Token, the HMAC key.
    """
    form = params or {}
    message = url + "".join(name + form[name] for name in sorted(form))
    digest = hmac.new(auth_token.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
