"""Every integer parameter has one range, the same on SQLite and PostgreSQL (docs/behaviour.md).

Values just outside a range answer 400 with the parameter's Twilio code; values at its edges
are stored and echoed. Before, 2**31 answered 500 on PostgreSQL and was stored on SQLite.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.server

INT32_MAX = 2_147_483_647

SERVICE_INTEGERS = [
    # (parameter, JSON path, largest accepted, smallest accepted, code)
    ("TypingIndicatorTimeout", ("typing_indicator_timeout",), INT32_MAX, 0, 50053),
    ("ConsumptionReportInterval", ("consumption_report_interval",), INT32_MAX, 0, 50052),
    ("Limits.ChannelMembers", ("limits", "channel_members"), 1000, 1, 50061),
    ("Limits.UserChannels", ("limits", "user_channels"), 1000, 1, 50060),
]


def _dig(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


@pytest.mark.parametrize(("param", "path", "top", "bottom", "code"), SERVICE_INTEGERS)
def test_service_integers_accept_their_range_and_refuse_beyond_it(
    http: httpx.Client,
    service: Any,
    param: str,
    path: tuple[str, ...],
    top: int,
    bottom: int,
    code: int,
) -> None:
    url = f"/v1/Services/{service._solution['sid']}"
    for good in (bottom, top):
        response = http.post(url, data={param: str(good)})
        assert response.status_code == 200, response.text
        assert _dig(response.json(), path) == good
    for bad in (top + 1, bottom - 1, 2**31, 2**63, 10**17):
        response = http.post(url, data={param: str(bad)})
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["code"] == code
    assert _dig(http.get(url).json(), path) == top


def test_last_consumed_message_index_range(http: httpx.Client, service: Any) -> None:
    service.channels.create(unique_name="ranges")
    service.channels("ranges").members.create(identity="ann")
    url = f"/v1/Services/{service._solution['sid']}/Channels/ranges/Members/ann"
    top = 2**53 - 1  # the largest index a JavaScript client holds exactly
    response = http.post(url, data={"LastConsumedMessageIndex": str(top)})
    assert response.status_code == 200, response.text
    assert response.json()["last_consumed_message_index"] == top
    for bad in (2**53, -1, 10**18 - 1):
        response = http.post(url, data={"LastConsumedMessageIndex": str(bad)})
        assert response.status_code == 400
        assert response.json()["code"] == 50406
    assert http.get(url).json()["last_consumed_message_index"] == top


@pytest.mark.parametrize(
    "list_path", ["/Channels", "/Users", "/Roles", "/Channels/paging/Messages"]
)
def test_paging_integers_at_and_beyond_their_ranges(
    http: httpx.Client, service: Any, list_path: str
) -> None:
    service.channels.create(unique_name="paging")
    url = f"/v1/Services/{service._solution['sid']}{list_path}"
    edges = [
        ({"PageSize": "1000", "Page": "999999999"}, 200),
        ({"PageSize": "99999999999999999999"}, 200),  # clamped to 1000, as twilio-python needs
        ({"PageSize": "1", "PageToken": "PT999999999999999999"}, 200),
        ({"PageSize": "1", "PageToken": "PB999999999999999999", "Page": "1"}, 200),
        ({"Page": "1000000000"}, 400),
        ({"PageSize": "0"}, 400),
        ({"PageSize": "-1"}, 400),
    ]
    for params, status in edges:
        response = http.get(url, params=params)
        assert response.status_code == status, (params, response.text)
        if status == 400:
            assert response.json()["code"] == 20001
