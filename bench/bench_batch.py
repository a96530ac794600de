"""B2 batch re-run: ``jobs.rerun_all`` of 1,000 / 10,000 / 100,000 jobs on the emulator.

``python bench/bench_batch.py [--sizes 1000 10000 100000] [--runs 3] [--smoke]``

Every measurement uses a fresh emulator process (``bench/_emulator.py``, seeded with N
completed source jobs; clones run 0.05 + 0.1 + 0.2 s of virtual time) and a fresh client
process, so that the client's peak RSS (``ru_maxrss``) and CPU are its own. HTTP requests
are counted by the emulator. ``rerun_all`` is run with ``idempotent=False`` and with the
default ``idempotent=True``, and the streaming ``rerun(idempotent=False)`` with its outcomes
counted, not kept; all at the default ``concurrency=64`` and ``AsyncIonQ`` defaults. Up to
``--extra-max`` jobs (10,000) two more calls run: tokens with a journal
(``rerun_all(ids, journal=<fresh file>)``) and a budgeted batch (``rerun_all(ids,
CloneRequest(backend="qpu.forte-1"), max_cost=1e12)``: priced clones, so that the spend guard
does real sums, under a budget no batch reaches).

Ideal bound: ``requests_needed / ceiling + first_poll``, where the ceilings are the
emulator's clone and GET throughput with raw aiohttp (64 in flight, 100 connections),
measured on fresh emulators just before each run, at the run's size (at most --probe-n
requests; the list ceiling reads all N sources, N/100 requests: the very pages a tokened
batch reads), so that each run's ratio compares two measurements of the same minute;
requests_needed is N clones and the N/100 `GET /jobs?ids=` status reads that see them end
(the fewest a waiting call can make: 100 ids per read), plus N/100 source reads with tokens
(a budgeted batch also reads its sources once more for the estimate and each clone's cost
once), and first_poll = 1.0 s is the first poll of the default PollPolicy, the earliest
moment a 0.35 s job can be seen completed.

After the table: the CPU per job between sizes, and for the largest size each call against
issue 20's targets (wall <= 1.3x ideal, peak RSS <= 150 MB, CPU per job within 1.1x of 10,000's).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import (
    Server,
    cpu_seconds,
    median,
    median_spread,
    peak_rss_mb,
    python,
    run_child,
    table,
)

DURATIONS = (0.05, 0.1, 0.2)
KINDS = {
    "plain": "`rerun_all(idempotent=False)`",
    "idempotent": "`rerun_all()` (tokens)",
    "stream": "`rerun(idempotent=False)`, outcomes not kept",
    "journal": "`rerun_all(journal=path)` (tokens + journal)",
    "budget": "`rerun_all(qpu clones, max_cost=1e12)` (tokens + budget)",
}
EXTRA_KINDS = ("journal", "budget")
BUDGET_BACKEND = "qpu.forte-1"
MAX_COST = 1e12
TARGET_WALL, TARGET_RSS, TARGET_LINEAR = 1.3, 150.0, 1.1
FIRST_POLL = 1.0
PROBE_N = 10_000
PROBE_CONC = 64


async def _probe(port: int, key: str, ids: list[str], op: str) -> dict[str, Any]:
    """Raw aiohttp throughput of one emulator route (the ceiling for the ideal bound)."""
    import aiohttp

    base = f"http://127.0.0.1:{port}/v0.4"
    connector = aiohttp.TCPConnector(limit=100)
    headers = {"Authorization": f"apiKey {key}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one(job_id: Any) -> None:
            if op == "list":  # one `GET /jobs?ids=` of 100 jobs, as an idempotent batch reads
                params = [*(("ids", i) for i in job_id), ("limit", str(len(job_id)))]
                cm = session.get(f"{base}/jobs", params=params)
            elif op == "get":
                cm = session.get(f"{base}/jobs/{job_id}")
            else:
                cm = session.post(f"{base}/jobs/{job_id}/clone", json={})
            async with cm as resp:
                if resp.status >= 300:
                    raise RuntimeError(resp.status)
                json.loads(await resp.read())

        items: list[Any] = list(ids)
        if op == "list":
            items = [ids[i : i + 100] for i in range(0, len(ids), 100)]

        async def drive(todo: list[Any]) -> None:
            feed = iter(todo)

            async def worker() -> None:
                for job_id in feed:
                    await one(job_id)

            await asyncio.gather(*(worker() for _ in range(PROBE_CONC)))

        await drive(items[: max(1, len(items) // 10)])
        t0 = time.perf_counter()
        await drive(items)
        return {"rps": len(items) / (time.perf_counter() - t0)}


async def _rerun(
    port: int, key: str, ids: list[str], kind: str, journal: str | None
) -> dict[str, Any]:
    from ionq_async import AsyncIonQ, CloneRequest

    rss0 = peak_rss_mb()
    c0, t0 = cpu_seconds(), time.perf_counter()
    async with AsyncIonQ(key, base_url=f"http://127.0.0.1:{port}/v0.4") as client:
        jobs = client.jobs
        if kind == "stream":
            counts: dict[str, int] = {}
            async for outcome in jobs.rerun(ids, idempotent=False):
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
        else:
            if kind == "journal":
                report = await jobs.rerun_all(ids, journal=journal)
            elif kind == "budget":
                request = CloneRequest(backend=BUDGET_BACKEND)
                report = await jobs.rerun_all(ids, request, max_cost=MAX_COST)
                if report.estimated_cost is None or not report.estimated_cost > 0:
                    raise RuntimeError(f"the budgeted batch priced nothing: {report!r:.300}")
            else:
                report = await jobs.rerun_all(ids, idempotent=kind == "idempotent")
            counts = dict(report.counts)
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "cpu": cpu_seconds() - c0,
        "rss": peak_rss_mb(),
        "rss_before": rss0,
        "counts": {k: v for k, v in counts.items() if v},
    }


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    ids = json.loads(Path(args.ids).read_text())
    if args.child == "probe":
        result = asyncio.run(_probe(args.port, args.key, ids, args.op))
    else:
        result = asyncio.run(_rerun(args.port, args.key, ids, args.child, args.journal))
    print(json.dumps(result))


def _emulator() -> Server:
    return Server([python(), "bench/_emulator.py"])


def _measure(kind: str, n: int, tmp: Path, timeout: float, op: str = "") -> dict[str, Any]:
    """Fresh emulator with n completed sources, then one client child of `kind`."""
    with _emulator() as emu:
        info = json.loads(emu.first_line)
        emu.ask({"cmd": "durations", "value": list(DURATIONS)})
        ids = emu.ask({"cmd": "seed", "n": n, "status": "completed"})["ids"]
        path = tmp / f"ids-{n}.json"
        path.write_text(json.dumps(ids))
        emu.ask({"cmd": "reset"})
        cpu0 = emu.ask({"cmd": "stats"})["cpu"]
        argv = [python(), __file__, "--child", kind, "--ids", str(path), "--op", op or "clone"]
        argv += ["--port", str(info["port"]), "--key", info["api_key"]]
        if kind == "journal":
            journal = tmp / f"journal-{n}-{time.time_ns()}.sqlite"
            argv += ["--journal", str(journal)]
        result = run_child(argv, timeout=timeout)
        stats = emu.ask({"cmd": "stats"})
        result["requests"] = stats["requests"]
        result["by_route"] = stats["by_route"]
        result["server_cpu"] = stats["cpu"] - cpu0
    return result


def orchestrate(args: argparse.Namespace) -> str:
    """Every size and mode, interleaved, each run with its own ceilings; the markdown."""
    rows: list[list[object]] = []
    ceilings: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        per_job: dict[tuple[int, str], float] = {}
        at_size: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for n in args.sizes:
            runs = args.runs if n <= 10_000 else args.big_runs
            results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in args.kinds}
            for run in range(runs):
                # The ceilings of this run: measured just before it, at its size (capped),
                # so a noisy minute on the shared machine moves both sides of the ratio.
                probe_n = min(n, args.probe_n)
                ceiling = {
                    op: _measure("probe", n if op == "list" else probe_n, tmp, args.timeout, op)[
                        "rps"
                    ]
                    for op in ("clone", "get", "list")
                }
                ceilings.append(ceiling)
                print(
                    f"B2 run {run + 1} n={n} ceilings: clone {ceiling['clone']:.0f}/s, "
                    f"GET {ceiling['get']:.0f}/s, list of 100 {ceiling['list']:.0f}/s",
                    file=sys.stderr,
                )
                kinds = [k for k in args.kinds if k not in EXTRA_KINDS or n <= args.extra_max]
                order = kinds[run % len(kinds) :] + kinds[: run % len(kinds)]
                for kind in order:
                    r = _measure(kind, n, tmp, args.timeout)
                    r["ideal"] = _ideal(kind, n, ceiling)
                    results[kind].append(r)
                    print(
                        f"B2 run {run + 1} n={n} {kind}: {r['wall']:.2f} s "
                        f"({r['wall'] / r['ideal']:.2f}x ideal), "
                        f"{r['requests'] / n:.3f} req/job, {r['rss']:.0f} MB, {r['counts']}",
                        file=sys.stderr,
                    )
            for kind, rs in results.items():
                if not rs:
                    continue
                walls = [r["wall"] for r in rs]
                per_job[(n, kind)] = median([r["cpu"] / n for r in rs])
                at_size[(n, kind)] = rs
                routes: dict[str, float] = {}
                for r in rs:
                    for route, count in r["by_route"].items():
                        routes[route] = routes.get(route, 0) + count / n / len(rs)
                split = ", ".join(f"{k} {v:.3f}" for k, v in sorted(routes.items()))
                rows.append(
                    [
                        f"{n:,}",
                        KINDS[kind],
                        median_spread(walls, "{:.2f}"),
                        median_spread([r["ideal"] for r in rs], "{:.2f}"),
                        median_spread([r["wall"] / r["ideal"] for r in rs], "{:.2f}"),
                        median_spread([r["requests"] / n for r in rs], "{:.3f}"),
                        split,
                        median_spread([r["rss"] for r in rs]),
                        f"{median([r['rss_before'] for r in rs]):.0f}",
                        median_spread([r["cpu"] / n * 1e6 for r in rs]),
                        median_spread([r["server_cpu"] / n * 1e6 for r in rs]),
                        "; ".join(f"{k} {v}" for k, v in rs[-1]["counts"].items()),
                    ]
                )
    head = [
        "jobs",
        "call",
        "wall s",
        "ideal s",
        "wall / ideal",
        "requests / job",
        "requests / job by route (mean)",
        "client peak RSS MB",
        "RSS after imports MB",
        "client CPU us / job",
        "emulator CPU us / job",
        "outcomes (last run)",
    ]
    lin = []
    sizes = sorted(args.sizes)
    for kind in args.kinds:
        for a, b in itertools.pairwise(sizes):
            if (a, kind) not in per_job or (b, kind) not in per_job:
                continue
            lin.append(
                f"{KINDS[kind]}: client CPU per job at {b:,} / at {a:,} = "
                f"{per_job[(b, kind)] / per_job[(a, kind)]:.2f}"
            )
    clone_c = median_spread([c["clone"] for c in ceilings], "{:.0f}")
    get_c = median_spread([c["get"] for c in ceilings], "{:.0f}")
    list_c = median_spread([c["list"] for c in ceilings], "{:.0f}")
    return (
        f"### B2 batch re-run on the emulator (runs: {args.runs} up to 10,000 jobs, "
        f"{args.big_runs} above)\n\n"
        f"Ceilings of this emulator with raw aiohttp, measured before every run at its size "
        f"(at most {args.probe_n:,} requests; the list ceiling reads all n sources): clone "
        f"{clone_c}/s, GET {get_c}/s, `GET /jobs?ids=` of 100 jobs {list_c}/s; ideal = "
        f"requests needed / that run's "
        f"ceilings + {FIRST_POLL:.1f} s (n clones + n/100 status reads; with tokens also "
        f"n/100 source reads; "
        f"budgeted: also n/100 source reads for the estimate and n `GET /jobs/{{id}}/cost` at "
        f"the GET ceiling); wall / ideal is per run.\n\n"
        + table(head, rows)
        + "\n\nLinearity (1.00 = linear): "
        + "; ".join(lin)
        + "\n\n"
        + _targets(sizes, args.kinds, at_size, per_job)
    )


def _ideal(kind: str, n: int, ceiling: dict[str, float]) -> float:
    """The ideal wall time of one call: requests needed at this run's ceilings, + first poll."""
    ideal = n / ceiling["clone"] + n / 100 / ceiling["list"] + FIRST_POLL  # clones, their ends
    if kind in ("idempotent", "journal", "budget"):  # sources' metadata, 100 at a time
        ideal += n / 100 / ceiling["list"]
    if kind == "budget":  # the estimate reads the sources too; each clone's cost is read
        ideal += n / 100 / ceiling["list"] + n / ceiling["get"]
    return ideal


def _targets(
    sizes: list[int],
    kinds: list[str],
    at_size: dict[tuple[int, str], list[dict[str, Any]]],
    per_job: dict[tuple[int, str], float],
) -> str:
    """Each call at the largest size against issue 20's targets (CPU per job vs 10,000)."""
    big = sizes[-1]
    base = 10_000 if 10_000 in sizes and big > 10_000 else None
    rows = []
    for kind in kinds:
        rs = at_size.get((big, kind))
        if not rs:
            continue
        wall = median([r["wall"] / r["ideal"] for r in rs])
        rss = median([r["rss"] for r in rs])
        cpu = per_job[(big, kind)] * 1e6
        if base is not None and (base, kind) in per_job:
            ratio = per_job[(big, kind)] / per_job[(base, kind)]
            lin, lin_ok = f"{ratio:.2f}", ratio <= TARGET_LINEAR
        else:
            lin, lin_ok = "n/a", True
        met = wall <= TARGET_WALL and rss <= TARGET_RSS and lin_ok
        rows.append(
            [KINDS[kind], f"{wall:.2f}", f"{rss:.0f}", f"{cpu:.0f}", lin, "yes" if met else "no"]
        )
    head = [
        "call",
        f"wall / ideal (<= {TARGET_WALL})",
        f"peak RSS MB (<= {TARGET_RSS:.0f})",
        "client CPU us / job",
        f"CPU per job {big:,} / 10,000 (<= {TARGET_LINEAR})",
        "met?",
    ]
    return f"Targets at {big:,} jobs (medians):\n\n" + table(head, rows) + "\n"


def main() -> None:
    """Parse arguments; run one child measurement or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--runs", type=int, default=3, help="runs per size up to 10,000 jobs")
    p.add_argument("--big-runs", type=int, default=1, help="runs per size above 10,000 jobs")
    p.add_argument("--probe-n", type=int, default=PROBE_N, help="most requests per ceiling probe")
    p.add_argument("--timeout", type=float, default=1800.0, help="per measurement, seconds")
    p.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    p.add_argument(
        "--extra-max", type=int, default=10_000, help="largest size for the journal and budget"
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    p.add_argument("--child", choices=(*KINDS, "probe"), help=argparse.SUPPRESS)
    p.add_argument("--journal", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    p.add_argument("--op", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.smoke:
        args.sizes, args.runs, args.big_runs, args.probe_n, args.timeout = [50, 100], 1, 1, 200, 60
    print(orchestrate(args))


if __name__ == "__main__":
    main()
