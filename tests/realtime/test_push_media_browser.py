"""Media from a web page: the ``twilio-chat`` 6.0.0 browser build in a real Chromium.

A web app sends media as the ``FormData`` a file input gives it, or as a ``Blob``. The SDK's
media client posts a ``FormData`` as it is, with no ``Content-Type`` of its own, so the browser
sends ``multipart/form-data`` (@twilio/mcs-client/dist/services/network.js, ``Network.post``;
twilio-chat/dist/data/messages.js, ``sendMediaMessage``). Both ways store the file itself, with
its type and name; the other member's page then shows it as an image from its temporary URL.
The page is ``tests/client/browser/media.html``, served from its own origin, as a web app is.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_support import CLIENT_DIR, GatewayServer, require_node_client
from selenium.webdriver.remote.webdriver import WebDriver
from test_push_media import _grant_media
from test_push_media_multipart import png

from browser_support import open_chromium, serve_directory, wait
from conftest import Databases

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def pages() -> Iterator[str]:
    require_node_client()  # the page loads the SDK's browser build from tests/client
    with serve_directory(CLIENT_DIR) as url:
        yield f"{url}/browser/media.html"


def _call(driver: WebDriver, name: str, *args: Any) -> Any:
    result = driver.execute_async_script(
        f"window.media.{name}(...arguments)", *args
    )  # the page answers the callback selenium appends
    assert "error" not in result, result
    return result["ok"]


def _open(driver: WebDriver, page: str, gateway: GatewayServer, token: str) -> None:
    driver.set_script_timeout(30)
    driver.get(page)
    driver.execute_script("window.media.start(arguments[0], arguments[1])", token, gateway.ws)
    wait(
        lambda: {"event": "initialized"} in driver.execute_script("return window.media.events"),
        timeout=30,
        what="the client to initialize",
    )


def _joined(driver: WebDriver, channel: str) -> None:
    wait(
        lambda: (
            {"event": "channelJoined", "channel": channel}
            in driver.execute_script("return window.media.events")
        ),
        timeout=20,
        what="channelJoined",
    )


def test_form_data_and_blob_uploads_from_a_browser_are_stored_as_their_file(
    databases: Databases, pages: str
) -> None:
    image = png(3, 2)
    encoded = base64.b64encode(image).decode()
    with (
        GatewayServer(databases) as gateway,
        open_chromium() as alice,
        open_chromium() as bob,
    ):
        service = gateway.service()
        _grant_media(gateway, service)
        channel = gateway.http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "pics"})
        sid = channel.json()["sid"]
        for identity, driver in (("alice", alice), ("bob", bob)):
            _open(driver, pages, gateway, gateway.token(service, identity))
            gateway.http.post(
                f"/v1/Services/{service}/Channels/{sid}/Members", data={"Identity": identity}
            )
            _joined(driver, sid)

        form_index = _call(alice, "sendForm", sid, "pixel.png", "image/png", encoded)
        blob_index = _call(alice, "sendBlob", sid, "image/png", encoded)

        from_form = _call(bob, "show", sid, form_index)
        from_blob = _call(bob, "show", sid, blob_index)
        assert from_form | {"sid": ""} == {
            "type": "media",
            "sid": "",
            "contentType": "image/png",
            "filename": "pixel.png",
            "size": len(image),
            "width": 3,
        }
        assert (from_blob["contentType"], from_blob["size"], from_blob["width"]) == (
            "image/png",
            len(image),
            3,
        )

        # what the server stored is the file, byte for byte, under the file's own type
        token = gateway.token(service, "bob")
        for shown in (from_form, from_blob):
            stored = httpx.get(
                f"{gateway.url}/mcs/v1/Services/{service}/Media/{shown['sid']}/Content",
                headers={"X-Twilio-Token": token},
            )
            assert stored.headers["content-type"] == "image/png"
            assert stored.content == image
