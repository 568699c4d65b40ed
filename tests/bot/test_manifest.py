"""manifest.yml creates an app with everything the bot listens to, within Slack's limits."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT


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
    }
    assert events == set(needs) and set(needs.values()) <= scopes
    assert {"chat:write", "commands", "reactions:write"} <= scopes
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ask"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
