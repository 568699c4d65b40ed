"""Check the Slack credentials before starting, with messages saying where to get each one."""

from __future__ import annotations

import re

from core.errors import ConfigError
from core.sections import SlackSettings

APPS_PAGE = "https://api.slack.com/apps"
_BOT_TOKEN = re.compile(r"xoxb-[A-Za-z0-9-]+")
_APP_TOKEN = re.compile(r"xapp-[A-Za-z0-9-]+")

BOT_TOKEN_HELP = (
    f"Open your app at {APPS_PAGE} → OAuth & Permissions, install it to the workspace, and "
    "copy the Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN in .env (see docs/slack.md)."
)
APP_TOKEN_HELP = (
    f"Open your app at {APPS_PAGE} → Basic Information → App-Level Tokens, generate a token "
    "with the connections:write scope, and copy it (xapp-…) into SLACK_APP_TOKEN in .env. "
    "Leave SLACK_APP_TOKEN unset to run in HTTP mode instead."
)
SIGNING_SECRET_HELP = (
    f"Open your app at {APPS_PAGE} → Basic Information → App Credentials and copy the "
    "Signing Secret into SLACK_SIGNING_SECRET in .env. (Or set SLACK_APP_TOKEN to use "
    "Socket Mode, which needs no signing secret and no public URL.)"
)


def check_slack_settings(slack: SlackSettings) -> None:
    """Fail early, naming the variable, when a credential is missing or malformed.

    Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; HTTP mode (no app token)
    needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.

    Raises:
        ConfigError: what is wrong, and where to get the right value.
    """
    bot_token = slack.bot_token or ""
    if not bot_token:
        raise ConfigError(f"SLACK_BOT_TOKEN is not set. {BOT_TOKEN_HELP}")
    if not _BOT_TOKEN.fullmatch(bot_token):
        raise ConfigError(
            f"SLACK_BOT_TOKEN must be xoxb- followed by letters, digits and dashes "
            f"({_shape(bot_token)}). {BOT_TOKEN_HELP}"
        )
    app_token = slack.app_token or ""
    if app_token and not _APP_TOKEN.fullmatch(app_token):
        raise ConfigError(
            f"SLACK_APP_TOKEN must be xapp- followed by letters, digits and dashes "
            f"({_shape(app_token)}). {APP_TOKEN_HELP}"
        )
    secret = slack.signing_secret or ""
    if not app_token and not secret:
        raise ConfigError(
            "Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is "
            f"set. {APP_TOKEN_HELP} {SIGNING_SECRET_HELP}"
        )
    if secret and not re.fullmatch(r"[A-Za-z0-9]+", secret):
        raise ConfigError(
            f"SLACK_SIGNING_SECRET should be letters and digits only. {SIGNING_SECRET_HELP}"
        )
    base = slack.api_base_url
    if base and not re.match(r"https?://[^/\s]+", base):
        raise ConfigError(
            f"SLACK_API_BASE_URL must be an http(s) URL such as https://slack.com/api/ "
            f"(got {base!r}); unset it to talk to Slack itself."
        )


def _shape(value: str) -> str:
    """Describe a wrong credential without printing it."""
    for prefix in ("xoxb-", "xoxp-", "xapp-", "xoxe"):
        if value.startswith(prefix):
            return f"got a {prefix}… value with characters a token never has"
    return f"got a {len(value)}-character value with no Slack token prefix"
