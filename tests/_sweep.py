"""The fault sweep's batch and its fault schedule, shared by the test and its client processes.

One batch: ``rerun_all`` of the sources with tokens (the default) and a journal, on short
timers so that a run takes a tenth of a second. A ``Schedule`` is a FaultPlan that places
faults at request indices (counted over every request the emulator sees, on any route)
and can call a hook at each index, e.g. to kill the client process there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from ionq_async import AsyncIonQ, PollPolicy, RerunProgress, RetryPolicy
from ionq_async.testing import Fault, FaultPlan

SOURCES = 20
DURATIONS = (0.01, 0.01, 0.02)
"""Queued, ready and running times of an emulated job: each clone is polled a few times."""
POLL = PollPolicy(initial=0.01, factor=1.5, max_interval=0.05, jitter=0.0)
RETRY = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.005, jitter=0.0)
REQUEST_TIMEOUT = 0.3
"""Bounds one HTTP attempt: a hung request costs this much (100x a loopback answer)."""
# The emulator lists a job as soon as it exists: a short lag keeps the rescan honest and fast.
LISTING_LAG = 0.05
RUN_BOUND = 20.0
"""Seconds a batch may take at most (a clean one takes about 0.1 s)."""


async def rerun_batch(
    base_url: str, api_key: str, sources: list[str], journal: str
) -> dict[str, Any]:
    """Run the batch to its end; what it reported, as JSON-ready data."""
    done = [0]

    def progress(p: RerunProgress) -> None:
        done.append(p.done)

    # No client-side pacing: the sweep is about duplicates, losses and hangs, and the
    # adaptive limiter, after a 429 on a client's first request, paces it at ~1 request/s.
    async with AsyncIonQ(
        api_key=api_key,
        base_url=base_url,
        rate_limit=None,
        retry=RETRY,
        request_timeout=REQUEST_TIMEOUT,
        listing_lag=LISTING_LAG,
    ) as client:
        async with asyncio.timeout(RUN_BOUND):
            report = await client.jobs.rerun_all(
                sources, poll=POLL, journal=journal, on_progress=progress
            )
    return {
        "outcomes": [
            [o.source_id, o.status, o.job_id, None if o.error is None else repr(o.error)]
            for o in report.outcomes
        ],
        "most_done": max(done),
    }


class Schedule(FaultPlan):
    """Faults by request index; ``on_request(index)`` runs as each request arrives."""

    def __init__(
        self,
        faults: Mapping[int, Fault] | None = None,
        on_request: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.faults = dict(faults or {})
        if self.faults:
            self.sequence("*", [self.faults.get(i) for i in range(max(self.faults) + 1)])
        self.on_request = on_request
        self.seen = 0
        self.fired: list[tuple[int, str, str]] = []

    def pick(self, route: str, now: float) -> Fault | None:
        """Count the request, run the hook, then let FaultPlan's script choose its fault."""
        index, self.seen = self.seen, self.seen + 1
        if self.on_request is not None:
            self.on_request(index)
        fault = super().pick(route, now)
        if fault is not None:
            self.fired.append((index, route, fault.kind))
        return fault
