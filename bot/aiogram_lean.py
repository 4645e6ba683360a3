"""Imports aiogram without building every one of its pydantic models up front.

`aiogram.types` ends by calling `model_rebuild` on all of its ~450 models so that their
forward references resolve, which builds a validator for each: measured here, importing
aiogram takes 166 MB and 2 s (aiogram issue #1513). A bot validates a dozen of them.
While aiogram is imported, that one call only records the namespace the forward
references need; a model is then built, by pydantic's own deferred build, the first time
it is used (about 4 MB for `Update` and all it contains). So that a model built inside
another one (whose names pydantic looks up in the inner model's module) resolves too, the
recorded names are added to every aiogram module that lacks them. `tests/test_aiogram_lean.py`
builds every model this way to prove each one still resolves.

If aiogram was already imported, nothing changes: the eager build is correct, only
heavier.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def import_aiogram() -> None:
    if "aiogram" in sys.modules:
        return
    original = BaseModel.__dict__["model_rebuild"]
    rebuild = original.__func__

    def record_namespace(
        cls: type[BaseModel], /, *args: Any, _types_namespace: Any = None, **kwargs: Any
    ) -> Any:
        if _types_namespace is not None and cls.__module__.startswith("aiogram.") and not args:
            cls.__pydantic_parent_namespace__ = dict(_types_namespace)
            return None
        return rebuild(cls, *args, _types_namespace=_types_namespace, **kwargs)

    BaseModel.model_rebuild = classmethod(record_namespace)  # type: ignore[method-assign,assignment]
    try:
        import aiogram
        import aiogram.methods
        import aiogram.types
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    namespace = getattr(aiogram.types.Update, "__pydantic_parent_namespace__", None) or {}
    for name, module in list(sys.modules.items()):
        if name.startswith("aiogram.") and module is not None:
            for key, value in namespace.items():
                module.__dict__.setdefault(key, value)


def filters_inline() -> None:
    """Runs the filters that are plain functions in the event loop, not in a thread.

    aiogram calls every filter that is not a coroutine through `asyncio.to_thread`: a magic
    filter (`F.photo`, `F.text`) or an FSM state (`NewOrg.name`), each a few attribute
    reads. A photo met ten of them on its way through the routers, each a thread
    hop (a future, a wake-up of the pool's thread, the GIL handed over and back, a wake-up
    of the loop), for a check of microseconds (seen with py-spy under bench/scale.py).
    Handlers are left as aiogram runs them. A filter here must therefore never block (none
    does: they look at the update and the state aiogram already read).
    """
    from aiogram.dispatcher.event.handler import FilterObject

    if getattr(FilterObject, "_tayuk_inline", False):
        return
    original = FilterObject.__post_init__

    def post_init(self: FilterObject) -> None:
        original(self)
        if not self.awaitable:
            check = self.callback

            async def inline(*args: Any, **kwargs: Any) -> Any:
                return check(*args, **kwargs)

            # The parameters stay those aiogram read off the filter itself.
            self.callback = inline
            self.awaitable = True

    FilterObject.__post_init__ = post_init  # type: ignore[method-assign]
    FilterObject._tayuk_inline = True  # type: ignore[attr-defined]


# Strong references: pydantic caches `Response[X]` weakly, so without these aiogram builds a
# new generic model class (and, with models built lazily, X's whole validator) for a
# Bot API answer whenever the garbage collector has dropped the last one.
_RESPONSE_MODELS: dict[Any, Any] = {}


def keep_response_model(returning: Any) -> None:
    """Builds `Response[returning]` once and keeps it, on a method's first call."""
    if returning in _RESPONSE_MODELS:
        return
    from aiogram.methods.base import Response

    _RESPONSE_MODELS[returning] = Response[returning]


def warm_up() -> None:
    """Builds, at start-up, what nearly every update meets, so the first ones do not wait.

    A model first built while the bot is busy stalls the event loop for tens of ms.
    """
    import aiogram.methods as m
    from aiogram.types import CallbackQuery, Message, Update

    for model in (Update, Message, CallbackQuery):
        model.model_rebuild()
    for method in (
        m.GetUpdates,
        m.SendMessage,
        m.GetFile,
        m.EditMessageText,
        m.EditMessageReplyMarkup,
        m.AnswerCallbackQuery,
        m.SendPhoto,
        m.SendDocument,
    ):
        method.model_rebuild()
        keep_response_model(method.__returning__)
