"""Long passes in a shared event loop take turns with the chats.

A bot replica runs the deadline tick and the accountants' screens in the same event loop as
every chat's updates. A pass over thousands of organizations that never awaits holds all of
them back until it ends: the tick over 1,000 organizations held a replica's loop for
0.15-0.4 s, and the acknowledgements waiting behind it were the slowest of a load run
(issue 16).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

EVERY = 100  # organizations between turns: a few milliseconds of work each


async def taking_turns(items: Iterable[T], every: int = EVERY) -> AsyncIterator[T]:
    """The items, handing the event loop to other tasks after every `every` of them."""
    for n, item in enumerate(items, start=1):
        yield item
        if n % every == 0:
            await asyncio.sleep(0)
