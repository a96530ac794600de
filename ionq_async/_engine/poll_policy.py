"""When to poll a job: the first wait, the backoff factor, the cap and the jitter."""

from __future__ import annotations

import math
import random

from attrs import frozen

from .._core import defaults as d

__all__ = ["DEFAULT_POLL", "PollPolicy"]


@frozen(kw_only=True)
class PollPolicy:
    """When to poll: first after `initial` s, then each interval x `factor`, up to `max_interval`.

    `jitter` spreads each interval by up to that fraction, so that many waiters started
    together do not poll in lockstep forever.
    """

    initial: float = d.POLL_INITIAL
    factor: float = d.POLL_FACTOR
    max_interval: float = d.POLL_MAX_INTERVAL
    jitter: float = d.POLL_JITTER

    def __attrs_post_init__(self) -> None:
        for name in ("initial", "factor", "max_interval", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"PollPolicy {name} must be a number, got {value!r}")
        if not (0 < self.initial < math.inf and 0 < self.max_interval < math.inf):
            raise ValueError(
                "poll intervals must be finite numbers > 0 seconds, got "
                f"initial={self.initial}, max_interval={self.max_interval}"
            )
        if not 1 <= self.factor < math.inf:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    def next_interval(self, interval: float) -> float:
        """The interval after `interval`."""
        return min(interval * self.factor, self.max_interval)

    def spread(self, interval: float) -> float:
        """`interval` with jitter applied."""
        if not self.jitter:
            return interval
        return interval * (1 + self.jitter * (2 * random.random() - 1))


DEFAULT_POLL = PollPolicy()
"""The policy of a wait that names none."""
