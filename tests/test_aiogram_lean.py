"""aiogram imported lean still resolves every model it may need, on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

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
