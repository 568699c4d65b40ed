"""The credentials the Slack stand-in accepts, and settings for a bot talking to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from testing.slack_standin.web_api import FakeSlackWebAPI
from testing.stores import make_settings

BOT_TOKEN = "xoxb-1111-2222-BotSecretForTests"
APP_TOKEN = "xapp-1-A0ARCHIVE-3333-AppSecretForTests"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def bot_settings(archive: Settings, web: FakeSlackWebAPI, tmp: Path, **overrides: Any) -> Settings:
    """Settings for a bot over `archive`, talking to the stand-in."""
    values: dict[str, Any] = {
        "chroma_path": archive.chroma_path,
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": web.base_url,
        "feedback_db": tmp / "feedback.sqlite3",
    }
    values.update(overrides)
    return make_settings(tmp, **values)
