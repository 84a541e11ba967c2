"""What the console tests share: a server whose webhooks fail fast, and a real Chromium.

The browser comes from ``tests/browser_support.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from browser_support import open_chromium, wait
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

__all__ = ["wait"]  # re-exported for the console tests

KEY_SID = "SK" + "fedcba9876543210" * 2
KEY_SECRET = "console-test-key-secret-0123456789"
#: the header that makes a REST mutation fire its post-event webhook
FIRE = {"X-Twilio-Webhook-Enabled": "true"}


def console_server(databases: Databases) -> ThreadedServer:
    """A server with an API key and no webhook retries, so a failure is final at once."""
    return start_server(
        databases, webhook_retries=0, api_key_sid=KEY_SID, api_key_secret=KEY_SECRET
    )


@pytest.fixture(scope="module")
def server(databases: Databases) -> Iterator[ThreadedServer]:
    srv = console_server(databases)
    yield srv
    srv.stop()


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as c:
        yield c


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with open_chromium() as driver:
        yield driver


def log_in(
    driver: WebDriver, url: str, user: str = ACCOUNT_SID, password: str = AUTH_TOKEN
) -> None:
    driver.get(f"{url}/_chinwag/ui")
    driver.find_element(By.ID, "login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def logged_in(driver: WebDriver, url: str) -> None:
    log_in(driver, url)
    wait(lambda: driver.find_element(By.ID, "console").is_displayed(), what="the console")


def open_tab(driver: WebDriver, name: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"[data-tab={name}]").click()
    wait(lambda: driver.find_element(By.ID, name).is_displayed(), what=f"tab {name}")


def choose_service(driver: WebDriver, service: str) -> None:
    """Pick ``service`` under Browse, once the list of services has loaded."""
    selector = f"#service option[value='{service}']"
    wait(lambda: driver.find_element(By.CSS_SELECTOR, selector), what="the service").click()


def text(driver: WebDriver, element_id: str) -> str:
    value: str = driver.find_element(By.ID, element_id).text
    return value


def create(http: httpx.Client, path: str, **form: Any) -> dict[str, Any]:
    response = http.post(path, data=form)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def hooked_service(http: httpx.Client, receiver: WebhookReceiver) -> str:
    service: str = create(http, "/v1/Services", FriendlyName="hooks")["sid"]
    create(
        http,
        f"/v1/Services/{service}",
        PostWebhookUrl=receiver.url("/hook"),
        WebhookFilters="onMessageSent",
    )
    return service


def post(http: httpx.Client, service: str, channel: str, body: str) -> None:
    path = f"/v1/Services/{service}/Channels/{channel}/Messages"
    response = http.post(path, data={"Body": body}, headers=FIRE)
    assert response.status_code == 201, response.text


def deliveries(http: httpx.Client, service: str, state: str) -> list[dict[str, Any]]:
    deliveries = http.get("/_chinwag/webhooks", params={"state": state}).json()["deliveries"]
    return [d for d in deliveries if d["service_sid"] == service]
