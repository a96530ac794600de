"""The ``ionq-async`` CLI, run as a subprocess against an in-process emulator."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from _cli import cli_env, finish, one_error_line, run_cli, start_cli, watch_keys

from ionq_async.testing import FakeIonQ

pytestmark = pytest.mark.fake_ionq(durations=(0.02, 0.03, 0.05))

MISSING = "00000000-0000-4000-8000-000000000000"


def _bell(fake: FakeIonQ, **kw: object) -> str:
    return fake.add_job(name="bell", shots=1000, status="completed", **kw).id  # type: ignore[arg-type]


async def test_get_prints_the_job(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    result = await run_cli("get", src, fake=fake_ionq)
    assert result.code == 0, result.err
    assert src in result.out
    assert "completed" in result.out and "bell" in result.out and "1,000" in result.out


async def test_get_json_and_global_options_after_the_command(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    args = ("get", src, "--json", "--api-key", fake_ionq.api_key, "--base-url", fake_ionq.base_url)
    result = await run_cli(*args, env=cli_env())
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["id"] == src and data["status"] == "completed" and data["shots"] == 1000


async def test_global_options_before_the_command(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    args = ("--api-key", fake_ionq.api_key, "--base-url", fake_ionq.base_url, "get", src)
    result = await run_cli(*args, env=cli_env())
    assert result.code == 0, result.err


async def test_clone_sends_the_overrides(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    result = await run_cli(
        *("clone", src, "--shots", "500", "--name", "again", "--backend", "simulator"),
        *("--metadata", "team=qa", "run=7", "--noise-model", "aria-1", "--noise-seed", "3"),
        *("--no-debiasing", "--json"),
        fake=fake_ionq,
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["source_id"] == src and data["status"] == "submitted"
    (clone,) = fake_ionq.clones_of(src)
    assert clone.id == data["id"]
    assert (clone.shots, clone.name, clone.metadata) == (500, "again", {"team": "qa", "run": "7"})
    assert clone.noise == {"model": "aria-1", "seed": 3}
    assert clone.settings == {"error_mitigation": {"debiasing": False}}


async def test_clone_inherits_what_is_not_given(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq, metadata={"k": "v"})
    result = await run_cli("clone", src, fake=fake_ionq)
    assert result.code == 0, result.err
    (clone,) = fake_ionq.clones_of(src)
    assert clone.id in result.out
    assert (clone.shots, clone.name, clone.metadata) == (1000, "bell", {"k": "v"})


async def test_clone_dry_run(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    result = await run_cli("clone", src, "--dry-run", fake=fake_ionq)
    assert result.code == 0, result.err
    (clone,) = fake_ionq.clones_of(src)
    assert clone.dry_run is True


async def test_clone_wait_shows_the_finished_job(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    result = await run_cli("clone", src, "--wait", fake=fake_ionq)
    assert result.code == 0, result.err
    (clone,) = fake_ionq.clones_of(src)
    assert clone.id in result.out and "completed" in result.out


async def test_clone_wait_of_a_failing_job_exits_1(fake_ionq: FakeIonQ) -> None:
    src = _bell(fake_ionq)
    fake_ionq.script_next_fates(["failed"])
    result = await run_cli("clone", src, "--wait", "--json", fake=fake_ionq)
    assert result.code == 1, result.err
    data = json.loads(result.out)
    assert data["status"] == "failed" and data["failure"]["code"] == "InternalError"


async def test_list_newest_first_with_status_and_limit(fake_ionq: FakeIonQ) -> None:
    ids = [_bell(fake_ionq) for _ in range(5)]
    fake_ionq.add_job(name="pending", durations=(60, 60, 60))
    result = await run_cli("list", "--status", "completed", "--limit", "3", fake=fake_ionq)
    assert result.code == 0, result.err
    assert [i in result.out for i in ids] == [False, False, True, True, True]
    assert "pending" not in result.out
    as_json = await run_cli("list", "--limit", "2", "--json", fake=fake_ionq)
    assert [j["name"] for j in json.loads(as_json.out)] == ["pending", "bell"]


async def test_wait_prints_each_job_and_exit_code_follows_outcomes(fake_ionq: FakeIonQ) -> None:
    done = [_bell(fake_ionq) for _ in range(2)]
    result = await run_cli("wait", *done, fake=fake_ionq)
    assert result.code == 0, result.err
    assert all(f"completed  {i}" in result.out for i in done)
    failed = fake_ionq.add_job(failure_code="QuantumComputerError", durations=(0.01, 0.01, 0.01))
    result = await run_cli("wait", done[0], failed.id, "--json", fake=fake_ionq)
    assert result.code == 1
    statuses = {j["id"]: j["status"] for j in json.loads(result.out)}
    assert statuses == {done[0]: "completed", failed.id: "failed"}


async def test_wait_timeout_is_one_line_exit_1(fake_ionq: FakeIonQ) -> None:
    slow = fake_ionq.add_job(durations=(60, 60, 60)).id
    result = await run_cli("wait", slow, "--timeout", "0.2", fake=fake_ionq)
    assert result.code == 1
    assert "not finished after 0.2 s" in one_error_line(result)


async def test_cancel_one_and_many(fake_ionq: FakeIonQ) -> None:
    jobs = [fake_ionq.add_job(durations=(60, 60, 60)).id for _ in range(3)]
    result = await run_cli("cancel", jobs[0], fake=fake_ionq)
    assert result.code == 0, result.err
    assert fake_ionq.status(jobs[0]) == "canceled"
    result = await run_cli("cancel", *jobs[1:], "--json", fake=fake_ionq)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"canceled": jobs[1:]}
    assert [fake_ionq.status(j) for j in jobs] == ["canceled"] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "not-a-uuid"), "not a job id"),
        (("clone", "{src}", "--shots", "0"), "shots must be between 1 and 1,000,000, got 0"),
        (("clone", "{src}", "--shots", "many"), "invalid int value: 'many'"),
        (("clone", "{src}", "--metadata", "novalue"), "key=value"),
        (("clone", "{src}", "--noise-seed", "1"), "--noise-seed needs --noise-model"),
        (("clone",), "required: JOB_ID"),
        (("wait", "{src}", "0198"), "not a job id"),
        (("cancel", "{src}", "xyz"), "not a job id"),
        (("list", "--status", "done"), "invalid choice: 'done'"),
        (("list", "--limit", "0"), "--limit must be at least 1"),
        (("rerun",), "no source job ids"),
        (("rerun", "--from", "/no/such/file.txt"), "--from file not found: /no/such/file.txt"),
        (("rerun", "{src}", "--concurrency", "0"), "--concurrency must be at least 1"),
        (("rerun", "{src}", "--timeout", "nan"), "seconds > 0, got nan"),
        (("rerun", "{src}", "--timeout", "soon"), "not a number of seconds: 'soon'"),
        (("wait", "{src}", "--timeout", "-1"), "seconds > 0, got -1"),
        (("wait", "{src}", "--timeout", "inf"), "seconds > 0, got inf"),
        (("clone", "{src}", "--wait", "--timeout", "nan"), "seconds > 0, got nan"),
        (("demo", "--jobs", "0"), "--jobs must be between 1"),
        (("emulator", "--fault-rate", "2"), "--fault-rate: 2 must be between 0 and 1"),
        (("emulator", "--burst", "3"), "--burst: needs --rate-limit"),
        (("emulator", "--fault-rate", "nowhere=0.5"), "nowhere"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
async def test_bad_input_is_one_line_exit_2(
    fake_ionq: FakeIonQ, args: tuple[str, ...], message: str
) -> None:
    src = _bell(fake_ionq)
    result = await run_cli(*(a.format(src=src) for a in args), fake=fake_ionq)
    assert result.code == 2, (result.out, result.err)
    assert message in one_error_line(result)
    assert fake_ionq.clones_of(src) == []


async def test_a_from_file_that_is_not_text_is_one_line_exit_2(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    src = _bell(fake_ionq)
    listing = tmp_path / "ids.bin"
    listing.write_bytes(src.encode() + b"\n\xff\xfe\x00binary\n")
    result = await run_cli("rerun", "--from", str(listing), fake=fake_ionq)
    assert result.code == 2, (result.out, result.err)
    assert f"--from file {listing} is not UTF-8 text" in one_error_line(result)
    assert fake_ionq.clones_of(src) == []


async def test_missing_api_key_exit_2() -> None:
    result = await run_cli("get", MISSING, env=cli_env())
    assert result.code == 2
    assert "no IonQ API key: pass --api-key or set IONQ_API_KEY" in one_error_line(result)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.example.com/v0.4", "uses plain http"),
        ("ftp://127.0.0.1/v0.4", "must be an http(s) URL"),
        ("https://127.0.0.1/v0.4?x=1", "must not carry a query"),
    ],
)
async def test_a_bad_base_url_is_named_not_taken_for_a_missing_key(url: str, message: str) -> None:
    result = await run_cli(
        "--base-url", url, "get", MISSING, env=cli_env(IONQ_API_KEY="secret-key-7c2b")
    )
    assert result.code == 2
    line = one_error_line(result)
    assert message in line and "no IonQ API key" not in line and "secret-key-7c2b" not in line


async def test_api_error_is_one_line_exit_1(fake_ionq: FakeIonQ) -> None:
    result = await run_cli("get", MISSING, fake=fake_ionq)
    assert result.code == 1
    assert "HTTP 404" in one_error_line(result)
    wrong_key = cli_env(fake_ionq, IONQ_API_KEY="wrong-key-0f3a")
    result = await run_cli("clone", MISSING, env=wrong_key)
    assert result.code == 1
    assert "HTTP 401" in one_error_line(result)


async def test_unreachable_server_is_one_line_exit_1() -> None:
    env = cli_env(IONQ_API_KEY="unused-key-5e1d", IONQ_BASE_URL="http://127.0.0.1:9/v0.4")
    result = await run_cli("get", MISSING, env=env)
    assert result.code == 1
    one_error_line(result)


async def test_missing_rich_asks_for_the_cli_extra() -> None:
    code = (
        "import sys; sys.modules['rich'] = None; import ionq_async; "
        "from ionq_async.cli import main; raise SystemExit(main(['get', sys.argv[1]]))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        MISSING,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(IONQ_API_KEY="unused-key-5e1d"),
    )
    watch_keys(proc, ["unused-key-5e1d"])
    result = await finish(proc)
    assert result.code == 2
    assert "pip install 'ionq-async[cli]'" in one_error_line(result)


async def test_emulator_command_serves_until_ctrl_c() -> None:
    # The emulator's whole command line (python -m ionq_async.testing), not a subset of it.
    proc = await start_cli(
        "emulator",
        "--port",
        "0",
        "--api-key",
        "test-key",
        "--cost-factor",
        "1.5",
        "--list-lag",
        "0.1",
        "--durations",
        "0.1,0.1,0.1",
        "--fault-rate",
        "get_job=0",
        env=cli_env(),
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            lines = [(await proc.stdout.readline()).decode().strip() for _ in range(3)]
        base_url = lines[0].rsplit(" ", 1)[1]
        bell = lines[2].rsplit(" ", 1)[1]
        env = cli_env(IONQ_API_KEY="test-key", IONQ_BASE_URL=base_url)
        got = await run_cli("get", bell, "--json", env=env)
        assert got.code == 0, got.err
        assert json.loads(got.out)["status"] == "completed"
    finally:
        proc.send_signal(signal.SIGINT)
        result = await finish(proc, timeout=30)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
