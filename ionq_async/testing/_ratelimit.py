"""O(1) token-bucket rate limiting per API key."""

from __future__ import annotations

import math


class TokenBuckets:
    """One token bucket per key: ``rate`` tokens/second, capacity ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate_limit must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> int:
        """Spend one token; 0 if allowed, else whole seconds until a token is available."""
        tokens, last = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._state[key] = (tokens - 1, now)
            return 0
        self._state[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.rate))
