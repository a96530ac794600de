"""README.md: it opens with the two fresh-machine commands, and its Quickstart runs unchanged."""

from __future__ import annotations

import ast
import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from ionq_async.testing import FakeIonQ, Fate

README = Path(__file__).resolve().parents[1] / "README.md"
README_SOURCE_ID = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


def _section_block(text: str, heading: str, lang: str) -> str:
    """The first ```lang fenced block after `heading` (and before the next `## ` heading)."""
    start = text.index(f"\n{heading}\n")
    section = text[start + len(heading) + 2 :]
    section = section.split("\n## ", 1)[0]
    match = re.search(rf"```{lang}\n(.*?)\n```", section, re.S)
    assert match, f"no ```{lang} block under {heading}"
    return match.group(1)


async def _run_python(program: str, *args: str) -> bytes:
    """Run `program` in a fresh interpreter (`-W error`, this environment); its stdout."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        program,
        *args,
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first = re.search(r"```(\w*)\n(.*?)\n```", text, re.S)
    assert first is not None and first.group(1) == "bash"
    assert text.index("```") < text.index("\n## ")  # before any section
    commands = [line.split("#")[0].strip() for line in first.group(2).splitlines()]
    assert [c for c in commands if c] == [
        "pip install -e '.[cli]' && ionq-async demo",
        "pip install -e '.[test]' && pytest",
    ]


async def test_quickstart_runs_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    code = _section_block(README.read_text(encoding="utf-8"), "## Quickstart", "python")
    assert README_SOURCE_ID in code and "asyncio.run(" in code
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        source = fake.add_job(
            name="bell",
            circuit=[{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}],
            shots=1000,
            status="completed",
        )
        # The emulator picks its own ids; point the README's fixed source id at the seeded job.
        code = code.replace(README_SOURCE_ID, source.id)
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(code)
        routes = [(r.method, r.path) for r in fake.requests]
        clones = [j for j in fake.jobs.values() if j.id != source.id]
    lines = out.decode().splitlines()
    assert len(clones) == 2
    by_shots = {j.shots: j for j in clones}
    assert set(by_shots) == {1000, 500}
    first, again = by_shots[1000], by_shots[500]
    assert first.backend == "simulator"
    assert again.name == "again"
    # print(job.id, job.status, job.shots, again.id)
    assert lines[0].split()[0] == first.id and lines[0].split()[-1] == again.id
    assert lines[0].split()[2] == "1000"
    # then one line per completed job listed, the seeded source among them
    assert any(line.split()[0] == source.id for line in lines[1:])
    assert ("POST", f"/v0.4/jobs/{source.id}/clone") in routes
    assert ("GET", f"/v0.4/jobs/{first.id}") in routes
    assert ("GET", "/v0.4/jobs") in routes


async def test_blocking_quickstart_runs_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Quickstart\n") :].split("\n## ", 2)[1]
    [code] = [
        b for b in re.findall(r"```python\n(.*?)\n```", section, re.S) if "with IonQ() as" in b
    ]
    assert "import asyncio" not in code and "await" not in code
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        source = fake.add_job(name="bell", shots=100, status="completed")
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(code.replace(README_SOURCE_ID, source.id))
        [clone] = [j for j in fake.jobs.values() if j.cloned_from == source.id]
    lines = out.decode().splitlines()
    assert lines[0] == f"{clone.id} completed {{'0': 0.5, '3': 0.5}}"
    assert clone.shots == 1000
    assert {line.split()[0] for line in lines[1:]} == {source.id, clone.id}


async def test_rerun_example_runs_unchanged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = _section_block(README.read_text(encoding="utf-8"), "## Re-running many jobs", "python")
    assert "async with client.jobs.rerun(" in code and "break" in code
    body = "\n".join("        " + line for line in code.splitlines())
    program = (
        "import asyncio, os, sys\nfrom ionq_async import AsyncIonQ\n\n\n"
        "async def main(source_ids):\n    async with AsyncIonQ() as client:\n"
        f"{body}\n\n\nos.chdir(sys.argv[1])\nasyncio.run(main(sys.argv[2:]))\n"
    )
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        sources = [fake.add_job(status="completed").id for _ in range(12)]
        fake.script_next_fates([Fate.failed("CompilationError")])
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(program, str(tmp_path), *sources)
        clones = {s: fake.clones_of(s) for s in sources}
    assert all(len(c) == 1 for c in clones.values()), "the resume cloned nothing twice"
    assert all(c[0].shots == 500 for c in clones.values())
    lines = out.decode().splitlines()
    streamed = lines[: lines.index(next(line for line in lines if line.startswith("{")))]
    assert streamed[-1].split()[1] == "failed", "the block was left at the failure"
    counts = ast.literal_eval(next(line for line in lines if line.startswith("{")))
    assert (counts["completed"], counts["failed"]) == (11, 1)
    assert sorted(line.split()[0] for line in lines[-12:]) == sorted(sources)
    assert (tmp_path / "rerun.sqlite").is_file()


async def test_emulator_example_runs_unchanged() -> None:
    code = _section_block(
        README.read_text(encoding="utf-8"), "## Testing with the emulator", "python"
    )
    body = "\n".join("    " + line for line in code.splitlines())
    program = f"import asyncio\n\n\nasync def main() -> None:\n{body}\n\n\nasyncio.run(main())\n"
    out = await _run_python(program)
    assert out.decode().strip() == "{'0': 0.5, '3': 0.5}"


async def test_backends_and_sessions_example_runs_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = _section_block(README.read_text(encoding="utf-8"), "## Backends and sessions", "python")
    assert README_SOURCE_ID in code and "client.sessions.open(" in code
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        source = fake.add_job(name="bell", backend="qpu.forte-1", status="completed")
        code = code.replace(README_SOURCE_ID, source.id)
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(code)
        [session] = fake.sessions.by_id.values()
        assert fake.session_json(session.id)["status"] == "ended"
        assert session.job_ids and fake.jobs[session.job_ids[0]].cloned_from == source.id
    lines = out.decode().splitlines()
    assert lines[0].split() == ["simulator", "available", "0.0"]
    assert sum(line.startswith("2026-06-1") for line in lines) == 3  # the 14th to the 16th
    assert lines[-1] == "1 ended"


async def test_account_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    code = _section_block(
        README.read_text(encoding="utf-8"), "## Account: whoami, usage and format schemas", "python"
    )
    body = "\n".join("        " + line for line in code.splitlines())
    program = (
        "import asyncio\nfrom ionq_async import AsyncIonQ\n\n\nasync def main(org_id):\n"
        f"    async with AsyncIonQ() as client:\n{body}\n        print(schema['$id'])\n\n\n"
        "asyncio.run(main(__import__('sys').argv[1]))\n"
    )
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(program, fake.organization_id)
    assert out.decode().splitlines() == [
        "ionq-async emulator 0.0 USD 0",
        "ionq.result.histogram.json.v2",
    ]


def _spend_program(code: str) -> str:
    """A README spending example as a program: `client`, `source_ids` (and `request`) given."""
    if "request = " not in code:
        code = "request = CloneRequest(shots=1000)\n" + code
    body = "\n".join("        " + line for line in code.splitlines())
    return (
        "import asyncio, sys\nfrom ionq_async import AsyncIonQ, CloneRequest\n\n\n"
        "async def main(source_ids):\n"
        f"    async with AsyncIonQ() as client:\n{body}\n\n\n"
        "asyncio.run(main(sys.argv[1:]))\n"
    )


def _spend_sources(fake: FakeIonQ) -> list[str]:
    """Thirty completed QPU jobs of 97.50 usd each at 1000 shots (2,925 usd in all)."""
    return [
        fake.add_job(backend="qpu.forte-1", shots=1000, status="completed").id for _ in range(30)
    ]


async def test_spending_safely_example_runs_a_campaign(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = _section_block(README.read_text(encoding="utf-8"), "## Spending safely", "python")
    assert 'journal="run.sqlite"' in code
    code = code.replace("run.sqlite", str(tmp_path / "run.sqlite"))
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        ids = _spend_sources(fake)
        monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
        monkeypatch.setenv("IONQ_BASE_URL", fake.base_url)
        out = await _run_python(_spend_program(code), *ids)
        clones = [c for i in ids for c in fake.clones_of(i)]
    lines = out.decode().splitlines()
    assert lines[0].startswith("Money(value=2925.0")
    assert lines[1] == "Money(value=2925.0, unit='usd') 2000.0"
    assert lines[2:] == ["10 1950.0 1950.0", "0.0 1950.0", "975.0 2925.0"]
    assert len(clones) == 30 and sum(c.cost() for c in clones) == 2925.0


async def test_spending_safely_drift_example_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from test_spend_campaign import Billing

    text = README.read_text(encoding="utf-8")
    code = _section_block(text, "### When IonQ bills more than it estimated", "python")
    code = code.replace("drift.sqlite", str(tmp_path / "drift.sqlite"))
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        ids = _spend_sources(fake)
        async with Billing(fake, 2.0) as billing:
            monkeypatch.setenv("IONQ_API_KEY", fake.api_key)
            monkeypatch.setenv("IONQ_BASE_URL", f"http://127.0.0.1:{billing.port}/v0.4")
            out = await _run_python(_spend_program(code), *ids)
        billed = sum(2 * c.cost() for i in ids for c in fake.clones_of(i))
    assert out.decode().splitlines() == ["2.0", "30 True"]
    assert billed == 5850.0 and all(len(fake.clones_of(i)) == 1 for i in ids)
