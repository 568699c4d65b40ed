"""Our reliance on slack_sdk's private parts, checked against the installed version."""

from __future__ import annotations

import inspect
import re
from importlib.metadata import version

from slack_sdk.socket_mode.websocket_client import SocketModeClient

from bot.socket_mode import CLIENT_INTERNALS, SESSION_INTERNALS, SOCKET_INTERNALS
from tests.bot.conftest import RunningBot
from tests.conftest import ROOT


def test_the_slack_sdk_internals_socket_mode_relies_on_are_still_there(bot: RunningBot) -> None:
    """Every private attribute bot/socket_mode.py uses exists on a live connection, and the
    one it sets is still read by slack_sdk: an upgrade that drops one fails here, by name."""
    client = bot.handler.client
    session = client.current_session
    for owner, names in (
        (client, CLIENT_INTERNALS),
        (session, SESSION_INTERNALS),
        (session.sock, SOCKET_INTERNALS),
    ):
        missing = [name for name in names if not hasattr(owner, name)]
        assert not missing, (
            f"slack_sdk {version('slack-sdk')} no longer has {missing} on "
            f"{type(owner).__name__}: bot/socket_mode.py must be revisited before upgrading"
        )
    assert "current_app_monitor_started" in inspect.getsource(SocketModeClient.connect), (
        "slack_sdk's connect() no longer reads current_app_monitor_started: our client would "
        "start slack_sdk's own monitor beside _ConnectionWatch"
    )


def test_slack_sdk_is_bounded_to_the_version_tested() -> None:
    """pyproject.toml caps slack-sdk below the next minor release, which the installed
    (tested) version satisfies."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    bound = re.search(r'"slack-sdk>=[\d.]+,<(\d+)\.(\d+)"', pyproject)
    assert bound, "slack-sdk needs an upper bound in pyproject.toml"
    major, minor = (int(part) for part in version("slack-sdk").split(".")[:2])
    assert (major, minor + 1) == (int(bound.group(1)), int(bound.group(2)))
