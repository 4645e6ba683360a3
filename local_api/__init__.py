"""A local Telegram Bot API server for tests, benchmarks and trying the bot offline.

python -m bot.local_api --port 8081
from bot.local_api.testing import local_api, aiogram_bot
"""
