"""``python -m ionq_async.testing``: its options, in subprocesses, over real HTTP."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ionq_async.testing import ROUTES
from ionq_async.testing._serve import _fault_plan, _parser

REPO = Path(__file__).resolve().parents[1]
BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
HIST_V2 = "ionq.result.histogram.json.v2"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ionq_async.testing", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@asynccontextmanager
async def emulator(*args: str) -> AsyncIterator[tuple[str, str, aiohttp.ClientSession]]:
    """A standalone emulator with ``args``: its base URL, seeded Bell job id and a keyed session."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ionq_async.testing",
        "--port",
        "0",
        "--api-key",
        "cli-key",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode() for _ in range(3)]
        base = re.search(r"(http://\S+/v0\.4)", lines[0])
        bell = re.search(r"job: (\S+)", lines[2])
        assert base and bell and lines[1].strip() == "API key: cli-key", lines
        headers = {"Authorization": "apiKey cli-key"}
        async with aiohttp.ClientSession(headers=headers) as http:
            yield base.group(1), bell.group(1), http
    finally:
        proc.terminate()
        await proc.communicate()


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kw: Any
) -> tuple[int, Any, Mapping[str, str]]:
    async with http.request(method, url, **kw) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


def test_help_names_every_option_and_route() -> None:
    done = run_cli("--help")
    assert done.returncode == 0 and done.stderr == ""
    flags = [
        "--host",
        "--port",
        "--api-key",
        "--seed",
        "--durations",
        "--failure-rate",
        "--results-shape",
        "--result-format",
        "--estimate-shape",
        "--cost-factor",
        "--list-lag",
        "--fault-rate",
        "--rate-limit",
        "--burst",
    ]
    for text in [*flags, "SUBMITTED,READY,STARTED", "[ROUTE=]RATE", "descriptors", *ROUTES]:
        assert text in done.stdout, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-rate", "2"], "argument --fault-rate: 2 must be between 0 and 1"),
        (["--fault-rate", "get_jobs=0.1"], "unknown route 'get_jobs'"),
        (["--fault-rate", "end_session="], "argument --fault-rate: '' is not a number"),
        (["--fault-rate", "cost=0.1", "--fault-rate", "cost=0.2"], "'cost' given more than once"),
        (["--durations", "1,2"], "argument --durations: '1,2' must be three seconds"),
        (["--durations", "1,-2,3"], "argument --durations: -2 must be >= 0"),
        (["--durations", "1,inf,3"], "'inf' is not a finite number"),
        (["--cost-factor", "-0.5"], "argument --cost-factor: -0.5 must be >= 0"),
        (["--cost-factor", "lots"], "argument --cost-factor: 'lots' is not a number"),
        (["--list-lag", "nan"], "argument --list-lag: 'nan' is not a finite number"),
        (["--list-lag", "-1"], "argument --list-lag: -1 must be >= 0"),
        (["--results-shape", "urls"], "argument --results-shape: invalid choice: 'urls'"),
        (["--result-format", "ionq.result.counts"], "argument --result-format: invalid choice"),
        (["--estimate-shape", "v1"], "argument --estimate-shape: invalid choice: 'v1'"),
        (["--failure-rate", "1.5"], "argument --failure-rate: 1.5 must be between 0 and 1"),
        (["--rate-limit", "0"], "argument --rate-limit: 0 must be > 0"),
        (["--burst", "4"], "argument --burst: needs --rate-limit"),
        (["--rate-limit", "5", "--burst", "0.5"], "argument --burst: 0.5 must be >= 1"),
        (["--port", "65536"], "argument --port: 65536 is not between 0 and 65535"),
        (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], message: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, done
    assert message in done.stderr and "usage: python -m ionq_async.testing" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_taken_port_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("--port", str(port))
    assert done.returncode == 1 and done.stdout == ""
    prefix = f"python -m ionq_async.testing: error: cannot serve on 127.0.0.1:{port}: "
    assert done.stderr.startswith(prefix)
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


async def test_shape_durations_billing_and_lag_options_reach_the_server() -> None:
    args = [
        "--results-shape",
        "descriptors",
        "--result-format",
        HIST_V2,
        "--durations",
        "0,0,0",
        "--cost-factor",
        "2",
        "--list-lag",
        "1000",
        "--estimate-shape",
        "rate_information",
    ]
    async with emulator(*args) as (url, bell, http):
        status, job, _ = await call(http, "GET", f"{url}/jobs/{bell}")
        assert status == 200 and set(job["results"]) == {HIST_V2}
        payload = {
            "type": "ionq.circuit.v1",
            "backend": "qpu.forte-1",
            "shots": 1000,
            "input": {"gateset": "qis", "circuit": BELL},
        }
        status, created, _ = await call(http, "POST", f"{url}/jobs", json=payload)
        assert status == 201 and created["status"] == "completed"
        _, cost, _ = await call(http, "GET", f"{url}/jobs/{created['id']}/cost")
        assert (cost["estimated_cost"]["value"], cost["cost"]["value"]) == (97.5, 195.0)
        _, page, _ = await call(http, "GET", f"{url}/jobs", params={"ids": created["id"]})
        assert page == {"jobs": [], "next": None}
        _, estimate, _ = await call(http, "GET", f"{url}/jobs/estimate?backend=qpu.forte-1")
        assert estimate["rate_information"]["job_cost_minimum"] == 97.5


async def test_fault_failure_and_rate_limit_options_reach_the_server() -> None:
    args = ["--fault-rate", "end_session=1", "--failure-rate", "1", "--durations", "0,0,0"]
    args += ["--rate-limit", "0.001", "--burst", "3", "--seed", "4"]
    async with emulator(*args) as (url, _, http):
        status, session, _ = await call(http, "POST", f"{url}/sessions", json={"backend": "qpu"})
        assert status == 201 and session["backend"] == "qpu.forte-1"
        for _ in range(4):
            try:
                status, _, _ = await call(http, "POST", f"{url}/sessions/{session['id']}/end")
            except aiohttp.ClientConnectionError:
                continue
            assert status == 429 or status >= 500
        status, again, _ = await call(http, "GET", f"{url}/sessions/{session['id']}")
        assert status == 200 and again["status"] == "created"
        payload = {
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "input": {"gateset": "qis", "circuit": BELL},
        }
        status, created, _ = await call(http, "POST", f"{url}/jobs", json=payload)
        assert status == 201 and created["status"] == "failed"
        status, _, headers = await call(http, "GET", f"{url}/whoami")
        assert status == 429 and int(headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("argv", "always", "never"),
    [
        (["--fault-rate", "0.25"], set(), set()),
        (["--fault-rate", "cost=1", "--fault-rate", "get_job=0"], {"cost"}, {"get_job", "usage"}),
        (["--fault-rate", "*=1"], set(ROUTES), set()),
        (["--fault-rate", "end_session=0"], set(), set(ROUTES)),
        ([], set(), set(ROUTES)),
    ],
)
def test_fault_rules_become_a_seeded_plan(
    argv: Sequence[str], always: set[str], never: set[str]
) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    plans = [_fault_plan(parser, args.fault_rate, seed=9) for _ in range(2)]
    for route in ROUTES:
        picks = [[plan.pick(route, 0.0) for _ in range(40)] for plan in plans]
        assert picks[0] == picks[1], route
        if route in always:
            assert all(picks[0]), route
        if route in never:
            assert not any(picks[0]), route
    if argv == ["--fault-rate", "0.25"]:
        drawn = [plans[0].pick("get_job", 0.0) for _ in range(400)]
        assert 40 < sum(f is not None for f in drawn) < 160
