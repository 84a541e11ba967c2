"""The console in a real Chromium: log in, browse, watch the live feed, retry a webhook."""

from __future__ import annotations

import base64

import httpx
import pytest
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

from browser_support import open_chromium
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID
from realtime.client_support import NodeClient, mint_token, ws_url

pytestmark = [pytest.mark.server, pytest.mark.sdk, pytest.mark.browser]

__all__ = ["browser", "http", "server"]  # fixtures

GREEN, RED = "rgba(17, 99, 41, 1)", "rgba(164, 14, 38, 1)"

#: every word of the visible text in ``main`` that the layout split over two lines (a SID or
#: URL cell may break anywhere: it is one long word)
SPLIT_WORDS = """
const split = [];
const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const host = node.parentElement;
  if (!host.offsetParent || host.closest("td.code, .sr")) continue;
  for (const match of node.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) split.push(match[0]);
  }
}
return split;
"""


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
    assert "message.added: bob in room: hello" in feed.text  # the channel by its name


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
        reason = browser.find_element(By.CSS_SELECTOR, f"#{row} td.reason")
        assert reason.text == "HTTP 200"
        assert reason.value_of_css_property("color") == GREEN  # a success, not an error
        arrived = receiver.wait_for(2)
        assert arrived[1].params["Body"] == "ping"
        assert arrived[1].params["RetryCount"] == "1"


def test_a_channel_webhook_delivery_is_named_in_the_log(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    with WebhookReceiver() as receiver:
        service = create(http, "/v1/Services", FriendlyName="channel hooks")["sid"]
        channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="c")["sid"]
        webhook = create(
            http,
            f"/v2/Services/{service}/Channels/{channel}/Webhooks",
            **{
                "Type": "webhook",
                "Configuration.Url": receiver.url("/channel"),
                "Configuration.Filters": "onMessageSent",
            },
        )["sid"]
        post(http, service, channel, "ping")
        receiver.wait_for(1)
        delivered = wait(lambda: deliveries(http, service, "delivered"), what="the delivery")[0]
        assert delivered["webhook_sid"] == webhook
        logged_in(browser, server.url)
        open_tab(browser, "webhooks")
        row = f"delivery-{delivered['id']}"
        wait(lambda: f"(channel webhook {webhook})" in text(browser, row), what="the webhook")
        assert "onMessageSent" in text(browser, row)


def test_a_narrow_window_renders(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    browser.set_window_size(360, 740)
    logged_in(browser, server.url)
    for tab in ("browse", "live", "webhooks", "pushes", "clients", "act"):
        open_tab(browser, tab)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        inner = browser.execute_script("return window.innerWidth")
        assert width <= inner, f"{tab}: {width}px wide in a {inner}px window"


def test_the_clients_panel_counts_connections(browser: WebDriver, server: ThreadedServer) -> None:
    logged_in(browser, server.url)
    open_tab(browser, "clients")
    wait(lambda: "users online across" in text(browser, "clients-status"), what="the count")
    assert "connections to this one" in text(browser, "clients-status")


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


def _split_words(browser: WebDriver) -> list[str]:
    split: list[str] = browser.execute_script(SPLIT_WORDS)
    return split


def test_words_stay_whole_at_desktop_and_phone_widths(
    server: ThreadedServer, http: httpx.Client
) -> None:
    with WebhookReceiver() as receiver:
        receiver.reply("/hook", status=500)
        service = hooked_service(http, receiver)
        channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="general")["sid"]
        create(http, f"/v1/Services/{service}/Users", Identity="alice", FriendlyName="Alice")
        create(http, f"/v1/Services/{service}/Channels/{channel}/Members", Identity="alice")
        post(http, service, channel, "a message long enough to wrap in a narrow column")
        wait(lambda: deliveries(http, service, "failed"), what="the failure")
    for width in (1280, 360):
        with open_chromium() as browser:  # a fresh page: the lists load once, then stay
            browser.set_window_size(width, 800)
            _words_stay_whole(browser, server, service, width)


def _words_stay_whole(browser: WebDriver, server: ThreadedServer, service: str, width: int) -> None:
    logged_in(browser, server.url)
    choose_service(browser, service)

    def channel_open() -> bool:
        """Open the channel (again, if a list that was still loading replaced the button)."""
        if "narrow column" in text(browser, "messages"):
            return True
        browser.find_element(By.CSS_SELECTOR, "#channels button").click()
        return False

    wait(channel_open, what="the channel's messages")
    assert _split_words(browser) == [], f"browse at {width} px"
    open_tab(browser, "webhooks")
    wait(lambda: "Retry" in text(browser, "deliveries"), what="the failed delivery")
    assert _split_words(browser) == [], f"webhooks at {width} px"
    retry = browser.find_element(By.CSS_SELECTOR, "#deliveries button")
    height = browser.execute_script("return arguments[0].getClientRects()[0].height", retry)
    assert height < 40, f"the Retry button is {height}px high at {width} px"
    reason = browser.find_element(By.CSS_SELECTOR, "#deliveries td.reason")
    assert reason.value_of_css_property("color") == RED


def test_members_show_role_names_and_media_messages_what_they_carry(
    browser: WebDriver, server: ThreadedServer, http: httpx.Client
) -> None:
    service = create(http, "/v1/Services", FriendlyName="media")["sid"]
    roles = http.get(f"/v1/Services/{service}/Roles").json()["roles"]
    [user] = [r for r in roles if r["friendly_name"] == "channel user"]
    granted = [*user["permissions"], "sendMediaMessage"]
    create(http, f"/v1/Services/{service}/Roles/{user['sid']}", Permission=granted)
    channel = create(http, f"/v1/Services/{service}/Channels", UniqueName="pictures")["sid"]
    token = mint_token(ACCOUNT_SID, KEY_SID, KEY_SECRET, service, "alice")
    with NodeClient("chat_push_media.js", ws_url(server.url), token) as alice:
        alice.wait_for("initialized", timeout=30)
        create(http, f"/v1/Services/{service}/Channels/{channel}/Members", Identity="alice")
        alice.wait_for("channelJoined", timeout=20)
        alice.request("ready", "", "ready", channel=channel)
        picture = base64.b64encode(b"\x89PNG" + bytes(2044)).decode()
        sent = alice.request(
            "sendMedia", "", "m1", channel=channel, contentType="image/png", base64=picture
        )
        assert sent["event"] == "sendMedia", sent
    logged_in(browser, server.url)
    choose_service(browser, service)
    wait(lambda: "pictures" in text(browser, "channels"), what="the channels")
    browser.find_element(By.CSS_SELECTOR, "#channels button").click()
    wait(lambda: "alice" in text(browser, "members"), what="the members")
    assert "channel user" in text(browser, "members")
    assert "RL" not in text(browser, "members").replace(user["sid"], "RL")
    wait(lambda: "[media] image/png, 2.0 KiB" in text(browser, "messages"), what="the media")
