"""Re-run a batch of jobs with a resumable journal and report every outcome.

    python examples/batch_rerun.py [JOB_ID ...]

With IONQ_API_KEY set it re-runs the given jobs on IonQ; without it, it runs offline: the
emulator gets 50 seeded jobs, two of which are scripted to fail.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from ionq_async import AsyncIonQ, CloneRequest, PollPolicy, RerunProgress
from ionq_async.testing import FakeIonQ, Fate


class PrintProgress:
    """An on_progress callback: one line every 10 finished jobs."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self, progress: RerunProgress) -> None:
        step = progress.done % 10 == 0 or progress.done == progress.total
        if progress.done != self.last and step:
            self.last = progress.done
            print(f"  {progress.done}/{progress.total} finished, {progress.failed} failed")


async def main(source_ids: list[str]) -> int:
    poll = None
    offline = not os.environ.get("IONQ_API_KEY")
    async with AsyncExitStack() as stack:
        if not offline:
            if not source_ids:
                print("usage: batch_rerun.py JOB_ID [JOB_ID ...]", file=sys.stderr)
                return 2
            client = await stack.enter_async_context(AsyncIonQ())
        else:
            fake = await stack.enter_async_context(FakeIonQ(durations=(0.05, 0.1, 0.3)))
            source_ids = [fake.add_job(name=f"bell-{i}", status="completed").id for i in range(50)]
            broken = set(source_ids[10:12])  # their clones fail: the report shows them
            fake.fate_for = lambda job: (
                Fate.failed("CompilationError") if job.cloned_from in broken else None
            )
            client = await stack.enter_async_context(fake.client())
            poll = PollPolicy(initial=0.2, max_interval=0.5)
            print(f"offline: IonQ emulator at {fake.base_url}, {len(source_ids)} source jobs")

        journal = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "rerun.db"
        report = await client.jobs.rerun_all(
            source_ids,
            CloneRequest(shots=500),
            concurrency=16,
            journal=journal,  # re-running with the same journal resumes instead of re-cloning
            poll=poll,
            on_progress=PrintProgress(),
        )
        counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
        print(f"{len(report.outcomes)} jobs in {report.duration:.1f} s: {counts}")
        for outcome in report.outcomes:
            if outcome.status != "completed":
                reason = outcome.failure.code if outcome.failure else outcome.error
                print(f"  {outcome.source_id} -> {outcome.job_id}: {outcome.status} ({reason})")
    all_completed = report.counts.get("completed") == len(report.outcomes)
    return 0 if offline or all_completed else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
