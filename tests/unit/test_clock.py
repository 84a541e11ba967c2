"""The clocks: sleeping on a FakeClock ends when a test steps it, from any thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from chinwag.clock import ControllableClock, FakeClock, SystemClock

pytestmark = pytest.mark.unit


def test_fake_sleep_until_a_past_moment_returns_at_once() -> None:
    clock = FakeClock(start_ms=1000)

    asyncio.run(asyncio.wait_for(clock.sleep_until(1000), 1))


def test_fake_sleep_ends_when_another_thread_advances_far_enough() -> None:
    clock = FakeClock(start_ms=0)

    async def scenario() -> None:
        sleeper = asyncio.ensure_future(clock.sleep_until(2000))
        await asyncio.to_thread(clock.advance, 1.999)
        done, _ = await asyncio.wait({sleeper}, timeout=0.05)
        assert not done
        stepper = threading.Thread(target=clock.advance, args=(0.001,))
        stepper.start()
        await asyncio.wait_for(sleeper, 5)
        stepper.join()

    asyncio.run(scenario())
    assert clock.now_ms() == 2000


def test_a_cancelled_fake_sleep_is_forgotten() -> None:
    clock = FakeClock(start_ms=0)

    async def scenario() -> None:
        sleeper = asyncio.ensure_future(clock.sleep_until(10))
        await asyncio.sleep(0)
        sleeper.cancel()
        await asyncio.gather(sleeper, return_exceptions=True)

    asyncio.run(scenario())
    clock.advance(1)  # nothing left to wake on a closed loop


def test_system_sleep_until_waits_for_the_wall_clock() -> None:
    clock = SystemClock()
    started = time.monotonic()

    asyncio.run(clock.sleep_until(clock.now_ms() + 50))

    assert time.monotonic() - started >= 0.04


def test_controllable_clock_runs_from_system_time_and_moves_on_request() -> None:
    clock = ControllableClock()
    assert abs(clock.now_ms() - time.time() * 1000) < 1000
    clock.set(5_000)
    assert 5_000 <= clock.now_ms() < 6_000
    clock.advance(-1_000)
    assert 4_000 <= clock.now_ms() < 5_000
    clock.follow_system()
    assert abs(clock.now_ms() - time.time() * 1000) < 1000


def test_controllable_sleep_ends_when_the_clock_is_advanced_from_another_thread() -> None:
    clock = ControllableClock()

    async def scenario() -> None:
        sleeper = asyncio.ensure_future(clock.sleep_until(clock.now_ms() + 3_600_000))
        done, _ = await asyncio.wait({sleeper}, timeout=0.05)
        assert not done
        await asyncio.to_thread(clock.advance, 3_600_000)
        await asyncio.wait_for(sleeper, 5)

    asyncio.run(scenario())
