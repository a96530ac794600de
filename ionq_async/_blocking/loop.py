"""LoopThread: one event loop on a private daemon thread, where blocking callers run coroutines."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")

_TICK = 0.2
"""Seconds between checks for a signal while a caller waits (a wait that is never woken by
one, as on Windows or after `_thread.interrupt_main()`, still sees it this soon)."""


class _Call(Generic[T]):
    """One coroutine run for a blocking caller: started, cancelled and finished on the loop."""

    __slots__ = ("coro", "done", "task")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.task: asyncio.Task[T] | None = None
        self.done = threading.Event()

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.coro)
        self.task.add_done_callback(self._finished)

    def _finished(self, _: object) -> None:
        self.done.set()

    def cancel(self) -> None:
        # Scheduled after `start` (call_soon_threadsafe keeps order), so the task exists.
        if self.task is not None:
            self.task.cancel()

    def wait(self, thread: threading.Thread) -> None:
        while not self.done.wait(_TICK):
            if not thread.is_alive():  # stopped by close() in another thread meanwhile
                if self.task is None:
                    self.coro.close()  # never started
                raise RuntimeError("this IonQ client was closed during the call")

    def outcome(self) -> T:
        assert self.task is not None
        return self.task.result()

    def forget(self) -> None:
        """Mark an interrupted call's error as seen (asyncio would log it as never retrieved)."""
        if self.done.is_set() and self.task is not None and not self.task.cancelled():
            self.task.exception()


class LoopThread:
    """An event loop on a daemon thread of its own, started by the first call.

    `run(coro)` runs a coroutine there and blocks the calling thread until it ends, so it
    works from any thread, including one whose own event loop is running (Jupyter). An
    exception in the caller while it waits (Ctrl-C's KeyboardInterrupt) cancels the
    coroutine and waits for it to unwind before it propagates; a second Ctrl-C stops that
    wait (the coroutine still unwinds on the loop thread).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def started(self) -> bool:
        """True once the loop thread runs (and until it is stopped)."""
        return self._loop is not None

    def in_loop_thread(self) -> bool:
        """True when called on the loop's own thread (where blocking on it would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._stopped:
                raise RuntimeError("this IonQ client is closed; create a new one")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=_serve, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._thread, self._loop = thread, loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the loop thread; its result, or its exception raised here."""
        call = _Call(coro)
        try:
            if self.in_loop_thread():
                raise RuntimeError(
                    "a blocking IonQ call cannot run on the client's own event loop thread "
                    "(in a callback, say): use AsyncIonQ and await there"
                )
            loop = self._running_loop()
            thread = self._thread
            assert thread is not None
            loop.call_soon_threadsafe(call.start)
        except BaseException:
            coro.close()
            raise
        try:
            call.wait(thread)
        except BaseException:
            with contextlib.suppress(BaseException):  # a second Ctrl-C ends this wait only
                loop.call_soon_threadsafe(call.cancel)
                call.wait(thread)
                call.forget()
            raise
        return call.outcome()

    def stop(self) -> None:
        """Stop the loop and wait for its thread to end; later calls raise RuntimeError."""
        with self._lock:
            self._stopped = True
            loop, self._loop = self._loop, None
            thread = self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join()


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    """The loop thread: run until stopped, then cancel what is left and close the loop."""
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
