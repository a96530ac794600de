"""When to poll a job: the first wait, the backoff factor, the cap and the jitter."""

from __future__ import annotations

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
        if not (self.initial > 0 and self.max_interval > 0):
            raise ValueError("poll intervals must be > 0 seconds")
        if not self.factor >= 1:
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
