"""Every script in examples/ runs offline (no IONQ_API_KEY) and prints something meaningful."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from _cli import cli_env, finish

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def _run(name: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    result = await finish(proc, timeout=60)
    assert "Traceback" not in result.err, result.err
    return result.code, result.out, result.err


def test_every_example_is_tested() -> None:
    assert {p.name for p in EXAMPLES.glob("*.py")} == {
        "clone_and_wait.py",
        "batch_rerun.py",
        "asyncio_app.py",
        "session_rerun.py",
        "blocking_script.py",
    }


async def test_clone_and_wait() -> None:
    code, out, err = await _run("clone_and_wait.py")
    assert code == 0, err
    assert "offline: IonQ emulator" in out
    assert "bell-2k: completed, 2000 shots" in out
    assert "state 0: 0.500" in out and "state 3: 0.500" in out


async def test_batch_rerun() -> None:
    code, out, err = await _run("batch_rerun.py")
    assert code == 0, err
    assert "50 jobs in" in out and "48 completed, 2 failed" in out
    assert out.count("failed (CompilationError)") == 2


async def test_asyncio_app() -> None:
    code, out, err = await _run("asyncio_app.py")
    assert code == 0, err
    assert "-> 200" in out
    assert '"status": "completed"' in out and '"3": 0.5' in out


async def test_session_rerun() -> None:
    code, out, err = await _run("session_rerun.py")
    assert code == 0, err
    assert "offline: IonQ emulator" in out and "at most 3 jobs" in out
    assert "5 jobs: 3 completed, 2 skipped" in out
    assert out.count("has ended (its job count limit of 3)") == 2
    assert re.search(r"session \S+: ended, 3 jobs, ended at ", out), out


async def test_blocking_script() -> None:
    code, out, err = await _run("blocking_script.py")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("offline: IonQ emulator at http://127.0.0.1:")
    assert re.fullmatch(r"source \S+: completed, 1000 shots", lines[1]), lines[1]
    assert "bigger: completed, 2000 shots" in lines
    assert "  state 0: 0.500" in lines and "  state 3: 0.500" in lines
    assert sum(line.startswith("re-ran ") and line.endswith(": completed") for line in lines) == 3
    assert re.fullmatch(r"session \S+: ended", lines[-1]), lines[-1]
