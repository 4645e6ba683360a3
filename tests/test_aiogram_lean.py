"""aiogram imported lean still resolves every model it may need, on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram.dispatcher.event.bases import UNHANDLED

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_models_are_built_on_first_use_not_at_import() -> None:
    out = run(
        """
        import bot  # imports aiogram the lean way
        from aiogram.types import Message, Update
        print(Message.__pydantic_complete__, Update.__pydantic_complete__)
        update = Update.model_validate({
            "update_id": 1,
            "message": {
                "message_id": 5, "date": 1700000000,
                "chat": {"id": 7, "type": "private", "first_name": "A"},
                "from": {"id": 7, "is_bot": False, "first_name": "A"},
                "photo": [{"file_id": "f", "file_unique_id": "u", "width": 9, "height": 9}],
                "reply_to_message": {"message_id": 4, "date": 1700000000,
                    "chat": {"id": 7, "type": "private"}, "text": "hi"},
            },
        })
        print(update.message.photo[0].file_id, update.message.reply_to_message.text)
        """
    )
    assert out.split() == ["False", "False", "f", "hi"]


def test_every_model_and_every_answer_type_resolves() -> None:
    out = run(
        """
        import bot
        import aiogram.methods as methods
        import aiogram.types as types
        from aiogram.methods.base import Response
        from pydantic import BaseModel

        count = 0
        for module in (types, methods):
            for name in module.__all__:
                model = getattr(module, name)
                if isinstance(model, type) and issubclass(model, BaseModel):
                    model.model_rebuild(raise_errors=True)
                    assert model.__pydantic_complete__, name
                    count += 1
        answers = 0
        for name in methods.__all__:
            returning = getattr(getattr(methods, name), "__returning__", None)
            if returning is not None and not isinstance(returning, property):
                Response[returning]
                answers += 1
        print(count, answers)
        """
    )
    models, answers = map(int, out.split())
    assert models > 400 and answers > 150


def test_no_filter_of_the_bot_runs_in_a_thread() -> None:
    """aiogram runs a filter that is a plain function (F.photo, an FSM state) through
    asyncio.to_thread: a thread hop per filter, ten per photo. The bot's run
    in the event loop (bot.aiogram_lean.filters_inline)."""
    from aiogram.dispatcher.event.handler import FilterObject

    from bot.app import build_dispatcher

    dispatcher = build_dispatcher(None)  # type: ignore[arg-type]  # nothing is handled
    filters: list[FilterObject] = []
    routers = [dispatcher]
    while routers:
        router = routers.pop()
        routers.extend(router.sub_routers)
        for observer in router.observers.values():
            for handler in observer.handlers:
                filters.extend(handler.filters or ())
    magic = [f for f in filters if f.magic is not None]
    assert len(magic) > 10 and len(filters) > 60
    assert [f for f in filters if not f.awaitable] == []


async def test_plain_filters_still_decide_without_a_thread(monkeypatch: Any) -> None:
    import aiogram.dispatcher.event.handler as handler_module
    from aiogram import F, Router
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.types import Chat, Message, PhotoSize

    import bot  # noqa: F401  # the filters are made inline on import

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a filter went to a thread")

    monkeypatch.setattr(handler_module.asyncio, "to_thread", no_thread)

    class Flow(StatesGroup):
        naming = State()

    seen: list[str] = []
    router = Router()

    async def named(message: Message) -> None:
        seen.append("named")

    async def photo(message: Message) -> None:
        seen.append("photo")

    router.message.register(named, Flow.naming, F.text)
    router.message.register(photo, F.photo | F.document)
    chat = Chat(id=7, type="private")
    text = Message(message_id=1, date=datetime(2026, 1, 1), chat=chat, text="Falafel")
    assert await router.message.trigger(text, raw_state=Flow.naming.state) is None
    assert await router.message.trigger(text, raw_state=None) is UNHANDLED
    picture = Message(
        message_id=2,
        date=datetime(2026, 1, 1),
        chat=chat,
        photo=[PhotoSize(file_id="f", file_unique_id="u", width=9, height=9)],
    )
    await router.message.trigger(picture, raw_state=None)
    assert seen == ["named", "photo"]
