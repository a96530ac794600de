"""Benchmark: GET /jobs?ids=<100 ids> on the emulator at 1k, 10k and 100k seeded jobs.

Run ``python bench/bench_emulator_list.py``. Listing by ids must cost O(page), so the time per
request should stay flat as the store grows (ratios near 1.0, not 10x / 100x).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import aiohttp

from ionq_async.testing import FakeIonQ

SIZES = (1_000, 10_000, 100_000)
IDS_PER_REQUEST = 100
REQUESTS = 200


async def _measure(size: int) -> tuple[float, float]:
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        jobs = fake.seed_jobs(size, status="completed")
        rng = random.Random(size)
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        url = f"{fake.base_url}/jobs"
        by_ids: list[float] = []
        first_page: list[float] = []
        async with aiohttp.ClientSession(headers=headers) as session:
            for i in range(REQUESTS):
                picked = rng.sample(jobs, IDS_PER_REQUEST)
                params = [("ids", j.id) for j in picked] + [("limit", "100")]
                t0 = time.perf_counter()
                async with session.get(url, params=params) as resp:
                    body = await resp.json()
                by_ids.append(time.perf_counter() - t0)
                assert len(body["jobs"]) == IDS_PER_REQUEST, i
                t0 = time.perf_counter()
                async with session.get(url, params={"limit": "100"}) as resp:
                    await resp.read()
                first_page.append(time.perf_counter() - t0)
        return statistics.median(by_ids), statistics.median(first_page)


async def main() -> None:
    """Measure each size and print per-request medians and ratios to the smallest size."""
    results = {size: await _measure(size) for size in SIZES}
    base_ids, base_page = results[SIZES[0]]
    print(f"{'jobs':>8} {'ids=100 (ms)':>13} {'ratio':>6} {'limit=100 (ms)':>15} {'ratio':>6}")
    for size, (ids_t, page_t) in results.items():
        print(
            f"{size:>8} {ids_t * 1e3:>13.2f} {ids_t / base_ids:>6.2f} "
            f"{page_t * 1e3:>15.2f} {page_t / base_page:>6.2f}"
        )
    ratio = results[SIZES[-1]][0] / base_ids
    verdict = "O(page)" if ratio < 3 else "NOT O(page)"
    print(f"ids listing at {SIZES[-1]:,} vs {SIZES[0]:,} jobs: {ratio:.2f}x -> {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
