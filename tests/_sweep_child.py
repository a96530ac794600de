"""A parent for the fault sweep's client processes: it imports the SDK once, forks one per run.

A fresh interpreter costs ~0.3 s of imports; a fork of this one costs milliseconds, so every
request index can have its own killed process and its own resuming process.

Protocol, one line each way per run. In: a JSON object (base_url, api_key, sources,
journal, out, err). Out: ``pid N`` once the child exists; the child waits until the
next line in is ``go`` (so the test can arm its kill first), then runs
``_sweep.rerun_batch`` with its stderr in ``err`` and writes the summary as JSON to
``out``. Out: ``exit N CODE`` when it ends (CODE -9 when killed by SIGKILL).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import _sweep


def _child(job: dict[str, Any], gate: int) -> None:
    err = os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    os.read(gate, 1)
    code = 0
    try:
        summary = asyncio.run(
            _sweep.rerun_batch(job["base_url"], job["api_key"], job["sources"], job["journal"])
        )
        Path(job["out"]).write_text(json.dumps(summary))
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    while line := sys.stdin.readline():
        job = json.loads(line)
        gate_r, gate_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(gate_w)
            _child(job, gate_r)
        os.close(gate_r)
        print("pid", pid, flush=True)
        if sys.stdin.readline().strip() == "go":
            os.write(gate_w, b"g")
        else:
            os.kill(pid, signal.SIGKILL)
        os.close(gate_w)
        _, status = os.waitpid(pid, 0)
        print("exit", pid, os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
