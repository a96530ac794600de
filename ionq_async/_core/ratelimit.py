"""A request pacer shared by every call of one client: fixed, or adaptive (AIMD) on 429s."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from .logs import rate_limit_pause

__all__ = ["RateLimitSetting", "RateLimiter"]

RateLimitSetting = float | Literal["adaptive"] | None

_DECREASE = 0.9
_INCREASE_SHARE = 0.02
_SPEEDUP = 2.0
_MIN_RATE = 1.0
_WINDOW = 1.0
_SLOTS = 100  # the last second of admissions, counted per 10 ms
_MAX_PAUSE = 60.0


class RateLimiter:
    """Paces request starts so that a batch does not turn a 429 into a retry storm.

    Adaptive mode sends freely until the first 429. Each 429 on a request sent after the
    previous decrease (one decrease per congestion event) sets the rate to 0.9x the smaller
    of the current rate and what the server admitted per second over the last second
    (multiplicative decrease); 2 % of that rate is added back per second, a rate that
    grows by 1x every 2 s without a 429 (additive increase that speeds up, so that an
    underestimate is soon undone). A 429 when the server admitted nothing in the last
    second (the first request, or the first after a quiet spell) measures nothing: the rate
    is kept, and every caller pauses for one second unless a Retry-After says longer. In
    fixed and adaptive modes a 429's Retry-After (at most `max_pause` seconds) pauses all
    callers; None turns the limiter off entirely.
    """

    def __init__(
        self,
        setting: RateLimitSetting = "adaptive",
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_pause: float = _MAX_PAUSE,
    ) -> None:
        if setting is not None and setting != "adaptive":
            if isinstance(setting, bool) or not isinstance(setting, int | float):
                raise TypeError(f"rate_limit must be None, a number or 'adaptive', not {setting!r}")
            if not setting > 0:
                raise ValueError(f"rate_limit must be > 0 requests per second, got {setting}")
        if not max_pause >= 0:
            raise ValueError(f"max_pause must be >= 0 seconds, got {max_pause}")
        self.enabled = setting is not None
        self.adaptive = setting == "adaptive"
        self.rate: float | None = None if setting in (None, "adaptive") else float(setting)
        self.max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._started_at: float | None = None
        self._increase = 0.0
        self._last_change = 0.0
        self._event_at = -math.inf
        # Admissions per slot of _WINDOW / _SLOTS seconds, a ring of _SLOTS + 1 counts (the
        # window's two partial ends): a fixed size, however many requests a second brings.
        self._admitted = [0] * (_SLOTS + 1)
        self._last_slot = 0

    def free_now(self) -> float | None:
        """The clock time, if a caller may start a request now without waiting; else None."""
        now = self._clock()
        if not self.enabled:
            return now
        if self.rate is not None or now < self._paused_until:
            return None
        if self._started_at is None:
            self._started_at = now
        return now

    async def acquire(self) -> float:
        """Wait until this caller may start a request; return the clock time it may start."""
        now = self._clock()
        if not self.enabled:
            return now
        if self._started_at is None:
            self._started_at = now
        while now < self._paused_until or (self.rate is not None and self._next > now):
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
            else:
                # Book the next free slot, then sleep to it; a pause set meanwhile is
                # seen on the next turn.
                slot = self._next
                self._next = slot + 1.0 / self._current_rate(now)
                await self._sleep(slot - now)
                now = self._clock()
                if now >= self._paused_until:
                    return now
            now = self._clock()
        if self.rate is not None:
            self._next = max(now, self._next) + 1.0 / self._current_rate(now)
        return now

    def _current_rate(self, now: float) -> float:
        """The rate after additive increase up to `now` (fixed rates never change)."""
        assert self.rate is not None
        if self.adaptive and now > self._last_change:
            # The increase itself grows the longer no 429 comes (1x at the decrease,
            # 1 + t/_SPEEDUP after t seconds), so an underestimate is soon undone.
            calm = (self._last_change + now) / 2 - self._event_at
            speedup = 1.0 + max(0.0, calm) / _SPEEDUP
            self.rate += self._increase * speedup * (now - self._last_change)
            self._last_change = now
        return self.rate

    def on_admitted(self) -> None:
        """Note that the server answered a request with something other than 429."""
        if self.adaptive:
            slot = int(self._clock() * (_SLOTS / _WINDOW))
            counts = self._admitted
            size = len(counts)
            if slot != self._last_slot:
                # Slots passed since the last admission start again from zero.
                for passed in range(max(self._last_slot + 1, slot - size + 1), slot + 1):
                    counts[passed % size] = 0
                self._last_slot = slot
            counts[slot % size] += 1

    def _admitted_rate(self, now: float) -> float | None:
        """What the server admitted per second over the last second (pauses included).

        Within the first second, over the time since the first request: an estimate that
        may be high, which the next 429 corrects, rather than low, which only the slow
        additive increase would undo. None when nothing was admitted: nothing to go by.
        Counted per 10 ms slot, so the window's oldest slot may add up to 1 % of a second.
        """
        span = 0.0 if self._started_at is None else min(now - self._started_at, _WINDOW)
        counts = self._admitted
        size = len(counts)
        first = max(int((now - span) * (_SLOTS / _WINDOW)), self._last_slot - size + 1)
        last = min(int(now * (_SLOTS / _WINDOW)), self._last_slot)
        count = sum(counts[slot % size] for slot in range(first, last + 1))
        return count / span if count and span > 0 else None

    def on_rate_limited(self, retry_after: float | None, sent_at: float | None = None) -> None:
        """Slow down after a 429 sent at `sent_at` and pause everyone for its Retry-After."""
        if not self.enabled:
            return
        now = self._clock()
        if self.adaptive and (sent_at is None or sent_at >= self._event_at):
            admitted = self._admitted_rate(now)
            if admitted is None:
                retry_after = max(retry_after or 0.0, _WINDOW)
            else:
                base = admitted if self.rate is None else min(self._current_rate(now), admitted)
                self.rate = max(_MIN_RATE, base * _DECREASE)
                self._increase = self.rate * _INCREASE_SHARE
                self._last_change = now
                self._next = max(self._next, now)
            self._event_at = now
        if retry_after:
            until = now + min(retry_after, self.max_pause)
            if until > self._paused_until:
                self._paused_until = until
                rate_limit_pause(until - now)

    def pause(self, seconds: float) -> None:
        """Pause every caller for `seconds`, beyond `max_pause` (the poller waits a 429 out)."""
        if self.enabled and seconds > 0:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def __repr__(self) -> str:
        mode = "adaptive" if self.adaptive else "fixed" if self.rate else "off"
        rate = "unlimited" if self.rate is None else f"{self.rate:.1f}/s"
        return f"RateLimiter({mode}, {rate})"
