"""Benchmark: N concurrent GETs through one AsyncIonQ at an emulator limited to R requests/s.

Run ``python bench/bench_ratelimit.py [--rate R] [--requests N] [--burst B] [--limit L]``
(``--smoke``: 100 requests, and a missed target does not fail: its numbers mean nothing).
Goodput is successful requests per second over the whole run, divided by R; the 429 share is
the fraction of all requests the emulator answered 429. Targets: goodput >= 0.9 R and
429 share <= 5 % with the default adaptive limiter. The emulator's token bucket holds
``burst`` tokens (default: R, one second's worth) and answers 429 with Retry-After >= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ionq_async.testing import FakeIonQ

GOODPUT_TARGET = 0.9
SHARE_TARGET = 0.05


async def run(rate: float, requests: int, burst: float | None, limit: str) -> tuple[float, float]:
    """Send the batch once; print and return (goodput / R, 429 share)."""
    setting: float | str | None = None if limit == "none" else limit
    if setting not in (None, "adaptive"):
        setting = float(limit)
    async with FakeIonQ(rate_limit=rate, burst=burst) as fake:
        job = fake.add_job(status="completed")
        async with fake.client(rate_limit=setting) as client:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(client.jobs.get(job.id) for _ in range(requests)), return_exceptions=True
            )
            elapsed = time.perf_counter() - started
            final = repr(client.rate_limiter)
    ok = sum(not isinstance(r, BaseException) for r in results)
    limited = sum(r.status == 429 for r in fake.requests)
    goodput = ok / elapsed / rate
    share = limited / max(1, len(fake.requests))
    print(
        f"R={rate:g}/s burst={burst or rate:g} N={requests} limiter={limit}: {elapsed:.2f} s, "
        f"{ok}/{requests} ok, {len(fake.requests)} requests, {limited} answered 429"
    )
    print(f"  goodput / R = {goodput:.3f}  (target >= {GOODPUT_TARGET})")
    print(f"  429 share   = {share:.2%}  (target <= {SHARE_TARGET:.0%})")
    print(f"  final limiter: {final}")
    return goodput, share


def main() -> None:
    """Parse the arguments, run once, exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="emulator limit R, req/s")
    parser.add_argument("--requests", type=int, default=4000, help="concurrent GETs N")
    parser.add_argument("--burst", type=float, default=None, help="token bucket size (R)")
    parser.add_argument(
        "--limit", default="adaptive", help="client rate_limit: adaptive, none or a number"
    )
    parser.add_argument("--smoke", action="store_true", help="100 requests; never fails")
    args = parser.parse_args()
    if args.smoke:
        args.requests = 100
    goodput, share = asyncio.run(run(args.rate, args.requests, args.burst, args.limit))
    met = goodput >= GOODPUT_TARGET and share <= SHARE_TARGET
    print("targets met" if met else "targets MISSED")
    raise SystemExit(0 if met or args.smoke else 1)


if __name__ == "__main__":
    main()
