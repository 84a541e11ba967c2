"""What a newcomer sees on the first start, through a real ``chinwag serve``: default settings
start without a warning even under a low open-file limit, a setting that cannot fit is named
with how much to change it, the banner prints the console's URL, and a browser opening the
server's address gets a page, not a password prompt.
"""

from __future__ import annotations

import re

import httpx
import pytest
from cli_process import serving

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env

pytestmark = pytest.mark.server

ENV = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
#: a hard open-file limit below what the defaults would ask for (1000 + 20000 + 128)
LOW_LIMIT = 4096


def test_defaults_start_without_a_warning_under_a_low_open_file_limit(
    databases: Databases,
) -> None:
    with serving("--database", databases.new(), env=ENV, open_files=LOW_LIMIT) as (url, output):
        assert httpx.get(f"{url}/healthz").status_code == 200
    assert "warning" not in output.stderr.lower(), output.stderr
    room = LOW_LIMIT - 128 - 1000
    assert f"client connections per process: {room}" in output.stderr


def test_a_chosen_limit_that_cannot_fit_is_named_with_how_much_to_lower_it(
    databases: Databases,
) -> None:
    args = ("--database", databases.new(), "--gateway-max-connections", "5000")
    with serving(*args, env=ENV, open_files=LOW_LIMIT) as (_, output):
        pass
    (warning,) = [line for line in output.lines if "open-file limit" in line]
    assert "WARNING" in warning
    assert "lower gateway_max_connections by 2032" in warning  # 5000 - (4096 - 128 - 1000)
    assert "raise the hard open-file limit (4096) to 6128" in warning


def test_the_banner_prints_the_console_url_and_it_answers(databases: Databases) -> None:
    with serving("--database", databases.new(), env=ENV) as (url, output):
        page = httpx.get(f"{url}/_chinwag/ui/")
        assert page.status_code == 200 and "<title>" in page.text
        assert httpx.get(f"{url}/_chinwag/ui").text == page.text
    found = re.search(r"chinwag: admin console: (http://\S+)", output.stderr)
    assert found, output.stderr
    assert found[1] == f"{url}/_chinwag/ui/"


def test_the_address_itself_answers_a_browser_with_links(databases: Databases) -> None:
    with serving("--database", databases.new(), env=ENV) as (url, _):
        home = httpx.get(f"{url}/", headers={"Accept": "text/html"})
        health = httpx.get(f"{url}/healthz").json()
    with serving("--database", databases.new(), "--admin-console", "false", env=ENV) as (url, _):
        off = httpx.get(f"{url}/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert "www-authenticate" not in home.headers
    for link in ("/_chinwag/ui/", "/healthz", "/metrics"):
        assert f'href="{link}"' in home.text
    assert "docs/" in home.text
    assert off.status_code == 200 and "/_chinwag/ui/" not in off.text
    assert health == {"status": "ok", "database": "ok", "redis": "off"}
