"""A response head waits for its body, and for nothing else."""

from __future__ import annotations

import asyncio

import pytest

from chinwag.http.coalesce import CoalescedWrites

pytestmark = pytest.mark.unit

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def _writes() -> tuple[_Transport, CoalescedWrites]:
    transport = _Transport()
    return transport, CoalescedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]


def test_head_and_body_leave_in_one_write() -> None:
    asyncio.run(_test_head_and_body_leave_in_one_write())


async def _test_head_and_body_leave_in_one_write() -> None:
    transport, writes = _writes()
    writes.write(HEAD)
    assert transport.writes == []
    writes.write(b"{}")
    assert transport.writes == [HEAD + b"{}"]
    await asyncio.sleep(0)
    assert transport.writes == [HEAD + b"{}"]


def test_a_head_without_body_leaves_on_the_next_turn() -> None:
    asyncio.run(_test_a_head_without_body_leaves_on_the_next_turn())


async def _test_a_head_without_body_leaves_on_the_next_turn() -> None:
    transport, writes = _writes()
    writes.write(HEAD)
    await asyncio.sleep(0)
    assert transport.writes == [HEAD]


def test_continue_and_body_chunks_are_not_held() -> None:
    asyncio.run(_test_continue_and_body_chunks_are_not_held())


async def _test_continue_and_body_chunks_are_not_held() -> None:
    transport, writes = _writes()
    writes.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    writes.write(b"5\r\nhello\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"5\r\nhello\r\n"]


def test_close_sends_what_is_held_first() -> None:
    asyncio.run(_test_close_sends_what_is_held_first())


async def _test_close_sends_what_is_held_first() -> None:
    transport, writes = _writes()
    writes.write(HEAD)
    writes.close()
    assert transport.writes == [HEAD] and transport.closed
    await asyncio.sleep(0)  # the scheduled flush finds nothing left
    assert transport.writes == [HEAD]


def test_nothing_is_written_to_a_closing_socket() -> None:
    asyncio.run(_test_nothing_is_written_to_a_closing_socket())


async def _test_nothing_is_written_to_a_closing_socket() -> None:
    transport, writes = _writes()
    writes.write(HEAD)
    transport.close()
    await asyncio.sleep(0)
    assert transport.writes == [] and writes.is_closing()
