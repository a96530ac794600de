"""B4 polling: requests per awaited job, batched vs per-job, and ionq-core's wait.

``python bench/bench_polling.py [--jobs 10000] [--peer-jobs 1000] [--runs 3] [--smoke]``

Each measurement uses a fresh emulator process (``bench/_emulator.py``) and a fresh client
process. The jobs are seeded beforehand and all "created" at one wall-clock instant T; the
client sleeps until T, then awaits every job, so waiting starts exactly when the jobs do.
Every job runs 0.5 + 1.0 + 2.0 = 3.5 s of virtual time: with the default PollPolicy (1 s,
x1.5, +-10 % jitter) it is polled at ~1, ~2.5 and ~4.75 s, i.e. completes between the 2nd
and 3rd poll, so the ideal wall time is 4.75 s.

- A, N jobs awaited with ``jobs.wait_many``: batched (the default: the client's one poller
  sends ``GET /jobs?ids=...`` with 100 ids) vs per-job, which is the same poller forced
  onto its own fallback path for servers that ignore ``ids`` (``poller._batched = False``:
  one ``GET /jobs/{id}`` per job per round, same schedule).
- B, the peer comparison: ionq_async (batched) vs ionq-core's ``async_wait_for_job``
  (defaults: first poll at once, then 1 s x1.5; one coroutine per job, gathered), on the
  same emulator, same 100 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import (
    Server,
    core_client,
    cpu_seconds,
    median_spread,
    peak_rss_mb,
    python,
    run_child,
    table,
)

DURATIONS = (0.5, 1.0, 2.0)
IDEAL = 4.75
CONNECTIONS = 100
_MARGIN = 2.0


async def _until(at: float) -> float:
    """Sleep until wall-clock time `at`; return how late we already were (0 if on time)."""
    late = time.time() - at
    if late < 0:
        await asyncio.sleep(-late)
    return max(late, 0.0)


async def _sdk(
    base: str, key: str, ids: list[str], at: float, per_job: bool, scale: float
) -> dict[str, Any]:
    from ionq_async import AsyncIonQ, PollPolicy

    poll = PollPolicy(initial=scale, max_interval=30 * scale)

    async with AsyncIonQ(key, base_url=base, max_connections=CONNECTIONS) as client:
        if per_job:
            client.jobs._poller._batched = False
        late = await _until(at)
        c0, t0 = cpu_seconds(), time.perf_counter()
        done = 0
        async for job in client.jobs.wait_many(ids, poll=poll, timeout=600):
            done += job.status == "completed"
        wall = time.perf_counter() - t0
        return {"wall": wall, "cpu": cpu_seconds() - c0, "late": late, "completed": done}


async def _core(base: str, key: str, ids: list[str], at: float, scale: float) -> dict[str, Any]:
    from ionq_core import async_wait_for_job

    client = core_client(base, key, CONNECTIONS)
    async with client:
        late = await _until(at)
        c0, t0 = cpu_seconds(), time.perf_counter()
        jobs = await asyncio.gather(
            *(async_wait_for_job(client, j, poll_interval=scale, timeout=600) for j in ids)
        )
        wall = time.perf_counter() - t0
    done = sum(job.status == "completed" for job in jobs)
    return {"wall": wall, "cpu": cpu_seconds() - c0, "late": late, "completed": done}


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    ids = json.loads(Path(args.ids).read_text())
    base = f"http://127.0.0.1:{args.port}/v0.4"
    if args.child == "core":
        result = asyncio.run(_core(base, args.key, ids, args.at, args.scale))
    else:
        per_job = args.child == "per-job"
        result = asyncio.run(_sdk(base, args.key, ids, args.at, per_job, args.scale))
    result["rss"] = peak_rss_mb()
    print(json.dumps(result))


def _measure(kind: str, n: int, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    with Server([python(), "bench/_emulator.py"]) as emu:
        info = json.loads(emu.first_line)
        durations = [d * args.scale for d in DURATIONS]
        ids = emu.ask({"cmd": "seed", "n": n, "durations": durations})["ids"]
        path = tmp / "ids.json"
        path.write_text(json.dumps(ids))
        at = time.time() + _MARGIN
        emu.ask({"cmd": "start", "ids": ids, "at": at})
        emu.ask({"cmd": "reset"})
        argv = [python(), __file__, "--child", kind, "--ids", str(path), "--at", repr(at)]
        argv += ["--port", str(info["port"]), "--key", info["api_key"]]
        argv += ["--scale", str(args.scale)]
        result = run_child(argv, timeout=args.timeout)
        stats = emu.ask({"cmd": "stats"})
    result["requests"] = stats["requests"]
    result["by_route"] = stats["by_route"]
    if result["late"] > 0:
        print(f"B4 warning: the {kind} client started {result['late']:.2f} s late", file=sys.stderr)
    if result["completed"] != n:
        raise RuntimeError(f"{kind}: only {result['completed']} of {n} jobs completed")
    return result


def _rows(
    results: dict[str, list[dict[str, Any]]], n: int, labels: dict[str, str], ideal: float
) -> list[Any]:
    rows = []
    for kind, rs in results.items():
        rows.append(
            [
                labels[kind],
                f"{n:,}",
                median_spread([r["requests"] / n for r in rs], "{:.3f}"),
                median_spread([r["wall"] for r in rs], "{:.2f}"),
                median_spread([r["wall"] / ideal for r in rs], "{:.2f}"),
                median_spread([r["cpu"] / n * 1e6 for r in rs]),
                median_spread([r["rss"] for r in rs]),
            ]
        )
    return rows


def _series(kinds: list[str], n: int, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for run in range(args.runs):
        order = kinds[run % len(kinds) :] + kinds[: run % len(kinds)]
        for kind in order:
            r = _measure(kind, n, tmp, args)
            results[kind].append(r)
            print(
                f"B4 run {run + 1} n={n} {kind}: {r['wall']:.2f} s, "
                f"{r['requests'] / n:.3f} req/job, {r['by_route']}",
                file=sys.stderr,
            )
    return results


def orchestrate(args: argparse.Namespace) -> str:
    """Both parts, interleaved within each; returns the markdown section."""
    labels = {
        "batched": "ionq_async, batched (default)",
        "per-job": "ionq_async, per-job (poller._batched = False)",
        "core": "ionq-core async_wait_for_job",
    }
    ideal = IDEAL * args.scale
    head = ["client", "jobs", "requests / job", "wall s", f"wall / {ideal:g} s", "CPU us / job"]
    head.append("client peak RSS MB")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        part_a = _series(["batched", "per-job"], args.jobs, tmp, args)
        peers = ["batched"]
        try:
            import ionq_core  # noqa: F401

            peers.append("core")
        except ImportError:
            pass
        part_b = _series(peers, args.peer_jobs, tmp, args)
    note = "" if "core" in peers else "\nionq-core is not installed here: peer skipped.\n"
    return (
        f"### B4 polling ({args.runs} interleaved runs; every job completes between the 2nd "
        f"and 3rd poll; ideal wall {ideal:g} s; time scale {args.scale:g})\n\n"
        + table(
            head,
            _rows(part_a, args.jobs, labels, ideal) + _rows(part_b, args.peer_jobs, labels, ideal),
        )
        + "\n"
        + note
    )


def main() -> None:
    """Parse arguments; run one child measurement or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--jobs", type=int, default=10_000, help="part A size")
    p.add_argument("--peer-jobs", type=int, default=1_000, help="part B size")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900.0, help="per measurement, seconds")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiplies job durations and poll intervals"
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run, time scale 0.1")
    p.add_argument("--child", choices=("batched", "per-job", "core"), help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    p.add_argument("--at", type=float, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.smoke:
        args.jobs, args.peer_jobs, args.runs, args.timeout, args.scale = 200, 20, 1, 60.0, 0.1
    print(orchestrate(args))


if __name__ == "__main__":
    main()
