"""Issue 18 items 1-2 and issue 19 in ``ionq-async rerun``: one estimate, the library's budget,
the campaign's spend and IonQ's drift in the summary, the budget left as a session's limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import cli_env, one_error_line, run_cli
from test_spend_campaign import Billing, billed, price, sources

from ionq_async.testing import FakeIonQ

pytestmark = pytest.mark.fake_ionq(durations=(0.0, 0.01, 0.02))

QPU = "qpu.forte-1"


def listing(tmp_path: Path, ids: list[str]) -> str:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return str(path)


def estimates(fake: FakeIonQ) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.path.endswith("/estimate"))


def clone_posts(fake: FakeIonQ) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/clone"))


async def test_a_budgeted_run_estimates_once_and_shows_the_campaign(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake_ionq, 12)
    each = price(fake_ionq, ids[0])
    budget = 5 * each
    journal = str(tmp_path / "run.db")
    args = ("--from", listing(tmp_path, ids), "--max-cost", f"{budget:.2f}", "--partial")
    first = await run_cli("rerun", *args, "--journal", journal, fake=fake_ionq)
    assert first.code == 1, first.err  # some sources were skipped
    assert estimates(fake_ionq) == 1, "one shape, one estimate: the CLI does not estimate again"
    spent = billed(fake_ionq, ids)
    assert spent == pytest.approx(5 * each)
    assert f"campaign {spent:,.2f} usd of --max-cost {budget:,.2f} usd" in first.out
    assert "billed up to" not in first.out

    posts = clone_posts(fake_ionq)
    again = await run_cli(
        "rerun", *args, "--journal", journal, "--resume", "--json", fake=fake_ionq
    )
    assert again.code == 1, again.err
    assert clone_posts(fake_ionq) == posts, "the same --max-cost clones nothing more"
    report = json.loads(again.out)
    assert report["campaign_cost"] == pytest.approx(spent)
    assert report["actual_cost"] == 0.0 and report["max_cost"] == pytest.approx(budget)
    assert report["cost_ratio"] == pytest.approx(1.0)
    assert f"earlier runs on the journal spent {spent:,.2f} usd" in again.err

    refused = await run_cli("rerun", *args[:-1], "--journal", journal, "--resume", fake=fake_ionq)
    assert refused.code == 1, refused.err
    line = one_error_line(refused)
    assert f"earlier runs on the journal spent {spent:,.2f} usd of --max-cost" in line
    assert "no clone was sent" in line and clone_posts(fake_ionq) == posts


async def test_the_summary_shows_ionq_billing_over_its_estimates(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake_ionq, 6)
    each = price(fake_ionq, ids[0])
    async with Billing(fake_ionq, 2.0) as proxy:
        env = cli_env(fake_ionq, IONQ_BASE_URL=f"http://127.0.0.1:{proxy.port}/v0.4")
        result = await run_cli(
            "rerun", *ids, "--max-cost", f"{10 * each:.2f}", "--partial", env=env
        )
    assert result.code == 0, result.err  # all six fit at IonQ's estimates, before any bill
    assert "warning: IonQ billed up to 2.00x its estimates" in result.out
    assert billed(fake_ionq, ids, 2.0) <= 10 * each + sum(price(fake_ionq, s) for s in proxy.early)


async def test_a_new_session_for_a_budgeted_run_gets_the_budget_left(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake_ionq, 6)
    each = price(fake_ionq, ids[0])
    journal = str(tmp_path / "run.db")
    first = await run_cli(
        "rerun", *ids[:2], "--max-cost", f"{10 * each:.2f}", "--journal", journal, fake=fake_ionq
    )
    assert first.code == 0, first.err
    result = await run_cli(
        "rerun",
        *ids,
        "--max-cost",
        f"{10 * each:.2f}",
        "--journal",
        journal,
        "--resume",
        "--new-session",
        QPU,
        "--session-cost-limit",
        f"{100 * each:.2f}",
        fake=fake_ionq,
    )
    assert result.code == 0, result.err
    (session,) = fake_ionq.sessions.by_id.values()
    left = round(10 * each - 2 * each, 2)
    assert session.cost_limit == {"unit": "usd", "value": pytest.approx(left, abs=0.011)}
    assert f"session cost limit {session.cost_limit['value']:,.2f} usd" in result.err
    assert all(len(fake_ionq.clones_of(i)) == 1 for i in ids)
