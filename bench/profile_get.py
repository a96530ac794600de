"""Where the SDK's client CPU per ``jobs.get`` and ``jobs.clone`` goes, layer by layer.

``python bench/profile_get.py [--pin] [--chunk 500] [--rounds 12] [--conc 50] [--only NAME ...]
[--cprofile NAME]`` starts ``bench/_server.py`` (with ``--pin``: the server on one CPU, this
client on another) and, in one client process, measures each variant in turn on chunks of
``--chunk`` requests, round-robin for ``--rounds`` rounds, so that a noisy minute moves every
variant alike; it prints the median process CPU per request of each and its difference from
its raw variant. ``--cprofile NAME`` instead runs that variant alone under cProfile and
prints its top functions. Not part of the report.

GET variants, each adding one layer to the one before:
- ``raw``: aiohttp, ``raise_for_status``, ``json()``, an id check (issue 20's raw client);
- ``transport``: the SDK's ``Transport.send`` (its aiohttp call), then ``json.loads``;
- ``transport+Job``: the same, then ``load_job`` (cattrs structuring of the full Job);
- ``request path``: ``RequestPath.send`` of ``GET_JOB`` read raw (retries, connection slot,
  limiter, budget, JSON);
- ``request path+Job``: ``RequestPath.send(GET_JOB(id))``, the request ``jobs.get`` sends;
- ``jobs.get``: the public call.

Clone variants (``POST /jobs/{id}/clone`` with ``{"name": "bench"}``, as B1 sends it):
- ``raw clone``: aiohttp with ``json=``, a status check, ``json.loads`` of the answer (B1's);
- ``request path clone``: ``RequestPath.send(CLONE_JOB(id, body))``;
- ``jobs.clone``: the public call, ``name="bench"``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import pstats
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import Server, pin, pin_cpus, python, table

Call = Callable[[str], Awaitable[None]]
_CLONE = {"name": "bench"}


async def _drive(call: Call, n: int, conc: int) -> None:
    feed = iter([str(uuid.uuid4()) for _ in range(n)])

    async def worker() -> None:
        for job_id in feed:
            await call(job_id)

    await asyncio.gather(*(worker() for _ in range(conc)))


def _check(got: str, want: str) -> None:
    if got != want:
        raise RuntimeError(f"asked for {want}, got {got}")


async def _variants(base: str, stack: contextlib.AsyncExitStack) -> dict[str, Call]:
    import aiohttp

    from ionq_async import AsyncIonQ
    from ionq_async._core import api
    from ionq_async._core.loaders import load_raw
    from ionq_async._core.serde import load_job

    client = await stack.enter_async_context(AsyncIonQ("bench-key", base_url=base))
    session = await stack.enter_async_context(
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            headers={"Authorization": "apiKey bench-key"},
        )
    )
    transport, path = client._transport, client._http
    get_raw = api.GET_JOB.reading(load_raw)

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
        _check((await path.send(get_raw(i)))["id"], i)

    async def request_job(i: str) -> None:
        _check((await path.send(api.GET_JOB(i))).id, i)

    async def get(i: str) -> None:
        _check((await client.jobs.get(i)).id, i)

    async def raw_clone(i: str) -> None:
        async with session.post(f"{base}/jobs/{i}/clone", json=_CLONE) as resp:
            if resp.status != 201:
                raise RuntimeError(resp.status)
            json.loads(await resp.read())["id"]

    async def request_clone(i: str) -> None:
        await path.send(api.CLONE_JOB(i, _CLONE))

    async def clone(i: str) -> None:
        await client.jobs.clone(i, name="bench")

    return {
        "raw": raw,
        "transport": send,
        "transport+Job": send_job,
        "request path": request,
        "request path+Job": request_job,
        "jobs.get": get,
        "raw clone": raw_clone,
        "request path clone": request_clone,
        "jobs.clone": clone,
    }


class _GCTimer:
    """Seconds the cyclic GC has run so far (timed by gc.callbacks)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def _cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


async def child(
    port: int, chunk: int, rounds: int, conc: int, only: list[str] | None
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]]]:
    """Every variant, round-robin on chunks; process CPU, user CPU and GC us per request."""
    async with contextlib.AsyncExitStack() as stack:
        variants = await _variants(f"http://127.0.0.1:{port}/v0.4", stack)
        names = [n for n in variants if only is None or n in only]
        for name in names:
            await _drive(variants[name], 300, conc)
        spent: dict[str, list[float]] = {name: [] for name in names}
        user: dict[str, list[float]] = {name: [] for name in names}
        in_gc: dict[str, list[float]] = {name: [] for name in names}
        timer = _GCTimer()
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                u0, s0 = _cpu()
                g0 = timer.total
                await _drive(variants[name], chunk, conc)
                u1, s1 = _cpu()
                in_gc[name].append((timer.total - g0) / chunk * 1e6)
                spent[name].append((u1 + s1 - u0 - s0) / chunk * 1e6)
                user[name].append((u1 - u0) / chunk * 1e6)
    return spent, user, in_gc


async def profiled(port: int, name: str, n: int, conc: int) -> pstats.Stats:
    """One variant alone, `n` requests under cProfile (after a warm-up)."""
    async with contextlib.AsyncExitStack() as stack:
        call = (await _variants(f"http://127.0.0.1:{port}/v0.4", stack))[name]
        await _drive(call, 500, conc)
        profile = cProfile.Profile()
        profile.enable()
        await _drive(call, n, conc)
        profile.disable()
    return pstats.Stats(profile)


def _versus(name: str, spent: dict[str, list[float]]) -> str:
    """The median of `name` minus that of its raw variant, if that was measured."""
    raw = "raw clone" if "clone" in name else "raw"
    if raw not in spent:
        return ""
    return f"{statistics.median(spent[name]) - statistics.median(spent[raw]):+.1f}"


def main() -> None:
    """Start the server; run the client here (pinned with --pin); print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pin", action="store_true", help="server on one CPU, this client on another")
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--conc", type=int, default=50)
    p.add_argument("--only", nargs="+", metavar="NAME", help="measure only these variants")
    p.add_argument("--cprofile", metavar="NAME", help="profile this variant instead")
    p.add_argument("--sort", default="tottime", help="cProfile sort key (with --cprofile)")
    p.add_argument("--top", type=int, default=40, help="functions shown (with --cprofile)")
    args = p.parse_args()
    server_cpu, client_cpu = pin_cpus() if args.pin else (None, None)
    argv = [python(), "bench/_server.py"]
    if server_cpu is not None:
        argv += ["--cpu", str(server_cpu)]
    with Server(argv) as server:
        pin(client_cpu)
        port = int(server.first_line.split()[1])
        if args.cprofile:
            n = args.chunk * args.rounds
            stats = asyncio.run(profiled(port, args.cprofile, n, args.conc))
            print(f"{args.cprofile}: {n} requests, c={args.conc}")
            stats.sort_stats(args.sort).print_stats(args.top)
            return
        spent, user, in_gc = asyncio.run(child(port, args.chunk, args.rounds, args.conc, args.only))
    header = ["variant", "CPU us / request (median)", "q1-q3", "vs its raw", "user CPU us"]
    header += ["vs raw", "GC us"]
    rows = []
    for name, values in spent.items():
        q1, _, q3 = statistics.quantiles(values, n=4)
        rows.append(
            [
                name,
                f"{statistics.median(values):.1f}",
                f"{q1:.0f}-{q3:.0f}",
                _versus(name, spent),
                f"{statistics.median(user[name]):.1f}",
                _versus(name, user),
                f"{statistics.median(in_gc[name]):.1f}",
            ]
        )
    where = f"client on CPU {client_cpu}, server on CPU {server_cpu}" if args.pin else "unpinned"
    print(
        f"client CPU per request, layer by layer ({where}; {args.rounds} rounds of {args.chunk} "
        f"requests per variant, c={args.conc})\n\n" + table(header, rows)
    )


if __name__ == "__main__":
    main()
