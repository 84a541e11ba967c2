"""Path segments: aliases with special characters, and segments no resource can have."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

pytestmark = pytest.mark.server


@pytest.mark.parametrize("segment", ["%00", "a%00b", "%ff", "a%2Fb", "x" * 5000])
def test_impossible_channel_segments_are_404(
    http: httpx.Client, service: Any, segment: str
) -> None:
    response = http.get(f"/v1/Services/{service._solution['sid']}/Channels/{segment}")
    assert response.status_code == 404
    assert response.json()["code"] == 20404


def test_unique_names_with_spaces_and_unicode_work_as_path_aliases(
    http: httpx.Client, service: Any
) -> None:
    name = "salle de réunion #1"
    created = service.channels.create(unique_name=name)
    base = f"/v1/Services/{created.service_sid}/Channels/{quote(name, safe='')}"
    assert http.get(base).json()["sid"] == created.sid
    http.post(f"{base}/Members", data={"Identity": "zoë"}).raise_for_status()
    members = http.get(f"{base}/Members").json()
    assert [m["identity"] for m in members["members"]] == ["zoë"]
    assert members["meta"]["url"].startswith(f"{http.base_url}{base}/Members?")


def test_identity_aliases_reach_user_channels(service: Any) -> None:
    service.channels.create(unique_name="room")
    service.channels("room").members.create(identity="a b")
    rows = service.users("a b").user_channels.list()
    assert [r.status for r in rows] == ["joined"]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/x-www-form-urlencoded; charset=utf-8", 201),
        ("application/x-www-form-urlencoded; charset=UTF-8", 201),
        ("application/x-www-form-urlencoded; charset=latin-1", 400),
    ],
)
def test_only_utf8_bodies_are_read(http: httpx.Client, content_type: str, status: int) -> None:
    response = http.post(
        "/v1/Services", content=b"FriendlyName=x", headers={"Content-Type": content_type}
    )
    assert response.status_code == status
