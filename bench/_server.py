"""Minimal aiohttp server for B1, so that the server is never the bottleneck.

``python bench/_server.py [--port 0] [--cpu N]`` prints ``PORT <n>`` once listening on
127.0.0.1; with ``--cpu`` the process runs on that CPU only (B1's pinned mode).

- ``GET /v0.4/jobs/{id}`` answers a complete v0.4 job body (the shape the emulator sends,
  which both ionq_async's Job and ionq-core's SingleCircuitJob parse), pre-serialised.
- ``POST /v0.4/jobs/{id}/clone`` reads the body and answers 201 ``{id, status, session_id}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid

from aiohttp import web

_MARK = "00000000-0000-4000-8000-000000000000"
_JOB = {
    "id": _MARK,
    "status": "completed",
    "type": "ionq.circuit.v1",
    "backend": "simulator",
    "dry_run": False,
    "cost_model": "QCT",
    "submitter_id": "64b03577072d45001c85e9c4",
    "project_id": "1333d459-cf47-4a5e-acc1-8d4eb4f7b025",
    "parent_job_id": None,
    "session_id": None,
    "metadata": {"bench": "b1"},
    "name": "bench-job",
    "submitted_at": "2026-01-02T03:04:05.123Z",
    "started_at": "2026-01-02T03:04:05.273Z",
    "completed_at": "2026-01-02T03:04:05.473Z",
    "predicted_wait_time_ms": None,
    "predicted_execution_duration_ms": None,
    "execution_duration_ms": 200,
    "shots": 100,
    "failure": None,
    "output": {},
    "settings": {},
    "stats": {"qubits": 2, "circuits": 1, "gate_counts": {"1q": 1, "2q": 1}},
    "results": {
        "probabilities": {"url": f"/v0.4/jobs/{_MARK}/results/probabilities"},
    },
    "noise": {"model": "ideal"},
    "child_job_ids": None,
}
_PARTS = json.dumps(_JOB).encode().split(_MARK.encode())


async def get_job(request: web.Request) -> web.Response:
    """The job body with the requested id."""
    job_id = request.match_info["id"].encode()
    return web.Response(body=job_id.join(_PARTS), content_type="application/json")


async def clone(request: web.Request) -> web.Response:
    """A new job id, as IonQ answers a clone."""
    await request.read()
    body = b'{"id": "%s", "status": "submitted", "session_id": null}' % str(uuid.uuid4()).encode()
    return web.Response(status=201, body=body, content_type="application/json")


async def main(port: int) -> None:
    """Serve until killed."""
    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", get_job)
    app.router.add_post("/v0.4/jobs/{id}/clone", clone)
    runner = web.AppRunner(app, access_log=None, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    print(f"PORT {sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, help="run on this CPU only")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(main(args.port))
