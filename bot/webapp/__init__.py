"""The upload page and the review screen: served by the bot's FastAPI app (issue 15)."""
