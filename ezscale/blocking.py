"""CPU-bound work of page events (password hashing) runs here, off the event loop, on a bounded
pool of threads (EZSCALE_CPU_WORKERS): argon2 releases the GIL while it hashes, so the loop keeps
answering every other tenant's pages and pings meanwhile."""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ezscale.settings import get_settings

T = TypeVar("T")


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=get_settings().cpu_workers, thread_name_prefix="ezscale-cpu")


async def run_blocking(fn: Callable[..., T], /, *args, **kwargs) -> T:
    """Run `fn` on the pool (with this task's context, e.g. the current tenant) and await it."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(), call)
