"""Check everything the server emits against aiogram's own models, so shape bugs fail loudly.

aiogram's models accept unknown keys (extra="allow"); we refuse them, so a misspelt field
name is caught too.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import methods as tg_methods
from aiogram.methods.base import TelegramMethod
from aiogram.types import Message, Update
from pydantic import BaseModel, TypeAdapter, ValidationError

log = logging.getLogger(__name__)


class ShapeError(Exception):
    """The local server built an object a real client would not accept: a server bug."""


_RETURNS: dict[str, TypeAdapter[Any]] = {}


def _returns() -> dict[str, TypeAdapter[Any]]:
    if not _RETURNS:
        for name in dir(tg_methods):
            obj = getattr(tg_methods, name)
            if (
                isinstance(obj, type)
                and issubclass(obj, TelegramMethod)
                and obj is not TelegramMethod
            ):
                _RETURNS[obj.__api_method__.lower()] = TypeAdapter(obj.__returning__)
    return _RETURNS


def _extras(value: Any, path: str) -> str | None:
    if isinstance(value, BaseModel):
        if value.model_extra:
            return f"{path}: unknown fields {sorted(value.model_extra)}"
        for name in value.model_fields_set:  # only what we sent: Message has ~100 fields
            found = _extras(getattr(value, name), f"{path}.{name}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _extras(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _check(adapter: TypeAdapter[Any], data: Any, what: str) -> None:
    try:
        parsed = adapter.validate_python(data)
    except ValidationError as exc:
        log.error("local Bot API built an invalid %s: %s\n%r", what, exc, data)
        raise ShapeError(f"invalid {what}: {exc}") from exc
    problem = _extras(parsed, what)
    if problem:
        log.error("local Bot API built an invalid %s: %s", what, problem)
        raise ShapeError(problem)


_UPDATE = TypeAdapter(Update)
_MESSAGE = TypeAdapter(Message)


def check_update(update: dict[str, Any]) -> None:
    _check(_UPDATE, update, "Update")


def check_message(message: dict[str, Any]) -> None:
    _check(_MESSAGE, message, "Message")


def check_result(method: str, result: Any) -> None:
    adapter = _returns().get(method.lower())
    if adapter is not None:  # methods aiogram does not know are not checked
        _check(adapter, result, f"{method} result")
