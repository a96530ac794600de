"""Ctrl-C during a blocking call: the work is cancelled and unwound, then KeyboardInterrupt."""

from __future__ import annotations

import _thread
import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _emu_thread import EmulatorThread, emulator_thread

from ionq_async import IonQ, Journal, PollPolicy

FAST = PollPolicy(initial=0.01, factor=1.0, max_interval=0.01, jitter=0.0)
HOUR = (3600.0, 3600.0, 3600.0)
PATIENCE = 30.0


@pytest.fixture(autouse=True)
def default_sigint() -> Iterator[None]:
    """Python's own SIGINT handler (KeyboardInterrupt in the main thread) for each test."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_when(ready: Callable[[], bool], how: str) -> threading.Thread:
    """A thread that presses Ctrl-C (in the main thread) once `ready()` is true."""

    def run() -> None:
        deadline = time.monotonic() + PATIENCE
        while not ready():
            if time.monotonic() > deadline:
                return  # the test then fails: its blocking call was never interrupted
            time.sleep(0.005)
        if how == "signal":
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        else:
            _thread.interrupt_main()

    thread = threading.Thread(target=run, name="ctrl-c")
    thread.start()
    return thread


def _gets(emu: EmulatorThread) -> int:
    return sum(1 for method, _ in emu.routes() if method == "GET")


async def _watched(client: IonQ) -> int:
    return client._twin.jobs._poller.watched


@pytest.mark.parametrize("how", ["signal", "interrupt_main"])
def test_ctrl_c_during_a_wait_cancels_it_and_the_client_goes_on(how: str) -> None:
    with emulator_thread(durations=HOUR) as emu:
        job_id = emu.add_job(name="slow")
        client = IonQ(emu.fake.api_key, base_url=emu.fake.base_url)
        presser = _interrupt_when(lambda: _gets(emu) >= 2, how)
        with pytest.raises(KeyboardInterrupt):
            client.jobs.wait(job_id, poll=FAST, cancel_on_timeout=True)
        presser.join()
        # The wait was cancelled on the loop thread and unwound before the interrupt rose.
        assert client._loop.run(_watched(client)) == 0
        assert client.jobs.get(job_id).id == job_id  # still usable
        client.close()  # awaits the cancel the interrupted wait asked for
        with IonQ(emu.fake.api_key, base_url=emu.fake.base_url) as other:
            assert other.jobs.get(job_id).status == "canceled"


def test_ctrl_c_during_a_rerun_leaves_no_clone_unjournaled(tmp_path: Path) -> None:
    path = tmp_path / "rerun.sqlite"
    with emulator_thread(durations=HOUR) as emu:
        sources = [emu.add_job(status="completed") for _ in range(40)]

        def clones() -> list[tuple[str, str | None]]:
            return emu.call(
                lambda: [
                    (j.id, (j.metadata or {}).get("ionq_async_token"))
                    for j in emu.fake.jobs.values()
                    if j.cloned_from
                ]
            )

        with IonQ(emu.fake.api_key, base_url=emu.fake.base_url) as client:
            presser = _interrupt_when(lambda: len(clones()) >= 6, "signal")
            with pytest.raises(KeyboardInterrupt):
                client.jobs.rerun_all(sources, concurrency=4, journal=str(path), poll=FAST)
            presser.join()
            assert client.whoami().key_name  # the client still works
        made = clones()  # every request of the client has ended by now

    async def load() -> dict[str, object]:
        async with Journal(path) as journal:
            return dict(await journal.load())

    entries = asyncio.run(load())
    known = {getattr(e, "job_id", None) for e in entries.values()}
    tokens = {getattr(e, "token", None) for e in entries.values()}
    assert 6 <= len(made) < len(sources)
    unrecorded = [job_id for job_id, token in made if job_id not in known and token not in tokens]
    assert unrecorded == []
