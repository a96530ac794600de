"""B5 soak: one client clones and waits for hours' worth of jobs; its memory must stay flat.

``python bench/bench_soak.py [--clones 200000] [--rounds 200] [--min-wall 600] [--smoke]``

The emulator (``bench/_emulator.py``) runs in its own process, seeded with one completed
source per clone of a round; clones run 0.01 + 0.02 + 0.05 s of virtual time. One fresh
client process (``AsyncIonQ`` defaults: adaptive rate limiter, default PollPolicy) works in
rounds, each starting no sooner than ``min_wall / rounds`` after the previous one, so the
whole soak lasts at least ``--min-wall`` seconds. Every round clones each source once,
with client tokens (``idempotent=True``), and awaits every clone, in two ways at once:
- half the sources through ``jobs.rerun_all(ids, journal=journal)``, with a fresh journal
  per round (a ``Journal`` the soak opens and closes, its file deleted after the round);
- the other half as a service would: a task per source doing ``jobs.clone(id,
  idempotent=True)`` then ``jobs.wait(created.id)`` (the client's 100 connections bound them).

After every round the client samples its RSS (``/proc/self/statm``) and the sizes of its
long-lived structures (``structure_sizes``): every container held by the token index, the
poller, the rate limiter and the round's journal, plus threads, open file descriptors,
asyncio tasks and the objects the cyclic GC tracks. The first ``--warmup`` rounds are
warm-up. Verdict: from the first rounds after warm-up to the last (a tenth of the measured
rounds at each end, each quantity the largest of its rounds), RSS and every structure grow by
less than 10 % (or, for a structure, by at most ``SLACK`` entries: what a round leaves
behind, such as the limiter's last second).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sized
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])

from _common import BENCH, Server, cpu_seconds, peak_rss_mb, python, table

DURATIONS = (0.01, 0.02, 0.05)
GROWTH = 0.10
SLACK = 64
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    resident = int(Path("/proc/self/statm").read_text().split()[1])
    return resident * _PAGE / 2**20


def _fields(obj: object) -> dict[str, Any]:
    """An object's attributes: its ``__dict__`` and any ``__slots__``."""
    found = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in found and hasattr(obj, name):
                found[name] = getattr(obj, name)
    return found


def _is_container(value: object) -> bool:
    return isinstance(value, Sized) and not isinstance(value, str | bytes | bytearray)


def _containers(prefix: str, obj: object) -> dict[str, int]:
    """The length of every container `obj` holds; for a dict, also its values' contents summed.

    A dict of lists (the poller's watches by job) adds ``name[*]``: the lists' total length;
    a dict of objects (the token index's scan scopes) adds ``name[*].attr`` for each
    container those objects hold.
    """
    sizes: dict[str, int] = {}
    for name, value in _fields(obj).items():
        if not _is_container(value):
            continue
        sizes[f"{prefix}.{name}"] = len(value)
        if not isinstance(value, dict):
            continue
        for item in list(value.values()):
            if _is_container(item):
                key = f"{prefix}.{name}[*]"
                sizes[key] = sizes.get(key, 0) + len(item)
                continue
            for attr, inner in _fields(item).items():
                if _is_container(inner):
                    key = f"{prefix}.{name}[*].{attr}"
                    sizes[key] = sizes.get(key, 0) + len(inner)
    return sizes


def _find(owner: object, names: Iterable[str], what: str) -> object:
    """The first of `names` set (not None) on `owner`; a LookupError naming what is there."""
    names = tuple(names)
    for name in names:
        value = getattr(owner, name, None)
        if value is not None:
            return value
    raise LookupError(
        f"{what}: none of {', '.join(names)} on {type(owner).__name__} "
        f"(it has: {', '.join(sorted(_fields(owner)))}); update bench/bench_soak.py"
    )


def structure_sizes(client: Any, journal: object | None = None) -> dict[str, int]:
    """Sizes of the client's long-lived structures (the one place that knows where they are).

    Fails loudly if the token index, the poller or the rate limiter is not found, or holds
    no container at all (its state moved somewhere this function does not look).
    """
    jobs = client.jobs
    parts = {
        "index": _find(jobs, ("_token_index", "token_index", "_index"), "the token index"),
        "poller": _find(jobs, ("_poller", "poller"), "the poller"),
        "limiter": _find(client, ("rate_limiter", "_rate_limiter", "limiter"), "the limiter"),
    }
    if journal is not None:
        parts["journal"] = journal
    sizes: dict[str, int] = {}
    for prefix, obj in parts.items():
        found = _containers(prefix, obj)
        if not found:
            raise LookupError(
                f"{prefix} ({type(obj).__name__}) holds no container: "
                f"{', '.join(sorted(_fields(obj)))}; update bench/bench_soak.py"
            )
        sizes.update(found)
    return sizes


def process_sizes() -> dict[str, int]:
    """Threads, open file descriptors, asyncio tasks and GC-tracked objects of this process."""
    return {
        "threads": threading.active_count(),
        "fds": len(os.listdir("/proc/self/fd")),
        "tasks": len(asyncio.all_tasks()),
        "gc objects": len(gc.get_objects()),
    }


async def _calls(client: Any, ids: list[str]) -> collections.Counter[str]:
    """A service's way: a task per source clones it with a token, then waits for the clone."""
    counts: collections.Counter[str] = collections.Counter()

    async def one(source: str) -> None:
        created = await client.jobs.clone(source, idempotent=True)
        job = await client.jobs.wait(created.id, raise_on_failure=False)
        counts[str(job.status)] += 1

    await asyncio.gather(*(one(source) for source in ids))
    return counts


async def _round(client: Any, ids: list[str], journal_path: Path) -> tuple[dict[str, int], int]:
    """One round: half by rerun_all with a fresh journal, half by clone + wait calls."""
    from ionq_async import Journal

    half = len(ids) // 2
    async with Journal(journal_path) as journal:
        report, calls = await asyncio.gather(
            client.jobs.rerun_all(ids[:half], journal=journal), _calls(client, ids[half:])
        )
        await asyncio.sleep(0.05)  # let done-callbacks of the round run before sampling
        pending = structure_sizes(client, journal)
    for path in journal_path.parent.glob(journal_path.name + "*"):
        path.unlink()
    counts = collections.Counter({k: v for k, v in report.counts.items() if v}) + calls
    return pending, counts.get("completed", 0)


async def soak(args: argparse.Namespace, sources: list[str]) -> dict[str, Any]:
    """The client's whole soak; every round's sample."""
    from ionq_async import AsyncIonQ

    per_round = len(sources)
    samples: list[dict[str, Any]] = []
    done = 0
    spacing = args.min_wall / args.rounds
    tmp = Path(args.tmp)
    async with AsyncIonQ(args.key, base_url=f"http://127.0.0.1:{args.port}/v0.4") as client:
        t0, c0 = time.perf_counter(), cpu_seconds()
        for k in range(args.rounds):
            delay = t0 + k * spacing - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sizes, completed = await _round(client, sources, tmp / f"round-{k}.sqlite")
            done += per_round
            if completed != per_round:
                raise RuntimeError(f"round {k}: {completed} of {per_round} clones completed")
            sample = {
                "round": k + 1,
                "elapsed": time.perf_counter() - t0,
                "clones": done,
                "cpu": cpu_seconds() - c0,
                "RSS MB": rss_mb(),
                **sizes,
                **process_sizes(),
            }
            samples.append(sample)
            print(
                f"B5 round {k + 1}/{args.rounds}: {sample['elapsed']:.1f} s, {done:,} clones, "
                f"RSS {sample['RSS MB']:.1f} MB, {sizes}",
                file=sys.stderr,
            )
    return {"samples": samples, "peak_rss": peak_rss_mb(), "per_round": per_round}


def _growth(first: float, last: float, slack: float) -> tuple[str, bool]:
    """The growth from `first` to `last`, and whether it is flat (< GROWTH, or within slack)."""
    if first > 0:
        g = (last - first) / first
        return f"{100 * g:+.1f} %", g < GROWTH or last - first <= slack
    return f"{first:g} -> {last:g}", last - first <= slack


def _span(samples: list[dict[str, Any]]) -> str:
    first, last = samples[0]["round"], samples[-1]["round"]
    return f"round {first}" if first == last else f"rounds {first}-{last}"


def report(result: dict[str, Any], args: argparse.Namespace, emu: dict[str, Any]) -> str:
    """The samples table and the verdict, as markdown."""
    samples = result["samples"]
    warm = min(args.warmup, len(samples) - 1)
    keys = [k for k in samples[-1] if k not in ("round", "elapsed", "clones", "cpu")]
    step = max(1, len(samples) // args.table_rows)
    shown = sorted({0, warm, len(samples) - 1, *range(0, len(samples), step)})
    head = ["round", "elapsed s", "clones", "client CPU s", *keys]
    rows = []
    for i in shown:
        s = samples[i]
        mark = " (first after warm-up)" if i == warm else ""
        cells = [f"{s.get(k, 0):.1f}" if k == "RSS MB" else f"{s.get(k, 0):,}" for k in keys]
        done = [f"{s['round']}{mark}", f"{s['elapsed']:.0f}", f"{s['clones']:,}"]
        rows.append([*done, f"{s['cpu']:.1f}", *cells])
    measured = samples[warm:]
    edge = max(1, len(measured) // 10)
    head_rounds, tail_rounds = measured[:edge], measured[-edge:]
    verdict_rows, flat_all = [], True
    for k in keys:
        a = max(float(s.get(k, 0)) for s in head_rounds)
        b = max(float(s.get(k, 0)) for s in tail_rounds)
        top = max(float(s.get(k, 0)) for s in measured)
        growth, flat = _growth(a, b, 0.0 if k == "RSS MB" else SLACK)
        flat_all &= flat
        fmt = "{:.1f}" if k == "RSS MB" else "{:,.0f}"
        verdict_rows.append(
            [k, fmt.format(a), fmt.format(b), fmt.format(top), growth, "yes" if flat else "NO"]
        )
    wall = samples[-1]["elapsed"]
    clones = samples[-1]["clones"]
    requests = emu.get("requests", 0)
    routes = ", ".join(f"{r} {c / clones:.3f}" for r, c in sorted(emu.get("by_route", {}).items()))
    return (
        f"### B5 soak ({clones:,} idempotent clones and waits in {len(samples)} rounds of "
        f"{result['per_round']:,}, {wall:.0f} s)\n\n"
        f"One client process; the emulator in its own process (jobs run "
        f"{' + '.join(map(str, DURATIONS))} s). Each round: half `rerun_all(ids, journal=...)` "
        f"(a fresh journal), half `clone(id, idempotent=True)` + `wait`, a task "
        f"per source. {clones / wall:,.0f} clones/s; {requests / clones:.3f} requests per clone "
        f"({routes}); client CPU {1e6 * samples[-1]['cpu'] / clones:.0f} us per clone; "
        f"client peak RSS {result['peak_rss']:.0f} MB. Rounds 1-{warm} are warm-up.\n\n"
        + table(head, rows)
        + f"\n\nFrom the first rounds after warm-up ({_span(head_rounds)}) to the last "
        f"({_span(tail_rounds)}), each value the largest of its rounds (so that what varies "
        f"within a bound, like the limiter's last second, compares bound to bound): flat = "
        f"growth < {100 * GROWTH:.0f} % (a structure may also grow by at most {SLACK} "
        f"entries).\n\n"
        + table(["quantity", "first rounds", "last rounds", "max", "growth", "flat?"], verdict_rows)
        + f"\n\n**B5 verdict: {'flat' if flat_all else 'NOT flat'}**\n"
    )


def orchestrate(args: argparse.Namespace) -> str:
    """Start the emulator, run the client, collect the emulator's request counts; report."""
    counts: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp_name, Server([python(), "bench/_emulator.py"]) as emu:
        tmp = Path(tmp_name)
        info = json.loads(emu.first_line)
        emu.ask({"cmd": "durations", "value": list(DURATIONS)})
        per_round = max(2, args.clones // args.rounds)
        ids = emu.ask({"cmd": "seed", "n": per_round, "status": "completed"})["ids"]
        (tmp / "ids.json").write_text(json.dumps(ids))
        emu.ask({"cmd": "reset"})
        argv = [python(), __file__, "--child", "--ids", str(tmp / "ids.json"), "--tmp", tmp_name]
        argv += ["--port", str(info["port"]), "--key", info["api_key"]]
        argv += ["--rounds", str(args.rounds), "--min-wall", str(args.min_wall)]
        with (tmp / "out.json").open("w") as out:
            child = subprocess.Popen(argv, stdout=out, cwd=BENCH.parent)
            deadline = time.monotonic() + args.timeout
            while child.poll() is None:
                if time.monotonic() > deadline:
                    child.kill()
                    raise TimeoutError(f"the soak took over {args.timeout:.0f} s")
                time.sleep(min(10.0, args.min_wall / 4))
                counts.update(_drain(emu))
        counts.update(_drain(emu))
        if child.returncode != 0:
            raise RuntimeError(f"the soak client exited {child.returncode}")
        result = json.loads((tmp / "out.json").read_text().strip().splitlines()[-1])
    emu_stats = {"requests": sum(counts.values()), "by_route": dict(counts)}
    return report(result, args, emu_stats)


def _drain(emu: Server) -> dict[str, int]:
    """The emulator's requests by route since the last drain (its log is then cleared)."""
    by_route: dict[str, int] = emu.ask({"cmd": "stats"})["by_route"]
    emu.ask({"cmd": "reset"})
    return by_route


def main() -> None:
    """Parse arguments; run the soak client, or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clones", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--min-wall", type=float, default=600.0, help="seconds, at least")
    p.add_argument("--warmup", type=int, help="warm-up rounds (default: a tenth, at least 1)")
    p.add_argument("--table-rows", type=int, default=20, help="about this many sample rows")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds")
    p.add_argument("--smoke", action="store_true", help="a few seconds")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ids", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--key", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        sources = json.loads(Path(args.ids).read_text())
        print(json.dumps(asyncio.run(soak(args, sources))))
        return
    if args.smoke:
        args.clones, args.rounds, args.min_wall, args.timeout = 240, 6, 3.0, 120.0
    if args.rounds < 2:
        raise SystemExit("--rounds must be at least 2 (one warm-up, one measured)")
    if args.warmup is None:
        args.warmup = max(1, args.rounds // 10)
    print(orchestrate(args))


if __name__ == "__main__":
    main()
