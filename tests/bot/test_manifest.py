"""manifest.yml creates an app with everything the bot listens to, within Slack's limits."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT
from tests.slack_standin.web_api import SCOPES


def test_the_manifest_grants_what_the_listeners_need() -> None:
    """Events, scopes, /ask, interactivity and Socket Mode are all declared."""
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    info = manifest["display_information"]
    assert len(info["name"]) <= 35 and len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    needs = {
        "app_mention": "app_mentions:read",
        "message.im": "im:history",
        "message.channels": "channels:history",
        "message.groups": "groups:history",
        "assistant_thread_started": "assistant:write",
        "assistant_thread_context_changed": "assistant:write",
    }
    lifecycle = {"app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert events == set(needs) | lifecycle and set(needs.values()) <= scopes
    assert {"chat:write", "commands", "reactions:write", "users:read"} <= scopes
    assert scopes == SCOPES  # the stand-in grants exactly what the manifest asks for
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assistant = manifest["features"]["assistant_view"]
    assert assistant["assistant_description"] and len(assistant["suggested_prompts"]) <= 4
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ask"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
