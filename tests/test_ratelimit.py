"""The client-wide RateLimiter: off, fixed, adaptive AIMD, Retry-After pauses, 2,000 GETs."""

from __future__ import annotations

import asyncio
import time

import pytest

from ionq_async import RateLimiter, RetryPolicy
from ionq_async.testing import FakeIonQ, Fault


class FakeTime:
    """A clock and a sleep that advances it, recording every wait."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now = max(self.now, self.now + seconds)


@pytest.fixture
def t() -> FakeTime:
    return FakeTime()


def limiter(t: FakeTime, setting: float | str | None = "adaptive") -> RateLimiter:
    return RateLimiter(setting, clock=t.clock, sleep=t.sleep)  # type: ignore[arg-type]


async def admitted(lim: RateLimiter, t: FakeTime, n: int, every: float = 0.01) -> list[float]:
    """`n` requests started and admitted, `every` seconds apart; when each was sent."""
    sent = []
    for _ in range(n):
        sent.append(await lim.acquire())
        lim.on_admitted()
        t.now += every
    return sent


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_rejects_non_positive_rates(bad: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(bad)


@pytest.mark.parametrize("bad", [True, "fast", [1]])
def test_rejects_other_settings(bad: object) -> None:
    with pytest.raises(TypeError):
        RateLimiter(bad)  # type: ignore[arg-type]


async def test_off_never_waits_even_after_a_429(t: FakeTime) -> None:
    lim = limiter(t, None)
    lim.on_rate_limited(5.0, t.now)
    for _ in range(100):
        await lim.acquire()
    assert t.waits == [] and repr(lim) == "RateLimiter(off, unlimited)"


async def test_fixed_rate_spaces_starts(t: FakeTime) -> None:
    lim = limiter(t, 10)
    starts = []
    for _ in range(5):
        starts.append(await lim.acquire())
    assert [round(s - 100.0, 6) for s in starts] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert repr(lim) == "RateLimiter(fixed, 10.0/s)"


async def test_fixed_rate_concurrent_callers_share_the_rate(t: FakeTime) -> None:
    lim = limiter(t, 20)
    starts = await asyncio.gather(*(lim.acquire() for _ in range(10)))
    assert sorted(round(s - 100.0, 6) for s in starts) == [round(i * 0.05, 6) for i in range(10)]


@pytest.mark.parametrize("setting", [10.0, "adaptive"])
async def test_retry_after_pauses_every_caller(t: FakeTime, setting: float | str) -> None:
    lim = limiter(t, setting)
    sent = await lim.acquire()
    lim.on_rate_limited(3.0, sent)
    starts = await asyncio.gather(*(lim.acquire() for _ in range(3)))
    assert min(starts) >= 103.0


async def test_pause_is_capped_by_max_pause(t: FakeTime) -> None:
    lim = RateLimiter("adaptive", clock=t.clock, sleep=t.sleep, max_pause=10.0)
    lim.on_rate_limited(3600.0, await lim.acquire())
    assert await lim.acquire() == 110.0


async def test_adaptive_is_free_until_the_first_429(t: FakeTime) -> None:
    lim = limiter(t)
    for _ in range(1000):
        await lim.acquire()
    assert t.waits == [] and lim.rate is None


async def test_adaptive_decrease_follows_the_admitted_rate(t: FakeTime) -> None:
    lim = limiter(t)
    # 200 requests admitted over 2 s, then a 429: pace at 0.9 x 100/s.
    lim.on_rate_limited(None, (await admitted(lim, t, 200))[-1])
    assert lim.rate == pytest.approx(90.0, rel=0.02)


async def test_one_decrease_per_congestion_event(t: FakeTime) -> None:
    lim = limiter(t)
    sent = await admitted(lim, t, 200)
    lim.on_rate_limited(None, sent[-1])
    first = lim.rate
    assert first is not None and first == pytest.approx(90.0, rel=0.02)
    # 429s on requests sent before that decrease belong to the same event.
    for at in sent[-50:]:
        lim.on_rate_limited(None, at)
    assert lim.rate == first
    # A 429 on a request sent after it is a new event.
    t.now += 0.5
    lim.on_rate_limited(None, await lim.acquire())
    assert lim.rate is not None and lim.rate < first


async def test_additive_increase_without_429s(t: FakeTime) -> None:
    lim = limiter(t)
    lim.on_rate_limited(None, (await admitted(lim, t, 100))[-1])
    low = lim.rate
    assert low is not None
    t.now += 10.0
    await lim.acquire()
    # 2 % of the new rate per second, sped up by 1 + t/2 s: 0.02 * (10 + 25) = +70 %.
    assert lim.rate == pytest.approx(low * 1.7, rel=0.01)


async def test_client_reports_429s_to_the_shared_limiter() -> None:
    async with FakeIonQ() as fake:
        job = fake.add_job()
        retry = RetryPolicy(sleep=_no_sleep)
        async with fake.client(retry=retry) as c:
            t = FakeTime()
            c.rate_limiter._clock, c.rate_limiter._sleep = t.clock, t.sleep
            for _ in range(5):  # a second and more of answers: something to measure
                await c.jobs.get(job.id)
                t.now += 0.25
            fake.faults.add("get_job", Fault.rate_limited(1))
            await c.jobs.get(job.id)
            assert c.rate_limiter.rate is not None
        assert [r.status for r in fake.requests] == [200] * 5 + [429, 200]


async def test_a_429_with_nothing_admitted_pauses_without_collapsing_the_rate(t: FakeTime) -> None:
    lim = limiter(t)
    lim.on_rate_limited(None, await lim.acquire())  # the very first request
    assert lim.rate is None
    assert await lim.acquire() == pytest.approx(101.0)  # one second's pause, then free
    starts = [await lim.acquire() for _ in range(50)]
    assert starts[-1] == starts[0] and lim.rate is None
    # With a Retry-After, that long.
    lim.on_rate_limited(4.0, starts[-1])
    assert await lim.acquire() == pytest.approx(105.0)


async def test_a_429_in_the_first_second_measures_the_time_so_far(t: FakeTime) -> None:
    lim = limiter(t)
    # Three answers within 15 ms: 200/s, not 30/s over a longer floor.
    lim.on_rate_limited(1.0, (await admitted(lim, t, 3, every=0.005))[-1])
    assert lim.rate == pytest.approx(0.9 * 200, rel=0.01)


async def test_a_429_after_a_quiet_spell_keeps_the_learned_rate(t: FakeTime) -> None:
    lim = limiter(t)
    lim.on_rate_limited(None, (await admitted(lim, t, 200))[-1])
    learned = lim.rate
    assert learned == pytest.approx(90.0, rel=0.02)
    t.now += 600.0  # nothing sent for ten minutes, then a 429
    lim.on_rate_limited(None, await lim.acquire())
    assert lim.rate is not None and lim.rate >= learned
    # Once requests are admitted again, a 429 decreases from what the server admits.
    lim.on_rate_limited(None, (await admitted(lim, t, 100, every=0.0))[-1])
    assert lim.rate == pytest.approx(90.0, rel=0.02)  # 0.9 x 100 admitted in the last second


async def test_a_refused_first_request_does_not_slow_the_client_to_a_crawl() -> None:
    async with FakeIonQ() as fake:
        job = fake.add_job()
        fake.faults.add("get_job", Fault.rate_limited(1))
        retry = RetryPolicy(sleep=_no_sleep)
        async with fake.client(retry=retry) as c:
            c.rate_limiter._sleep = _no_sleep
            async with asyncio.timeout(20):  # paced at ~1/s, 50 GETs would take ~55 s
                await c.jobs.get(job.id)
                await asyncio.gather(*(c.jobs.get(job.id) for _ in range(50)))
            assert c.rate_limiter.rate is None
    assert [r.status for r in fake.requests] == [429] + [200] * 51


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


async def test_2000_concurrent_gets_at_a_rate_limited_emulator() -> None:
    n, rate = 2000, 500
    async with FakeIonQ(rate_limit=rate) as fake:
        job = fake.add_job(status="completed")
        async with fake.client() as c:
            started = time.monotonic()
            results = await asyncio.gather(*(c.jobs.get(job.id) for _ in range(n)))
            elapsed = time.monotonic() - started
            limiter_state = repr(c.rate_limiter)
    assert all(j.id == job.id for j in results)
    limited = sum(r.status == 429 for r in fake.requests)
    share = limited / len(fake.requests)
    print(
        f"\n{n} GETs at {rate} req/s: {len(fake.requests)} requests, 429 share {share:.1%}, "
        f"goodput {n / elapsed / rate:.2f} R, {limiter_state}"
    )
    assert share < 0.25


async def test_the_admission_history_has_a_fixed_size_whatever_the_traffic(t: FakeTime) -> None:
    lim = limiter(t)
    sizes = set()
    for every in (0.0001, 0.01, 0.3):  # 10,000/s, 100/s, then a few a second
        await admitted(lim, t, 3000 if every < 0.3 else 10, every=every)
        sizes.add(len(lim._admitted))
    assert sizes == {len(lim._admitted)} and len(lim._admitted) <= 101


async def test_the_admitted_rate_counts_only_the_last_second(t: FakeTime) -> None:
    lim = limiter(t)
    await admitted(lim, t, 5000, every=0.0002)  # a second at 5,000/s ...
    lim.on_rate_limited(None, (await admitted(lim, t, 250, every=0.004))[-1])  # ... then 250/s
    assert lim.rate == pytest.approx(0.9 * 250, rel=0.02)
