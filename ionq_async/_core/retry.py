"""When and how long to retry: RetryPolicy, the shared retry budget, and tenacity wiring."""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import tenacity
from attrs import field, frozen
from tenacity import AsyncRetrying, RetryCallState

from ..errors import (
    APIConnectionError,
    APIStatusError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from . import defaults as d
from .logs import ATTEMPT

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "Kind",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "by_kind",
    "is_retryable",
    "retry_from",
    "run_with_retries",
]

logger = logging.getLogger("ionq_async")

T = TypeVar("T")

DEFAULT_RETRY_STATUSES: frozenset[int] = d.RETRY_STATUSES

Sleep = Callable[[float], Awaitable[None]]


class Kind(enum.Enum):
    """What sending an operation again does, which decides whether it may be retried.

    SAFE (a read) and IDEMPOTENT (a change that repeating leaves as it is) are retried
    alike; CREATING (a POST that creates a job or a paid thing) is sent again only when
    the first request surely never left.
    """

    SAFE = "safe"
    IDEMPOTENT = "idempotent"
    CREATING = "creating"


def _statuses(values: Iterable[int]) -> frozenset[int]:
    """The retry statuses as a frozenset (any iterable of ints is accepted)."""
    return frozenset(values)


@frozen(kw_only=True)
class RetryEvent:
    """One retry about to happen: what failed and how long the client will wait."""

    method: str
    path: str
    attempt: int
    wait: float
    status: int | None
    request_id: str | None
    error: BaseException


@frozen(kw_only=True)
class RetryPolicy:
    """How a failed request is retried.

    The n-th retry waits `initial_wait * multiplier**(n-1)` plus up to `jitter` seconds,
    capped at `max_wait`, unless the server sent Retry-After: that is honoured even above
    `max_wait`, up to `max_retry_after` (a longer one raises RateLimitError at once).
    `deadline` bounds retrying: no retry is scheduled whose wait would end past it, counted
    from the first attempt (each attempt itself is bounded by the client's request_timeout).
    """

    max_attempts: int = d.RETRY_MAX_ATTEMPTS
    initial_wait: float = d.RETRY_INITIAL_WAIT
    max_wait: float = d.RETRY_MAX_WAIT
    multiplier: float = d.RETRY_MULTIPLIER
    jitter: float = d.RETRY_JITTER
    deadline: float | None = None
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES, converter=_statuses)
    max_retry_after: float = d.RETRY_MAX_AFTER
    sleep: Sleep | None = field(default=None, eq=False, repr=False)
    on_retry: Callable[[RetryEvent], object] | None = field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError("max_attempts must be an int")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("initial_wait", "max_wait", "jitter", "max_retry_after"):
            if not getattr(self, name) >= 0:  # also rejects NaN
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.multiplier >= 1:
            raise ValueError(f"multiplier must be >= 1, got {self.multiplier}")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds, got {self.deadline}")
        bad = sorted(
            (s for s in self.retry_statuses if not isinstance(s, int) or not 400 <= s <= 599),
            key=repr,
        )
        if bad:
            raise ValueError(f"retry_statuses must be HTTP error statuses (400-599), got {bad}")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)


class RetryBudget:
    """A client-wide retry quota, as in the AWS SDKs' standard retry mode.

    Each retry spends `retry_cost` (`timeout_cost` after a timeout); each success refills
    `refill`. When the bucket cannot pay, the failure is raised instead of retried, so an
    outage costs a batch about one extra request per call, not `max_attempts`. 429s are
    paced by Retry-After and the rate limiter and do not spend from it.
    """

    def __init__(
        self,
        capacity: int = d.BUDGET_CAPACITY,
        *,
        retry_cost: int = d.BUDGET_RETRY_COST,
        timeout_cost: int = d.BUDGET_TIMEOUT_COST,
        refill: int = d.BUDGET_REFILL,
    ) -> None:
        if capacity < 0 or retry_cost < 0 or timeout_cost < 0 or refill < 0:
            raise ValueError("retry budget amounts must be >= 0")
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.refill = refill
        self.available = capacity

    def try_spend(self, error: BaseException) -> bool:
        """Take the cost of retrying after `error`; False (and no change) if it can't."""
        if isinstance(error, RateLimitError):
            return True
        cost = self.timeout_cost if isinstance(error, TimeoutError) else self.retry_cost
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def on_success(self) -> None:
        """Refill a little after a successful request."""
        self.available = min(self.capacity, self.available + self.refill)

    def __repr__(self) -> str:
        return f"RetryBudget(available={self.available}, capacity={self.capacity})"


def is_retryable(error: BaseException, kind: Kind, policy: RetryPolicy) -> bool:
    """Whether `error` may be retried for an operation of `kind` (see Kind)."""
    if isinstance(error, RateLimitError):
        after = error.retry_after
        return 429 in policy.retry_statuses and (after is None or after <= policy.max_retry_after)
    if kind is Kind.CREATING:
        return isinstance(error, APIConnectionError) and not error.request_sent
    if isinstance(error, APIStatusError):
        return error.status_code in policy.retry_statuses
    return isinstance(error, APIConnectionError | ResponseValidationError)


class _StopOnEmptyBudget(tenacity.stop.stop_base):
    """Stop when the budget cannot pay for this retry; checked last, so only real retries pay."""

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        return error is not None and not self.budget.try_spend(error)


def _backoff(policy: RetryPolicy) -> tenacity.wait.wait_base:
    return tenacity.wait_exponential_jitter(
        multiplier=policy.initial_wait,
        exp_base=policy.multiplier,
        max=policy.max_wait,
        jitter=policy.jitter,
    )


async def run_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    method: str,
    path: str,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    kind: Kind = Kind.CREATING,
    retryable: Callable[[BaseException], bool] | None = None,
) -> T:
    """Await `attempt()` until it succeeds or `policy` says stop; raise the last error itself.

    What is retried follows `kind` (method and path only name the call in logs and
    events). `retryable` replaces that choice (the idempotent clone retries only a lost
    answer); waits, attempts, deadline and budget stay the policy's.
    """
    if policy.max_attempts == 1:
        return await attempt()
    # Fast path: the first attempt runs without building tenacity objects (an AsyncRetrying
    # per call cost ~40 % of a request's client CPU, docs/BENCHMARKS.md). A retryable failure
    # is replayed to tenacity as its attempt 1, so every retry decision, wait and stop stays
    # tenacity's.
    started = time.monotonic()
    try:
        return await attempt()
    except Exception as exc:
        if not (retryable(exc) if retryable else is_retryable(exc, kind, policy)):
            raise
        first = exc
    return await retry_from(
        first,
        attempt,
        started,
        method=method,
        path=path,
        policy=policy,
        budget=budget,
        retryable=retryable or functools.partial(_by_kind, kind, policy),
    )


def _by_kind(kind: Kind, policy: RetryPolicy, error: BaseException) -> bool:
    return is_retryable(error, kind, policy)


def by_kind(kind: Kind, policy: RetryPolicy) -> Callable[[BaseException], bool]:
    """What `run_with_retries` retries for an operation of `kind` under `policy`."""
    return functools.partial(_by_kind, kind, policy)


async def retry_from(
    first: Exception,
    attempt: Callable[[], Awaitable[T]],
    started: float,
    *,
    method: str,
    path: str,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    retryable: Callable[[BaseException], bool],
) -> T:
    """Tenacity's retries after a retryable failure of the first attempt, begun at `started`.

    `run_with_retries` after its fast path; the request path calls it the same way.
    """
    # Apart from the fast path: its every call would otherwise build these closures' cells.
    first_error: Exception | None = first
    number = 1

    async def replay_then_attempt() -> T:
        nonlocal first_error, number
        if first_error is not None:
            error, first_error = first_error, None
            raise error
        number += 1
        token = ATTEMPT.set(number)  # for the request's DEBUG record
        try:
            return await attempt()
        finally:
            ATTEMPT.reset(token)

    backoff = _backoff(policy)

    def should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        error = outcome.exception()
        if error is None:
            return False
        return retryable(error)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return error.retry_after
        if isinstance(error, ServerError) and error.retry_after is not None:
            return min(error.retry_after, policy.max_retry_after)
        return float(backoff(state))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        assert error is not None
        delay = state.upcoming_sleep
        event = RetryEvent(
            method=method,
            path=path,
            attempt=state.attempt_number,
            wait=delay,
            status=getattr(error, "status_code", None),
            request_id=getattr(error, "request_id", None),
            error=error,
        )
        logger.info(
            "retrying %s %s after attempt %d in %.2f s: status=%s request_id=%s error=%s",
            method,
            path,
            event.attempt,
            delay,
            event.status,
            event.request_id,
            type(error).__name__,
        )
        if policy.on_retry is not None:
            try:
                policy.on_retry(event)
            except Exception:
                logger.exception("on_retry callback failed; retrying anyway")

    stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(policy.max_attempts)
    if policy.deadline is not None:
        # Counted from the first attempt, which ran before tenacity started its clock.
        spent = time.monotonic() - started
        stop = stop | tenacity.stop_before_delay(policy.deadline - spent)
    if budget is not None:
        stop = stop | _StopOnEmptyBudget(budget)
    retrying = AsyncRetrying(
        sleep=policy.sleep or asyncio.sleep,
        stop=stop,
        wait=wait,
        retry=should_retry,
        before_sleep=before_sleep,
        reraise=True,
    )
    return await retrying(replay_then_attempt)
