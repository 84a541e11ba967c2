"""Take the console screenshots in ``docs/images/`` with the same Chromium the tests use.

Run from the repository root: ``python tests/console/screenshots.py [OUT_DIR]``. It starts a
server on a scratch SQLite database, fills it with a small chat (a failing webhook included),
and saves one PNG per page, plus the live feed in a phone-sized window.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import httpx  # noqa: E402
from console_support import (  # noqa: E402
    create,
    deliveries,
    hooked_service,
    logged_in,
    open_tab,
    post,
    text,
    wait,
)
from selenium.webdriver.common.by import By  # noqa: E402

from browser_support import open_chromium  # noqa: E402
from chinwag.app import create_app  # noqa: E402
from chinwag.config import Settings  # noqa: E402
from chinwag.storage import migrate  # noqa: E402
from chinwag.testing import ThreadedServer  # noqa: E402
from chinwag.testing.webhook_receiver import WebhookReceiver  # noqa: E402
from conftest import ACCOUNT_SID, AUTH_TOKEN  # noqa: E402


def main(out: Path) -> None:
    database = f"sqlite:///{tempfile.mkdtemp()}/screens.db"
    migrate.upgrade(database)
    settings = Settings(
        database=database, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, webhook_retries=0
    )
    out.mkdir(parents=True, exist_ok=True)
    with (
        ThreadedServer(create_app(settings)) as server,
        WebhookReceiver() as receiver,
        httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as http,
    ):
        receiver.reply("/hook", status=500)
        service = hooked_service(http, receiver)
        base = f"/v1/Services/{service}"
        channel = create(http, f"{base}/Channels", UniqueName="general", FriendlyName="General")
        create(http, f"{base}/Channels", UniqueName="support", FriendlyName="Support")
        for identity in ("alice", "bob"):
            create(http, f"{base}/Users", Identity=identity, FriendlyName=identity.title())
            create(http, f"{base}/Channels/{channel['sid']}/Members", Identity=identity)
        post(http, service, channel["sid"], "Welcome to the general channel")
        wait(lambda: deliveries(http, service, "failed"), what="the failed delivery")
        receiver.reply("/hook", status=200)
        post(http, service, channel["sid"], "The webhook answers again")
        wait(lambda: deliveries(http, service, "delivered"), what="the delivered one")

        with open_chromium(1280, 800) as driver:
            driver.get(f"{server.url}/_chinwag/ui")
            driver.save_screenshot(str(out / "console-login.png"))
            logged_in(driver, server.url)
            wait(lambda: "support" in text(driver, "channels"), what="the channels")
            driver.save_screenshot(str(out / "console-browse.png"))
            driver.find_element(By.CSS_SELECTOR, "#channels button").click()
            wait(lambda: "Welcome" in text(driver, "messages"), what="the messages")
            driver.save_screenshot(str(out / "console-channel.png"))
            open_tab(driver, "webhooks")
            wait(lambda: "HTTP 200" in text(driver, "deliveries"), what="the log")
            driver.save_screenshot(str(out / "console-webhooks.png"))
            open_tab(driver, "live")
            wait(lambda: text(driver, "live-state") == "live", what="the stream")
            driver.set_window_size(360, 800)
            for body in ("Hi Bob!", "Hi Alice, the console shows this live"):
                create(http, f"{base}/Channels/{channel['sid']}/Messages", From="bob", Body=body)
            wait(lambda: "shows this live" in text(driver, "feed"), what="the feed")
            driver.save_screenshot(str(out / "console-live-narrow.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
