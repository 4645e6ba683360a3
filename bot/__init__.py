"""The bot process: settings, wiring, middlewares, web side, scheduler, worker, adapters."""

from bot.aiogram_lean import import_aiogram

import_aiogram()
