"""The console in a real Chromium: log in, browse, watch the live feed, retry a webhook."""

from __future__ import annotations

import httpx
from console_support import (
    KEY_SECRET,
    KEY_SID,
    browser,
    choose_service,
    create,
    deliveries,
    hooked_service,
    http,
    log_in,
    logged_in,
    open_tab,
    post,
    server,
    text,
    wait,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver

__all__ = ["browser", "http", "server"]  # fixtures


def test_wrong_credentials_are_refused(browser: WebDriver, server: ThreadedServer) -> None:
    log_in(browser, server.url, password="not-the-token")
    wait(lambda: text(browser, "login-error") == "Wrong credentials.", what="the refusal")
    assert not browser.find_element(By.ID, "console").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0


def test_log_in_with_an_api_key_and_browse_and_search(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    service = create(http, "/v1/Services", FriendlyName="browse me")["sid"]
    create(http, f"/v1/Services/{service}/Channels", UniqueName="general")
    create(http, f"/v1/Services/{service}/Channels", UniqueName="random")
    create(http, f"/v1/Services/{service}/Users", Identity="alice")
    log_in(browser, server.url, KEY_SID, KEY_SECRET)
    wait(lambda: browser.find_element(By.ID, "console").is_displayed(), what="the console")
    assert KEY_SECRET not in browser.page_source
    choose_service(browser, service)
    wait(lambda: "random" in text(browser, "channels"), what="the channels")
    assert "alice" in text(browser, "users")
    assert "channel user" in text(browser, "roles")
    browser.find_element(By.ID, "search").send_keys("gener")
    wait(lambda: "random" not in text(browser, "channels"), what="the search")
    assert "general" in text(browser, "channels")


def test_a_message_posted_through_rest_appears_live(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    service = create(http, "/v1/Services", FriendlyName="live")["sid"]
    channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="room")["sid"]
    logged_in(browser, server.url)
    open_tab(browser, "live")
    wait(lambda: text(browser, "live-state") == "live", what="the event stream")
    create(http, f"/v1/Services/{service}/Channels/{channel}/Members", Identity="bob")
    create(http, f"/v1/Services/{service}/Channels/{channel}/Messages", From="bob", Body="hello")
    wait(lambda: "bob in" in text(browser, "feed") and "hello" in text(browser, "feed"))
    feed = browser.find_element(By.ID, "feed")
    assert feed.get_attribute("aria-live") == "polite"
    assert "message.added: bob in " + channel + ": hello" in feed.text


def test_a_failed_webhook_is_retried_from_the_log(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    with WebhookReceiver() as receiver:
        receiver.reply("/hook", status=500)
        service = hooked_service(http, receiver)
        channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="c")["sid"]
        post(http, service, channel, "ping")
        receiver.wait_for(1)
        failed = wait(lambda: deliveries(http, service, "failed"), what="the failure")[0]
        logged_in(browser, server.url)
        open_tab(browser, "webhooks")
        row = f"delivery-{failed['id']}"
        wait(lambda: "HTTP 500" in text(browser, row), what="the failure's reason")
        receiver.reply("/hook", status=200)
        browser.find_element(By.CSS_SELECTOR, f"#{row} button").click()
        wait(lambda: "delivered" in text(browser, row), what="the retried delivery")
        arrived = receiver.wait_for(2)
        assert arrived[1].params["Body"] == "ping"
        assert arrived[1].params["RetryCount"] == "1"


def test_a_narrow_window_renders(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    browser.set_window_size(360, 740)
    logged_in(browser, server.url)
    for tab in ("browse", "live", "webhooks", "clients", "act"):
        open_tab(browser, tab)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return window.innerWidth")
        assert width <= inner, f"{tab}: {width}px wide in a {inner}px window"


def test_the_clients_panel_counts_connections(browser: WebDriver, server: ThreadedServer) -> None:
    logged_in(browser, server.url)
    open_tab(browser, "clients")
    wait(lambda: "connected" in text(browser, "clients-status"), what="the count")


def test_post_a_message_and_add_a_member_as_a_user(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    service = create(http, "/v1/Services", FriendlyName="acting")["sid"]
    channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="desk")["sid"]
    logged_in(browser, server.url)
    choose_service(browser, service)
    open_tab(browser, "act")
    browser.find_element(By.ID, "member-channel").send_keys("desk")
    browser.find_element(By.ID, "member-identity").send_keys("carol")
    browser.find_element(By.CSS_SELECTOR, "#member-form button").click()
    wait(lambda: text(browser, "act-status") == "Member added.", what="the member")
    browser.find_element(By.ID, "post-channel").send_keys("desk")
    browser.find_element(By.ID, "post-from").send_keys("carol")
    browser.find_element(By.ID, "post-body").send_keys("written in the console")
    browser.find_element(By.CSS_SELECTOR, "#post-form button").click()
    wait(lambda: text(browser, "act-status") == "Message posted.", what="the message")
    base = f"/v1/Services/{service}/Channels/{channel}"
    assert [m["identity"] for m in http.get(f"{base}/Members").json()["members"]] == ["carol"]
    messages = http.get(f"{base}/Messages").json()["messages"]
    assert [(m["from"], m["body"]) for m in messages] == [("carol", "written in the console")]
