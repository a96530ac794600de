"""Clone a job with more shots, wait for the clone, print its probabilities.

    python examples/clone_and_wait.py [JOB_ID]

With IONQ_API_KEY set it talks to IonQ (JOB_ID required); without it, it runs offline
against the bundled emulator, on a Bell-state job it seeds itself.
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack

from ionq_async import AsyncIonQ, CloneRequest, JobFailedError
from ionq_async.testing import FakeIonQ


async def main(source_id: str | None) -> int:
    async with AsyncExitStack() as stack:
        if os.environ.get("IONQ_API_KEY"):
            if source_id is None:
                print("usage: clone_and_wait.py JOB_ID", file=sys.stderr)
                return 2
            client = await stack.enter_async_context(AsyncIonQ())
        else:
            fake = await stack.enter_async_context(FakeIonQ())
            source_id = fake.add_job(name="bell", shots=1000, status="completed").id
            client = await stack.enter_async_context(fake.client())
            print(f"offline: IonQ emulator at {fake.base_url}")

        created = await client.jobs.clone(source_id, CloneRequest(shots=2000, name="bell-2k"))
        print(f"cloned {source_id} -> {created.id}")
        try:
            job = await client.jobs.wait(created.id, timeout=3600)
        except JobFailedError as exc:
            print(f"the clone failed: {exc.code}: {exc}")
            return 1
        print(f"{job.name}: {job.status}, {job.shots} shots")
        probabilities = await client.jobs.probabilities(job.id)
        for state, p in sorted(probabilities.items(), key=lambda kv: int(kv[0])):
            print(f"  state {state}: {p:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None)))
