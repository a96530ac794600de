"""IonQ: the blocking client, an AsyncIonQ run on an event loop of its own (a daemon thread)."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

from .._client import AsyncIonQ
from .._core.ratelimit import RateLimiter
from .._core.retry import RetryBudget, RetryPolicy
from .bridge import Blocking, blocking, parameters_of
from .loop import LoopThread
from .resources import Backends, Jobs, Schemas, Sessions

__all__ = ["IonQ"]

_numbers = itertools.count(1)


class IonQ(Blocking[AsyncIonQ]):
    """A blocking client of the IonQ v0.4 API, for scripts and notebooks: `with IonQ() as client:`.

    Same constructor, resources and methods as AsyncIonQ, each method a blocking call of
    its async twin. The async client runs on one event loop in a private daemon thread
    (started by the first call), so it works in a plain script, inside Jupyter (where a
    loop already runs) and from several threads at once. Async iterators (`jobs.list()`,
    `jobs.wait_many()`, `jobs.rerun()`) are plain iterators and `with` blocks that stop
    their work when left; `sessions.open()` is a `with` block. Ctrl-C during a call
    cancels its work, waits for it to unwind (a journal is flushed, a session ended) and
    raises KeyboardInterrupt. A `session` passed in must belong to no event loop yet.
    """

    @parameters_of(AsyncIonQ.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        client = AsyncIonQ(*args, **kwargs)
        loop = LoopThread(f"ionq-async-blocking-{next(_numbers)}")
        super().__init__(client, loop)
        self.jobs = Jobs(client.jobs, loop)
        self.backends = Backends(client.backends, loop)
        self.sessions = Sessions(client.sessions, loop)
        self.schemas = Schemas(client.schemas, loop)
        # Closes the async client and stops the thread on close(), or at exit if forgotten.
        self._close = weakref.finalize(self, _shut_down, client, loop)

    def __repr__(self) -> str:
        return f"IonQ(base_url={self.base_url!r}, api_key='***')"

    def __enter__(self) -> IonQ:
        if self.closed:
            raise RuntimeError("this IonQ is closed; create a new one")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop background work and close the HTTP session this client created.

        Session ends still under way (a `sessions.open()` block left by cancellation) are
        awaited first, for a bounded time; one that fails is logged with its session id.
        """
        self._close()

    @property
    def closed(self) -> bool:
        """True once `close()` has run."""
        return not self._close.alive

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self._twin.base_url

    @property
    def retry(self) -> RetryPolicy:
        """The client's default RetryPolicy."""
        return self._twin.retry

    @property
    def rate_limiter(self) -> RateLimiter:
        """The pacer shared by every request of this client."""
        return self._twin.rate_limiter

    @property
    def retry_budget(self) -> RetryBudget:
        """The client-wide retry quota."""
        return self._twin.retry_budget

    whoami = blocking(AsyncIonQ.whoami)
    usage = blocking(AsyncIonQ.usage)


def _shut_down(client: AsyncIonQ, loop: LoopThread) -> None:
    """Close the async client on its loop (if it ever ran), then stop the loop thread."""
    try:
        if loop.started and not loop.in_loop_thread():
            loop.run(client.close())
    finally:
        loop.stop()
