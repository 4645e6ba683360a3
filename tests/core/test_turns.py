"""A long pass in the event loop hands it to other tasks as it goes (issue 16)."""

from __future__ import annotations

import asyncio

from core.turns import taking_turns


async def test_a_long_pass_lets_other_tasks_run_every_so_many_items() -> None:
    passed: list[int] = []  # how far the pass was each time the other task ran
    done = asyncio.Event()

    async def chat() -> None:
        while not done.is_set():
            passed.append(seen[-1] if seen else 0)
            await asyncio.sleep(0)

    seen: list[int] = []
    other = asyncio.create_task(chat())
    await asyncio.sleep(0)  # the other task is waiting for its turn
    async for item in taking_turns(range(1, 251), every=100):
        seen.append(item)  # no await of its own: without turns the pass would hold the loop
    done.set()
    await other
    assert seen == list(range(1, 251))
    assert [n for n in passed if 0 < n < 250] == [100, 200]


async def test_a_short_pass_does_not_wait() -> None:
    assert [n async for n in taking_turns(["a", "b"], every=100)] == ["a", "b"]
