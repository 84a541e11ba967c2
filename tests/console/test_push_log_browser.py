"""The console's push log in a real Chromium: each push's state and, for a failure or a pruned
device, the reason, as ``GET /_chinwag/pushes`` gives them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from console_support import logged_in, open_tab, text, wait
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from browser_support import open_chromium
from chinwag.domain import push_registrations
from chinwag.domain.deps import Caller, Deps
from chinwag.model.events import Actor
from chinwag.testing import ThreadedServer
from chinwag.testing.fake_apns import FakeApns
from chinwag.testing.fake_fcm import FakeFcm
from chinwag.testing.plugin import PushCA
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server
from realtime.client_support import on_database

pytestmark = [pytest.mark.server, pytest.mark.browser]

GREEN, RED = "rgba(17, 99, 41, 1)", "rgba(164, 14, 38, 1)"
APN_BOB = "b0" * 32


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with open_chromium() as driver:
        yield driver


def _register(
    server: ThreadedServer,
    service: str,
    identity: str,
    kind: str,
    address: str,
    credential: str | None,
) -> None:
    async def act(deps: Deps) -> None:
        await push_registrations.register(
            deps,
            Caller(ACCOUNT_SID, Actor("SDK", identity)),
            service,
            identity,
            push_registrations.Register(kind, address, "web", ("twilio.channel.new_message",)),
            credential_sid=credential,
        )

    on_database(server.app.api.settings.database, act)


def test_the_push_log_shows_each_push_and_why_one_failed(
    browser: WebDriver,
    databases: Databases,
    fake_fcm: FakeFcm,
    fake_apns: FakeApns,
    push_ca: PushCA,
) -> None:
    server = start_server(
        databases,
        push_fcm_url=fake_fcm.url,
        push_apns_url=fake_apns.url,
        push_ca_file=push_ca.file,
    )
    try:
        with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http:

            def create(path: str, **form: str) -> str:
                response = http.post(path, data=form)
                assert response.status_code == 201, response.text
                return str(response.json()["sid"])

            service = create("/v1/Services", FriendlyName="push")
            http.post(f"/v1/Services/{service}", data={"Notifications.NewMessage.Enabled": "true"})
            cert = fake_apns.client_certificate("com.example.chat")
            apn = create(
                "/v1/Credentials",
                Type="apn",
                Certificate=cert.certificate,
                PrivateKey=cert.private_key,
            )
            fcm = create("/v1/Credentials", Type="fcm", Secret=fake_fcm.service_account().json)
            channel = create(f"/v1/Services/{service}/Channels", UniqueName="general")
            for identity in ("alice", "bob", "carol", "dave"):
                create(f"/v1/Services/{service}/Channels/{channel}/Members", Identity=identity)
            _register(server, service, "bob", "apn", APN_BOB, apn)
            _register(server, service, "carol", "fcm", "fcm-carol", None)
            _register(server, service, "dave", "fcm", "fcm-dave", fcm)
            fake_apns.unregister(APN_BOB)
            create(f"/v1/Services/{service}/Channels/{channel}/Messages", From="alice", Body="hi")
            fake_fcm.wait_for(1, token="fcm-dave")

            def settled() -> list[dict[str, str]]:
                pushes = http.get("/_chinwag/pushes").json()["pushes"]
                return [p for p in pushes if p["state"] != "pending"]

            pushes = wait(lambda: len(settled()) == 3 and settled(), what="three pushes")
        by_identity = {p["identity"]: p for p in pushes}
        logged_in(browser, server.url)
        open_tab(browser, "pushes")
        rows = {who: f"push-{by_identity[who]['id']}" for who in ("bob", "carol", "dave")}
        wait(lambda: "pruned" in text(browser, rows["bob"]), what="bob's pruned push")
        assert "Unregistered" in text(browser, rows["bob"])
        assert "no credential named" in text(browser, rows["carol"])
        assert "delivered" in text(browser, rows["dave"])
        failed = browser.find_element(By.CSS_SELECTOR, f"#{rows['carol']} td.reason")
        assert failed.value_of_css_property("color") == RED
        done = browser.find_element(By.CSS_SELECTOR, f"#{rows['dave']} td.reason")
        assert done.value_of_css_property("color") == GREEN
        browser.find_element(By.ID, "push-state").send_keys("failed")
        wait(lambda: text(browser, "pushes-status") == "1 pushes", what="the filter")
    finally:
        server.stop()
