"""A real Chromium for the tests that need a browser (the console, media from a web page, the
web-chat example).

The browser is Debian's ``chromium`` driven through ``chromium-driver`` by Selenium, with both
paths given so Selenium never looks for (or downloads) a browser or a driver of its own.
``.ci/run`` installs the two packages when they are missing.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
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


def chromium(width: int = 1280, height: int = 900, profile: str | None = None) -> WebDriver:
    """A headless Chromium with a fresh profile, driven by the system's chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = profile or tempfile.mkdtemp(prefix="chinwag-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=DriverService(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


@contextmanager
def open_chromium(width: int = 1280, height: int = 900) -> Iterator[WebDriver]:
    """:func:`chromium`, quit and its profile removed whatever happens to the test."""
    profile = tempfile.mkdtemp(prefix="chinwag-chromium-")
    try:
        driver = chromium(width, height, profile)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


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


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The test's output is not the place for an access log."""


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """A static web server for ``root`` on a free loopback port: its base URL, and the server
    stopped whatever happens to the test. The page's origin differs from chinwag's, as a web
    app's does, so media uploads go through CORS as they would in production."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
