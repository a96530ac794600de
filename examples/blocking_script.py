"""Clone, wait and re-run jobs from a plain script with the blocking client: no asyncio needed.

    python examples/blocking_script.py [JOB_ID ...]

With IONQ_API_KEY set it talks to IonQ (JOB_IDs required); without it, it runs offline
against the bundled emulator, served from a background thread, on jobs it seeds itself.
The same code runs unchanged in a Jupyter cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence

from ionq_async import CloneRequest, IonQ
from ionq_async.testing import FakeIonQ


def run(client: IonQ, source_ids: Sequence[str]) -> int:
    source = client.jobs.get(source_ids[0])
    print(f"source {source.id}: {source.status}, {source.shots} shots")
    created = client.jobs.clone(source.id, shots=2000, name="bigger")
    job = client.jobs.wait(created.id, timeout=3600)  # Ctrl-C here cancels the wait cleanly
    print(f"{job.name}: {job.status}, {job.shots} shots")
    for state, p in sorted(client.jobs.probabilities(job.id).items(), key=lambda kv: int(kv[0])):
        print(f"  state {state}: {p:.3f}")

    # A plain iterator; leaving the `with` block early stops the batch.
    with client.jobs.rerun(source_ids, CloneRequest(shots=500)) as outcomes:
        for outcome in outcomes:
            print(f"re-ran {outcome.source_id}: {outcome.status}")

    with client.sessions.open("simulator", job_count_limit=2) as session:
        client.jobs.clone(source.id, session_id=session.id)
    print(f"session {session.id}: {client.sessions.get(session.id).status}")
    return 0


@contextlib.contextmanager
def offline_emulator(jobs: int) -> Iterator[tuple[FakeIonQ, list[str]]]:
    """The emulator on a background thread's own event loop, with `jobs` completed Bell jobs."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="emulator", daemon=True)
    thread.start()

    async def start() -> tuple[FakeIonQ, list[str]]:
        fake = await FakeIonQ().start()
        ids = [
            fake.add_job(name=f"bell-{i}", shots=1000, status="completed").id for i in range(jobs)
        ]
        return fake, ids

    fake, ids = asyncio.run_coroutine_threadsafe(start(), loop).result()
    try:
        yield fake, ids
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def main(argv: Sequence[str]) -> int:
    if os.environ.get("IONQ_API_KEY"):
        if not argv:
            print("usage: blocking_script.py JOB_ID [JOB_ID ...]", file=sys.stderr)
            return 2
        with IonQ() as client:
            return run(client, argv)
    with offline_emulator(3) as (fake, ids):
        print(f"offline: IonQ emulator at {fake.base_url}")
        with IonQ(fake.api_key, base_url=fake.base_url) as client:
            return run(client, ids)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
