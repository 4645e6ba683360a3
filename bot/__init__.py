"""The bot process: settings, wiring, middlewares, web side, scheduler, worker, adapters."""

from bot.aiogram_lean import filters_inline, import_aiogram

import_aiogram()
filters_inline()
