"""A request pacer shared by every call of one client: fixed, or adaptive (AIMD) on 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

__all__ = ["RateLimitSetting", "RateLimiter"]

RateLimitSetting = float | Literal["adaptive"] | None

_DECREASE = 0.7
_INCREASE_SHARE = 0.05
_MIN_RATE = 1.0


class RateLimiter:
    """Paces request starts so that a batch does not turn a 429 into a retry storm.

    Adaptive mode sends freely until the first 429, then paces at 0.7x the rate it was
    sending (multiplicative decrease) and adds 5 % of that rate back every second without
    a 429 (additive increase). In every mode a 429's Retry-After pauses all callers.
    """

    def __init__(
        self,
        setting: RateLimitSetting = "adaptive",
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if setting is not None and setting != "adaptive":
            if isinstance(setting, bool) or not isinstance(setting, int | float):
                raise TypeError(f"rate_limit must be None, a number or 'adaptive', not {setting!r}")
            if setting <= 0:
                raise ValueError(f"rate_limit must be > 0 requests per second, got {setting}")
        self.adaptive = setting == "adaptive"
        self.rate: float | None = None if setting in (None, "adaptive") else float(setting)
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._increase = 0.0
        self._last_change = 0.0
        self._window_start = clock()
        self._window_count = 0
        self._last_window_rate = 0.0

    def _note_send(self, now: float) -> None:
        elapsed = now - self._window_start
        if elapsed >= 1.0:
            self._last_window_rate = self._window_count / elapsed
            self._window_start = now
            self._window_count = 0
        self._window_count += 1

    def _sending_rate(self, now: float) -> float:
        elapsed = now - self._window_start
        current = self._window_count / elapsed if elapsed >= 0.2 else 0.0
        return max(current, self._last_window_rate, _MIN_RATE)

    async def acquire(self) -> None:
        """Wait until this caller may start a request."""
        now = self._clock()
        if self.rate is None and now >= self._paused_until:
            if self.adaptive:
                self._note_send(now)
            return
        while (now := self._clock()) < self._paused_until:
            await self._sleep(self._paused_until - now)
        if self.rate is not None:
            if self.adaptive and now - self._last_change >= 1.0:
                self.rate += self._increase * (now - self._last_change)
                self._last_change = now
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
            if slot > now:
                await self._sleep(slot - now)
        if self.adaptive:
            self._note_send(self._clock())

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Slow down after a 429 and pause everyone for the server's Retry-After."""
        now = self._clock()
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)
        if not self.adaptive:
            return
        if self.rate is None or now - self._last_change > 0.1:
            base = self._sending_rate(now) if self.rate is None else self.rate
            self.rate = max(_MIN_RATE, base * _DECREASE)
            self._increase = max(0.1, base * _INCREASE_SHARE)
            self._last_change = now
            self._next = max(self._next, now)

    def __repr__(self) -> str:
        mode = "adaptive" if self.adaptive else "fixed" if self.rate else "off"
        rate = "unlimited" if self.rate is None else f"{self.rate:.1f}/s"
        return f"RateLimiter({mode}, {rate})"
