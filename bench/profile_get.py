"""Where the SDK's client CPU per ``jobs.get`` goes, layer by layer, against raw aiohttp.

``python bench/profile_get.py [--pin] [--chunk 500] [--rounds 12] [--conc 50]`` starts
``bench/_server.py`` (with ``--pin``: the server on one CPU, this client on another) and, in
one client process, measures each variant in turn on chunks of ``--chunk`` GETs, round-robin
for ``--rounds`` rounds, so that a noisy minute moves every variant alike; it prints the
median process CPU per request of each and its difference from raw. Not part of the report.

Variants, each adding one layer to the one before:
- ``raw``: aiohttp, ``raise_for_status``, ``json()``, an id check (issue 20's raw client);
- ``transport``: the SDK's ``Transport.send`` (its aiohttp call), then ``json.loads``;
- ``transport+Job``: the same, then ``load_job`` (cattrs structuring of the full Job);
- ``request path``: ``RequestPath.request`` without a loader (retries, connection slot,
  limiter, budget, JSON);
- ``request path+Job``: the same with the loader ``jobs.get`` uses;
- ``jobs.get``: the public call.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import Server, pin, pin_cpus, python, table

Call = Callable[[str], Awaitable[None]]


async def _drive(call: Call, n: int, conc: int) -> None:
    feed = iter([str(uuid.uuid4()) for _ in range(n)])

    async def worker() -> None:
        for job_id in feed:
            await call(job_id)

    await asyncio.gather(*(worker() for _ in range(conc)))


def _check(got: str, want: str) -> None:
    if got != want:
        raise RuntimeError(f"asked for {want}, got {got}")


async def _variants(base: str, stack: Any) -> dict[str, Call]:
    import aiohttp

    from ionq_async import AsyncIonQ
    from ionq_async._core import operations
    from ionq_async._core.serde import load_job

    client = await stack.enter_async_context(AsyncIonQ("bench-key", base_url=base))
    session = await stack.enter_async_context(
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            headers={"Authorization": "apiKey bench-key"},
        )
    )
    transport, path = client._transport, client._http

    async def raw(i: str) -> None:
        async with session.get(f"{base}/jobs/{i}") as resp:
            resp.raise_for_status()
            data = await resp.json()
        _check(data["id"], i)

    async def send(i: str) -> None:
        _check(json.loads((await transport.send("GET", f"/jobs/{i}")).body)["id"], i)

    async def send_job(i: str) -> None:
        _check(load_job(json.loads((await transport.send("GET", f"/jobs/{i}")).body)).id, i)

    async def request(i: str) -> None:
        _check((await path.request("GET", f"/jobs/{i}"))["id"], i)

    async def request_job(i: str) -> None:
        load = functools.partial(operations._load_job_named, i)
        _check((await path.request("GET", f"/jobs/{i}", load=load)).id, i)

    async def get(i: str) -> None:
        _check((await client.jobs.get(i)).id, i)

    return {
        "raw": raw,
        "transport": send,
        "transport+Job": send_job,
        "request path": request,
        "request path+Job": request_job,
        "jobs.get": get,
    }


async def child(port: int, chunk: int, rounds: int, conc: int) -> dict[str, list[float]]:
    """Every variant, round-robin on chunks; process CPU us per request of each chunk."""
    import contextlib

    async with contextlib.AsyncExitStack() as stack:
        variants = await _variants(f"http://127.0.0.1:{port}/v0.4", stack)
        for call in variants.values():
            await _drive(call, 300, conc)
        names = list(variants)
        spent: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.process_time()
                await _drive(variants[name], chunk, conc)
                spent[name].append((time.process_time() - t0) / chunk * 1e6)
    return spent


def main() -> None:
    """Start the server; run the client here (pinned with --pin); print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pin", action="store_true", help="server on one CPU, this client on another")
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--conc", type=int, default=50)
    args = p.parse_args()
    server_cpu, client_cpu = pin_cpus() if args.pin else (None, None)
    argv = [python(), "bench/_server.py"]
    if server_cpu is not None:
        argv += ["--cpu", str(server_cpu)]
    with Server(argv) as server:
        pin(client_cpu)
        port = int(server.first_line.split()[1])
        spent = asyncio.run(child(port, args.chunk, args.rounds, args.conc))
    raw = statistics.median(spent["raw"])
    rows = []
    for name, values in spent.items():
        q1, _, q3 = statistics.quantiles(values, n=4)
        mid = statistics.median(values)
        rows.append([name, f"{mid:.1f}", f"{q1:.0f}-{q3:.0f}", f"{mid - raw:+.1f}"])
    where = f"client on CPU {client_cpu}, server on CPU {server_cpu}" if args.pin else "unpinned"
    print(
        f"jobs.get layer by layer ({where}; {args.rounds} rounds of {args.chunk} GETs per "
        f"variant, c={args.conc})\n\n"
        + table(["variant", "CPU us / request (median)", "q1-q3", "vs raw"], rows)
    )


if __name__ == "__main__":
    main()
