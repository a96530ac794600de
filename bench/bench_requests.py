"""B1 per-request cost: raw aiohttp vs ionq_async vs ionq-core on one loopback server.

``python bench/bench_requests.py [--n 10000] [--runs 3] [--smoke]`` starts ``bench/_server.py``
in its own process, then measures every (operation, concurrency, client) in a fresh
subprocess, interleaving the clients run by run, and prints a markdown section.

Clients (all with at most 100 connections, `concurrency` workers each awaiting one call at a
time, after a warm-up of `--warmup` calls):
- ``raw``: aiohttp.ClientSession + TCPConnector(limit=100), ``json.loads`` of the body.
- ``sdk``: ionq_async.AsyncIonQ defaults (adaptive rate limiter, RetryPolicy()).
- ``sdk-nolimit``: the same with ``rate_limit=None``.
- ``core``: ionq-core 0.2.0 ``IonQClient`` (httpx + httpx-retries, its default retries), with
  its httpx pool raised to 100 connections *and* 100 keep-alive connections (httpx's default
  keeps only 20 alive, which would reconnect on most requests).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import (
    Server,
    core_client,
    cpu_seconds,
    median,
    median_spread,
    proc_cpu_seconds,
    python,
    run_child,
    table,
)

CONNECTIONS = 100
API_KEY = "bench-key"
CLIENTS = ("raw", "sdk", "sdk-nolimit", "core")
Call = Callable[[str], Awaitable[object]]


async def _drive(call: Call, ids: list[str], conc: int) -> None:
    """`conc` workers, each awaiting one call at a time, until `ids` is used up."""
    feed = iter(ids)

    async def worker() -> None:
        for job_id in feed:
            await call(job_id)

    await asyncio.gather(*(worker() for _ in range(conc)))


async def _measure(call: Call, n: int, warmup: int, conc: int, server_pid: int) -> dict[str, Any]:
    await _drive(call, [str(uuid.uuid4()) for _ in range(warmup)], conc)
    ids = [str(uuid.uuid4()) for _ in range(n)]
    c0, s0, t0 = cpu_seconds(), proc_cpu_seconds(server_pid), time.perf_counter()
    await _drive(call, ids, conc)
    wall = time.perf_counter() - t0
    cpu, server = cpu_seconds() - c0, proc_cpu_seconds(server_pid) - s0
    return {
        "rps": n / wall,
        "cpu_us": cpu / n * 1e6,
        "cpu_pct": 100 * cpu / wall,
        "server_pct": 100 * server / wall,
        "wall": wall,
    }


async def _raw(op: str, base: str, n: int, warmup: int, conc: int, pid: int) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"apiKey {API_KEY}"}
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def get(job_id: str) -> object:
            async with session.get(f"{base}/jobs/{job_id}") as resp:
                if resp.status != 200:
                    raise RuntimeError(resp.status)
                data = json.loads(await resp.read())
            if data["id"] != job_id:
                raise RuntimeError("wrong job")
            return data

        async def clone(job_id: str) -> object:
            async with session.post(f"{base}/jobs/{job_id}/clone", json={"name": "bench"}) as resp:
                if resp.status != 201:
                    raise RuntimeError(resp.status)
                return json.loads(await resp.read())["id"]

        return await _measure(get if op == "get" else clone, n, warmup, conc, pid)


async def _sdk(
    op: str, base: str, n: int, warmup: int, conc: int, pid: int, nolimit: bool
) -> dict[str, Any]:
    from ionq_async import AsyncIonQ

    limit: Any = None if nolimit else "adaptive"
    client = AsyncIonQ(API_KEY, base_url=base, max_connections=CONNECTIONS, rate_limit=limit)
    async with client:

        async def get(job_id: str) -> object:
            job = await client.jobs.get(job_id)
            if job.id != job_id:
                raise RuntimeError("wrong job")
            return job

        async def clone(job_id: str) -> object:
            return (await client.jobs.clone(job_id, name="bench")).id

        return await _measure(get if op == "get" else clone, n, warmup, conc, pid)


async def _core(op: str, base: str, n: int, warmup: int, conc: int, pid: int) -> dict[str, Any]:
    from ionq_core.api.default import clone_job, get_job
    from ionq_core.models.clone_job_payload import CloneJobPayload

    client = core_client(base, API_KEY, CONNECTIONS)
    payload = CloneJobPayload(name="bench")
    async with client:

        async def get(job_id: str) -> object:
            job = await get_job.asyncio(uuid=job_id, client=client)
            if job is None or job.id != job_id:
                raise RuntimeError("wrong job")
            return job

        async def clone(job_id: str) -> object:
            created = await clone_job.asyncio(uuid=job_id, client=client, body=payload)
            if created is None:
                raise RuntimeError("no answer")
            return created.id

        return await _measure(get if op == "get" else clone, n, warmup, conc, pid)


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    base = f"http://127.0.0.1:{args.port}/v0.4"
    a = (args.op, base, args.n, args.warmup, args.conc, args.server_pid)
    if args.child == "raw":
        result = asyncio.run(_raw(*a))
    elif args.child == "core":
        result = asyncio.run(_core(*a))
    else:
        result = asyncio.run(_sdk(*a, nolimit=args.child == "sdk-nolimit"))
    print(json.dumps(result))


def have_core() -> bool:
    """Whether ionq-core (and sniffio, its best configuration) can be imported here."""
    return all(importlib.util.find_spec(m) is not None for m in ("ionq_core", "sniffio"))


def orchestrate(args: argparse.Namespace) -> str:
    """Run the whole matrix, interleaved, and return the markdown section."""
    clients = [c for c in CLIENTS if c != "core" or have_core()]
    ops, concs = ("get", "clone"), tuple(args.conc_list)
    results: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    with Server([python(), "bench/_server.py"]) as server:
        port = int(server.first_line.split()[1])
        for run in range(args.runs):
            for op in ops:
                for conc in concs:
                    order = clients[run % len(clients) :] + clients[: run % len(clients)]
                    for client in order:
                        argv = [python(), __file__, "--child", client, "--op", op]
                        argv += ["--conc", str(conc), "--n", str(args.n)]
                        argv += ["--warmup", str(args.warmup), "--port", str(port)]
                        argv += ["--server-pid", str(server.pid)]
                        r = run_child(argv, timeout=args.timeout)
                        results.setdefault((op, conc, client), []).append(r)
                        print(
                            f"B1 run {run + 1} {op} c={conc} {client}: {r['rps']:.0f} req/s, "
                            f"{r['cpu_us']:.0f} us CPU/req",
                            file=sys.stderr,
                        )
    rows = []
    for op in ops:
        for conc in concs:
            raw = median([r["rps"] for r in results[(op, conc, "raw")]])
            raw_runs = [r["rps"] for r in results[(op, conc, "raw")]]
            for client in clients:
                rs = results[(op, conc, client)]
                rps = [r["rps"] for r in rs]
                ratios = [a / b for a, b in zip(rps, raw_runs, strict=True)]
                rows.append(
                    [
                        op,
                        conc,
                        client,
                        median_spread(rps),
                        median_spread([r["cpu_us"] for r in rs]),
                        median_spread([r["server_pct"] for r in rs]),
                        f"{median(rps) / raw:.2f}",
                        median_spread(ratios, "{:.2f}"),
                    ]
                )
    head = [
        "op",
        "conc",
        "client",
        "req/s median (min-max)",
        "client CPU us/req",
        "server CPU %",
        "ratio of medians vs raw",
        "per-run ratio vs raw",
    ]
    note = "" if "core" in clients else "\nionq-core (or sniffio) is not installed here: skipped.\n"
    return (
        f"### B1 per-request cost (N={args.n:,} after {args.warmup:,} warm-up, "
        f"{args.runs} interleaved runs, {CONNECTIONS} connections)\n\n"
        + table(head, rows)
        + "\n"
        + note
    )


def main() -> None:
    """Parse arguments; run one child measurement or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=1_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--conc-list", type=int, nargs="+", default=[50, 100])
    p.add_argument("--timeout", type=float, default=300.0, help="per measurement, seconds")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    p.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    p.add_argument("--op", choices=("get", "clone"), help=argparse.SUPPRESS)
    p.add_argument("--conc", type=int, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.smoke:
        args.n, args.warmup, args.runs, args.conc_list, args.timeout = 200, 20, 1, [50], 60.0
    print(orchestrate(args))


if __name__ == "__main__":
    main()
