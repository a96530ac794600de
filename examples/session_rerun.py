"""Re-run jobs on a QPU inside a session that ends itself, and show what the session did.

    python examples/session_rerun.py [--backend qpu.forte-1] JOB_ID [JOB_ID ...]

The session is opened with `async with client.sessions.open(...)` and a job count limit (one
per job to re-run), so it cannot take more jobs than asked for; leaving the block ends it, even
on an error or Ctrl-C. With IONQ_API_KEY set it re-runs the given jobs on IonQ (paid QPU
time); without it, it runs offline: the emulator gets 5 seeded jobs and a session limited to 3
jobs, so the session refuses the last two clones: those sources end `skipped`, with the
session's reason, and a later run (into another session) would clone them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack

from ionq_async import AsyncIonQ, CloneRequest, PollPolicy
from ionq_async.testing import FakeIonQ


def parse(argv: list[str]) -> tuple[str, list[str]]:
    """The backend (`--backend NAME`, default qpu.forte-1) and the job ids."""
    backend = "qpu.forte-1"
    if argv[:1] == ["--backend"] and len(argv) > 1:
        backend, argv = argv[1], argv[2:]
    return backend, argv


async def main(argv: list[str]) -> int:
    backend, source_ids = parse(argv)
    poll = None
    offline = not os.environ.get("IONQ_API_KEY")
    async with AsyncExitStack() as stack:
        if not offline:
            if not source_ids:
                print("usage: session_rerun.py [--backend NAME] JOB_ID ...", file=sys.stderr)
                return 2
            client = await stack.enter_async_context(AsyncIonQ())
            limit = len(source_ids)
        else:
            fake = await stack.enter_async_context(FakeIonQ(durations=(0.05, 0.1, 0.2)))
            source_ids = [
                fake.add_job(name=f"bell-{i}", backend=backend, status="completed").id
                for i in range(5)
            ]
            client = await stack.enter_async_context(fake.client())
            poll = PollPolicy(initial=0.1, max_interval=0.3)
            limit = 3
            print(f"offline: IonQ emulator at {fake.base_url}, {len(source_ids)} source jobs")

        target = await client.backends.get(backend)
        print(f"{target.name}: {target.status}, queue {target.average_queue_time} ms")
        async with client.sessions.open(backend, job_count_limit=limit) as session:
            print(f"session {session.id} opened on {session.backend}, at most {limit} jobs")
            report = await client.jobs.rerun_all(
                source_ids, CloneRequest(backend=backend), session=session, poll=poll
            )
        for outcome in report.outcomes:
            why = outcome.reason or outcome.error
            reason = f" ({why})" if why else ""
            print(f"  {outcome.source_id} -> {outcome.job_id}: {outcome.status}{reason}")
        counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
        print(f"{len(report.outcomes)} jobs: {counts}")

        final = await client.sessions.get(session.id)
        in_session = [job.id async for job in client.sessions.jobs(session.id)]
        ended = f", ended at {final.ended_at:%Y-%m-%d %H:%M:%S}" if final.ended_at else ""
        print(f"session {final.id}: {final.status}, {len(in_session)} jobs{ended}")
    all_completed = report.counts.get("completed") == len(report.outcomes)
    return 0 if offline or all_completed else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
