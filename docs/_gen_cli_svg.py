"""Draw docs/img/cli-rerun.svg and docs/img/cli-summary.svg: the CLI's rerun display.

    python docs/_gen_cli_svg.py        (needs the cli extra: pip install -e '.[cli]')

It re-runs 120 jobs on the bundled emulator under a 12,000 usd budget through the same
`RerunDisplay` and summary tables `ionq-async rerun` uses, and saves what a terminal shows:
the live display at about 60 % done, and the end of the run. Timings vary from run to run.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.terminal_theme import MONOKAI
from rich.text import Text

from ionq_async import CloneRequest, PollPolicy, RerunProgress
from ionq_async.cli._live import RerunDisplay
from ionq_async.cli._render import problems, summary
from ionq_async.testing import FakeIonQ, Fate
from ionq_async.testing import Job as FakeJob

IMG = Path(__file__).resolve().parent / "img"
WIDTH = 100
JOBS = 120
MAX_COST = 12_000
COMMAND = (
    f"$ ionq-async rerun --from ids.txt --shots 1000 --max-cost {MAX_COST} "
    "--journal run.sqlite --out out.jsonl"
)
BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]


def _svg_format() -> str:
    """rich's SVG template without its @font-face rules, which fetch Fira Code from a CDN."""
    from rich._export_format import CONSOLE_SVG_FORMAT

    return re.sub(r"@font-face \{\{.*?\}\}\s*", "", CONSOLE_SVG_FORMAT, flags=re.S)


def _save(name: str, *renderables: RenderableType) -> None:
    console = Console(
        record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(Text(COMMAND, style="bold"))
    for renderable in renderables:
        console.print(renderable)
    svg = console.export_svg(title="ionq-async rerun", theme=MONOKAI, code_format=_svg_format())
    if re.search(r"url\([\"']?https?:", svg):
        raise RuntimeError("the SVG would load a remote font; rich's template has changed")
    (IMG / name).write_text(svg, encoding="utf-8")
    print(f"wrote {IMG / name}")


async def main() -> None:
    IMG.mkdir(exist_ok=True)
    rng = random.Random(2026)
    async with FakeIonQ(durations=(0.1, 0.2, 0.4), seed=7) as fake:
        sources = [
            fake.add_job(
                name=f"bell-{i:03d}",
                circuit=BELL,
                shots=1000,
                status="completed",
                backend="qpu.forte-1",
            ).id
            for i in range(JOBS)
        ]
        broken = set(rng.sample(sources, 3))

        def fate_for(job: FakeJob) -> Fate | None:
            job.durations = (rng.uniform(0.1, 0.4), rng.uniform(0.2, 0.6), rng.uniform(0.3, 1.5))
            if job.cloned_from in broken:
                return Fate.failed("CompilationError", "Gate count exceeds the backend's limit.")
            return None

        fake.fate_for = fate_for
        live = Console(file=io.StringIO(), width=WIDTH, force_terminal=True)
        display = RerunDisplay[RerunProgress](live, JOBS, unit="usd")
        snapped = False

        def on_progress(progress: RerunProgress) -> None:
            nonlocal snapped
            display.update(progress)
            if not snapped and progress.done >= JOBS * 0.6:
                snapped = True
                _save("cli-rerun.svg", display.progress.get_renderable())

        async with fake.client() as client:
            with display:
                report = await client.jobs.rerun_all(
                    sources,
                    CloneRequest(shots=1000),
                    concurrency=64,
                    poll=PollPolicy(initial=0.2, factor=1.25, max_interval=0.5),
                    max_cost=MAX_COST,
                    on_progress=on_progress,
                )
            end: list[RenderableType] = [display.progress.get_renderable(), summary(report)]
            table = problems(report.outcomes)
            if table is not None:
                end.append(table)
            end.append(Text("outcomes written to out.jsonl", style="dim"))
            _save("cli-summary.svg", Group(*end))


if __name__ == "__main__":
    asyncio.run(main())
