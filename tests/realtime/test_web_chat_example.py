"""The runnable chat sample, ``examples/web-chat``, against a running chinwag.

Its one-line command (``npm --prefix examples/web-chat start``, after ``npm ci``) serves the
page; in a real Chromium two users join a channel, see each other type, talk, see how far the
other has read, and send a picture through a file input. The same chat as a Node script
(``npm --prefix examples/web-chat run chat``) runs to its end. The example's packages come from
its own lock file (``npm ci --prefix examples/web-chat``).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from client_support import GatewayServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from test_push_media_multipart import png

from browser_support import open_chromium, wait
from chinwag.testing.processes import lifeline
from conftest import ACCOUNT_SID, Databases, server_env

pytestmark = [pytest.mark.server, pytest.mark.sdk, pytest.mark.browser]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web-chat"
NPM = ["npm", "--prefix", str(EXAMPLE)]


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    if shutil.which("npm") is None or not (EXAMPLE / "node_modules" / "twilio-chat").is_dir():
        pytest.fail(
            "the web-chat example is not installed: run `npm ci --prefix examples/web-chat`"
        )
    with GatewayServer(databases) as srv:
        yield srv


def example_env(gateway: GatewayServer) -> dict[str, str]:
    """What a developer exports: the account and API key ``chinwag serve`` was given."""
    return server_env(
        CHINWAG_URL=gateway.url,
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
        CHINWAG_API_KEY_SID=gateway.key.sid,
        CHINWAG_API_KEY_SECRET=gateway.key.secret,
        WEB_CHAT_PORT="0",
    )


@contextmanager
def web_chat(gateway: GatewayServer) -> Iterator[str]:
    """The example's server, started by its one-line command: the page's URL, and the server
    (npm and the node process under it) stopped whatever happens to the test."""
    proc = subprocess.Popen(
        [*NPM, "start"],
        env=example_env(gateway),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lifeline(),
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True
    ).start()
    try:
        seen = []
        while True:
            line = lines.get(timeout=60)
            seen.append(line)
            found = re.search(r"web chat: (http://\S+)", line)
            if found:
                break
            assert proc.poll() is None, "".join(seen)
        yield found[1]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()


def pane(driver: WebDriver, identity: str, selector: str) -> str:
    text: str = driver.find_element(By.CSS_SELECTOR, f"#pane-{identity} {selector}").text
    return text


def test_the_page_chats_between_two_users_in_chromium(
    gateway: GatewayServer, tmp_path: Path
) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(png(4, 3))
    with web_chat(gateway) as url, open_chromium(1280, 900) as browser:
        browser.get(url)
        for who in ("alice", "bob"):
            wait(lambda w=who: pane(browser, w, ".state") == "connected", 30, f"{who} to connect")
            channel = browser.find_element(By.CSS_SELECTOR, f"#pane-{who} [name=channel]")
            channel.clear()
            channel.send_keys("lobby")
            browser.find_element(By.CSS_SELECTOR, f"#pane-{who} .join button").click()
            wait(lambda w=who: pane(browser, w, ".title") == "#lobby", 20, f"{who} in the channel")

        browser.find_element(By.CSS_SELECTOR, "#pane-alice [name=text]").send_keys("Hello Bob")
        wait(lambda: pane(browser, "bob", ".typing") == "alice is typing…", 20, "typing")
        browser.find_element(By.CSS_SELECTOR, "#pane-alice .send button").click()
        wait(lambda: "Hello Bob" in pane(browser, "bob", ".messages"), 20, "the message")
        assert pane(browser, "bob", ".messages .author") == "alice"
        wait(
            lambda: pane(browser, "alice", ".read") == "bob has read up to message 0",
            20,
            "the read horizon",
        )

        browser.find_element(By.CSS_SELECTOR, "#pane-alice [name=picture]").send_keys(str(picture))
        shown = wait(
            lambda: browser.execute_script(
                "const img = document.querySelector('#pane-bob .messages img');"
                "return img && img.complete && [img.naturalWidth, img.alt]"
            ),
            20,
            "the picture",
        )
        assert shown == [4, "dot.png"]  # the file's own name came through the FormData
        assert [pane(browser, who, ".error") for who in ("alice", "bob")] == ["", ""]


def test_the_node_script_has_the_same_chat(gateway: GatewayServer) -> None:
    result = subprocess.run(
        [*NPM, "run", "chat"],
        env=example_env(gateway),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for expected in (
        "alice and bob are connected",
        "bob sees alice typing",
        'bob got "Hello Bob!" from alice',
        'alice got "Hi Alice, the picture please" from bob',
        "alice sees bob has read up to message 2",
        "done",
    ):
        assert expected in lines, result.stdout
    media = r"bob got a image/png of (\d+) bytes \(sent \1\)"
    assert any(re.fullmatch(media, line) for line in lines), result.stdout
