"""The emulator on a thread of its own, for tests of the blocking client.

A blocking call holds up the calling thread (and its event loop, in an `async def` test),
so the emulator it talks to must serve from another loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ionq_async.testing import FakeIonQ

T = TypeVar("T")
TIMEOUT = 30.0


class EmulatorThread:
    """A FakeIonQ serving from its own loop thread; `call` runs code on that loop."""

    def __init__(self, fake: FakeIonQ, loop: asyncio.AbstractEventLoop) -> None:
        self.fake = fake
        self.loop = loop

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the emulator's loop (its store is not thread-safe)."""

        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(TIMEOUT)

    def add_job(self, **kwargs: Any) -> str:
        """Seed a job; its id."""
        return self.call(lambda: self.fake.add_job(**kwargs).id)

    def routes(self) -> list[tuple[str, str]]:
        """(method, path) of every request the emulator got so far."""
        return self.call(lambda: [(r.method, r.path) for r in self.fake.requests])


@contextlib.contextmanager
def emulator_thread(**options: Any) -> Iterator[EmulatorThread]:
    """Start FakeIonQ(**options) on a new thread's loop; stop both on leaving."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="emulator", daemon=True)
    thread.start()

    async def start() -> FakeIonQ:
        return await FakeIonQ(**options).start()

    try:
        fake = asyncio.run_coroutine_threadsafe(start(), loop).result(TIMEOUT)
        try:
            yield EmulatorThread(fake, loop)
        finally:
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()
