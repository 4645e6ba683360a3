"""aiogram routers, keyboards, callback data and texts: Telegram in, core use cases out."""

import bot  # noqa: F401  (imports aiogram lean before any handler imports it)
