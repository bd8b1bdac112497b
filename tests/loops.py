"""Running a coroutine from a test, whatever else holds the main thread's event loop."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_on_own_loop(coroutine: Coroutine[object, object, T]) -> T:
    """Run a coroutine on a fresh loop in its own thread: the browser tests' sync Playwright keeps
    an event loop running in the main thread for the rest of the session."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
