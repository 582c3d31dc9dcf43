"""The worker process for heavy Secretariat jobs: a job whose process dies fails with
BrokenProcessPool, and the next job runs in a new process instead of failing for as long
as the bot runs."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from bot.worker import ProcessWorker


def die() -> int:
    os._exit(1)  # the process ends at once, as when killed or out of memory


def answer() -> int:
    return 42


def pid() -> int:
    return os.getpid()


def fail() -> int:
    raise ValueError("a job's own error")


@pytest.fixture
def worker():
    worker = ProcessWorker()
    yield worker
    worker.shutdown()


async def test_a_job_that_kills_its_process_fails_and_the_next_job_runs(worker):
    first = await worker.run(pid)
    assert first != os.getpid()  # in another process
    with pytest.raises(BrokenProcessPool):
        await worker.run(die)
    assert await worker.run(answer) == 42
    second = await worker.run(pid)
    assert second not in (first, os.getpid())  # a new process
    assert await worker.run(pid) == second  # kept for the next jobs


async def test_a_job_killing_its_process_twice_in_a_row_is_survived(worker):
    for _ in range(2):
        with pytest.raises(BrokenProcessPool):
            await worker.run(die)
    assert await worker.run(answer) == 42


async def test_a_jobs_own_error_keeps_the_process(worker):
    before = await worker.run(pid)
    with pytest.raises(ValueError, match="a job's own error"):
        await worker.run(fail)
    assert await worker.run(pid) == before
    assert await worker.run(answer) == 42
