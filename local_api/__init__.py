"""A local Telegram Bot API server for tests, benchmarks and trying the bot offline.

python -m local_api --port 8081
from local_api.testing import local_api, aiogram_bot
"""
