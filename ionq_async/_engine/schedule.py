"""When each watch is due: its next poll, its deadline, and a pause the server asked for."""

from __future__ import annotations

import heapq
import itertools
import math

from .._core import defaults as d
from .watch import Watch

__all__ = ["Schedule"]

_PRUNE_AT = 64
"""Finished watches left in the heaps before they are rebuilt without them (and at least half)."""

Entry = tuple[float, int, Watch]


class Schedule:
    """Two heaps (polls due, deadlines) with lazy deletion, rebuilt as finished watches pile up."""

    def __init__(self) -> None:
        self.polls: list[Entry] = []
        self.deadlines: list[Entry] = []
        self.paused_until = -math.inf
        self._seq = itertools.count()
        self._stale = 0

    def __len__(self) -> int:
        """Entries held, finished watches' included (what the heaps cost in memory)."""
        return len(self.polls) + len(self.deadlines)

    def push(self, w: Watch) -> None:
        """Schedule `w`'s next poll at `w.due`."""
        heapq.heappush(self.polls, (w.due, next(self._seq), w))

    def reschedule(self, w: Watch, now: float, not_before: float | None = None) -> None:
        """Poll `w` again one (backed-off) interval from `now`, not before `not_before`."""
        w.interval = w.policy.next_interval(w.interval)
        w.due = now + w.policy.spread(w.interval)
        if not_before is not None and not_before > w.due:
            w.due = not_before
        self.push(w)

    def add_deadline(self, w: Watch) -> None:
        assert w.deadline is not None
        heapq.heappush(self.deadlines, (w.deadline, next(self._seq), w))

    def take_due(self, now: float) -> list[str]:
        """The distinct job ids of a round: none unless a watch is due now (or paused).

        A round then takes every watch due within COALESCE of its interval. A watch that is
        only nearly due starts no round: the poller wakes for every new watch, and rounds
        started that way would each take the few watches that came into the window since
        the last, in many small requests.
        """
        first = self.next_due()
        if first is None or first > now:
            return []
        ids: dict[str, None] = {}
        heap = self.polls
        while heap:
            due, _, w = heap[0]
            if w.done or due != w.due:
                heapq.heappop(heap)
                continue
            if due > now + d.COALESCE * w.interval:
                break
            heapq.heappop(heap)
            ids[w.job_id] = None
        return list(ids)

    def expired(self, now: float) -> tuple[list[Watch], float | None]:
        """Pop the live watches past their deadline; also the next deadline."""
        out: list[Watch] = []
        heap = self.deadlines
        while heap:
            deadline, _, w = heap[0]
            if not w.done and deadline > now:
                return out, deadline
            heapq.heappop(heap)
            if not w.done:
                out.append(w)
        return out, None

    def next_due(self) -> float | None:
        """When the next poll is due (not before a pause ends), or None if none is waiting."""
        heap = self.polls
        while heap and (heap[0][2].done or heap[0][0] != heap[0][2].due):
            heapq.heappop(heap)
        return max(heap[0][0], self.paused_until) if heap else None

    def pause(self, until: float) -> bool:
        """Send no poll before `until`; False if an existing pause already lasts that long."""
        if until <= self.paused_until:
            return False
        self.paused_until = until
        return True

    def ended(self, count: int, *, live: int) -> None:
        """Note `count` finished watches (`live` remain); drop their entries in bulk."""
        self._stale += count
        if not live:
            self.clear()
        elif self._stale > _PRUNE_AT and 2 * self._stale > len(self):
            self.polls = [e for e in self.polls if not e[2].done and e[0] == e[2].due]
            self.deadlines = [e for e in self.deadlines if not e[2].done]
            heapq.heapify(self.polls)
            heapq.heapify(self.deadlines)
            self._stale = 0

    def clear(self) -> None:
        self.polls.clear()
        self.deadlines.clear()
        self._stale = 0
