"""The body of a media upload: the file's raw bytes, or a browser's ``multipart/form-data``.

``@twilio/mcs-client`` posts media two ways (services/network.js, ``Network.post``): raw bytes
with the media's ``Content-Type`` (a ``Buffer`` or ``Blob``), or a browser ``FormData`` as it
is, with no ``Content-Type`` of its own, so the browser sends ``multipart/form-data;
boundary=…`` and the file is one part of it, with its own type and file name. Stored as it
came, that body would be the wrong bytes under the wrong type.

Both are read chunk by chunk as they arrive. A raw body is gathered into chunks of
:data:`CHUNK_BYTES`, the rows it is stored in (``media_chunks``); a multipart body goes through
python-multipart's streaming parser, and only the file part's bytes are gathered. Either way
the upload is held in memory once (its chunks, never joined), plus the piece in flight. The file
is held to ``limit`` bytes; the rest of a
multipart body (boundaries, part headers, other fields, read and dropped) to
:data:`MULTIPART_OVERHEAD` more, and each part's headers to :data:`PART_HEADERS_MAX`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import falcon.asgi
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from chinwag import errors
from chinwag.http.forms import check_complete

_MULTIPART = "multipart/form-data"
#: an upload is received and stored in chunks of this many bytes (``media_chunks`` rows)
CHUNK_BYTES = 256 * 1024
#: what a multipart body may carry beyond its file: boundaries, part headers, small fields
MULTIPART_OVERHEAD = 64 * 1024
#: the header bytes of one part (a browser sends two short lines)
PART_HEADERS_MAX = 8 * 1024


class Chunks:
    """Bytes gathered into chunks of :data:`CHUNK_BYTES` as they come: held once, never joined."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self._piece = bytearray()

    def add(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        self._piece += data
        while len(self._piece) >= CHUNK_BYTES:
            self.chunks.append(bytes(self._piece[:CHUNK_BYTES]))
            del self._piece[:CHUNK_BYTES]

    def close(self) -> list[bytes]:
        """Every chunk, the last one short; nothing more may be added."""
        if self._piece:
            self.chunks.append(bytes(self._piece))
            self._piece = bytearray()
        return self.chunks


@dataclass
class Received:
    """The upload's bytes, and its type and file name when the body said them."""

    chunks: list[bytes]
    content_type: str | None
    filename: str | None


def least_file_size(req: falcon.asgi.Request) -> int:
    """The fewest bytes of file the body's ``Content-Length`` says it carries (0 when it says
    none): all of a raw body, and a form's beyond what its other parts may take. The quota and
    the size limit are checked against it before the body is read."""
    declared = req.content_length or 0
    if _is_multipart(req):
        return max(0, declared - MULTIPART_OVERHEAD)
    return declared


def _is_multipart(req: falcon.asgi.Request) -> bool:
    media_type, _, _ = (req.content_type or "").partition(";")
    return media_type.strip().lower() == _MULTIPART


async def read_upload(req: falcon.asgi.Request, limit: int) -> Received:
    """The media a POST carries; 413 past ``limit`` bytes of file, 400 if the body is cut off,
    malformed, or a form without exactly one file part."""
    if _is_multipart(req):
        return await _read_multipart(req, limit)
    content = Chunks()
    await _stream(req, limit, content.add)
    return Received(content.close(), req.content_type, None)


async def _stream(req: falcon.asgi.Request, limit: int, feed: Callable[[bytes], object]) -> None:
    """Feed the body's chunks to ``feed``, refusing a body over ``limit`` bytes (413) before
    reading it, when its length says so, or as soon as it passes the limit."""
    if req.content_length is not None and req.content_length > limit:
        raise errors.PayloadTooLargeError(limit=limit)
    received = 0
    async for chunk in req.stream:
        received += len(chunk)
        if received > limit:
            raise errors.PayloadTooLargeError(limit=limit)
        feed(chunk)
    check_complete(req, received)


@dataclass
class _Part:
    """The part being parsed: its headers so far, and whether it is the file."""

    headers: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0
    name: bytearray = field(default_factory=bytearray)
    value: bytearray = field(default_factory=bytearray)
    is_file: bool = False


class _FormReader:
    """python-multipart's callbacks: keep the first file part, drop every other part."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.part = _Part()
        self.file: Received | None = None
        self.content = Chunks()
        self.done = False

    def on_part_begin(self) -> None:
        self.part = _Part()

    def _header_bytes(self, size: int) -> None:
        self.part.header_bytes += size
        if self.part.header_bytes > PART_HEADERS_MAX:
            raise errors.MalformedRequestError(
                detail=f"A part's headers must be at most {PART_HEADERS_MAX} bytes"
            )

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes(end - start)
        self.part.name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_bytes(end - start)
        self.part.value += data[start:end]

    def on_header_end(self) -> None:
        # latin-1 keeps every byte as one character; parse_options_header gives them back
        name = self.part.name.decode("latin-1").strip().lower()
        self.part.headers[name] = self.part.value.decode("latin-1").strip()
        self.part.name, self.part.value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition"))
        if b"filename" not in options:
            return  # a plain field (FormData.append(name, "text")): read and dropped
        if self.file is not None:
            raise errors.MalformedRequestError(detail="A media upload carries one file, not more")
        content_type = self.part.headers.get("content-type") or "application/octet-stream"
        try:
            filename = options[b"filename"].decode("utf-8") or None
        except UnicodeDecodeError:
            raise errors.MalformedRequestError(detail="The file name must be UTF-8") from None
        self.file = Received([], content_type, filename)
        self.part.is_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.is_file:
            self.content.add(memoryview(data)[start:end])
            if self.content.size > self.limit:
                raise errors.PayloadTooLargeError(limit=self.limit)

    def on_end(self) -> None:
        self.done = True


async def _read_multipart(req: falcon.asgi.Request, limit: int) -> Received:
    _, params = parse_options_header(req.content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise errors.MalformedRequestError(detail="A multipart/form-data body needs a boundary")
    reader = _FormReader(limit)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_part_data": reader.on_part_data,
            "on_end": reader.on_end,
        },
    )
    try:
        await _stream(req, limit + MULTIPART_OVERHEAD, parser.write)
    except MultipartParseError:
        raise errors.MalformedRequestError(
            detail="The multipart/form-data body is malformed"
        ) from None
    except errors.PayloadTooLargeError:
        raise errors.PayloadTooLargeError(limit=limit) from None
    if not reader.done:
        raise errors.MalformedRequestError(
            detail="The multipart/form-data body ended before its closing boundary"
        )
    if reader.file is None:
        raise errors.MalformedRequestError(
            detail="A multipart/form-data upload must carry the media as a file part"
        )
    reader.file.chunks = reader.content.close()
    return reader.file
