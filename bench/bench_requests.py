"""B1 per-request cost: raw aiohttp vs ionq_async vs ionq-core on one loopback server.

``python bench/bench_requests.py [--n 10000] [--runs 3] [--pin] [--smoke]`` starts
``bench/_server.py`` in its own process, then measures every (operation, concurrency, client)
in a fresh subprocess, interleaving the clients run by run, and prints a markdown section.

``--pin``: the server process runs on one CPU and every client process on another
(``os.sched_setaffinity`` at process start, so every thread they start stays there too);
by default only raw, sdk and sdk-nolimit are measured, and a second table puts the client
CPU per request of raw and the SDK side by side (with the cyclic GC's collections).

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
import os
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
    gc_collections,
    median,
    median_spread,
    pin,
    pin_cpus,
    proc_cpu_seconds,
    python,
    run_child,
    table,
)

CONNECTIONS = 100
API_KEY = "bench-key"
CLIENTS = ("raw", "sdk", "sdk-nolimit", "core")
PINNED_CLIENTS = ("raw", "sdk", "sdk-nolimit")
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
    g0 = gc_collections()
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
        "gc": [b - a for a, b in zip(g0, gc_collections(), strict=True)],
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
    pin(args.cpu)
    base = f"http://127.0.0.1:{args.port}/v0.4"
    a = (args.op, base, args.n, args.warmup, args.conc, args.server_pid)
    if args.child == "raw":
        result = asyncio.run(_raw(*a))
    elif args.child == "core":
        result = asyncio.run(_core(*a))
    else:
        result = asyncio.run(_sdk(*a, nolimit=args.child == "sdk-nolimit"))
    result["cpus"] = sorted(os.sched_getaffinity(0))
    print(json.dumps(result))


def have_core() -> bool:
    """Whether ionq-core (and sniffio, its best configuration) can be imported here."""
    return all(importlib.util.find_spec(m) is not None for m in ("ionq_core", "sniffio"))


def _clients(args: argparse.Namespace) -> list[str]:
    """The clients to measure: --clients, else all (pinned: raw and the SDK), core if present."""
    wanted = args.clients or (PINNED_CLIENTS if args.pin else CLIENTS)
    if "raw" not in wanted:
        raise SystemExit("--clients must include raw (every ratio is against it)")
    return [c for c in wanted if c != "core" or have_core()]


def _run_matrix(
    args: argparse.Namespace, clients: list[str], ops: tuple[str, ...], concs: tuple[int, ...]
) -> tuple[dict[tuple[str, int, str], list[dict[str, Any]]], str]:
    """Every measurement, interleaved run by run; the results and a note on pinning."""
    results: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    server_cpu, client_cpu = pin_cpus() if args.pin else (None, None)
    server_argv = [python(), "bench/_server.py"]
    if server_cpu is not None:
        server_argv += ["--cpu", str(server_cpu)]
    with Server(server_argv) as server:
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
                        if client_cpu is not None:
                            argv += ["--cpu", str(client_cpu)]
                        r = run_child(argv, timeout=args.timeout)
                        if client_cpu is not None and r["cpus"] != [client_cpu]:
                            raise RuntimeError(f"client ran on CPUs {r['cpus']}, not {client_cpu}")
                        results.setdefault((op, conc, client), []).append(r)
                        print(
                            f"B1{' pinned' if args.pin else ''} run {run + 1} {op} c={conc} "
                            f"{client}: {r['rps']:.0f} req/s, {r['cpu_us']:.0f} us CPU/req, "
                            f"GC {r['gc']}",
                            file=sys.stderr,
                        )
    note = ""
    if args.pin:
        note = (
            f"Pinned: the server process on CPU {server_cpu}, every client process on CPU "
            f"{client_cpu} (`os.sched_setaffinity` at process start).\n\n"
        )
    return results, note


def _side_by_side(
    results: dict[tuple[str, int, str], list[dict[str, Any]]],
    clients: list[str],
    ops: tuple[str, ...],
    concs: tuple[int, ...],
) -> str:
    """Raw vs each SDK client: throughput ratio and client CPU per request, side by side."""
    rows = []
    for op in ops:
        for conc in concs:
            raw = results[(op, conc, "raw")]
            for client in clients:
                if client in ("raw", "core"):
                    continue
                rs = results[(op, conc, client)]
                extra = [b["cpu_us"] - a["cpu_us"] for a, b in zip(raw, rs, strict=True)]
                ratios = [b["rps"] / a["rps"] for a, b in zip(raw, rs, strict=True)]
                rows.append(
                    [
                        op,
                        conc,
                        client,
                        f"{median([r['rps'] for r in rs]) / median([r['rps'] for r in raw]):.2f}",
                        median_spread(ratios, "{:.2f}"),
                        median_spread([r["cpu_us"] for r in raw]),
                        median_spread([r["cpu_us"] for r in rs]),
                        median_spread(extra),
                        f"raw {_gc(raw)}; SDK {_gc(rs)}",
                    ]
                )
    head = [
        "op",
        "conc",
        "client",
        "req/s vs raw (ratio of medians)",
        "per-run ratio",
        "raw client CPU us/req",
        "SDK client CPU us/req",
        "SDK - raw us/req (per run)",
        "GC collections per run, gen 0/1/2 (median)",
    ]
    return table(head, rows)


def _gc(rs: list[dict[str, Any]]) -> str:
    return "/".join(f"{median([r['gc'][g] for r in rs]):.0f}" for g in range(3))


def orchestrate(args: argparse.Namespace) -> str:
    """Run the whole matrix, interleaved, and return the markdown section."""
    if args.pin and args.smoke and len(os.sched_getaffinity(0)) < 2:
        return "### B1 per-request cost, pinned\n\nSkipped: this smoke run has only one CPU.\n"
    clients = _clients(args)
    ops, concs = ("get", "clone"), tuple(args.conc_list)
    results, note = _run_matrix(args, clients, ops, concs)
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
    skipped = "core" in (args.clients or CLIENTS) and "core" not in clients
    missing = "\nionq-core (or sniffio) is not installed here: skipped.\n" if skipped else ""
    title = "B1 per-request cost, pinned" if args.pin else "B1 per-request cost"
    out = (
        f"### {title} (N={args.n:,} after {args.warmup:,} warm-up, "
        f"{args.runs} interleaved runs, {CONNECTIONS} connections)\n\n"
        + note
        + table(head, rows)
        + "\n"
        + missing
    )
    if args.pin:
        out += (
            "\nClient CPU per request, raw aiohttp and the SDK side by side (medians of the "
            "interleaved runs; `SDK - raw` is per run, each SDK run against the raw run of "
            "the same round):\n\n" + _side_by_side(results, clients, ops, concs) + "\n"
        )
    return out


def main() -> None:
    """Parse arguments; run one child measurement or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--warmup", type=int, default=1_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--conc-list", type=int, nargs="+", default=[50, 100])
    p.add_argument("--timeout", type=float, default=300.0, help="per measurement, seconds")
    p.add_argument("--pin", action="store_true", help="server on one CPU, clients on another")
    p.add_argument("--clients", nargs="+", choices=CLIENTS, help="default: all (pinned: not core)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    p.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    p.add_argument("--op", choices=("get", "clone"), help=argparse.SUPPRESS)
    p.add_argument("--conc", type=int, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    p.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.smoke:
        args.n, args.warmup, args.runs, args.conc_list, args.timeout = 200, 20, 1, [50], 60.0
    print(orchestrate(args))


if __name__ == "__main__":
    main()
