"""What the console tests share: a server whose webhooks fail fast, and a real Chromium.

The browser is Debian's ``chromium`` driven through ``chromium-driver`` by Selenium, with both
paths given so Selenium never looks for (or downloads) a browser or a driver of its own.
``.ci/run`` installs the two packages when they are missing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
KEY_SID = "SK" + "fedcba9876543210" * 2
KEY_SECRET = "console-test-key-secret-0123456789"
#: the header that makes a REST mutation fire its post-event webhook
FIRE = {"X-Twilio-Webhook-Enabled": "true"}
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

T = TypeVar("T")


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


def chromium(width: int = 1280, height: int = 900) -> WebDriver:
    """A headless Chromium with a fresh profile, driven by the system's chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='chinwag-chromium-')}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=DriverService(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    driver = chromium()
    yield driver
    driver.quit()


def wait(condition: Callable[[], T], timeout: float = 15.0, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy (ignoring lookup errors)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception:  # the element is not there yet, or was just replaced
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


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
