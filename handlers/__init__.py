"""aiogram routers, keyboards, callback data and texts: Telegram in, core use cases out."""
