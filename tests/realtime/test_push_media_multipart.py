"""Media uploads as a browser's ``FormData`` sends them: ``multipart/form-data`` over raw HTTP.

The file part's bytes, type and name are stored, not the multipart body; what is not a single
well-formed file part is refused in Twilio's error JSON and stores nothing; the size limit
counts the file, as for a raw upload. The SDK's own FormData upload, in a real browser, is in
``test_push_media_browser.py``.
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_support import GatewayServer

from conftest import Databases

pytestmark = pytest.mark.server

LIMIT = 4096


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG (grey pixels), so a browser can decode it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = b"".join(b"\x00" + bytes([128]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def gateway(databases: Databases) -> Iterator[GatewayServer]:
    with GatewayServer(databases, media_max_bytes=LIMIT) as srv:
        yield srv


class Uploader:
    def __init__(self, gateway: GatewayServer) -> None:
        self.gateway = gateway
        self.service = gateway.service()
        self.token = gateway.token(self.service, "alice")
        self.url = f"{gateway.url}/mcs/v1/Services/{self.service}/Media"

    def post(self, content: bytes, content_type: str, query: str = "") -> httpx.Response:
        headers = {"X-Twilio-Token": self.token, "Content-Type": content_type}
        return httpx.post(f"{self.url}?Category=media{query}", headers=headers, content=content)

    def form(self, files: Any, data: Any = None, query: str = "") -> httpx.Response:
        request = httpx.Request("POST", self.url, files=files, data=data)
        return self.post(request.read(), request.headers["Content-Type"], query)

    def content(self, sid: str) -> httpx.Response:
        return httpx.get(f"{self.url}/{sid}/Content", headers={"X-Twilio-Token": self.token})


@pytest.fixture
def uploader(gateway: GatewayServer) -> Uploader:
    return Uploader(gateway)


def test_the_file_part_is_stored_with_its_own_type_and_name(uploader: Uploader) -> None:
    image = png()
    created = uploader.form(
        files={"media": ("pixel.png", image, "image/png")}, data={"note": "dropped"}
    )
    assert created.status_code == 201, created.text
    media = created.json()
    assert (media["content_type"], media["filename"], media["size"]) == (
        "image/png",
        "pixel.png",
        len(image),
    )
    served = uploader.content(media["sid"])
    assert served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"] == "inline; filename*=UTF-8''pixel.png"


def test_a_file_part_without_a_type_is_octet_stream_and_a_unicode_name_survives(
    uploader: Uploader,
) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="été.bin"\r\n\r\n'
        f"data\r\n--{boundary}--\r\n"
    ).encode()
    created = uploader.post(body, f"multipart/form-data; boundary={boundary}")
    assert created.status_code == 201, created.text
    assert (created.json()["content_type"], created.json()["filename"]) == (
        "application/octet-stream",
        "été.bin",
    )
    assert uploader.content(created.json()["sid"]).content == b"data"


def test_the_filename_parameter_names_a_form_upload_too(uploader: Uploader) -> None:
    created = uploader.form(files={"f": ("blob", b"abc", "text/plain")}, query="&Filename=a.txt")
    assert created.json()["filename"] == "a.txt"


def test_a_raw_upload_is_stored_as_sent(uploader: Uploader) -> None:
    created = uploader.post(b"--not-a-form--", "text/plain", "&Filename=raw.txt")
    assert created.status_code == 201, created.text
    assert (created.json()["content_type"], created.json()["filename"]) == ("text/plain", "raw.txt")
    assert uploader.content(created.json()["sid"]).content == b"--not-a-form--"


def test_the_limit_counts_the_file_not_the_form(uploader: Uploader) -> None:
    fits = uploader.form(files={"f": ("a.bin", b"x" * LIMIT, "application/octet-stream")})
    assert fits.status_code == 201, fits.text
    assert fits.json()["size"] == LIMIT
    over = uploader.form(files={"f": ("a.bin", b"x" * (LIMIT + 1), "application/octet-stream")})
    assert over.status_code == 413
    assert over.json()["code"] == 20001
    assert over.json()["message"] == f"Request body exceeds the limit of {LIMIT} bytes"
    # fields around the file are read and dropped, within a bound of their own
    padded = uploader.form(files={"f": ("a.bin", b"x", "text/plain")}, data={"pad": "p" * 70_000})
    assert padded.status_code == 413


B = "--b\r\n"
FILE = 'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n'
FIELD = 'Content-Disposition: form-data; name="n"\r\n\r\n'


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            "multipart/form-data",
            f"{B}{FILE}x\r\n--b--\r\n",
            "A multipart/form-data body needs a boundary",
        ),
        (
            "multipart/form-data; boundary=b",
            f"{B}{FIELD}text\r\n--b--\r\n",
            "A multipart/form-data upload must carry the media as a file part",
        ),
        (
            "multipart/form-data; boundary=b",
            f"{B}{FILE}x\r\n{B}{FILE}y\r\n--b--\r\n",
            "A media upload carries one file, not more",
        ),
        (
            "multipart/form-data; boundary=b",
            f"{B}{FILE}x",
            "The multipart/form-data body ended before its closing boundary",
        ),
        (
            "multipart/form-data; boundary=b",
            "--c\r\nnonsense\r\n",
            "The multipart/form-data body is malformed",
        ),
        (
            "multipart/form-data; boundary=b",
            B + "".join(f"X-{n}: {'h' * 3000}\r\n" for n in "ABC") + f"{FILE}x\r\n--b--\r\n",
            "A part's headers must be at most 8192 bytes",
        ),
        (
            "multipart/form-data; boundary=b",
            f'{B}Content-Disposition: form-data; name="f"; filename="\xff"\r\n\r\nx\r\n--b--\r\n',
            "The file name must be UTF-8",
        ),
        (
            "multipart/form-data; boundary=b",
            f"{B}{FILE}\r\n--b--\r\n",
            "Missing required parameter media content in the post body",
        ),
    ],
)
def test_a_form_that_is_not_one_good_file_is_refused(
    uploader: Uploader, content_type: str, body: str, message: str
) -> None:
    refused = uploader.post(body.encode("latin-1"), content_type)
    assert refused.status_code == 400, refused.text
    assert refused.json() == {
        "code": 20001,
        "message": message,
        "more_info": "https://www.twilio.com/docs/errors/20001",
        "status": 400,
    }
    assert refused.headers["access-control-allow-origin"] == "*"


def test_a_form_whose_client_leaves_mid_body_stores_nothing(uploader: Uploader) -> None:
    """The body stops short of its Content-Length: nothing is stored (and the server lives)."""
    host, port = uploader.gateway.url.removeprefix("http://").split(":")
    body = f"{B}{FILE}partial".encode()
    head = (
        f"POST /mcs/v1/Services/{uploader.service}/Media HTTP/1.1\r\nHost: {host}\r\n"
        f"X-Twilio-Token: {uploader.token}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(body) + 100}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
    created = uploader.form(files={"f": ("after.txt", b"ok", "text/plain")})
    assert created.status_code == 201, created.text
