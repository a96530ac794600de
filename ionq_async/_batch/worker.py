"""A thread of its own for blocking work (the journal's SQLite), answering in the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Worker"]

T = TypeVar("T")


class Worker:
    """Runs callables in order in one daemon thread; `reply` calls back into the loop.

    A daemon thread: a process that never closes its journal still exits.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._inbox: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread; its replies go to the running loop."""
        self._loop = asyncio.get_running_loop()
        self._inbox = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=_serve, args=(self._inbox,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Let the thread finish what it was given, and end it (`wait`: join it here)."""
        if self._thread is not None:
            thread, self._thread = self._thread, None
            self._inbox.put(None)
            if wait:
                thread.join()

    def submit(self, work: Callable[[], None]) -> None:
        """Run `work()` in the thread, after what it was given before."""
        self._inbox.put(work)

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in the thread; what it returns or raises."""
        if self._thread is None or self._loop is None:
            raise RuntimeError(f"{self.name} is not running")
        done: asyncio.Future[T] = self._loop.create_future()
        self._inbox.put(functools.partial(self._call, done, fn))
        return await done

    def reply(self, callback: Callable[..., None], *args: Any) -> None:
        """From the thread, call `callback(*args)` in the loop; a closed loop has no one to tell."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def _call(self, done: asyncio.Future[T], fn: Callable[[], T]) -> None:
        try:
            result = fn()
        except BaseException as exc:
            self.reply(_settle, done, None, exc)
        else:
            self.reply(_settle, done, result, None)


def _serve(inbox: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    while (work := inbox.get()) is not None:
        work()


def _settle(done: asyncio.Future[T], result: T, error: BaseException | None) -> None:
    if done.done():  # its awaiter was cancelled
        return
    if error is None:
        done.set_result(result)
    else:
        done.set_exception(error)
