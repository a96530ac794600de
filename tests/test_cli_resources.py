"""``ionq-async backends|whoami|sessions|results``, run as a subprocess against the emulator."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _cli import cli_env, one_error_line, run_cli

from ionq_async.cli._render_resources import bar, queue_time
from ionq_async.testing import FakeIonQ
from ionq_async.testing._store import PROJECT_ID

pytestmark = pytest.mark.fake_ionq(durations=(0.02, 0.03, 0.05))

MISSING = "00000000-0000-4000-8000-000000000000"
BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
# ry(2π/3) on qubit 0: P(1) = sin²(π/3) = 0.75.
TILTED = [{"gate": "ry", "target": 0, "rotation": 2 * math.pi / 3}]
MULTI: dict[str, Any] = {
    "type": "ionq.multi-circuit.v1",
    "backend": "simulator",
    "shots": 1000,
    "input": {
        "gateset": "qis",
        "circuits": [
            {"name": "bell", "circuit": BELL},
            {"name": "flip", "circuit": [{"gate": "x", "target": 0}], "qubits": 3},
        ],
    },
}
FUNCTION: dict[str, Any] = {
    "type": "quantum-function",
    "backend": "simulator",
    "input": {
        "data": {
            "type": "hamiltonian-energy",
            "data": {
                "hamiltonian": [{"pauli_string": "ZZ", "coefficient": 0.5}],
                "ansatz": {"data": "OPENQASM 3.0;"},
            },
        }
    },
}


def _rows(out: str) -> dict[str, list[str]]:
    """Table rows by their first word (a bitstring or a backend name)."""
    return {cells[0]: cells[1:] for line in out.splitlines() if (cells := line.split())}


async def test_backends_lists_every_backend_with_status_queue_and_degraded(
    fake_ionq: FakeIonQ,
) -> None:
    fake_ionq.set_backend("qpu.forte-enterprise-1", status="unavailable", degraded=True)
    result = await run_cli("backends", fake=fake_ionq)
    assert result.code == 0, result.err
    rows = _rows(result.out)
    assert rows["simulator"] == ["available", "29", "0s", "no"]
    assert rows["qpu.forte-1"] == ["available", "36", "19m", "41s", "no"]
    assert rows["qpu.forte-enterprise-1"] == ["unavailable", "36", "40m", "0s", "yes"]
    as_json = await run_cli("backends", "--json", fake=fake_ionq)
    data = {b["backend"]: b for b in json.loads(as_json.out)}
    assert set(data) == set(fake_ionq.backends)
    assert data["qpu.forte-1"]["average_queue_time"] == 1181215
    assert (data["qpu.forte-enterprise-1"]["status"], data["simulator"]["qubits"]) == (
        "unavailable",
        29,
    )


async def test_whoami_shows_the_key_name_id_and_project_never_the_key(
    fake_ionq: FakeIonQ,
) -> None:
    args = ("whoami", "--api-key", fake_ionq.api_key, "--base-url", fake_ionq.base_url)
    result = await run_cli(*args, env=cli_env())
    assert result.code == 0, result.err
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.out.splitlines()
        if line.count("│") == 3
    }
    assert rows["key name"] == "ionq-async emulator"
    assert rows["key id"] == fake_ionq.key_id
    assert rows["project"] == PROJECT_ID
    assert fake_ionq.api_key not in result.out + result.err
    as_json = await run_cli("whoami", "--json", fake=fake_ionq)
    assert json.loads(as_json.out) == {
        "key_id": fake_ionq.key_id,
        "key_name": "ionq-async emulator",
        "project_id": PROJECT_ID,
    }


async def test_sessions_create_list_and_end(fake_ionq: FakeIonQ) -> None:
    result = await run_cli(
        *("sessions", "create", "qpu.forte-1", "--job-limit", "3"),
        *("--duration-limit", "30", "--cost-limit", "12.5"),
        fake=fake_ionq,
    )
    assert result.code == 0, result.err
    (session,) = fake_ionq.sessions.by_id.values()
    assert (session.backend, session.job_count_limit, session.duration_limit_min) == (
        "qpu.forte-1",
        3,
        30,
    )
    assert session.cost_limit == {"unit": "usd", "value": 12.5}
    assert f"created session {session.id} on qpu.forte-1" in result.out
    assert "3 jobs · 30 min · 12.50 USD" in result.out

    other = fake_ionq.add_session("simulator")
    listed = await run_cli("sessions", "list", fake=fake_ionq)
    assert listed.code == 0, listed.err
    rows = _rows(listed.out)
    assert rows[session.id][:2] == ["created", "qpu.forte-1"]
    assert rows[other.id][:2] == ["created", "simulator"]

    ended = await run_cli("sessions", "end", other.id, fake=fake_ionq)
    assert ended.code == 0, ended.err
    assert fake_ionq.session_json(other.id)["status"] == "ended"
    assert "│ status  │ ended" in ended.out and other.id in ended.out

    active = await run_cli("sessions", "list", "--active", "--json", fake=fake_ionq)
    assert [(s["id"], s["status"]) for s in json.loads(active.out)] == [(session.id, "created")]
    assert fake_ionq.session_json(session.id)["active"] is True


async def test_sessions_create_and_end_as_json(fake_ionq: FakeIonQ) -> None:
    key, url = ("--api-key", fake_ionq.api_key), ("--base-url", fake_ionq.base_url)
    created = await run_cli("sessions", *key, "create", "simulator", "--json", *url, env=cli_env())
    assert created.code == 0, created.err
    data = json.loads(created.out)
    assert data["backend"] == "simulator" and data["status"] == "created"
    assert data["id"] in fake_ionq.sessions.by_id
    ended = await run_cli("sessions", "end", data["id"], "--json", *key, *url, env=cli_env())
    data = json.loads(ended.out)
    assert (data["status"], data["active"]) == ("ended", False)
    assert data["ended_at"].endswith("Z")
    none = await run_cli("sessions", "list", "--active", fake=fake_ionq)
    assert none.code == 0 and none.out == "" and "no active sessions" in none.err


async def test_results_of_a_bell_pair_is_a_histogram(fake_ionq: FakeIonQ) -> None:
    bell = fake_ionq.add_job(name="bell", circuit=BELL, shots=1000, status="completed").id
    result = await run_cli("results", bell, fake=fake_ionq)
    assert result.code == 0, result.err
    rows = _rows(result.out)
    full = "█" * 40
    assert rows["00"] == ["0.500", "500", full] and rows["11"] == ["0.500", "500", full]
    assert "01" not in rows and "10" not in rows
    assert f"Results of bell ({bell})" in result.out
    assert "2 outcomes · 1,000 shots" in result.out

    as_json = await run_cli("results", bell, "--json", fake=fake_ionq)
    data = json.loads(as_json.out)
    assert (data["job_id"], data["qubits"], data["shots"]) == (bell, 2, 1000)
    assert data["outcomes"] == [
        {"bitstring": "00", "probability": 0.5, "count": 500},
        {"bitstring": "11", "probability": 0.5, "count": 500},
    ]
    assert "█" not in as_json.out


async def test_results_bars_scale_to_the_most_likely_and_top_and_sort(
    fake_ionq: FakeIonQ,
) -> None:
    job = fake_ionq.add_job(circuit=TILTED, shots=200, status="completed", qubits=2).id
    result = await run_cli("results", job, fake=fake_ionq)
    assert result.code == 0, result.err
    lines = [line.split() for line in result.out.splitlines() if line.strip()[:2] in ("00", "01")]
    assert lines == [["01", "0.750", "150", "█" * 40], ["00", "0.250", "50", "█" * 13 + "▍"]]
    by_bits = await run_cli("results", job, "--sort", "bitstring", "--json", fake=fake_ionq)
    assert [o["bitstring"] for o in json.loads(by_bits.out)["outcomes"]] == ["00", "01"]
    top = await run_cli("results", job, "--top", "1", fake=fake_ionq)
    assert "01" in _rows(top.out) and "00" not in _rows(top.out)
    assert "top 1 of 2 outcomes" in top.out


async def test_results_of_a_multi_circuit_job_shows_each_circuit(fake_ionq: FakeIonQ) -> None:
    async with fake_ionq.client() as client:
        parent = (await client.jobs.create(MULTI)).id
        await client.jobs.wait(parent)
    first, second = fake_ionq.job_json(parent)["child_job_ids"]
    result = await run_cli("results", parent, fake=fake_ionq)
    assert result.code == 0, result.err
    out = result.out
    assert f"multi-circuit job {parent}: 2 circuits" in out
    assert f"circuit 1 of 2: bell ({first})" in out
    assert f"circuit 2 of 2: flip ({second})" in out
    bell, flip = out.split("circuit 2 of 2")
    assert _rows(bell)["00"][:2] == ["0.500", "500"] and _rows(bell)["11"][:2] == ["0.500", "500"]
    assert _rows(flip)["001"][:2] == ["1.000", "1,000"]
    assert "aggregate: the probabilities of all 2 circuits" in out

    as_json = await run_cli("results", parent, "--json", fake=fake_ionq)
    data = json.loads(as_json.out)
    assert [c["job_id"] for c in data["circuits"]] == [first, second]
    assert [c["name"] for c in data["circuits"]] == ["bell", "flip"]
    assert data["aggregate"] == {first: {"00": 0.5, "11": 0.5}, second: {"001": 1.0}}


async def test_results_of_a_function_job_points_to_its_raw_results(fake_ionq: FakeIonQ) -> None:
    async with fake_ionq.client() as client:
        job = (await client.jobs.create(FUNCTION)).id
        await client.jobs.wait(job)
    result = await run_cli("results", job, fake=fake_ionq)
    assert result.code == 0, result.err
    assert f"job {job} has no probabilities to show; --json prints its raw results" in result.out
    as_json = await run_cli("results", job, "--json", fake=fake_ionq)
    data = json.loads(as_json.out)
    assert data["outcomes"] == [] and data["raw"] == fake_ionq.job_json(job)["results"]


async def test_results_of_an_unfinished_or_failed_job_is_one_line_exit_1(
    fake_ionq: FakeIonQ,
) -> None:
    running = fake_ionq.add_job(durations=(60, 60, 60)).id
    result = await run_cli("results", running, fake=fake_ionq)
    assert result.code == 1 and result.out == ""
    assert f"job {running} is submitted; its results exist once it is completed" in (
        one_error_line(result)
    )
    failed = fake_ionq.add_job(failure_code="QuantumComputerError", status="failed").id
    result = await run_cli("results", failed, fake=fake_ionq)
    assert result.code == 1
    assert failed in one_error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("results", "not-a-uuid"), "not a job id"),
        (("results", MISSING, "--top", "0"), "--top must be at least 1"),
        (("results", MISSING, "--sort", "count"), "invalid choice: 'count'"),
        (("sessions",), "required: ACTION"),
        (("sessions", "create"), "required: BACKEND"),
        (("sessions", "create", "qpu.forte-1", "--job-limit", "0"), "--job-limit must be"),
        (("sessions", "create", "qpu.forte-1", "--cost-limit", "-1"), "--cost-limit must be"),
        (("sessions", "create", "qpu/../x"), "backend must be a non-empty name"),
        (("sessions", "end", "a/b"), "not a session id: 'a/b'"),
        (("sessions", "stop"), "invalid choice: 'stop'"),
        (("whoami", "extra"), "unrecognized arguments: extra"),
    ],
)
async def test_bad_input_is_one_line_exit_2(
    fake_ionq: FakeIonQ, args: tuple[str, ...], message: str
) -> None:
    result = await run_cli(*args, fake=fake_ionq)
    assert result.code == 2, (result.out, result.err)
    assert message in one_error_line(result)
    assert fake_ionq.sessions.by_id == {}


async def test_api_errors_are_one_line_exit_1(fake_ionq: FakeIonQ) -> None:
    for args, status in (
        (("results", MISSING), "HTTP 404"),
        (("sessions", "end", MISSING), "HTTP 404"),
        (("sessions", "create", "qpu.nope"), 'HTTP 400: "backend" must be one of'),
    ):
        result = await run_cli(*args, fake=fake_ionq)
        assert result.code == 1, (args, result.err)
        assert status in one_error_line(result)
    wrong_key = cli_env(fake_ionq, IONQ_API_KEY="wrong-key-0f3a")
    for args in (("whoami",), ("sessions", "list"), ("results", MISSING)):
        result = await run_cli(*args, env=wrong_key)
        assert result.code == 1
        assert "HTTP 401" in one_error_line(result)
    assert fake_ionq.sessions.by_id == {}


def test_queue_time_reads_like_a_person_would_say_it() -> None:
    assert [queue_time(ms) for ms in (None, 0, 45_400, 1_181_215, 7_500_000, 277_200_000)] == [
        "",
        "0s",
        "45s",
        "19m 41s",
        "2h 5m",
        "3d 5h",
    ]


def test_bars_use_eighth_blocks_and_show_any_outcome_seen() -> None:
    assert bar(1.0, 4) == "████"
    assert bar(0.5, 3) == "█▌"
    assert bar(0.001, 10) == "▏"
    assert bar(0.0, 10) == ""
    assert bar(0.5, 4, ascii=True) == "##"


@pytest.mark.parametrize("columns", [80, 110, 160])
async def test_sessions_list_is_readable_at_any_terminal_width(
    fake_ionq: FakeIonQ, columns: int
) -> None:
    made = await run_cli(
        "sessions",
        "create",
        "qpu.forte-1",
        "--job-limit",
        "5",
        "--cost-limit",
        "100",
        "--json",
        fake=fake_ionq,
    )
    assert made.code == 0, made.err
    session_id = json.loads(made.out)["id"]
    env = cli_env(fake_ionq, COLUMNS=str(columns))
    listed = await run_cli("sessions", "list", env=env)
    assert listed.code == 0, listed.err
    assert "…" not in listed.out, listed.out
    assert max(len(line) for line in listed.out.splitlines()) <= columns
    row = _rows(listed.out)[session_id]
    assert row[:2] == ["created", "qpu.forte-1"]
    assert "5 jobs ·" in listed.out and "100.00" in listed.out
    assert ("created" in listed.out.splitlines()[2]) is (columns >= 110)
