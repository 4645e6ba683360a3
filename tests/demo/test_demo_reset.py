"""Starting over: a fresh database and chats, and exactly one bot taking the updates."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot.demo.runner import Demo
from bot.demo.seed import CASTS, CLIENT_ID
from storage import tables


def polling_tasks() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").endswith("Dispatcher._polling")
    ]


async def test_reset_starts_over_with_one_bot_polling(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "demo", "127.0.0.1", 0, "he")
    app = await demo.start()
    try:
        assert len(polling_tasks()) == 1
        client_chat = demo.server.state.bot(app.bot.token).chats[CLIENT_ID]
        assert client_chat.bot_message_count == 1  # joined by the invite, through the bot

        await demo.reset("en")
        await asyncio.sleep(0.3)
        assert len(polling_tasks()) == 1
        async with app.uow_factory() as uow:
            assert uow.session is not None
            offices = (await uow.session.execute(select(tables.offices.c.name))).scalars()
            assert list(offices) == [CASTS["en"].office]
        chats = demo.server.state.bot(app.bot.token).chats
        assert chats[CLIENT_ID].bot_message_count == 1
        assert "joined" in (chats[CLIENT_ID].messages[2].data.get("text") or "")
    finally:
        await demo.close()
    assert polling_tasks() == []
