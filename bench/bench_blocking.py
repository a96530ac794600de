"""B1s the blocking client's overhead: `IonQ.jobs.get` against `AsyncIonQ.jobs.get`, sequential.

``python bench/bench_blocking.py [--n 2000] [--runs 5] [--smoke]`` starts ``bench/_server.py``
in its own process, then measures each client in a fresh subprocess, the two alternating run
by run (the order swapped every run), and prints a markdown section.

Both clients use their defaults (adaptive rate limiter, RetryPolicy()) and make one call at a
time, after a warm-up of `--warmup` calls:
- ``async``: ``await client.jobs.get(id)`` in a loop, inside ``asyncio.run``.
- ``blocking``: ``client.jobs.get(id)`` in a plain loop; each call hands the coroutine to the
  client's loop thread and waits for its result.
The overhead per call is the difference of the median times per call (client CPU: both
threads of the process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import Server, cpu_seconds, median, median_spread, python, run_child, table

API_KEY = "bench-key"
CLIENTS = ("async", "blocking")


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def _result(n: int, wall: float, cpu: float) -> dict[str, Any]:
    return {"us_per_call": wall / n * 1e6, "cpu_us": cpu / n * 1e6, "wall": wall}


async def _async(base: str, n: int, warmup: int) -> dict[str, Any]:
    from ionq_async import AsyncIonQ

    async with AsyncIonQ(API_KEY, base_url=base) as client:
        for job_id in _ids(warmup):
            await client.jobs.get(job_id)
        ids = _ids(n)
        c0, t0 = cpu_seconds(), time.perf_counter()
        for job_id in ids:
            if (await client.jobs.get(job_id)).id != job_id:
                raise RuntimeError("wrong job")
        return _result(n, time.perf_counter() - t0, cpu_seconds() - c0)


def _blocking(base: str, n: int, warmup: int) -> dict[str, Any]:
    from ionq_async import IonQ

    with IonQ(API_KEY, base_url=base) as client:
        for job_id in _ids(warmup):
            client.jobs.get(job_id)
        ids = _ids(n)
        c0, t0 = cpu_seconds(), time.perf_counter()
        for job_id in ids:
            if client.jobs.get(job_id).id != job_id:
                raise RuntimeError("wrong job")
        return _result(n, time.perf_counter() - t0, cpu_seconds() - c0)


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    base = f"http://127.0.0.1:{args.port}/v0.4"
    if args.child == "async":
        result = asyncio.run(_async(base, args.n, args.warmup))
    else:
        result = _blocking(base, args.n, args.warmup)
    print(json.dumps(result))


def orchestrate(args: argparse.Namespace) -> str:
    """Run both clients `runs` times, alternating, and return the markdown section."""
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in CLIENTS}
    with Server([python(), "bench/_server.py"]) as server:
        port = int(server.first_line.split()[1])
        for run in range(args.runs):
            for client in CLIENTS if run % 2 == 0 else CLIENTS[::-1]:
                argv = [python(), __file__, "--child", client, "--n", str(args.n)]
                argv += ["--warmup", str(args.warmup), "--port", str(port)]
                r = run_child(argv, timeout=args.timeout)
                results[client].append(r)
                print(
                    f"B1s run {run + 1} {client}: {r['us_per_call']:.0f} us/call, "
                    f"{r['cpu_us']:.0f} us CPU/call",
                    file=sys.stderr,
                )
    per_call = {c: [r["us_per_call"] for r in results[c]] for c in CLIENTS}
    cpu = {c: [r["cpu_us"] for r in results[c]] for c in CLIENTS}
    rows = [
        [c, median_spread(per_call[c]), median_spread(cpu[c]), f"{1e6 / median(per_call[c]):.0f}"]
        for c in CLIENTS
    ]
    overhead = median(per_call["blocking"]) - median(per_call["async"])
    cpu_overhead = median(cpu["blocking"]) - median(cpu["async"])
    ratio = median(per_call["blocking"]) / median(per_call["async"])
    head = ["client", "us/call median (min-max)", "client CPU us/call", "calls/s (median)"]
    return (
        f"### B1s blocking client overhead (sequential `jobs.get`, N={args.n:,} after "
        f"{args.warmup:,} warm-up, {args.runs} alternating runs)\n\n"
        + table(head, rows)
        + f"\n\nOverhead of the blocking client: {overhead:+.0f} us per call "
        f"({ratio:.2f}x the async call's time), {cpu_overhead:+.0f} us of client CPU per call.\n"
    )


def main() -> None:
    """Parse arguments; run one child measurement or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=2_000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--timeout", type=float, default=300.0, help="per measurement, seconds")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    p.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.smoke:
        args.n, args.warmup, args.runs, args.timeout = 100, 10, 1, 60.0
    print(orchestrate(args))


if __name__ == "__main__":
    main()
