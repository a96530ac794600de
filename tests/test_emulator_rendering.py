"""The emulator's cached job bodies and per-source sharing: what it serves stays exact."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from conftest import Clock

from ionq_async.testing import FakeIonQ
from ionq_async.testing._store import iso

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
GHZ = [*BELL, {"gate": "cnot", "control": 1, "target": 2}]
X0 = [{"gate": "x", "target": 0}]
LATER = 10.0
"""Seconds after which every job of the fixture's durations has ended."""


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(1.0, 2.0, 3.0), clock=clock) as server:
        yield server


def compact(obj: Any) -> bytes:
    """What the emulator's JSON answers are: ``obj`` by orjson, non-string keys as strings."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def stats(qubits: int, one_q: int, two_q: int) -> dict[str, Any]:
    return {"qubits": qubits, "circuits": 1, "gate_counts": {"1q": one_q, "2q": two_q}}


async def fetch(
    http: aiohttp.ClientSession, fake: FakeIonQ, method: str, path: str, **kw: Any
) -> tuple[int, bytes]:
    async with http.request(method, fake.base_url + path, **kw) as resp:
        return resp.status, await resp.read()


async def listed(http: aiohttp.ClientSession, fake: FakeIonQ, ids: list[str]) -> bytes:
    query = {"ids": ",".join(ids), "limit": "100"}
    status, body = await fetch(http, fake, "GET", "/jobs", params=query)
    assert status == 200
    return body


async def by_id(http: aiohttp.ClientSession, fake: FakeIonQ, ids: list[str]) -> dict[str, Any]:
    return {j["id"]: j for j in json.loads(await listed(http, fake, ids))["jobs"]}


async def clone(http: aiohttp.ClientSession, fake: FakeIonQ, src: str, **body: Any) -> str:
    status, raw = await fetch(http, fake, "POST", f"/jobs/{src}/clone", json=body)
    assert status == 201, raw
    new: str = json.loads(raw)["id"]
    return new


async def test_served_bodies_are_the_compact_json_of_the_job_in_every_shape(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    jobs = [
        fake.add_job(status="completed", name='q"uote é', metadata={"k": "ü\n"}, shots=7),
        fake.add_job(status="failed", failure_code="SimulationError", backend="qpu.forte-1"),
        fake.add_job(status="canceled", noise={"model": "aria-1", "seed": None}),
        fake.add_job(status="started", session_id="s-1", parent_job_id="p-1"),
        fake.add_job(status="completed", dry_run=True, circuit=GHZ),
        fake.add_job(durations=(100.0, 100.0, 100.0), shots=3),
    ]
    multi = {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 10}
    multi["input"] = {"gateset": "qis", "circuits": [{"circuit": BELL}, {"circuit": X0}]}
    status, raw = await fetch(http, fake, "POST", "/jobs", json=multi)
    assert status == 201
    clock.t += LATER
    parent = fake.get_job(json.loads(raw)["id"])
    jobs += [parent, *(fake.get_job(c) for c in parent.child_ids or [])]
    ids = [j.id for j in jobs]
    newest_first = sorted(jobs, key=lambda j: j.seq, reverse=True)
    for shape in ("both", "descriptors", "legacy", "both"):
        fake.results_shape = shape
        for formats in (("ionq.result.probabilities.json.v2",), ("ionq.result.histogram.json.v2",)):
            fake.result_formats = formats
            for _ in range(2):  # once rendered, once from the cache
                for job in jobs:
                    status, body = await fetch(http, fake, "GET", f"/jobs/{job.id}")
                    assert (status, body) == (200, compact(fake.job_json(job.id)))
                page = {"jobs": [fake.render(j, listing=True) for j in newest_first]}
                assert await listed(http, fake, ids) == compact({**page, "next": None})


async def test_a_listing_after_a_state_change_shows_the_new_state(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    job = fake.add_job(status="started")
    assert (await by_id(http, fake, [job.id]))[job.id]["status"] == "started"
    clock.t += LATER
    first = (await by_id(http, fake, [job.id]))[job.id]
    assert first["status"] == "completed" and first["results"] is not None
    fake.set_fate(job.id, "failed", failure_code="TooManyShots")
    now = (await by_id(http, fake, [job.id]))[job.id]
    assert (now["status"], now["results"]) == ("failed", None)
    assert now["failure"]["code"] == "TooManyShots"
    status, body = await fetch(http, fake, "GET", f"/jobs/{job.id}")
    assert status == 200 and json.loads(body)["status"] == "failed"
    job.created += 1.0
    job.forget_rendering()
    moved = (await by_id(http, fake, [job.id]))[job.id]
    assert moved["submitted_at"] != first["submitted_at"]
    assert moved == fake.render(job, listing=True)


async def test_a_clone_of_a_source_whose_results_were_read_has_the_same_results(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    read, unread = fake.add_job(status="completed", circuit=GHZ), fake.add_job(circuit=GHZ)
    status, before = await fetch(http, fake, "GET", f"/jobs/{read.id}/results/probabilities")
    assert status == 200 and json.loads(before) == {"0": 0.5, "7": 0.5}
    twins = [await clone(http, fake, read.id), await clone(http, fake, unread.id, shots=8)]
    status, _ = await fetch(http, fake, "GET", f"/jobs/{twins[0]}/results/probabilities")
    assert status == 404  # not completed yet, whatever the source's state
    clock.t += LATER
    for twin in twins:
        path = f"/jobs/{twin}/results/probabilities"
        assert await fetch(http, fake, "GET", path) == (200, before)
        status, body = await fetch(http, fake, "GET", f"/jobs/{twin}")
        results = json.loads(body)["results"]
        assert results["probabilities"]["url"].endswith(f"/jobs/{twin}/results/probabilities")
    status, hist = await fetch(http, fake, "GET", f"/jobs/{twins[1]}/results/histogram")
    assert status == 200 and json.loads(hist) == {"0": 4, "7": 4}


async def test_a_source_deleted_or_ended_after_cloning_leaves_its_clones_alone(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    gone, ended = fake.add_job(circuit=GHZ), fake.add_job(circuit=BELL, status="started")
    before = fake.job_json(gone.id)["stats"]
    a, b = await clone(http, fake, gone.id), await clone(http, fake, ended.id)
    assert (await fetch(http, fake, "DELETE", f"/jobs/{gone.id}"))[0] == 200
    fake.set_fate(ended.id, "failed")
    clock.t += LATER
    jobs = await by_id(http, fake, [gone.id, a, b])
    assert set(jobs) == {a, b}
    assert (jobs[a]["status"], jobs[b]["status"]) == ("completed", "completed")
    assert jobs[a]["stats"] == before == stats(3, 1, 2)
    assert fake.status(ended.id) == "failed" and fake.clones_of(gone.id) == [fake.get_job(a)]


async def test_clones_of_lists_live_clones_oldest_first(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    src, other = fake.add_job(), fake.add_job()
    assert fake.clones_of(src.id) == []
    first = await clone(http, fake, src.id)
    assert [j.id for j in fake.clones_of(src.id)] == [first]
    more = [await clone(http, fake, src.id) for _ in range(3)]
    only = await clone(http, fake, other.id)
    fake.delete(more[1])
    assert [j.id for j in fake.clones_of(src.id)] == [first, more[0], more[2]]
    assert [j.id for j in fake.clones_of(other.id)] == [only]
    fake.delete(only)
    assert fake.clones_of(other.id) == [] and fake.clones_of("no-such-job") == []


async def test_stats_follow_each_circuit_even_when_equal_ones_are_shared(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    cases: list[tuple[list[dict[str, Any]], int | None, dict[str, Any]]] = [
        (BELL, None, stats(2, 1, 1)),
        ([dict(g) for g in BELL], None, stats(2, 1, 1)),
        (BELL, 5, stats(5, 1, 1)),
        (GHZ, None, stats(3, 1, 2)),
        ([{"gate": "x", "targets": [0, 3]}], None, stats(4, 0, 1)),
        ([{"gate": "x", "target": 1, "targets": [1]}], None, stats(2, 1, 0)),
        ([{"gate": "cnot", "control": 1, "target": 1}], None, stats(2, 1, 0)),
        ([{"gate": "x", "controls": [2], "target": 0}], None, stats(3, 0, 1)),
        ([{"gate": "x", "control": 2}], None, stats(3, 1, 0)),
    ]
    jobs = [fake.add_job(circuit=c, qubits=q, status="completed") for c, q, _ in cases]
    seen = await by_id(http, fake, [j.id for j in jobs])
    for job, (_, _, want) in zip(jobs, cases, strict=True):
        assert seen[job.id]["stats"] == want
    costly = fake.add_job(circuit=GHZ, backend="qpu.forte-1", shots=1000)
    status, body = await fetch(http, fake, "GET", f"/jobs/{await clone(http, fake, costly.id)}")
    assert status == 200 and json.loads(body)["stats"] == cases[3][2]
    status, cost = await fetch(http, fake, "GET", f"/jobs/{costly.id}/cost")
    assert status == 200 and json.loads(cost)["estimated_cost"]["value"] == costly.cost() > 0


async def test_request_ids_are_unique_uuid4_strings_per_server(clock: Clock) -> None:
    ids: list[str] = []
    for _ in range(2):
        async with FakeIonQ(clock=clock) as server, aiohttp.ClientSession() as http:
            for path in ("/jobs", "/whoami", "/backends", "/jobs/nope"):
                async with http.get(server.base_url + path) as resp:
                    ids.append(resp.headers["x-request-id"])
            assert [r.request_id for r in server.requests] == ids[-4:]
    assert len(set(ids)) == len(ids) == 8
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)


def test_job_ids_are_the_seeded_uuid4s() -> None:
    for seed in (0, 7, 12345):
        ids = [j.id for j in FakeIonQ(seed=seed).seed_jobs(200)]
        rng = random.Random(seed + 1)
        assert ids == [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in ids]


async def test_the_201_of_a_clone_encodes_any_session_id(
    fake: FakeIonQ, http: aiohttp.ClientSession
) -> None:
    for sid in ('s"\\é\u2028', None):
        src = fake.add_job(session_id=sid)
        status, raw = await fetch(http, fake, "POST", f"/jobs/{src.id}/clone", json={})
        new = json.loads(raw)["id"]
        assert (status, raw) == (
            201,
            compact({"id": new, "status": "submitted", "session_id": sid}),
        )


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"{}", 201), (b" {}", 201), (b'{"name":"x"}', 201), (b"{}x", 400), (b"{", 400), (b"[]", 400)],
)
async def test_clone_bodies_short_and_malformed(
    fake: FakeIonQ, http: aiohttp.ClientSession, data: bytes, status: int
) -> None:
    src = fake.add_job(name="src")
    headers = {"Content-Type": "application/json"}
    got, raw = await fetch(http, fake, "POST", f"/jobs/{src.id}/clone", data=data, headers=headers)
    assert got == status, raw
    if status == 201:
        name = "x" if b"name" in data else "src"
        assert fake.get_job(json.loads(raw)["id"]).name == name
    else:
        assert json.loads(raw)["statusCode"] == 400


def test_iso_timestamps_across_many_seconds_and_the_round_up() -> None:
    base = 1_799_999_990.0
    stamps = [base + k * 0.37 for k in range(400)] + [base + 0.9999996, base - 0.0000004]
    for ts in stamps * 2:  # the second pass reads the memo of whole seconds
        whole = int(ts // 1)
        micros = round((ts - whole) * 1e6)
        if micros == 1_000_000:
            whole, micros = whole + 1, 0
        want = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros // 1000:03d}Z"
        assert iso(ts) == want
    assert iso(base + 0.9999996) == "2027-01-15T07:59:51.000Z"


async def test_a_terminal_body_is_kept_from_its_second_reading_and_stays_exact(
    fake: FakeIonQ, http: aiohttp.ClientSession, clock: Clock
) -> None:
    """Read once (as a batch reads its sources), no body is kept; read again, it is."""
    jobs = [fake.add_job(status="completed") for _ in range(5)]
    running = fake.add_job(status="started")
    ids = [j.id for j in [*jobs, running]]
    first = await listed(http, fake, ids)
    assert all(not j._frozen for j in [*jobs, running])
    assert await listed(http, fake, ids) == first
    assert all(len(j._frozen) == 1 for j in jobs) and not running._frozen
    assert await listed(http, fake, ids) == first
    fake.set_fate(jobs[0].id, "failed", failure_code="TooManyShots")
    assert (await by_id(http, fake, [jobs[0].id]))[jobs[0].id]["status"] == "failed"
    assert not jobs[0]._frozen, "a changed fate is rendered afresh, not kept at once"
