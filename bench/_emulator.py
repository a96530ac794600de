"""The IonQ emulator (FakeIonQ) in its own process, driven by JSON lines on stdin.

``python bench/_emulator.py`` prints ``{"port", "api_key"}`` once listening on 127.0.0.1,
then answers one JSON line per command line:

- ``{"cmd": "seed", "n": N, "status": "completed" | null, "durations": [a, b, c] | null}``
  -> ``{"ids": [...]}``: N jobs added directly (not through HTTP), then ``gc.freeze()``.
- ``{"cmd": "start", "ids": [...], "at": T}``: those jobs are created at wall-clock time T,
  so that a client started elsewhere can begin waiting at exactly T.
- ``{"cmd": "durations", "value": [a, b, c]}``: virtual durations of jobs created by the API.
- ``{"cmd": "stats"}`` -> ``{"requests": n, "by_route": {...}, "cpu": s}``.
- ``{"cmd": "reset"}``: forget the request log.

Stdin closing stops the server. The process runs the garbage collector with a gen0 threshold
of 7,000 (Python's default is 700) and freezes what it seeds, so that the collector's work
per request stays small as the store grows.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import resource
import sys
from typing import Any

from ionq_async.testing import FakeIonQ


def _handle(fake: FakeIonQ, cmd: dict[str, Any]) -> dict[str, Any]:
    kind = cmd["cmd"]
    if kind == "seed":
        durations = cmd.get("durations")
        jobs = fake.seed_jobs(
            int(cmd["n"]),
            status=cmd.get("status"),
            durations=tuple(durations) if durations else None,
        )
        gc.freeze()  # the seeded jobs live to the end: later collections need not scan them
        return {"ids": [j.id for j in jobs]}
    if kind == "start":
        for job_id in cmd["ids"]:
            job = fake.get_job(job_id)
            job.created = float(cmd["at"])
            job.forget_rendering()
        return {"ok": True}
    if kind == "durations":
        fake.durations = tuple(cmd["value"])
        return {"ok": True}
    if kind == "stats":
        routes = collections.Counter(f"{r.method} {r.route}" for r in fake.requests)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "requests": len(fake.requests),
            "by_route": dict(routes),
            "cpu": ru.ru_utime + ru.ru_stime,
        }
    if kind == "reset":
        fake.requests.clear()
        return {"ok": True}
    raise ValueError(f"unknown command {kind!r}")


async def main() -> None:
    """Serve until stdin closes."""
    gc.set_threshold(7000, 10, 10)
    loop = asyncio.get_running_loop()
    async with FakeIonQ() as fake:
        print(json.dumps({"port": fake.port, "api_key": fake.api_key}), flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            print(json.dumps(_handle(fake, json.loads(line))), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
