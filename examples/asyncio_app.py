"""A small aiohttp.web service that re-runs IonQ jobs on request.

    POST /rerun/{job_id}?shots=N  ->  clones the job, awaits the clone, returns JSON

One AsyncIonQ client is shared by every request (opened and closed with the app). Run as
a script, it starts the service on a free port, calls it once, prints the answer and
exits. Without IONQ_API_KEY it runs offline against the emulator with a seeded Bell job;
with it, pass the JOB_ID to re-run.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import ClientSession, web

from ionq_async import AsyncIonQ, CloneRequest, IonQError, PollPolicy
from ionq_async.testing import FakeIonQ

CLIENT = web.AppKey("client", AsyncIonQ)


async def rerun(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    job_id = request.match_info["job_id"]
    try:
        shots = int(request.query.get("shots", "1000"))
        clone = CloneRequest(shots=shots)
    except (TypeError, ValueError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    try:
        created = await client.jobs.clone(job_id, clone)
        job = await client.jobs.wait(
            created.id, timeout=600, raise_on_failure=False, poll=PollPolicy(initial=0.2)
        )
        body: dict[str, Any] = {"source_id": job_id, "job_id": job.id, "status": job.status}
        if job.status == "completed":
            body["probabilities"] = await client.jobs.probabilities(job.id)
    except IonQError as exc:
        return web.json_response({"error": str(exc)}, status=502)
    return web.json_response(body)


def make_app(client: AsyncIonQ) -> web.Application:
    app = web.Application()
    app[CLIENT] = client

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[CLIENT].close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/rerun/{job_id}", rerun)
    return app


async def main(job_id: str | None) -> int:
    async with AsyncExitStack() as stack:
        if os.environ.get("IONQ_API_KEY"):
            if job_id is None:
                print("usage: asyncio_app.py JOB_ID", file=sys.stderr)
                return 2
            client = AsyncIonQ()
        else:
            fake = await stack.enter_async_context(FakeIonQ())
            job_id = fake.add_job(name="bell", status="completed").id
            client = fake.client()
            print(f"offline: IonQ emulator at {fake.base_url}")

        runner = web.AppRunner(make_app(client))
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"service listening on http://127.0.0.1:{port}")

        async with ClientSession() as http:
            url = f"http://127.0.0.1:{port}/rerun/{job_id}?shots=500"
            async with http.post(url) as response:
                print(f"POST /rerun/{job_id}?shots=500 -> {response.status}")
                print(json.dumps(await response.json(), indent=2))
                return 0 if response.status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None)))
