"""The fake_ionq pytest plugin and the standalone ``python -m ionq_async.testing`` server."""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import re
import sys
import textwrap
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "ionq_async.testing._plugin"

ONE_TEST = """
import aiohttp
import pytest


@pytest.mark.fake_ionq(durations=(0.0, 0.0, 0.0))
async def test_uses_fixture(fake_ionq):
    job = fake_ionq.add_job(name="bell")
    headers = {"Authorization": f"apiKey {fake_ionq.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as s:
        async with s.get(f"{fake_ionq.base_url}/jobs/{job.id}/results/probabilities") as r:
            assert await r.json() == {"0": 0.5, "3": 0.5}
"""


def _entry_point_registered() -> bool:
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


async def test_fake_ionq_fixture_in_a_foreign_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text(textwrap.dedent(ONE_TEST))
    args = ["-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", str(tmp_path)]
    args += ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"]
    if not _entry_point_registered():
        args += ["-p", PLUGIN]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert "1 passed" in out.decode()


async def test_standalone_server_serves_plain_aiohttp(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ionq_async.testing",
        "--port",
        "0",
        "--api-key",
        "secret",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 20)).decode() for _ in range(3)]
        base = re.search(r"(http://\S+/v0\.4)", lines[0])
        bell = re.search(r"job: (\S+)", lines[2])
        assert base and bell and "secret" in lines[1], lines
        url, src = base.group(1), bell.group(1)
        async with aiohttp.ClientSession(headers={"Authorization": "apiKey secret"}) as s:
            async with s.post(f"{url}/jobs/{src}/clone", json={"shots": 50}) as r:
                assert r.status == 201
                new = (await r.json())["id"]
            async with s.get(f"{url}/jobs/{new}") as r:
                job = await r.json()
                assert (job["shots"], job["name"]) == (50, "bell")
            async with s.get(f"{url}/jobs/{src}/results/probabilities") as r:
                assert await r.json() == {"0": 0.5, "3": 0.5}
    finally:
        proc.terminate()
        await proc.communicate()
    assert proc.returncode is not None
