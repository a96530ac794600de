"""B2, the CLI row: ``ionq-async rerun`` on N sources vs the library's ``rerun_all``.

``python bench/bench_cli.py [--sizes 10000 100000] [--runs 3] [--smoke]``

For each size and run, interleaved: a fresh emulator process (``bench/_emulator.py``, N
completed sources; clones run 0.05 + 0.1 + 0.2 s, as in B2), then one fresh process of:
- ``cli``: ``python -m ionq_async.cli rerun --from ids.txt`` with ``IONQ_API_KEY`` and
  ``IONQ_BASE_URL`` set, its stderr (the live display) on a pseudo-terminal of 120x40 so
  that rich draws it as on a user's terminal (drained by this process; bytes counted), its
  stdout (the summary) to a file;
- ``lib``: the library call the CLI makes, with the CLI's settings:
  ``AsyncIonQ(max_connections=100)`` and ``jobs.rerun_all(ids, concurrency=64,
  poll=CLI_POLL)`` (tokens on, as the CLI's default), ids read from the same file.

Both walls are the process's, from spawn to exit (interpreter start, imports, reading the ids,
the run, the summary), measured here; CPU and peak RSS come from ``wait4``'s rusage of the
child. Target (issue 20): the CLI within 1.15x the library's wall, per run.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import importlib.util
import json
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import BENCH, Server, median, median_spread, python, table

DURATIONS = (0.05, 0.1, 0.2)
TARGET = 1.15
KINDS = ("lib", "cli")
_ROWS, _COLS = 40, 120


async def _lib(port: int, key: str, ids_file: str) -> dict[str, Any]:
    """The library call the CLI makes, with the CLI's settings."""
    from ionq_async import AsyncIonQ
    from ionq_async.cli._base import CLI_POLL

    text = await asyncio.to_thread(Path(ids_file).read_text)
    ids = [line for line in text.splitlines() if line]
    t0 = time.perf_counter()
    async with AsyncIonQ(key, base_url=f"http://127.0.0.1:{port}/v0.4", max_connections=100) as c:
        report = await c.jobs.rerun_all(ids, concurrency=64, poll=CLI_POLL)
    call = time.perf_counter() - t0
    return {"call": call, "counts": {k: v for k, v in report.counts.items() if v}}


def _drain(fd: int, counter: list[int]) -> None:
    """Read a pty's master end until the child closes it, counting the bytes."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        counter[0] += len(chunk)


def _spawn(kind: str, port: int, key: str, ids_file: Path, tmp: Path) -> dict[str, Any]:
    """One process of `kind`; its wall from spawn to exit, and its rusage."""
    env = dict(os.environ)
    if kind == "cli":
        env.update(
            IONQ_API_KEY=key, IONQ_BASE_URL=f"http://127.0.0.1:{port}/v0.4", TERM="xterm-256color"
        )
        argv = [python(), "-m", "ionq_async.cli", "rerun", "--from", str(ids_file)]
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", _ROWS, _COLS, 0, 0))
    else:
        argv = [python(), __file__, "--child", "--port", str(port), "--key", key]
        argv += ["--ids", str(ids_file)]
        master, slave = -1, subprocess.DEVNULL
    counter = [0]
    out_path = tmp / f"{kind}-stdout.txt"
    with out_path.open("w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=slave, env=env, cwd=BENCH.parent)
        drainer = None
        if master >= 0:
            os.close(slave)
            drainer = threading.Thread(target=_drain, args=(master, counter), daemon=True)
            drainer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    if drainer is not None:
        drainer.join(5)
        os.close(master)
    stdout = out_path.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} exited {proc.returncode}:\n{stdout[-2000:]}")
    result: dict[str, Any] = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
        "tty_bytes": counter[0],
    }
    if kind == "lib":
        result.update(json.loads(stdout.strip().splitlines()[-1]))
    elif "completed" not in stdout:
        raise RuntimeError(f"the CLI's summary does not say completed:\n{stdout[-2000:]}")
    return result


def _measure(kind: str, n: int, tmp: Path) -> dict[str, Any]:
    """Fresh emulator with n completed sources, then one process of `kind`."""
    with Server([python(), "bench/_emulator.py"]) as emu:
        info = json.loads(emu.first_line)
        emu.ask({"cmd": "durations", "value": list(DURATIONS)})
        ids = emu.ask({"cmd": "seed", "n": n, "status": "completed"})["ids"]
        ids_file = tmp / f"ids-{n}.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        emu.ask({"cmd": "reset"})
        result = _spawn(kind, info["port"], info["api_key"], ids_file, tmp)
        result["requests"] = emu.ask({"cmd": "stats"})["requests"]
    return result


def orchestrate(args: argparse.Namespace) -> str:
    """Every size, lib and cli interleaved run by run; the markdown section."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in args.sizes:
            runs = args.runs if n <= 10_000 else args.big_runs
            results: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            for run in range(runs):
                for kind in KINDS[run % 2 :] + KINDS[: run % 2]:
                    r = _measure(kind, n, tmp)
                    results[kind].append(r)
                    print(
                        f"B2 CLI run {run + 1} n={n} {kind}: {r['wall']:.2f} s, "
                        f"{r['cpu']:.1f} s CPU, {r['rss']:.0f} MB, {r['tty_bytes']:,} tty bytes",
                        file=sys.stderr,
                    )
            lib, cli = results["lib"], results["cli"]
            ratios = [c["wall"] / a["wall"] for a, c in zip(lib, cli, strict=True)]
            ratio = median([c["wall"] for c in cli]) / median([a["wall"] for a in lib])
            for kind, rs in results.items():
                rows.append(
                    [
                        f"{n:,}",
                        "`ionq-async rerun --from FILE`" if kind == "cli" else "`rerun_all()`",
                        median_spread([r["wall"] for r in rs], "{:.2f}"),
                        median_spread([r["call"] for r in rs], "{:.2f}") if kind == "lib" else "",
                        median_spread([r["cpu"] / n * 1e6 for r in rs]),
                        median_spread([r["rss"] for r in rs]),
                        median_spread([r["requests"] / n for r in rs], "{:.3f}"),
                        median_spread([r["tty_bytes"] / 1024 for r in rs], "{:.0f}"),
                        f"{ratio:.2f} (per run {median_spread(ratios, '{:.2f}')})"
                        if kind == "cli"
                        else "1.00",
                        ("yes" if ratio <= TARGET else "no") if kind == "cli" else "",
                    ]
                )
    head = [
        "jobs",
        "process",
        "process wall s",
        "of which rerun_all s",
        "CPU us / job",
        "peak RSS MB",
        "requests / job",
        "terminal output KB",
        "wall vs library",
        f"<= {TARGET}x?",
    ]
    return (
        f"### B2, the CLI: `ionq-async rerun` vs `rerun_all` (runs: {args.runs} up to "
        f"10,000 jobs, {args.big_runs} above)\n\n"
        "Each process fresh, against a fresh emulator process; the library call with the "
        "CLI's settings (`concurrency=64`, `poll=CLI_POLL`, tokens, 100 connections); the "
        f"CLI's live display on a {_COLS}x{_ROWS} pseudo-terminal. Walls are whole processes "
        "(start-up and summary included); CPU and peak RSS from the child's rusage.\n\n"
        + table(head, rows)
        + "\n"
    )


def main() -> None:
    """Parse arguments; run the library child, or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--runs", type=int, default=3, help="runs per size up to 10,000 jobs")
    p.add_argument("--big-runs", type=int, default=1, help="runs per size above 10,000 jobs")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_lib(args.port, args.key, args.ids))))
        return
    if args.smoke:
        args.sizes, args.runs, args.big_runs = [100], 1, 1
    if importlib.util.find_spec("rich") is None:
        p.error("the CLI needs rich: pip install -e '.[cli]' (nox -s bench installs it)")
    print(orchestrate(args))


if __name__ == "__main__":
    main()
