"""The worker processes for heavy jobs: one per lane, so that a template never waits behind a
file or an export; each job under its lane's limits (address space, CPU time, wall clock), so
that a job past them fails alone, with JobFailed, and the lane's next job runs in a new
process; a job whose process dies fails too, and the next one runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

import pytest

from bot.worker import MIB, Limits, ProcessWorker
from pmm_core.jobs import JobFailed, Lane, runs_in


def die() -> int:
    os._exit(1)  # the process ends at once, as when killed or out of memory


def answer() -> int:
    return 42


def pid() -> int:
    return os.getpid()


def fail() -> int:
    raise ValueError("a job's own error")


@runs_in(Lane.FILES)
def file_pid() -> int:
    return os.getpid()


@runs_in(Lane.QUICK)
def quick_pid() -> int:
    return os.getpid()


@runs_in(Lane.FILES)
def hog_memory() -> int:
    return len(bytearray(2048 * MIB))  # past the lane's address space


@runs_in(Lane.FILES)
def hog_memory_then_catch() -> int:
    try:
        return len(bytearray(2048 * MIB))
    except MemoryError:  # a job that swallows the error still got no memory past the limit
        return -1


@runs_in(Lane.FILES)
def spin() -> int:
    while True:  # CPU-bound for ever
        pass


@runs_in(Lane.FILES)
def spin_catching() -> int:
    n = 0
    while True:
        with contextlib.suppress(Exception):  # SIGXCPU is not an Exception: it still ends the job
            n += 1


@runs_in(Lane.FILES)
def hang(seconds: float) -> int:
    time.sleep(seconds)  # neither CPU nor memory: only the wall clock stops it
    return 1


TIGHT = {Lane.FILES: Limits(seconds=3, cpu_seconds=1, memory=768 * MIB)}


@pytest.fixture
def worker():
    worker = ProcessWorker(TIGHT)
    yield worker
    worker.shutdown()


async def test_a_job_that_kills_its_process_fails_and_the_next_job_runs(worker):
    first = await worker.run(pid)
    assert first != os.getpid()  # in another process
    with pytest.raises(JobFailed) as failed:
        await worker.run(die)
    assert failed.value.reason == "died"
    assert await worker.run(answer) == 42
    second = await worker.run(pid)
    assert second not in (first, os.getpid())  # a new process
    assert await worker.run(pid) == second  # kept for the next jobs


async def test_a_job_killing_its_process_twice_in_a_row_is_survived(worker):
    for _ in range(2):
        with pytest.raises(JobFailed):
            await worker.run(die)
    assert await worker.run(answer) == 42


async def test_a_jobs_own_error_keeps_the_process(worker):
    before = await worker.run(pid)
    with pytest.raises(ValueError, match="a job's own error"):
        await worker.run(fail)
    assert await worker.run(pid) == before
    assert await worker.run(answer) == 42


async def test_each_lane_has_its_own_process(worker):
    reports, files, quick = await worker.run(pid), await worker.run(file_pid), await worker.run(quick_pid)
    assert len({reports, files, quick, os.getpid()}) == 4
    assert worker.pids() == {Lane.REPORTS: reports, Lane.FILES: files, Lane.QUICK: quick}


async def test_a_template_does_not_wait_behind_a_file():
    worker = ProcessWorker({Lane.FILES: Limits(seconds=30, cpu_seconds=30, memory=None)})
    try:
        await worker.run(quick_pid)  # both processes started
        await worker.run(file_pid)
        slow = asyncio.create_task(worker.run(hang, 5.0))
        await asyncio.sleep(0.2)
        quick = asyncio.create_task(worker.run(quick_pid))
        done, _ = await asyncio.wait({slow, quick}, return_when=asyncio.FIRST_COMPLETED)
        assert done == {quick}
        assert await slow == 1
    finally:
        worker.shutdown()


async def test_past_its_memory_a_job_fails_and_the_next_runs_in_a_new_process(worker):
    before = await worker.run(file_pid)
    with pytest.raises(JobFailed) as failed:
        await worker.run(hog_memory)
    assert failed.value.reason == "memory"
    after = await worker.run(file_pid)
    assert after != before  # a fresh process
    assert await worker.run(hog_memory_then_catch) == -1  # the memory was never given
    assert await worker.run(file_pid) == after


async def test_past_its_cpu_time_a_job_fails_and_the_process_stays():
    worker = ProcessWorker({Lane.FILES: Limits(seconds=120, cpu_seconds=1, memory=None)})  # a busy machine is slow
    try:
        before = await worker.run(file_pid)
        for job in (spin, spin_catching):
            with pytest.raises(JobFailed) as failed:
                await worker.run(job)
            assert failed.value.reason == "cpu"
        assert await worker.run(file_pid) == before  # the CPU limit is per job
    finally:
        worker.shutdown()


async def test_past_its_wall_clock_a_job_is_killed_and_the_next_runs(worker):
    before = await worker.run(file_pid)
    start = time.monotonic()
    with pytest.raises(JobFailed) as failed:
        await worker.run(hang, 60.0)
    assert failed.value.reason == "time" and time.monotonic() - start < 10
    after = await worker.run(file_pid)
    assert after != before
    assert await worker.run(hang, 0.1) == 1


async def test_an_idle_lane_gives_its_memory_back():
    worker = ProcessWorker({Lane.FILES: Limits(seconds=10, cpu_seconds=10, memory=None, idle=0.3)})
    try:
        first = await worker.run(file_pid)
        assert Lane.FILES in worker.pids()
        await asyncio.sleep(1.5)
        assert Lane.FILES not in worker.pids()
        assert await worker.run(file_pid) != first
    finally:
        worker.shutdown()
